#!/usr/bin/env python3
"""Job control through a pty: an interactive bash runs `graced -- cat >FILE`; Ctrl+Z must stop
the job (bash reports it stopped), `fg` must resume it with the terminal given back to cat, and
Ctrl+D must end it with status 0. Usage: jobshell.py GRACED OUTFILE. Prints what failed, exits 1;
every wait is bounded."""
import os
import pty
import select
import sys
import time

graced, outfile = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.environ["PS1"] = "PROMPT> "
    os.environ["TERM"] = "dumb"
    os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])

seen = b""


def wait_for(text, limit=10.0):
    """Reads the pty until text appears after what was matched before."""
    global seen
    end = time.monotonic() + limit
    while text.encode() not in seen:
        left = end - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                return False
    seen = seen[seen.index(text.encode()) + len(text):]
    return True


def file_has(text, limit=10.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            with open(outfile) as f:
                if text in f.read():
                    return True
        except OSError:
            pass
        time.sleep(0.02)
    return False


failed = []
ok = wait_for("PROMPT> ")
os.write(fd, f"'{graced}' -- cat >'{outfile}'\n".encode())
os.write(fd, b"before-stop\n")
if not file_has("before-stop"):
    failed.append("cat did not start")
os.write(fd, b"\x1a")  # Ctrl+Z
if not wait_for("Stopped") or not wait_for("PROMPT> "):
    failed.append("Ctrl+Z: bash did not see the job stop")
os.write(fd, b"jobs -l\n")
if not wait_for("Stopped") or not wait_for("PROMPT> "):
    failed.append("jobs: the job is not stopped")
os.write(fd, b"fg\n")
os.write(fd, b"after-fg\n")
if not file_has("after-fg"):
    failed.append("fg: cat did not continue")
os.write(fd, b"\x04")  # Ctrl+D: cat ends, so does graced
os.write(fd, b"echo rc=$?\n")
if not wait_for("rc=0"):
    failed.append("the job did not end with status 0 after Ctrl+D")
os.write(fd, b"exit\n")
for _ in range(250):
    done, _ = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.02)
else:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
for f in failed:
    print(f)
if failed:
    print("pty output left:", seen.decode(errors="replace")[-800:])
sys.exit(1 if failed else 0)
