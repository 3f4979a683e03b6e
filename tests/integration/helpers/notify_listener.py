#!/usr/bin/env python3
# A stand-in for systemd's notify socket: binds an AF_UNIX datagram socket at PATH and appends
# every datagram it receives to OUT as one line "<CLOCK_MONOTONIC ms> <message>" (newlines inside
# a message written as "|"), until it is terminated. Usage: notify_listener.py PATH OUT
import os
import signal
import socket
import sys
import time

path, out = sys.argv[1], sys.argv[2]
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as f:
    f.write("%d listening\n" % (time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000000))
    while True:
        data = s.recv(65536)
        ms = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000000
        f.write("%d %s\n" % (ms, data.decode("utf-8", "replace").replace("\n", "|")))
