# SPDX-License-Identifier: MIT
"""Shared helpers of bench/supervisors.py and bench/entrypoints.py: process-tree walking, a
subreaper bench process that reaps and kills only what it started, peer installation, output."""
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def now():
    return time.monotonic()


def raise_priority():
    """The machine may be shared: run the bench (and what it starts, by inheritance) at nice
    BENCH_NICE (default -10 when root) so that other load disturbs every peer less."""
    want = int(os.environ.get("BENCH_NICE", "-10" if os.geteuid() == 0 else "0"))
    try:
        os.setpriority(os.PRIO_PROCESS, 0, want)
    except OSError:
        pass
    return os.getpriority(os.PRIO_PROCESS, 0)


def become_subreaper():
    """Orphans of the peers we start stay below us, so we can reap them and kill leftovers."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap():
    """Reap every exited child of the bench process (we are a subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def proc_table():
    """{pid: (ppid, comm, state)} of every process."""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                s = f.read().decode(errors="replace")
        except OSError:
            continue
        lp, rp = s.index("("), s.rindex(")")
        rest = s[rp + 2:].split()
        table[int(d)] = (int(rest[1]), s[lp + 1:rp], rest[0])
    return table


def descendants(root, table=None):
    """Pids of every descendant of root (not root itself)."""
    table = table or proc_table()
    children = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def alive(pid):
    return os.path.exists(f"/proc/{pid}")


def wait_gone(pids, timeout, step=0.002):
    """Wait until every pid has disappeared from /proc (exited and reaped). Returns the time it
    was seen (monotonic) or None on timeout. Checks in order, stopping at the first alive pid,
    so a poll costs little while many remain."""
    pending = list(pids)
    deadline = now() + timeout
    while True:
        reap()
        while pending and not alive(pending[0]):
            pending.pop(0)
        if pending:
            # the first one may outlive the others: look further before sleeping
            pending = [p for p in pending if alive(p)] if len(pending) < 64 else pending
        if not pending:
            return now()
        if now() > deadline:
            return None
        time.sleep(step)


def status_field(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def ctxt_switches(pids):
    total = 0
    for p in pids:
        total += (status_field(p, "voluntary_ctxt_switches") or 0)
        total += (status_field(p, "nonvoluntary_ctxt_switches") or 0)
    return total


def kill_all_descendants():
    """SIGKILL whatever the bench started and is still alive (by pid: our own descendants
    only), then reap. Returns how many were left."""
    me = os.getpid()
    left = 0
    for _ in range(20):
        reap()
        pids = descendants(me)
        if not pids:
            return left
        left = max(left, len(pids))
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    reap()
    return left


def install(packages_by_binary):
    """Install the Debian packages of missing binaries (root only). Never lets a package start
    a system service: a policy-rc.d answering 101 is put in place only if none exists, and
    removed afterwards. Returns the set of binaries available."""
    missing = sorted({pkg for b, pkg in packages_by_binary.items() if not shutil.which(b)})
    if missing and os.geteuid() == 0 and os.environ.get("BENCH_NO_INSTALL") != "1":
        print(f"bench: installing {' '.join(missing)}", file=sys.stderr)
        policy = "/usr/sbin/policy-rc.d"
        created = False
        if not os.path.exists(policy):
            with open(policy, "w") as f:
                f.write("#!/bin/sh\nexit 101\n")
            os.chmod(policy, 0o755)
            created = True
        try:
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
                           env=env, stdout=subprocess.DEVNULL, check=False, timeout=600)
        finally:
            if created:
                os.unlink(policy)
    elif missing:
        print(f"bench: not root, cannot install {' '.join(missing)}", file=sys.stderr)
    have = {b for b in packages_by_binary if shutil.which(b)}
    for b, pkg in packages_by_binary.items():
        if b not in have:
            print(f"bench: {b} (package {pkg}) not available: that peer is skipped", file=sys.stderr)
    return have


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}{unit}" if v < 10 else f"{v:.0f}{unit}" if v >= 1000 else f"{v:.1f}{unit}"
    return f"{v}{unit}"


def ratio(a, b):
    """b / a: how many times graced (a) is better than the peer (b), for lower-is-better."""
    if a is None or b is None:
        return None
    if a <= 0:
        return float("inf") if b > 0 else 1.0
    return b / a
