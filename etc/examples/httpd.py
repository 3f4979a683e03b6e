#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A tiny HTTP server for rolling-restart.md and rolling-restart.ini: it serves on the listening
# socket graced passes as fd 3 (LISTEN_FDS), tells graced it is ready (READY=1 on
# NOTIFY_SOCKET, for ready = notify), and on SIGTERM finishes the request it holds and exits 0;
# connections it has not accepted are left to the socket's other processes.
import os
import signal
import socket
import sys

if os.environ.get("LISTEN_PID") != str(os.getpid()) or int(os.environ.get("LISTEN_FDS", "0")) < 1:
    sys.exit("httpd.py: no socket passed (run it from graced, with sockets =)")
stopping = False


def on_term(signum, frame):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_term)
listener = socket.socket(fileno=3)
listener.settimeout(0.2)  # looks at `stopping` between two accepts
where = os.environ.get("NOTIFY_SOCKET")
if where:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as n:
        n.sendto(b"READY=1", "\0" + where[1:] if where.startswith("@") else where)
body = ("served by %d instance %s\n" % (os.getpid(), os.environ.get("GRACED_INSTANCE", "0"))).encode()
while not stopping:
    try:
        conn, _ = listener.accept()
    except socket.timeout:
        continue
    except OSError:
        break  # the socket was shut down (graced's shutdown closes the door)
    with conn:
        conn.settimeout(10)
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                         % (len(body), body))
        except OSError:
            pass
