#!/usr/bin/env python3
"""TCP and HTTP clients for the integration tests (loopback only). Times are CLOCK_MONOTONIC
milliseconds, the clock of gworker's and gserver's event lines.

  tcp.py get PORT|unix:PATH       one connection: prints the line received, or "refused"
  tcp.py http PORT PATH [METHOD]  prints the status code and the body on one line
  tcp.py raw PORT HEX             sends the bytes, prints the status line of the answer
  tcp.py free-port                prints a loopback TCP port that is free now
  tcp.py swarm PORT N SECONDS STARTED
      holds N slow clients on PORT for SECONDS: half send nothing, half send a request line and
      then one header line every 2 s, never the blank line. A client the server closes is
      replaced (at most 10 per 20 ms). Creates the file STARTED once all N were opened first.
      Prints: opened=N closed_by_peer=N
  tcp.py latency PORT PATH COUNT INTERVAL_MS
      COUNT fresh requests, INTERVAL_MS apart; each timed from connect to the reply's end
      (5 s at most). Prints: max=MS median=MS codes=C,C,... failed=N
  tcp.py trickle PORT INTERVAL_MS SECONDS
      sends a request line, then a header line every INTERVAL_MS, until the server closes the
      connection. Prints closed_after=MS, or open_after=MS when SECONDS passed first.
  tcp.py evict PORT
      opens two silent clients, then a fresh request: prints the fresh reply's status, and
      whether the first and the second client were closed within 2 s (closed/open).
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


def nb_connect(port):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", int(port)))
    except BlockingIOError:
        pass
    return s


def peer_closed(s):
    """True when the peer closed (EOF or reset); data, if any, is discarded."""
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def swarm(port, n, seconds, started):
    import resource
    import selectors
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))
    sel = selectors.DefaultSelector()
    clients = {}  # socket -> (trickles, last header sent)
    opened = closed = 0
    end = ms() + seconds * 1000

    def open_one(k):
        nonlocal opened
        s = nb_connect(port)
        clients[s] = [k % 2 == 1, 0, False]
        sel.register(s, selectors.EVENT_READ)
        opened += 1

    for k in range(n):
        open_one(k)
    open(started, "w").close()
    missing = window = budget = 0
    while ms() < end:
        for key, _ in sel.select(timeout=0.02):
            s = key.fileobj
            if peer_closed(s):
                sel.unregister(s)
                del clients[s]
                s.close()
                closed += 1
                missing += 1
        now = ms()
        for s, st in list(clients.items()):
            if not st[0] or now - st[1] < 2000:
                continue
            try:
                s.send(b"GET /ready HTTP/1.1\r\n" if not st[2] else b"X-Slow: 1\r\n")
                st[1], st[2] = now, True
            except BlockingIOError:
                pass
            except OSError:
                st[1] = now
        if ms() // 20 != window:
            window, budget = ms() // 20, 10
        while missing > 0 and budget > 0:
            open_one(missing)
            missing -= 1
            budget -= 1
    for s in clients:
        s.close()
    return "opened=%d closed_by_peer=%d" % (opened, closed)


def latency(port, path, count, interval):
    times, codes, failed = [], [], 0
    for k in range(count):
        start = ms()
        try:
            with connect(port, timeout=5.0) as s:
                s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())
                data = read_all(s).decode(errors="replace")
            codes.append(data.split(" ")[1] if " " in data else "none")
        except OSError as e:
            codes.append(type(e).__name__)
            failed += 1
        times.append(ms() - start)
        if k + 1 < count:
            time.sleep(interval / 1000)
    times.sort()
    return "max=%d median=%d codes=%s failed=%d" % (
        times[-1], times[len(times) // 2], ",".join(codes), failed)


def trickle(port, interval, seconds):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=2.0)
    start = ms()
    s.sendall(b"GET /ready HTTP/1.1\r\n")
    s.setblocking(False)
    while ms() - start < seconds * 1000:
        time.sleep(interval / 1000)
        if peer_closed(s):
            return "closed_after=%d" % (ms() - start)
        try:
            s.send(b"X-Slow: 1\r\n")
        except BlockingIOError:
            pass
        except OSError:
            return "closed_after=%d" % (ms() - start)
    return "open_after=%d" % (ms() - start)


def evict(port):
    import select
    a = socket.create_connection(("127.0.0.1", int(port)), timeout=2.0)
    b = socket.create_connection(("127.0.0.1", int(port)), timeout=2.0)
    reply = http(port, "/live")
    state = {}
    end = time.monotonic() + 2.0
    for name, s in (("first", a), ("second", b)):
        s.setblocking(False)
        state[name] = "open"
    while time.monotonic() < end and state["first"] == "open":
        select.select([a], [], [], 0.05)
        if peer_closed(a):
            state["first"] = "closed"
    if peer_closed(b):
        state["second"] = "closed"
    a.close()
    b.close()
    return "%s first=%s second=%s" % (reply.split(" ")[0], state["first"], state["second"])


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
    elif cmd == "swarm":
        print(swarm(a[0], int(a[1]), float(a[2]), a[3]))
    elif cmd == "latency":
        print(latency(a[0], a[1], int(a[2]), int(a[3])))
    elif cmd == "trickle":
        print(trickle(a[0], int(a[1]), float(a[2])))
    elif cmd == "evict":
        print(evict(a[0]))
    elif cmd == "probe":
        print(probe(a[0], int(a[1]), float(a[2]), *a[3:5], *[int(x) for x in a[5:6]]))
    else:
        sys.exit("tcp.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
