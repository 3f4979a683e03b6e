#!/usr/bin/env python3
"""TCP and HTTP clients for the integration tests (loopback only). Times are CLOCK_MONOTONIC
milliseconds, the clock of gworker's and gserver's event lines.

  tcp.py get PORT|unix:PATH       one connection: prints the line received, or "refused"
  tcp.py http PORT PATH [METHOD]  prints the status code and the body on one line
  tcp.py raw PORT HEX             sends the bytes, prints the status line of the answer
  tcp.py free-port                prints a loopback TCP port that is free now
  tcp.py probe PORT PID SECONDS [READYPORT [SLOWPORT SLOW_AT_MS]]
      sends SIGTERM to PID, asks READYPORT's /ready until it answers 503, then connects to
      PORT every 5 ms until a connection is refused (or SECONDS pass); meanwhile, at
      SLOW_AT_MS after the signal, opens one connection to SLOWPORT and reads its whole reply.
      Prints one line of key=value, times in ms since the signal:
      served=N last_served=MS refused=MS refused_sent=MS ready503=MS slow_reply=... slow_done=MS
      term=MS
      refused is when the first refusal came, refused_sent when that connection was attempted:
      a SYN that races the listener's shutdown can be dropped by the kernel and is refused only
      on its retransmission, a second later.
"""
import os
import signal
import socket
import sys
import time


def ms():
    return int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1000)


def connect(where, timeout=2.0):
    if where.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(where[5:])
    else:
        s = socket.create_connection(("127.0.0.1", int(where)), timeout=timeout)
    return s


def read_all(s):
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            return data
        data += chunk


def get(where):
    try:
        with connect(where) as s:
            return read_all(s).decode(errors="replace").strip() or "empty"
    except (ConnectionRefusedError, FileNotFoundError):
        return "refused"
    except ConnectionResetError:
        return "reset"


def http(port, path, method="GET"):
    with connect(port) as s:
        s.sendall(("%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n" % (method, path)).encode())
        data = read_all(s).decode(errors="replace")
    head, _, body = data.partition("\r\n\r\n")
    return head.split(" ")[1] + " " + body.strip().replace("\n", " ")


def raw(port, hexbytes):
    with connect(port) as s:
        s.sendall(bytes.fromhex(hexbytes))
        data = read_all(s).decode(errors="replace")
    return data.split("\r\n")[0] or "closed"


def probe(port, pid, seconds, readyport=None, slowport=None, slow_at=None):
    out = {"served": 0, "last_served": None, "refused": None, "refused_sent": None,
           "ready503": None, "slow_reply": None, "slow_done": None}
    slow = None
    term = ms()
    os.kill(pid, signal.SIGTERM)
    out["term"] = term
    end = term + seconds * 1000
    while readyport and ms() < end:
        if http(readyport, "/ready").startswith("503"):
            out["ready503"] = ms() - term
            break
        time.sleep(0.005)
    while ms() < end:
        if slowport and slow is None and ms() - term >= slow_at:
            slow = connect(slowport, timeout=seconds)
        sent = ms()
        try:
            r = get(port)
        except OSError as e:
            r = "error " + type(e).__name__
        if r.startswith("served by"):
            out["served"] += 1
            out["last_served"] = ms() - term
        elif r in ("refused", "reset"):
            out["refused"] = ms() - term
            out["refused_sent"] = sent - term
            break
        time.sleep(0.005)
    if slowport:
        if slow is None:
            slow = connect(slowport, timeout=seconds)
        out["slow_reply"] = read_all(slow).decode(errors="replace").strip().replace(" ", "_")
        out["slow_done"] = ms() - term
        slow.close()
    return " ".join("%s=%s" % (k, v) for k, v in out.items())


def main():
    cmd = sys.argv[1]
    a = sys.argv[2:]
    if cmd == "get":
        print(get(a[0]))
    elif cmd == "http":
        print(http(a[0], a[1], *(a[2:3])))
    elif cmd == "raw":
        print(raw(a[0], a[1]))
    elif cmd == "free-port":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            print(s.getsockname()[1])
    elif cmd == "probe":
        print(probe(a[0], int(a[1]), float(a[2]), *a[3:5], *[int(x) for x in a[5:6]]))
    else:
        sys.exit("tcp.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
