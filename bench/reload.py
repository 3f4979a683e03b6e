#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A live reload of a 1,000-worker graced that changes one worker (issue 13, "Tests and
measurements": it touches no other pid; target < 50 ms to apply).

The real src/graced runs N workers (tests/integration/helpers/gworker, one [worker:wI] section
each, with after= and stop_timeout so that the diff and the plans have work to do), its control
socket and the gworkers' event file in a temp directory. Once every worker is ready, each round
rewrites the file (a new file renamed over the old one) so that it differs in ONE worker, asks
for the reload on the control socket, and measures:

  reload_apply_V_ms        from sending {"command":"reload"} on the control socket to the reply
                           (graced replies once the reload is applied), median over the rounds
  reload_log_V_ms          graced's own log: "Reloading" to "Reload applied", as the bench reads
                           them from graced's stderr (a pipe, read by a thread, timestamped on read)
  reload_gracectl_V_ms     the same request through `gracectl reload` (its start-up included)

for the variants V:

  updated   w{N/2} gets another stop_timeout (a key graced alone reads: same process)
  added     a worker "extra" is added (the reply waits until it is ready)
  removed   "extra" is removed again (the reply waits for its own stop: SIGTERM, exit, removal)
  changed   w{N/2} gets another command (a rolling restart, worker_restart()). Where graced
            cannot restart a worker yet the reply says so: "reload_apply_changed_ms=unsupported"

After every reload the bench takes `status` of every instance and compares the pids with the
ones before: every instance but the one the variant is about must keep its pid and must not
have recorded any signal (gworker --log). reload_touched_other_pids and
reload_signalled_other_workers are the totals over every round of every variant: 0 or the bench
fails (exit 1).

Each variant runs in a graced of its own (--fresh: one per round). If graced dies, the bench
says so (reload_graced_died_in=VARIANT) and exits 1.

Usage: reload.py [--quick] [-n N] [--rounds R] [--graced PATH] [--gracectl PATH] [--gworker PATH]
                 [--variants updated,added,removed,changed] [--fresh] [--keep]
BENCH_QUICK=1 is --quick (N=200, 3 rounds). --keep leaves the temp directories (config, events)
in place and prints their paths. BENCH_LOG_TAIL: how many of graced's last log lines to print
when it dies (20).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import become_subreaper, kill_all_descendants, now, raise_priority, wait_gone  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
START_TIMEOUT = float(os.environ.get("BENCH_START_TIMEOUT", "60"))
REPLY_TIMEOUT = 60.0
TARGET_MS = 50.0
VARIANTS = ("updated", "added", "removed", "changed")


def ms(seconds):
    return seconds * 1000.0


class LogReader(threading.Thread):
    """Reads graced's stderr line by line and keeps (monotonic time, line)."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.lines = []
        self.cond = threading.Condition()

    def run(self):
        for raw in self.pipe:
            t = now()
            with self.cond:
                self.lines.append((t, raw.decode(errors="replace").rstrip("\n")))
                self.cond.notify_all()

    def wait_for(self, text, start, timeout):
        """(time, index) of the first line from index start that contains text, or None."""
        deadline = now() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    if text in self.lines[i][1]:
                        return self.lines[i][0], i
                    i += 1
                left = deadline - now()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def count(self):
        with self.cond:
            return len(self.lines)

    def tail(self, n=int(os.environ.get("BENCH_LOG_TAIL", "20"))):
        with self.cond:
            return "\n".join(line for _, line in self.lines[-n:])


class NoReply(Exception):
    """graced closed the connection without a reply (it died, most likely)."""


class Bench:
    def __init__(self, args):
        self.args = args
        self.n = args.n
        self.target = f"w{self.n // 2}"
        self.proc = None
        self.died = []                 # the variants during which graced died
        self.starts = []
        self.log = None
        self.figures = {v: {"apply": [], "log": [], "gracectl": []} for v in VARIANTS}
        self.notes = {}
        self.touched = 0
        self.signalled = 0
        self.n_events = 0

    # The configuration --------------------------------------------------------------------

    def write_config(self):
        gw = self.args.gworker
        out = ["[supervisor]", "name = reloadbench", f"control_socket = {self.sock}",
               "[shutdown]", "stop_timeout = 5s"]
        for i in range(self.n):
            name = f"w{i}"
            argv = f"{gw} --name {name} --log {self.events}"
            if name == self.target and self.changed:
                argv += " --delay 0"
            out += [f"[worker:{name}]", f"command = {argv}", f"environment = BENCH_INDEX={i}"]
            if i >= 10:
                # one of the ten before it: the start order has N/10 levels
                out.append(f"after = w{i - 1 - i % 10}")
            st = self.stop_timeout if name == self.target else 5
            out.append(f"stop_timeout = {st}s")
        if self.extra:
            out += ["[worker:extra]", f"command = {gw} --name extra --log {self.events}"]
        tmp = self.ini + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(out) + "\n")
        os.rename(tmp, self.ini)  # a reload never reads a half-written file

    # The control socket -------------------------------------------------------------------

    def request(self, command):
        """(seconds from the request's first byte to the reply's last, the reply as JSON)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(REPLY_TIMEOUT)
            s.connect(self.sock)
            data = b""
            t0 = now()
            s.sendall(json.dumps({"command": command}).encode() + b"\n")
            while not data.endswith(b"\n"):
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
            t1 = now()
        if not data:
            raise NoReply(command)
        return t1 - t0, json.loads(data)

    def pids(self):
        _, r = self.request("status")
        return {i["name"]: i.get("pid") for i in r["instances"]}

    # graced -------------------------------------------------------------------------------

    def start(self):
        """A fresh graced in a fresh directory, with the file as at first."""
        self.dir = tempfile.mkdtemp(prefix="bench-reload-")
        self.ini = os.path.join(self.dir, "graced.ini")
        self.sock = os.path.join(self.dir, "ctl.sock")
        self.events = os.path.join(self.dir, "events")
        self.stop_timeout = 5          # of the target, seconds; "updated" moves it
        self.changed = False           # the target's command, "changed" flips it
        self.extra = False             # worker "extra" in the file
        self.n_events = 0
        self.write_config()
        self.proc = subprocess.Popen([self.args.graced, "-c", self.ini], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     cwd=self.dir)
        self.log = LogReader(self.proc.stderr)
        self.log.start()
        t0 = now()
        if not self.log.wait_for("Every worker is ready", 0, START_TIMEOUT):
            raise SystemExit(f"reload: graced did not get {self.n} workers ready in "
                             f"{START_TIMEOUT:.0f} s:\n{self.log.tail()}")
        deadline = now() + 10
        while not os.path.exists(self.sock):
            if now() > deadline:
                raise SystemExit("reload: no control socket")
            time.sleep(0.01)
        self.starts.append(ms(now() - t0))
        self.events_seen()

    def stop(self):
        if not self.proc:
            return
        if self.proc.poll() is None:
            pids = [self.proc.pid]
            os.kill(self.proc.pid, signal.SIGTERM)
            if wait_gone(pids, 30) is None:
                print("reload: graced did not stop within 30 s", file=sys.stderr)
        left = kill_all_descendants()
        if left:
            print(f"reload: killed {left} leftover processes", file=sys.stderr)
        self.proc = None
        if self.args.keep:
            print(f"reload: kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def events_seen(self):
        """The gworkers' event lines written since the last call."""
        try:
            with open(self.events) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            lines = []
        new = lines[self.n_events:]
        self.n_events = len(lines)
        return new

    # One reload ---------------------------------------------------------------------------

    def reload(self, variant, via_gracectl):
        """Asks for a reload of the file as it is now; returns the reply."""
        mark = self.log.count()
        if via_gracectl:
            t0 = now()
            r = subprocess.run([self.args.gracectl, "-s", self.sock, "reload"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=REPLY_TIMEOUT)
            took = now() - t0
            reply = {"ok": r.returncode == 0, "text": r.stdout.decode(errors="replace")}
            self.figures[variant]["gracectl"].append(ms(took))
        else:
            took, reply = self.request("reload")
            self.figures[variant]["apply"].append(ms(took))
        begin = self.log.wait_for("Reloading '", mark, 10)
        end = self.log.wait_for("Reload applied", begin[1] if begin else mark, 10)
        if begin and end and not via_gracectl:
            self.figures[variant]["log"].append(ms(end[0] - begin[0]))
        return reply

    def check(self, variant, before, after, expect_gone=(), expect_new=()):
        """Counts the instances other than the variant's own that lost their pid or a signal."""
        own = set(expect_gone) | set(expect_new) | ({self.target} if variant == "changed" else set())
        touched = [n for n, p in before.items() if n not in own and after.get(n) != p]
        touched += [n for n in after if n not in before and n not in own]
        for n in expect_gone:
            if n in after:
                raise SystemExit(f"reload: {variant}: '{n}' is still listed after its removal")
        for n in expect_new:
            if not after.get(n):
                raise SystemExit(f"reload: {variant}: '{n}' has no pid after it was added")
        signalled = set()
        for line in self.events_seen():
            f = line.split()
            if len(f) >= 3 and f[2] == "signal" and f[1] not in own:
                signalled.add(f[1])
        if touched or signalled:
            print(f"reload: {variant}: other instances touched: pid {touched[:10]}, "
                  f"signal {sorted(signalled)[:10]}", file=sys.stderr)
        self.touched += len(touched)
        self.signalled += len(signalled)

    def round(self, variant, via_gracectl=False):
        """One reload of the variant; None, or why graced did not apply it."""
        before = self.pids()
        gone, new = (), ()
        if variant == "updated":
            self.stop_timeout = 6 if self.stop_timeout == 5 else 5
            want = "1 updated"
        elif variant == "added":
            self.extra, new, want = True, ("extra",), "1 added"
        elif variant == "removed":
            self.extra, gone, want = False, ("extra",), "1 removed"
        else:
            self.changed = not self.changed
            want = "1 changed"
        self.write_config()
        self.n_figures = {kind: len(f) for kind, f in self.figures[variant].items()}
        reply = self.reload(variant, via_gracectl)
        if not reply.get("ok"):
            for kind in ("apply", "log", "gracectl"):  # no figure for what was not applied
                if len(self.figures[variant][kind]) > self.n_figures[kind]:
                    self.figures[variant][kind].pop()
            failed = reply.get("failed") or [{"error": reply.get("text") or reply.get("error")}]
            return "; ".join(" ".join(str(f.get("error")).split()) for f in failed) or "failed"
        if want not in reply.get("text", ""):
            raise SystemExit(f"reload: {variant}: the reply does not say '{want}':\n"
                             f"{reply.get('text')}")
        self.check(variant, before, self.pids(), gone, new)
        return None

    def run(self):
        """Each variant in a graced of its own; "added" and "removed" alternate (the one adds the
        worker the other removes). The last round of each goes through gracectl. With --fresh,
        a graced of its own for every round."""
        groups = [g for g in (("updated",), ("added", "removed"), ("changed",))
                  if any(v in self.args.variants for v in g)]
        rounds = self.args.rounds
        for group in groups:
            for k in range(rounds):
                if not self.proc or self.args.fresh:
                    self.stop()
                    self.start()
                via_gracectl = rounds > 1 and k == rounds - 1
                for variant in group:
                    try:
                        err = self.round(variant, via_gracectl)
                    except (NoReply, ConnectionError, FileNotFoundError) as e:
                        try:
                            self.proc.wait(timeout=10)
                        except subprocess.TimeoutExpired:
                            raise e from None
                        self.died.append(variant)
                        print(f"reload: graced died (status {self.proc.returncode}) in round "
                              f"{k + 1} of '{variant}': {e!r}; its last lines:\n"
                              f"{self.log.tail()}", file=sys.stderr)
                        self.notes[variant] = f"graced died (status {self.proc.returncode})"
                        break
                    if err:
                        self.notes[variant] = err
                        break
                if any(v in self.notes for v in group):
                    break
            self.stop()

    # Output -------------------------------------------------------------------------------

    def report(self):
        print(f"reload_workers={self.n}")
        print(f"reload_rounds={self.args.rounds}")
        if self.starts:
            print(f"reload_start_{self.n}_ms={statistics.median(self.starts):.0f}")
        ok = True
        if self.died:
            print(f"reload_graced_died_in={','.join(self.died)}")
            ok = False
        for v in VARIANTS:
            if v not in self.args.variants:
                continue
            fig = self.figures[v]
            if v == "changed" and self.notes.get(v) == "Operation not supported":
                # worker_restart() is a stand-in on this branch (the rolling restart is not in)
                print(f"reload_apply_{v}_ms=unsupported")
                print(f"# {v}: graced cannot restart a worker yet: {self.notes[v]}")
                continue
            if v in self.notes:
                print(f"# {v}: a round failed: {self.notes[v]}")
                ok = False
            for kind in ("apply", "log", "gracectl"):
                if fig[kind]:
                    print(f"reload_{kind}_{v}_ms={statistics.median(fig[kind]):.2f}")
            if fig["apply"]:
                print(f"reload_apply_{v}_max_ms={max(fig['apply']):.2f}")
        print(f"reload_touched_other_pids={self.touched}")
        print(f"reload_signalled_other_workers={self.signalled}")
        upd = self.figures["updated"]["apply"]
        if upd:
            print(f"target_reload_apply_updated_lt_{TARGET_MS:.0f}ms="
                  f"{'yes' if statistics.median(upd) < TARGET_MS else 'no'}")
        return ok and self.touched == 0 and self.signalled == 0


def main():
    quick = os.environ.get("BENCH_QUICK") == "1"
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", default=quick)
    p.add_argument("-n", type=int)
    p.add_argument("--rounds", type=int)
    p.add_argument("--graced", default=os.path.join(TOP, "_build/src/graced"))
    p.add_argument("--gracectl")
    p.add_argument("--gworker", default=os.path.join(TOP, "_build/tests/integration/helpers/gworker"))
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--keep", action="store_true")
    p.add_argument("--fresh", action="store_true")
    args = p.parse_args()
    args.n = args.n or (200 if args.quick else 1000)
    args.rounds = args.rounds or (3 if args.quick else 11)
    args.gracectl = args.gracectl or os.path.join(os.path.dirname(args.graced), "gracectl")
    args.graced, args.gracectl, args.gworker = (os.path.abspath(x) for x in
                                                (args.graced, args.gracectl, args.gworker))
    args.variants = [v for v in args.variants.split(",") if v]
    if "added" in args.variants or "removed" in args.variants:  # the one undoes the other
        args.variants += [v for v in ("added", "removed") if v not in args.variants]
    for v in args.variants:
        if v not in VARIANTS:
            p.error(f"unknown variant '{v}' (one of {', '.join(VARIANTS)})")
    for path in (args.graced, args.gracectl, args.gworker):
        if not os.access(path, os.X_OK):
            p.error(f"{path}: not built (make src/graced src/gracectl "
                    "tests/integration/helpers/gworker)")

    nice = raise_priority()
    become_subreaper()
    print(f"# graced reload bench: {args.n} workers, {args.rounds} rounds per variant, nice {nice}, "
          f"load average {os.getloadavg()[0]:.2f}")
    bench = Bench(args)
    try:
        bench.run()
    finally:
        bench.stop()
    sys.exit(0 if bench.report() else 1)


if __name__ == "__main__":
    main()
