#!/bin/bash
# `gracectl restart WORKER`, the rolling restart (issue 13). A 2-instance HTTP worker serves on a socket graced owns ([intake:http], passed with
# LISTEN_FDS); a client sends requests in a loop and /ready is polled throughout. For each instance
# in turn the replacement starts (same instance number, same socket), becomes ready (ready =
# notify), and only then the old one gets its stop signal and finishes its request in flight:
# 0 failed requests, every pid replaced, /ready 200 all along. A replacement that never becomes
# ready within start_timeout is stopped and the old instance kept (same pid): gracectl exits 1.
# A SIGTERM to graced while a replacement starts: the old instances and the replacement all go
# through the shutdown's steps and are reaped, the report is clean, gracectl restart says so (1).
# A SIGTERM while a replaced instance is being stopped: the replacement is stopped at once, beside
# it, and graced ends within one stop budget.
. "$TEST_LIB"

: "${GRACECTL:=$GRACED_BUILDDIR/src/gracectl}"
S=$T/ctl.sock
CTL="$GRACECTL -s $S"
# The interpreter itself, not a wrapper script (pyenv's shims) in front of it.
PY=$(python3 -c 'import sys; print(sys.executable)')
http=$(free_port)
ready=$(free_port)
while [ "$ready" = "$http" ]; do ready=$(free_port); done

# The HTTP worker. Serves on the passed socket (fd 3, LISTEN_PID/LISTEN_FDS), one request per
# connection, each taking --slow ms; says READY=1 on its NOTIFY_SOCKET once it serves. On SIGTERM
# it finishes the request it holds and exits 0; it leaves connections it has not accepted to the
# socket's other processes. When the file --never-ready-if names exists at its start, it hangs in
# its "initialisation" instead: accepts nothing, never ready, exits 0 on SIGTERM. Events, as
# gworker's ("<CLOCK_MONOTONIC ms> web <event>", one write each): start pid=N instance=K inode=I
# ready=yes|no, ready pid=N (written before READY=1 is sent), signal SIGTERM pid=N,
# accept-failed pid=N errno=E (the socket shut down), exit 0 pid=N served=N.
cat >"$T/httpd.py" <<'PY'
import argparse, errno, os, select, signal, socket, sys, time
ap = argparse.ArgumentParser()
ap.add_argument("--log", required=True)
ap.add_argument("--never-ready-if", required=True)
ap.add_argument("--slow", type=int, default=20)
a = ap.parse_args()
logfd = os.open(a.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
pid = os.getpid()
def event(text):
    os.write(logfd, ("%d web %s\n" % (time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000000,
                                       text)).encode())
if os.environ.get("LISTEN_PID") != str(pid) or int(os.environ.get("LISTEN_FDS", "0")) < 1:
    sys.exit("httpd.py: no socket passed (LISTEN_PID/LISTEN_FDS)")
instance = os.environ.get("GRACED_INSTANCE", "?")
stopping = False
rfd, wfd = os.pipe()
os.set_blocking(wfd, False)
signal.set_wakeup_fd(wfd)
def on_term(sig, frame):
    global stopping
    if not stopping:
        event("signal SIGTERM pid=%d" % pid)
    stopping = True
signal.signal(signal.SIGTERM, on_term)
lsock = socket.socket(fileno=3)
never = os.path.exists(a.never_ready_if)
event("start pid=%d instance=%s inode=%d ready=%s" % (pid, instance, os.fstat(3).st_ino,
                                                     "no" if never else "yes"))
if never:
    while not stopping:
        select.select([rfd], [], [])
        os.read(rfd, 64)
    event("exit 0 pid=%d served=0" % pid)
    sys.exit(0)
# The socket is shared with the other instances: whoever is woken may find the queue empty.
lsock.setblocking(False)
event("ready pid=%d" % pid)
addr = os.environ["NOTIFY_SOCKET"]
n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
n.sendto(b"READY=1", "\0" + addr[1:] if addr.startswith("@") else addr)
n.close()
served = 0
door_open = True
while not stopping:
    r, _, _ = select.select([rfd] + ([lsock] if door_open else []), [], [])
    if rfd in r:
        os.read(rfd, 64)
    if lsock not in r or stopping:
        continue
    try:
        conn, _ = lsock.accept()
    except (BlockingIOError, InterruptedError, ConnectionAbortedError):
        continue
    except OSError as e:
        event("accept-failed pid=%d errno=%s" % (pid, errno.errorcode.get(e.errno, e.errno)))
        door_open = False
        continue
    with conn:
        conn.setblocking(True)
        conn.settimeout(10)
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                b = conn.recv(4096)
                if not b:
                    break
                head += b
            time.sleep(a.slow / 1000)
            body = ("served by %d instance %s\n" % (pid, instance)).encode()
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n%s" % (len(body), body))
            served += 1
        except OSError as e:
            event("request-failed pid=%d %s" % (pid, type(e).__name__))
event("exit 0 pid=%d served=%d" % (pid, served))
PY

# The clients, until the file STOP exists; STARTED is created after the first answer.
#   client.py http PORT STARTED STOP PIDS
#     GET / in a loop, a fresh connection each; appends each pid that served it to PIDS the
#     first time. Prints: served=N failed=N [failure@ms ...]
#   client.py ready PORT STARTED STOP
#     GET /ready every 20 ms. Prints: polls=N not200=N [answer@ms ...]
cat >"$T/client.py" <<'PY'
import os, socket, sys, time
mode, port, started, stop = sys.argv[1:5]
def ms():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000000
def get(path):
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as s:
        s.sendall(("GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" % path).encode())
        data = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
    head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
    return (head.split(" ")[1] if " " in head else "none"), body.strip()
ok = bad = 0
notes = []
seen = set()
while not os.path.exists(stop):
    try:
        code, body = get("/" if mode == "http" else "/ready")
    except OSError as e:
        code, body = type(e).__name__, ""
    if code == "200":
        ok += 1
        if mode == "http":
            p = body.split()[2]
            if p not in seen:
                seen.add(p)
                with open(sys.argv[5], "a") as f:
                    f.write(p + "\n")
    else:
        bad += 1
        notes.append("%s@%d" % (code, ms()))
    if ok == 1 and not os.path.exists(started):
        open(started, "w").close()
    if mode == "ready":
        time.sleep(0.02)
if mode == "http":
    print("served=%d failed=%d %s" % (ok, bad, " ".join(notes[:10])))
else:
    print("polls=%d not200=%d %s" % (ok + bad, bad, " ".join(notes[:10])))
PY

# start_clients NAME: the request loop and the /ready poller, until stop_clients NAME.
start_clients() {
	rm -f "$T/$1."*
	python3 "$T/client.py" http "$http" "$T/$1.http-started" "$T/$1.stop" "$T/$1.pids" \
		>"$T/$1.http" 2>&1 &
	HTTP_CLIENT=$!
	python3 "$T/client.py" ready "$ready" "$T/$1.ready-started" "$T/$1.stop" >"$T/$1.ready" 2>&1 &
	READY_CLIENT=$!
	wait_for 10 test -e "$T/$1.http-started" || fail "$1: the request loop got no answer"
	wait_for 10 test -e "$T/$1.ready-started" || fail "$1: /ready did not answer 200"
}
stop_clients() {
	touch "$T/$1.stop"
	wait "$HTTP_CLIENT" "$READY_CLIENT"
}

cat >"$T/roll.ini" <<INI
[supervisor]
name = rolltest
control_socket = $S
report = $T/report.json
[shutdown]
stop_timeout = 10s
[intake:http]
type = socket
listen = tcp://127.0.0.1:$http
[intake:ready]
type = readiness
listen = tcp://127.0.0.1:$ready
[worker:web]
command = $PY $T/httpd.py --log $EV --never-ready-if $T/never-ready --slow 20
instances = 2
sockets = http
ready = notify
start_timeout = 3s
INI
run "$GRACED" -c "$T/roll.ini" --check
expect_rc 0 "--check"
start_graced -c "$T/roll.ini"
wait_for 15 events_at_least 2 ' web ready ' || fail "the web instances did not get ready: $(cat "$T/graced.log")"
wait_for 10 test -S "$S" || fail "no control socket"
wait_for 10 eval '[ "$($TCP http "$ready" /ready 2>/dev/null)" = "200 ready" ]' || fail "/ready is not 200"
inode=$(awk -v p="$(printf '0100007F:%04X' "$http")" '$2 == p && $4 == "0A" { print $10; exit }' /proc/net/tcp)
first=$(status_pids)
old0=$(pid_in web.0 "$first")
old1=$(pid_in web.1 "$first")
[ -n "$old0" ] && [ -n "$old1" ] && pass || fail "status lists web.0 and web.1 with pids: $first"
expect_eq "$(count_events " web start .* inode=$inode ready=yes")" 2 "both instances got intake http's socket"
for k in 0 1; do
	expect_eq "$(grep -c " web start pid=$(pid_in web.$k "$first") instance=$k " "$EV")" 1 \
		"web.$k runs with GRACED_INSTANCE=$k"
done
case "$($TCP http "$http" / 2>&1)" in
"200 served by $old0 instance 0" | "200 served by $old1 instance 1") pass ;;
*) fail "the HTTP worker does not answer through graced's socket: $($TCP http "$http" / 2>&1)" ;;
esac

# 1. The rolling restart while the client sends requests.
start_clients roll
t0=$(date +%s%N)
run $CTL restart web
expect_rc 0 "gracectl restart web"
cp "$T/out" "$T/restart.out"
cp "$T/err" "$T/restart.err"
restart_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
second=$(status_pids)
new0=$(pid_in web.0 "$second")
new1=$(pid_in web.1 "$second")
# The client goes on until a replacement has served it (or 10 s): requests across the end too.
replacements=$(for p in $new0 $new1; do [ "$p" != "$old0" ] && [ "$p" != "$old1" ] && echo "$p"; done)
served_by_new() {
	[ -n "$replacements" ] && grep -qxF "$replacements" "$T/roll.pids" 2>/dev/null
}
wait_for 10 served_by_new || fail "no request was served by a replacement"
stop_clients roll
http_result=$(cat "$T/roll.http")
ready_result=$(cat "$T/roll.ready")
echo "rolling-restart.sh: gracectl restart web took ${restart_ms} ms; pids before: $first; after: $second"
echo "rolling-restart.sh: requests during the restart: $http_result"
echo "rolling-restart.sh: /ready during the restart: $ready_result"
echo "rolling-restart.sh: $(value served "$http_result") requests served during the rolling restart"
expect_eq "$(value failed "$http_result")" 0 "0 failed requests during the rolling restart"
expect_eq "$(value not200 "$ready_result")" 0 "/ready stays 200 during the rolling restart"
expect_between "$(value polls "$ready_result")" 1 999999 "/ready was polled"
# Every pid replaced, each replacement with its instance number and the same socket.
for k in 0 1; do
	old=$(pid_in web.$k "$first")
	new=$(pid_in web.$k "$second")
	if [ -n "$new" ] && [ "$new" != "$old" ] && [ "$new" != "$old0" ] && [ "$new" != "$old1" ]; then
		pass
	else
		fail "web.$k has a new pid (before $old, after '$new')"
		continue
	fi
	expect_eq "$(pids_alive "$new")" 1 "the new web.$k (pid $new) runs"
	expect_eq "$(grep -c " web start pid=$new instance=$k inode=$inode ready=yes" "$EV")" 1 \
		"the new web.$k has instance number $k and intake http's socket"
	expect_eq "$(pids_alive "$old")" 0 "the old web.$k (pid $old) is gone"
	expect_eq "$(count_events " web signal SIGTERM pid=$old$")" 1 "the old web.$k got its stop signal"
	expect_eq "$(count_events " web exit 0 pid=$old ")" 1 "the old web.$k exited on it, its requests done"
	# The old one hears its stop signal only once its replacement is ready.
	ready_at=$(event_ms " web ready pid=$new$")
	term_at=$(event_ms " web signal SIGTERM pid=$old$")
	[ -n "$ready_at" ] && [ -n "$term_at" ] &&
		expect_at_least "$((term_at - ready_at))" 0 "web.$k: the old instance is stopped only after its replacement is ready"
done
# One instance at a time: the second replacement starts only once the first old instance exited.
if [ -n "$new0" ] && [ -n "$new1" ]; then
	s0=$(event_ms " web start pid=$new0 ")
	s1=$(event_ms " web start pid=$new1 ")
	if [ "${s0:-0}" -le "${s1:-0}" ]; then
		first_old=$old0 second_new=$new1
	else
		first_old=$old1 second_new=$new0
	fi
	exit_at=$(event_ms " web exit 0 pid=$first_old ")
	start_at=$(event_ms " web start pid=$second_new ")
	[ -n "$exit_at" ] && [ -n "$start_at" ] &&
		expect_at_least "$((start_at - exit_at))" 0 "one instance at a time: the second replacement starts after the first old instance exited"
fi
# The kept socket: the same one, still graced's.
expect_eq "$(awk -v p="$(printf '0100007F:%04X' "$http")" '$2 == p && $4 == "0A" { print $10; exit }' /proc/net/tcp)" \
	"$inode" "intake http is the same listening socket after the restart"

# 2. A replacement that never becomes ready within start_timeout (3 s): it is stopped, the old
# instance is kept, gracectl restart exits 1. The clients run across it too.
touch "$T/never-ready"
second=$(status_pids)
n_never=$(count_events ' web start .* ready=no')
start_clients fail
t0=$(date +%s%N)
run $CTL restart web
fail_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_rc 1 "gracectl restart web when the replacement never becomes ready"
cat "$T/out" "$T/err" >"$T/reply"
if grep -qi 'ready\|start_timeout' "$T/reply" && ! grep -q 'unknown command' "$T/reply"; then pass; else
	fail "the failure says the replacement did not become ready: $(tr '\n' ' ' <"$T/reply")"
fi
stop_clients fail
http_result=$(cat "$T/fail.http")
ready_result=$(cat "$T/fail.ready")
echo "rolling-restart.sh: failed restart took ${fail_ms} ms; requests during it: $http_result; /ready: $ready_result"
expect_at_least "$fail_ms" 2900 "the replacement had its start_timeout (3 s) to become ready"
expect_eq "$(status_pids)" "$second" "the old instances are kept (same pids)"
expect_eq "$(value failed "$http_result")" 0 "0 failed requests during the failed restart"
expect_eq "$(value not200 "$ready_result")" 0 "/ready stays 200 during the failed restart"
never=$(grep -E ' web start .* ready=no' "$EV" | sed 's/.* pid=\([0-9]*\) .*/\1/')
expect_between "$(( $(echo "$never" | grep -c .) - n_never ))" 1 2 "a replacement was started"
# Stopped: how (its stop signal, or the kill of a failed start) is not the point.
for p in $never; do
	wait_for 10 eval '[ "$(pids_alive "$p")" = 0 ]' || fail "the never-ready replacement $p was not stopped"
	echo "rolling-restart.sh: the never-ready replacement $p: $(grep -cE " web signal SIGTERM pid=$p$" "$EV") SIGTERM"
done

# 3. Refusals: no such worker, no name (as stop).
run $CTL restart nosuch
expect_rc 1 "restart of an unknown worker"
expect_in "$T/err" "cannot restart worker 'nosuch': no such worker" "the refusal names the worker"
run $CTL restart
expect_rc 2 "restart without a name"
expect_eq "$(status_pids)" "$second" "a refused restart changes nothing"

# 4. SIGTERM to graced during a rolling restart, while a replacement starts (never ready): the
# ordered shutdown takes every process (both old instances and the replacement) through its steps
# and reaps it; the restart ends as cut short (gracectl restart 1), nothing is left pending.
third=$(status_pids)
n_never=$(count_events ' web start .* ready=no')
$CTL restart web >"$T/cut.out" 2>"$T/cut.err" &
CUT=$!
wait_for 10 events_at_least $((n_never + 1)) ' web start .* ready=no' ||
	fail "no replacement started: $(tail -5 "$T/graced.log")"
replacement=$(grep -E ' web start .* ready=no' "$EV" | tail -1 | sed 's/.* pid=\([0-9]*\) .*/\1/')
kill -TERM "$GPID"
wait_graced 30
expect_rc 0 "clean shutdown during the rolling restart"
wait "$CUT"
cut_rc=$?
expect_eq "$cut_rc" 1 "gracectl restart cut short by the shutdown exits 1"
if grep -q 'shutdown' "$T/cut.err"; then pass; else
	fail "gracectl restart says the shutdown cut it short: $(cat "$T/cut.out" "$T/cut.err")"
fi
expect_eq "$(pids_alive $(pid_in web.0 "$third") $(pid_in web.1 "$third") $replacement)" 0 \
	"the old instances and the replacement are gone"
expect_eq "$(count_events " web signal SIGTERM pid=$replacement$")" 1 "the replacement got the shutdown's stop signal"
for k in 0 1; do
	expect_eq "$(count_events " web exit 0 pid=$(pid_in web.$k "$third") ")" 1 "the old web.$k exited on the shutdown's stop signal"
done
expect_eq "$(json '[w["outcome"] for w in r["workers"]]')" "['exited', 'exited']" "both instances exited"
expect_eq "$(json '[w["pid"] for w in r["workers"]]' 2>/dev/null)" \
	"[$(pid_in web.0 "$third"), $(pid_in web.1 "$third")]" "the report lists the instances that served"
expect_pending_at_exit 0

# 5. SIGTERM to graced while the rolling restart stops a replaced instance (it takes 4 s to exit
# on SIGTERM; stop_timeout 6 s): the replacement gets the shutdown's stop signal at once, before
# the old one exits (the old one gets one SIGTERM, its own stop's), and graced ends within the
# stop step's budget from the signal (about 4 s; some 8 s when the shutdown waited for the old
# one's stop before it signalled the replacement).
cat >"$T/slow.ini" <<INI
[supervisor]
name = rollslow
control_socket = $S
report = $T/report.json
[worker:slow]
command = $GW --log $EV --delay 4000
stop_timeout = 6s
INI
rm -f "$EV" "$T/report.json"
start_graced -c "$T/slow.ini"
wait_for 10 events_at_least 1 ' start pid=' || fail "slow did not start: $(cat "$T/graced.log")"
wait_for 10 test -S "$S" || fail "no control socket"
old=$(pid_in slow "$(status_pids)")
$CTL restart slow >"$T/slow.out" 2>"$T/slow.err" &
SLOW=$!
wait_for 10 events_at_least 1 "^[0-9]+ $old signal SIGTERM$" ||
	fail "the old instance got no stop signal: $(tail -5 "$T/graced.log")"
new=$(pid_in slow "$(status_pids)")
[ -n "$new" ] && [ "$new" != "$old" ] && pass || fail "the replacement took the slot: '$old' -> '$new'"
t1=$(date +%s%N)
kill -TERM "$GPID"
wait_graced 30
took_ms=$(( ($(date +%s%N) - t1) / 1000000 ))
expect_rc 0 "clean shutdown while the restart stops the replaced instance"
wait "$SLOW"
expect_eq "$(pids_alive "$old" "$new")" 0 "the replaced instance and the replacement are gone"
expect_eq "$(count_events "^[0-9]+ $old signal SIGTERM$")" 1 "the replaced instance got one SIGTERM"
expect_eq "$(count_events "^[0-9]+ $new signal SIGTERM$")" 1 "the replacement got one SIGTERM"
# A second one during its --delay would go unrecorded by the worker: graced's log says what it sent.
expect_eq "$(grep -c "signal=SIGTERM pid=$old " "$T/graced.log")" 1 "graced sent the replaced instance one SIGTERM"
new_term=$(event_ms "^[0-9]+ $new signal SIGTERM$")
old_exit=$(event_ms "^[0-9]+ $old exit ")
if [ -n "$new_term" ] && [ -n "$old_exit" ] && [ "$new_term" -lt "$old_exit" ]; then pass; else
	fail "the replacement got its stop signal ($new_term) before the replaced one exited ($old_exit)"
fi
echo "rolling-restart.sh: SIGTERM during a replaced instance's stop: graced ended after $took_ms ms, signal_ms $(json 'r["workers"][0]["signal_ms"]')"
expect_between "$took_ms" 0 6000 "graced ended within stop_timeout of the SIGTERM (ms)"
expect_eq "$(json '[w["outcome"] for w in r["workers"]]')" "['exited']" "the replacement exited"
expect_eq "$(json '[w["pid"] for w in r["workers"]]')" "[$new]" "the report lists the replacement"
expect_between "$(json 'r["workers"][0]["signal_ms"]')" 0 2000 \
	"the report's signal_ms: the replacement was signalled with the shutdown"
expect_pending_at_exit 0

finish
