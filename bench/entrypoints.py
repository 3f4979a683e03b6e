#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""graced's single-command mode (graced -- CMD) side by side with tini and dumb-init (issue 5).

  stop latency  SIGTERM to the entrypoint until the entrypoint has exited (waitpid returned),
                with a child (gworker) that exits at once on SIGTERM; median over the runs,
                runs interleaved across entrypoints. "bare": the child alone, no entrypoint.
  sleep stop    the same with `sleep 100` as the child, which SIGTERM ends at once: gworker's
                own exit (~1 ms) does not hide the entrypoint's share.
  rss           VmRSS of the entrypoint process while its child runs (median over the runs).
  reap          as PID 1 of `unshare --pid --fork --mount-proc`: 2,000 orphans (bench/orphans)
                exit at once; time from their release until the last one is reaped.

Usage: entrypoints.py [--quick] [--runs N] [--orphans N] [--graced PATH] [--gworker PATH]
                      [--orphans-bin PATH] [--static PATH] [--also NAME=PATH ...]
BENCH_QUICK=1 is --quick (15 runs, 500 orphans). --static (default _build-static/src/graced when
it exists, from ./dev static) adds the static build as "static"; --also adds any other graced
binary (a build of an older commit, say) under NAME, measured in the same run.
"""
import argparse
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (become_subreaper, raise_priority, descendants, fmt, install, kill_all_descendants,  # noqa: E402
                      now, proc_table, pss_kib, reap, status_field, wait_gone)

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)


def entrypoints(a):
    e = {"bare": [], "graced": [a.graced, "-q", "--"]}
    if a.static:
        e["static"] = [a.static, "-q", "--"]
    for also in a.also:
        name, path = also.split("=", 1)
        e[name] = [os.path.abspath(path), "-q", "--"]
    if shutil.which("tini"):
        e["tini"] = ["tini", "-s", "--"]
    if shutil.which("dumb-init"):
        e["dumbinit"] = ["dumb-init", "--"]
    return e


def one_stop(prefix, gworker, events):
    """Start prefix + gworker, wait until it runs, SIGTERM the top process: (latency ms, rss)."""
    if os.path.exists(events):
        os.unlink(events)
    p = subprocess.Popen(prefix + [gworker, "--log", events], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = now() + 10
    while not (os.path.exists(events) and os.path.getsize(events) > 0):
        if now() > deadline or p.poll() is not None:
            p.kill()
            p.wait()
            return None, None
        time.sleep(0.001)
    time.sleep(0.03)  # the child sets up its signalfd after its start line
    rss = (status_field(p.pid, "VmRSS"), status_field(p.pid, "RssAnon"), pss_kib(p.pid)) \
        if prefix else None
    t0 = time.perf_counter()
    os.kill(p.pid, signal.SIGTERM)
    if not wait_exit(p, 15):
        return None, rss
    t1 = time.perf_counter()
    reap()
    return (t1 - t0) * 1000, rss


def wait_exit(p, timeout):
    """Waits for p's exit, False after timeout (p killed). Popen.wait(timeout=) polls with sleeps
    of 0.5 ms and more, which put a ~1.1 ms floor under every latency; a pidfd wakes at once."""
    fd = os.pidfd_open(p.pid)
    try:
        if not select.select([fd], [], [], timeout)[0]:
            p.kill()
            p.wait()
            return False
    finally:
        os.close(fd)
    p.wait()
    return True


def runs_sleep(pid):
    """Whether the first child of pid has executed sleep."""
    try:
        kids = open(f"/proc/{pid}/task/{pid}/children").read().split()
        return bool(kids) and open(f"/proc/{kids[0]}/comm").read().strip() == "sleep"
    except OSError:
        return False


def one_stop_sleep(prefix):
    """Start prefix + sleep 100, SIGTERM the top process once sleep runs: latency ms."""
    p = subprocess.Popen(prefix + ["sleep", "100"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = now() + 10
    while not (runs_sleep(p.pid) if prefix else os.path.exists(f"/proc/{p.pid}/comm")
               and open(f"/proc/{p.pid}/comm").read().strip() == "sleep"):
        if now() > deadline or p.poll() is not None:
            p.kill()
            p.wait()
            return None
        time.sleep(0.001)
    time.sleep(0.02)
    t0 = time.perf_counter()
    os.kill(p.pid, signal.SIGTERM)
    if not wait_exit(p, 15):
        return None
    t1 = time.perf_counter()
    reap()
    return (t1 - t0) * 1000


def is_pipe(pid):
    try:
        return os.readlink(f"/proc/{pid}/fd/0").startswith("pipe:")
    except OSError:
        return False


def reap_lag(prefix, orphans_bin, n):
    """PID 1 in a new PID namespace, n orphans released at once: ms until the last is reaped."""
    rfd, wfd = os.pipe()
    p = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc"] + prefix
                         + [orphans_bin, str(n)], stdin=rfd, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    os.close(rfd)
    try:
        line = p.stdout.readline().decode()
        if not line.startswith("ready 0"):
            return None
        t = proc_table()
        kids = [c for c in t if t[c][0] == p.pid]
        if not kids:
            return None
        pid1 = kids[0]
        orphans = [c for c in descendants(pid1, t) if t[c][1] == "orphans" and t[c][0] == pid1
                   and is_pipe(c)]  # the main process reads /dev/null
        if len(orphans) < n:
            print(f"  reap: found {len(orphans)} of {n} orphans", file=sys.stderr)
        t0 = now()
        os.close(wfd)
        wfd = None
        t1 = wait_gone(orphans, 30, step=0.0005)
        return (t1 - t0) * 1000 if t1 else None
    finally:
        if wfd is not None:
            os.close(wfd)
        try:
            t = proc_table()
            for c in [c for c in t if t[c][0] == p.pid]:
                os.kill(c, signal.SIGTERM)
            p.wait(timeout=15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
        p.stdout.close()
        kill_all_descendants()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--orphans", type=int)
    ap.add_argument("--graced", default=os.environ.get("GRACED", os.path.join(TOP, "_build/src/graced")))
    ap.add_argument("--gworker", default=os.environ.get(
        "GWORKER", os.path.join(TOP, "_build/tests/integration/helpers/gworker")))
    ap.add_argument("--orphans-bin", default=os.environ.get(
        "ORPHANS", os.path.join(TOP, "_build/bench/orphans")))
    ap.add_argument("--static", default=os.environ.get("GRACED_STATIC"))
    ap.add_argument("--also", action="append", default=[], metavar="NAME=PATH")
    a = ap.parse_args()
    if a.static is None:
        a.static = os.path.join(TOP, "_build-static/src/graced")
    a.static = os.path.abspath(a.static) if a.static and os.access(a.static, os.X_OK) else None
    runs = a.runs or (15 if a.quick else 50)
    norph = a.orphans or (500 if a.quick else 2000)
    a.graced, a.gworker = os.path.abspath(a.graced), os.path.abspath(a.gworker)
    for b in (a.graced, a.gworker):
        if not os.access(b, os.X_OK):
            sys.exit(f"bench: {b} not built (make, make check)")
    install({"tini": "tini", "dumb-init": "dumb-init"})
    become_subreaper()
    nice = raise_priority()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))

    load0 = os.getloadavg()[0]  # before: releasing the orphans adds ~N runnable tasks to it
    eps = entrypoints(a)
    lat = {k: [] for k in eps}
    slat = {k: [] for k in eps}
    rss = {k: [] for k in eps}
    reap_ms = {}
    tmp = tempfile.mkdtemp(prefix="bench-entry-")
    try:
        print(f"# stop latency: {runs} runs of {', '.join(eps)}", file=sys.stderr, flush=True)
        for _ in range(runs):
            for k, prefix in eps.items():
                ms, r = one_stop(prefix, a.gworker, os.path.join(tmp, "events"))
                if ms is not None:
                    lat[k].append(ms)
                if r is not None:
                    rss[k].append(r)
                ms = one_stop_sleep(prefix)
                if ms is not None:
                    slat[k].append(ms)
        can_unshare = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"],
                                     stderr=subprocess.DEVNULL).returncode == 0
        if not os.access(a.orphans_bin, os.X_OK):
            print(f"bench: {a.orphans_bin} not built: no reap-lag figure", file=sys.stderr)
        elif not can_unshare:
            print("bench: unshare --pid not permitted: no reap-lag figure", file=sys.stderr)
        else:
            for k, prefix in eps.items():
                if k == "bare":
                    continue
                print(f"# reap: {k} as PID 1, {norph} orphans", file=sys.stderr, flush=True)
                reap_ms[k] = reap_lag(prefix, os.path.abspath(a.orphans_bin), norph)
    finally:
        left = kill_all_descendants()
        if left:
            print(f"bench: killed {left} leftover processes", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)

    med = {k: statistics.median(v) if v else None for k, v in lat.items()}
    p90 = {k: sorted(v)[int(len(v) * 0.9)] if v else None for k, v in lat.items()}
    smed = {k: statistics.median(v) if v else None for k, v in slat.items()}
    def med_of(k, i):
        v = [x[i] for x in rss[k] if x[i] is not None]
        return int(statistics.median(v)) if v else None
    mrss = {k: med_of(k, 0) for k in rss}
    manon = {k: med_of(k, 1) for k in rss}
    mpss = {k: med_of(k, 2) for k in rss}
    names = list(eps)
    w = max([11] + [len(k) + 2 for k in names])
    peers = [k for k in names if k in ("tini", "dumbinit")]
    ours = [k for k in names if k not in peers and k != "bare"]
    print(f"\n{'':24}" + "".join(f"{k:>{w}}" for k in names))
    print(f"{'stop latency median ms':24}" + "".join(f"{fmt(med[k]):>{w}}" for k in names))
    print(f"{'stop latency p90 ms':24}" + "".join(f"{fmt(p90[k]):>{w}}" for k in names))
    print(f"{'sleep stop median ms':24}" + "".join(f"{fmt(smed[k]):>{w}}" for k in names))
    print(f"{'VmRSS KiB':24}" + "".join(f"{fmt(mrss[k]):>{w}}" for k in names))
    print(f"{'  of which anon KiB':24}" + "".join(f"{fmt(manon[k]):>{w}}" for k in names))
    print(f"{'PSS KiB':24}" + "".join(f"{fmt(mpss[k]):>{w}}" for k in names))
    print(f"{f'reap {norph} orphans ms':24}" + "".join(f"{fmt(reap_ms.get(k)):>{w}}" for k in names))
    print()
    key = {k: k for k in names}
    key["graced"] = "single"
    kv = {"cpus": os.cpu_count(), "nice": nice, "loadavg_before": load0}
    for k in names:
        kv[f"{key[k]}_stop_latency_ms"] = med[k]
        kv[f"{key[k]}_stop_latency_p90_ms"] = p90[k]
        kv[f"{key[k]}_sleep_stop_latency_ms"] = smed[k]
    for k in names[1:]:
        kv[f"{key[k]}_rss_kib"] = mrss[k]
        kv[f"{key[k]}_rss_anon_kib"] = manon[k]
        kv[f"{key[k]}_pss_kib"] = mpss[k]
    for k in names[1:]:
        kv[f"{key[k]}_reap_{norph}_ms"] = reap_ms.get(k)
    for o in ours:
        g = med.get(o)
        for k in peers:
            kv[f"{key[o]}_stop_latency_minus_{key[k]}_ms"] = (g - med[k]) if g is not None and med[k] is not None else None
            sg = smed.get(o)
            kv[f"{key[o]}_sleep_stop_latency_minus_{key[k]}_ms"] = (sg - smed[k]) if sg is not None and smed[k] is not None else None
            kv[f"{key[o]}_rss_ratio_{key[k]}"] = (mrss[o] / mrss[k]) if mrss.get(o) and mrss[k] else None
            gr, pr = reap_ms.get(o), reap_ms.get(k)
            kv[f"{key[o]}_reap_ratio_{key[k]}"] = (gr / pr) if gr and pr else None
    # The targets of issue 14 (figures, not assertions: a bench never fails).
    for o in ours:
        g = med.get(o)
        if "tini" in med and g is not None and med["tini"] is not None:
            kv[f"target_{key[o]}_stop_latency_le_tini_plus_0.3ms"] = "yes" if g <= med["tini"] + 0.3 else "no"
        sg = smed.get(o)
        if "tini" in smed and sg is not None and smed["tini"] is not None:
            kv[f"target_{key[o]}_sleep_stop_latency_le_tini_plus_0.3ms"] = "yes" if sg <= smed["tini"] + 0.3 else "no"
        if mrss.get(o):
            kv[f"target_{key[o]}_rss_lt_2mib"] = "yes" if mrss[o] < 2048 else "no"
        if reap_ms.get(o) and reap_ms.get("tini"):
            kv[f"target_{key[o]}_reap_le_tini"] = "yes" if reap_ms[o] <= reap_ms["tini"] else "no"
    for k, v in kv.items():
        if isinstance(v, float):
            v = f"{v:.3f}"
        print(f"{k}={'-' if v is None else v}")


if __name__ == "__main__":
    main()
