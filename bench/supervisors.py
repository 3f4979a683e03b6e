#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""graced's supervisor side by side with supervisord, s6 and runit (issue 4, "Performance").

Every peer runs the same worker, tests/integration/helpers/gworker, which appends
"<CLOCK_MONOTONIC ms> NAME start ..." to an events file when it starts, exits 0 on SIGTERM, and
records every signal it gets. Each peer is started by hand in a temp directory (its own config,
scan directory, logs); nothing is installed as a service; only processes the bench started are
signalled, by pid, and the bench is a subreaper so that nothing escapes it.

Figures (lower is better):
  start   time from launching the supervisor until N workers have written their start line
  stop    time from the stop request until every process of the tree is gone (exited and reaped)
  rss     VmRSS of the supervisor process(es) with N workers (pss: proportional set size)
  idle    context switches (voluntary + involuntary) of the supervisor process(es) over the idle
          window with 10 workers: each one is a wakeup
  overrun with a worker that ignores SIGTERM and a 1 s stop timeout: time from the SIGTERM the
          worker recorded to the next signal it recorded (or its death, for SIGKILL), minus 1 s

Usage: supervisors.py [--quick] [-n N] [--idle-seconds S] [--peers graced,supervisord,s6,runit]
                      [--graced PATH] [--gworker PATH] [--also NAME=PATH ...] [--rounds R]
                      [--keys NAME='KEY = VALUE;...' ...] [--scale-only]
BENCH_QUICK=1 is --quick (N=100, 3 s idle window). --also adds another graced binary (a build of
an older commit) as NAME, --keys more [worker:w] keys for one of them; --rounds repeats start/stop R times, the peers interleaved round by
round, and reports the median; --scale-only measures start, RSS and stop only (no idle window,
no overrun). X_start_stop_over_bare is graced's start+stop over the bare posix_spawn() loop's
(issue 12: within 10 %).
"""
import argparse
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (become_subreaper, raise_priority, ctxt_switches, descendants, fmt, install,  # noqa: E402
                      kill_all_descendants, now, proc_table, pss_kib, ratio, reap, status_field,
                      wait_gone)

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
START_TIMEOUT = float(os.environ.get("BENCH_START_TIMEOUT", "60"))
STOP_TIMEOUT = float(os.environ.get("BENCH_STOP_TIMEOUT", "30"))


class Peer:
    name = "?"
    worker_comm = "gworker"

    def __init__(self, bench, tag):
        self.bench = bench
        self.dir = tempfile.mkdtemp(prefix=f"bench-{self.name}-{tag}-")
        self.events = os.path.join(self.dir, "events")
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = None

    def worker_argv(self, ignore_term=False):
        argv = [self.bench.gworker, "--log", self.events]
        return argv + (["--ignore", "TERM"] if ignore_term else [])

    def launch(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=self.dir)

    def supervisor_pids(self):
        """The supervisor's own processes: the top one and every descendant that is no worker."""
        t = proc_table()
        return [self.proc.pid] + [p for p in descendants(self.proc.pid, t)
                                  if t[p][1] != self.worker_comm and t[p][2] != "Z"]

    def tree(self):
        return [self.proc.pid] + descendants(self.proc.pid)

    def close(self):
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Graced(Peer):
    name = "graced"
    binary = None  # the bench's --graced; --also variants set their own
    keys = ""      # more [worker:w] keys (--keys NAME=...)

    def setup(self, n, overrun=False):
        argv = " ".join(self.worker_argv(overrun))
        ini = os.path.join(self.dir, "graced.ini")
        with open(ini, "w") as f:
            f.write("[supervisor]\nname = bench\n[shutdown]\n")
            if overrun:
                f.write("stop_timeout = 1s\ncancel_signal = SIGINT\njoin_timeout = 5s\n")
            f.write(f"[worker:w]\ncommand = {argv}\ninstances = {n}\noutput = inherit\n")
            if self.keys:
                f.write(self.keys.replace(";", "\n") + "\n")
        self.argv = [self.binary or self.bench.graced, "-c", ini]

    def start(self):
        self.launch(self.argv)

    def stop_all(self):
        os.kill(self.proc.pid, signal.SIGTERM)

    stop_one = stop_all
    how_stop = "SIGTERM to graced (the ordered shutdown)"
    how_overrun = "stop_timeout = 1s, cancel_signal = SIGINT; SIGTERM to graced"


class Supervisord(Peer):
    name = "supervisord"

    def setup(self, n, overrun=False):
        conf = os.path.join(self.dir, "supervisord.conf")
        with open(conf, "w") as f:
            f.write(f"""[supervisord]
nodaemon = true
user = root
logfile = {self.dir}/supervisord.log
pidfile = {self.dir}/supervisord.pid
childlogdir = {self.dir}
minfds = 1024
minprocs = 200

[program:w]
command = {" ".join(self.worker_argv(overrun))}
process_name = %(program_name)s_%(process_num)d
numprocs = {n}
autostart = true
autorestart = false
startsecs = 0
startretries = 0
stopsignal = TERM
stopwaitsecs = {1 if overrun else 10}
stdout_logfile = NONE
stderr_logfile = NONE
""")
        self.argv = ["supervisord", "-c", conf]

    def start(self):
        self.launch(self.argv)

    def stop_all(self):
        os.kill(self.proc.pid, signal.SIGTERM)

    stop_one = stop_all
    how_stop = "SIGTERM to supervisord (stops every program, then exits)"
    how_overrun = "stopwaitsecs = 1 (then SIGKILL); SIGTERM to supervisord"


class S6(Peer):
    name = "s6"

    def setup(self, n, overrun=False):
        self.scan = os.path.join(self.dir, "scan")
        os.mkdir(self.scan)
        argv = " ".join(self.worker_argv(overrun))
        for i in range(n):
            sd = os.path.join(self.scan, f"w{i}")
            os.mkdir(sd)
            with open(os.path.join(sd, "run"), "w") as f:
                f.write(f"#!/bin/sh\nexec {argv}\n")
            os.chmod(os.path.join(sd, "run"), 0o755)
            if overrun:
                with open(os.path.join(sd, "timeout-kill"), "w") as f:
                    f.write("1000\n")
        self.argv = ["s6-svscan", "-c", str(max(n + 10, 500)), self.scan]

    def start(self):
        self.launch(self.argv)

    def stop_all(self):
        # what s6-svscanctl -t does: s6-svscan brings every s6-supervise (and its service) down
        os.kill(self.proc.pid, signal.SIGTERM)

    def stop_one(self):
        subprocess.run(["s6-svc", "-d", os.path.join(self.scan, "w0")], timeout=10)

    how_stop = "SIGTERM to s6-svscan (= s6-svscanctl -t: every s6-supervise brings its service down and exits)"
    how_overrun = "timeout-kill = 1000 (ms, then SIGKILL); s6-svc -d"


class Runit(Peer):
    name = "runit"

    def setup(self, n, overrun=False):
        self.svdir = os.path.join(self.dir, "service")
        os.mkdir(self.svdir)
        argv = " ".join(self.worker_argv(overrun))
        for i in range(n):
            sd = os.path.join(self.svdir, f"w{i}")
            os.mkdir(sd)
            with open(os.path.join(sd, "run"), "w") as f:
                f.write(f"#!/bin/sh\nexec {argv}\n")
            os.chmod(os.path.join(sd, "run"), 0o755)
        self.argv = ["runsvdir", self.svdir]
        self.sv = None

    def start(self):
        self.launch(self.argv)

    def stop_all(self):
        # runsvdir on SIGHUP sends SIGTERM to every runsv and exits; runsv on SIGTERM acts as
        # "sv exit": TERM+CONT to its service, then exits once it is down
        os.kill(self.proc.pid, signal.SIGHUP)

    def stop_one(self):
        # sv waits up to 1 s for the service to go down, then tells runsv to SIGKILL it
        self.sv = subprocess.Popen(["sv", "-w", "1", "force-stop", os.path.join(self.svdir, "w0")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def close(self):
        if self.sv:
            try:
                self.sv.wait(timeout=10)
            except (subprocess.TimeoutExpired, ChildProcessError):
                pass
        super().close()

    how_stop = "SIGHUP to runsvdir (TERM to each runsv = sv exit: TERM+CONT to the service, runsv exits)"
    how_overrun = "sv -w 1 force-stop (waits 1 s, then runsv sends SIGKILL)"


BARE_SPAWNER = r"""
import os, signal, sys
n, argv = int(sys.argv[1]), sys.argv[2:]
pids = [os.posix_spawn(argv[0], argv, os.environ) for _ in range(n)]
signal.signal(signal.SIGTERM, lambda *_: [os.kill(p, signal.SIGTERM) for p in pids])
for _ in range(n):
    try:
        os.wait()
    except ChildProcessError:
        break
"""


class Bare(Peer):
    """No supervisor: the floor of this machine. A python loop posix_spawn()s the workers and,
    on SIGTERM, sends SIGTERM to each and waits for them all."""
    name = "bare"
    worker_comm = "gworker"

    def setup(self, n, overrun=False):
        self.argv = [sys.executable, "-c", BARE_SPAWNER, str(n)] + self.worker_argv(overrun)

    def start(self):
        self.launch(self.argv)

    def stop_all(self):
        os.kill(self.proc.pid, signal.SIGTERM)

    how_stop = "SIGTERM to the spawner: SIGTERM to each worker, wait for all"


GRACED_LIKE = {"graced"}  # graced and its --also variants: measured, not compared as peers
PEERS = {"bare": Bare, "graced": Graced, "supervisord": Supervisord, "s6": S6, "runit": Runit}
BINARIES = {"supervisord": "supervisor", "s6-svscan": "s6", "runsvdir": "runit"}
NEEDS = {"bare": None, "supervisord": "supervisord", "s6": "s6-svscan", "runit": "runsvdir"}


class EventsReader:
    def __init__(self, path):
        self.path, self.pos, self.count, self.buf = path, 0, 0, b""

    def started(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return 0
        self.pos += len(data)
        data = self.buf + data
        cut = data.rfind(b"\n") + 1
        self.count += data[:cut].count(b" start ")
        self.buf = data[cut:]
        return self.count


def wait_started(peer, n, timeout):
    ev = EventsReader(peer.events)
    deadline = now() + timeout
    while ev.started() < n:
        if now() > deadline or peer.proc.poll() is not None:
            return None, ev.count
        time.sleep(0.005)
    return now(), n


def finish(peer):
    left = kill_all_descendants()
    peer.close()
    return left


def run_scale(bench, cls, n):
    """start, rss, stop with n workers."""
    r = {}
    peer = cls(bench, "scale")
    try:
        peer.setup(n)
        t0 = now()
        peer.start()
        t1, got = wait_started(peer, n, START_TIMEOUT)
        r["start"] = (t1 - t0) * 1000 if t1 else None
        r["started"] = got
        if t1 is None:
            print(f"  {peer.name}: only {got}/{n} workers started in {START_TIMEOUT:.0f}s",
                  file=sys.stderr)
        time.sleep(1.0)
        sup = peer.supervisor_pids()
        r["rss"] = sum(status_field(p, "VmRSS") or 0 for p in sup)
        r["pss"] = sum(pss_kib(p) or 0 for p in sup)
        r["procs"] = len(sup)
        if r["start"] is None:
            # a stop of a tree still being started says nothing: not measured, cleaned up
            return r
        tree = peer.tree()
        t0 = now()
        peer.stop_all()
        t1 = wait_gone(tree, STOP_TIMEOUT)
        r["stop"] = (t1 - t0) * 1000 if t1 else None
        if t1 is None:
            print(f"  {peer.name}: tree not gone {STOP_TIMEOUT:.0f}s after the stop request",
                  file=sys.stderr)
    finally:
        left = finish(peer)
        if left:
            print(f"  {peer.name}: killed {left} leftover processes", file=sys.stderr)
    return r


def run_idle(bench, classes, n, seconds):
    """All peers at once, n workers each: context switches of the supervisors over `seconds`."""
    peers, out = [], {}
    try:
        for cls in classes:
            p = cls(bench, "idle")
            p.setup(n)
            p.start()
            peers.append(p)
        for p in peers:
            wait_started(p, n, 30)
        time.sleep(1.5)
        sups = {p.name: p.supervisor_pids() for p in peers}
        before = {name: ctxt_switches(pids) for name, pids in sups.items()}
        time.sleep(seconds)
        for name, pids in sups.items():
            out[name] = ctxt_switches(pids) - before[name]
        for p in peers:
            p.stop_all()
        for p in peers:
            wait_gone(p.tree(), 20)
    finally:
        for p in peers:
            finish(p)
    return out


def run_overrun(bench, cls):
    peer = cls(bench, "overrun")
    try:
        peer.setup(1, overrun=True)
        peer.start()
        if wait_started(peer, 1, 30)[0] is None:
            return None
        time.sleep(0.3)  # let the worker set up its signalfd
        with open(peer.events) as f:
            wpid = int(f.read().split("pid=")[1].split()[0])
        pidfd = os.pidfd_open(wpid)
        peer.stop_one()
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        died = now() * 1000 if poller.poll(15000) else None
        os.close(pidfd)
        term = nxt = None
        with open(peer.events) as f:
            for line in f:
                w = line.split()
                if len(w) >= 4 and w[2] == "signal":
                    if w[3] == "SIGTERM" and term is None:
                        term = int(w[0])
                    elif term is not None and w[3] not in ("SIGTERM", "SIGCONT") and nxt is None:
                        nxt = int(w[0])
        ends = [t for t in (nxt, died) if t is not None]
        if term is None or not ends:
            return None
        return min(ends) - term - 1000
    finally:
        try:
            peer.stop_all()
        except ProcessLookupError:
            pass
        wait_gone(peer.tree() if peer.proc and peer.proc.poll() is None else [], 10)
        finish(peer)


def graced_variant(name, path, keys=""):
    """Another graced binary (or the same with more worker keys), measured like graced under its
    own name."""
    return type(f"Graced_{name}", (Graced,),
                {"name": name, "binary": os.path.abspath(path), "keys": keys})


def median(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    ap.add_argument("-n", type=int)
    ap.add_argument("--idle-seconds", type=float)
    ap.add_argument("--peers", default="bare,graced,supervisord,s6,runit")
    ap.add_argument("--graced", default=os.environ.get("GRACED", os.path.join(TOP, "_build/src/graced")))
    ap.add_argument("--gworker", default=os.environ.get(
        "GWORKER", os.path.join(TOP, "_build/tests/integration/helpers/gworker")))
    ap.add_argument("--also", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument("--keys", action="append", default=[], metavar="NAME=KEY = VALUE;...",
                    help="more [worker:w] keys for the --also variant NAME")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--scale-only", action="store_true")
    bench = ap.parse_args()
    n = bench.n or (100 if bench.quick else 1000)
    idle = bench.idle_seconds or (3.0 if bench.quick else 10.0)
    bench.graced, bench.gworker = os.path.abspath(bench.graced), os.path.abspath(bench.gworker)
    for b in (bench.graced, bench.gworker):
        if not os.access(b, os.X_OK):
            sys.exit(f"bench: {b} not built (make, make check)")

    wanted = [p for p in bench.peers.split(",") if p]
    have = install({b: p for b, p in BINARIES.items()
                    if any(NEEDS.get(w) == b for w in wanted)})
    names = [w for w in wanted if w in PEERS and (w == "graced" or NEEDS[w] is None or NEEDS[w] in have)]
    classes = [PEERS[w] for w in names]
    for also in bench.also:
        name, path = also.split("=", 1)
        if not os.access(path, os.X_OK):
            sys.exit(f"bench: {path} ({name}) not built")
        keys = "".join(k.split("=", 1)[1] + ";" for k in bench.keys if k.split("=", 1)[0] == name)
        GRACED_LIKE.add(name)
        names.append(name)
        classes.append(graced_variant(name, path, keys))
    become_subreaper()
    raise_priority()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))

    res = {w: {} for w in names}
    load0 = os.getloadavg()[0]
    try:
        rounds = {w: [] for w in names}
        for i in range(bench.rounds):
            for cls in classes:
                print(f"# {cls.name}: {n} workers: start, rss, stop"
                      + (f" (round {i + 1}/{bench.rounds})" if bench.rounds > 1 else ""),
                      file=sys.stderr, flush=True)
                rounds[cls.name].append(run_scale(bench, cls, n))
        for w, rs in rounds.items():
            res[w].update(rs[-1])
            for key in ("start", "stop", "rss", "pss"):
                res[w][key] = median(r.get(key) for r in rs)
            if bench.rounds > 1:
                res[w]["all_start"] = [r.get("start") for r in rs]
                res[w]["all_stop"] = [r.get("stop") for r in rs]
        if bench.scale_only:
            return report(res, names, n, None, (load0, os.getloadavg()[0]))
        classes = [c for c in classes if c is not Bare]
        print(f"# idle: {len(classes)} supervisors with 10 workers each, {idle:.0f} s",
              file=sys.stderr, flush=True)
        for k, v in run_idle(bench, classes, 10, idle).items():
            res[k]["idle"] = v
        for cls in classes:
            print(f"# {cls.name}: stop-timeout overrun", file=sys.stderr, flush=True)
            res[cls.name]["overrun"] = run_overrun(bench, cls)
    finally:
        left = kill_all_descendants()
        if left:
            print(f"bench: killed {left} leftover processes", file=sys.stderr)
        reap()

    report(res, names, n, idle, (load0, os.getloadavg()[0]))


def report(res, names, n, idle, load):
    rows = [("start", f"start {n} (ms)", "ms"), ("stop", f"stop {n} (ms)", "ms"),
            ("rss", f"RSS {n} (KiB)", "kib"), ("pss", f"PSS {n} (KiB)", "kib"),
            ("procs", "supervisor processes", "")]
    if idle is not None:
        rows += [("idle", f"wakeups {idle:.0f}s idle", ""), ("overrun", "stop overrun (ms)", "ms")]
    w = 22
    print(f"\n{'':{w}}" + "".join(f"{x:>13}" for x in names))
    for key, label, _ in rows:
        print(f"{label:{w}}" + "".join(f"{fmt(res[x].get(key)):>13}" for x in names))
    if "graced" in res and len(names) > 1:
        g = res["graced"]
        for key, label, _ in rows[:4] + rows[5:]:
            line = [f"{'x graced, ' + key:{w}}"]
            for x in names:
                r = ratio(g.get(key), res[x].get(key)) if x not in GRACED_LIKE | {"bare"} else None
                line.append(f"{fmt(r):>13}")
            print("".join(line))
    print()

    kv = {}
    for x in names:
        r = res[x]
        kv[f"{x}_start_{n}_ms"] = r.get("start")
        if r.get("start") is None and r.get("started") is not None:
            kv[f"{x}_started_in_{START_TIMEOUT:.0f}s"] = r["started"]
        kv[f"{x}_stop_{n}_ms"] = r.get("stop")
        kv[f"{x}_rss_{n}_kib"] = r.get("rss")
        kv[f"{x}_pss_{n}_kib"] = r.get("pss")
        if idle is not None:
            kv[f"{x}_idle_wakeups_{idle:.0f}s"] = r.get("idle")
            kv[f"{x}_stop_overrun_ms"] = r.get("overrun")
        if "all_start" in r:
            kv[f"{x}_start_{n}_ms_rounds"] = ",".join(fmt(v) for v in r["all_start"])
            kv[f"{x}_stop_{n}_ms_rounds"] = ",".join(fmt(v) for v in r["all_stop"])
    b = res.get("bare", {})
    for x in names:
        r = res[x]
        if x not in GRACED_LIKE or not b:
            continue
        # X / bare (the inverse of the peers' ratios): 1.10 is 10 % slower than the floor
        for key in ("start", "stop"):
            if r.get(key) is not None and b.get(key):
                kv[f"{x}_{key}_over_bare"] = r[key] / b[key]
        both = [r.get("start"), r.get("stop"), b.get("start"), b.get("stop")]
        if None not in both:
            kv[f"{x}_start_stop_over_bare"] = (both[0] + both[1]) / (both[2] + both[3])
    g = res.get("graced", {})
    if g and b and kv.get("graced_start_stop_over_bare") is not None:
        # issue 12: start and stop of N workers within 10 % of the bare posix_spawn() loop
        kv[f"target_start_stop_{n}_within_10pct_of_bare"] = \
            "yes" if kv["graced_start_stop_over_bare"] <= 1.10 else "no"
    peers = [x for x in names if x not in GRACED_LIKE | {"bare"}]
    for key, unit in (("start", "ms"), ("stop", "ms"), ("rss", "kib"), ("overrun", "ms")):
        vals = [(res[x].get(key), x) for x in peers if res[x].get(key) is not None]
        if vals and g.get(key) is not None:
            best, who = min(vals)
            kv[f"{key}_best_peer"] = who
            kv[f"{key}_ratio_best_peer"] = ratio(g[key], best)
        for x in peers:
            kv[f"{key}_ratio_{x}"] = ratio(g.get(key), res[x].get(key))
            if key == "start" and res[x].get("start") is None and g.get("start"):
                # the peer did not start them all within the timeout: a lower bound
                kv[f"start_ratio_{x}"] = f">={START_TIMEOUT * 1000 / g['start']:.2f}"
    if g and n == 1000:
        def met(ok):
            return None if ok is None else ("yes" if ok else "no")
        kv["target_start_1000_le_2s"] = met(g.get("start") is not None and g["start"] <= 2000)
        kv["target_stop_1000_le_200ms"] = met(g.get("stop") is not None and g["stop"] <= 200)
        kv["target_rss_1000_lt_16mib"] = met(g.get("rss") is not None and g["rss"] < 16 * 1024)
        if idle is not None:
            kv["target_overrun_le_5ms"] = met(g.get("overrun") is not None and g["overrun"] <= 5)
    if g and idle is not None and idle == 10:
        kv["target_idle_wakeups_0"] = "yes" if g.get("idle") == 0 else "no"
    kv["cpus"], kv["nice"] = os.cpu_count(), os.getpriority(os.PRIO_PROCESS, 0)
    kv["loadavg_before"], kv["loadavg_after"] = load
    for k, v in kv.items():
        if isinstance(v, float):
            v = f"{v:.2f}"
        print(f"{k}={'-' if v is None else v}")


if __name__ == "__main__":
    main()
