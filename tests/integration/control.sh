#!/bin/bash
# The control socket and gracectl against the real graced: every command and exit code, the
# socket's mode and directory, a peer of another uid refused (by the file's mode, and by
# SO_PEERCRED when the mode is opened up), control_group, clients that stall or send garbage
# (others are still served, the shutdown is not held up), stale and busy socket files, the
# default path, single-command mode's --control-socket, and exit 3 once graced is gone.
. "$TEST_LIB"

: "${GRACECTL:=$GRACED_BUILDDIR/src/gracectl}"
S=$T/run/ctl.sock
CTL="$GRACECTL -s $S"

# A client speaking the wire protocol itself (gracectl(1), "PROTOCOL"):
#   raw SOCKET LINE...   sends each line, prints every reply line until graced closes
#   hold SOCKET N TEXT   opens N connections, sends TEXT on each (may be empty), holds them
cat >"$T/client.py" <<'PY'
import os, socket, sys, time
mode, path = sys.argv[1], sys.argv[2]
if mode == "raw":
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(path)
    text = "".join(l + "\n" for l in sys.argv[3:])
    # RAW_NO_NEWLINE=1: the last request ends with the end of the input instead.
    if os.environ.get("RAW_NO_NEWLINE"):
        text = text[:-1]
    s.sendall(text.encode())
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    sys.stdout.write(data.decode())
elif mode == "trickle":
    # Half a request, then nothing: how long until graced closes the connection (ms).
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    start = time.monotonic()
    s.connect(path)
    s.sendall(b'{"command":')
    while s.recv(4096):
        pass
    print(int((time.monotonic() - start) * 1000), flush=True)
elif mode == "hold":
    conns = []
    for _ in range(int(sys.argv[3])):
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        if sys.argv[4]:
            s.sendall(sys.argv[4].encode())
        conns.append(s)
    print("held", flush=True)
    time.sleep(120)
PY
CLIENT="python3 $T/client.py"

socket_there() { [ -S "$S" ]; }

cat >"$T/a.ini" <<INI
[supervisor]
name = ctltest
control_socket = $S
report = $T/report.json
[worker:web]
command = $GW --name web --log $EV --ignore HUP
instances = 2
[worker:db]
command = $GW --name db --log $EV
INI
start_graced -c "$T/a.ini"
wait_for 10 events_at_least 3 ' start ' || fail "workers did not start"
wait_for 10 socket_there || fail "no control socket at $S"

# A client that sends half a request and then nothing is closed at its deadline (10 s after
# its accept, CONTROL_REQUEST_TIMEOUT), not before, while the others below are served.
$CLIENT trickle "$S" >"$T/trickle" 2>&1 &
TRICKLE=$!

# The socket: 0600, in a directory graced made 0700, owned by graced's user.
expect_eq "$(stat -c %a "$S")" 600 "socket mode"
expect_eq "$(stat -c %a "$T/run")" 700 "mode of the directory graced made"

# status: every instance, then only the ones asked for.
run $CTL status
expect_rc 0 "status"
for w in web.0 web.1 db; do expect_in "$T/out" "$w" "status lists $w"; done
expect_in "$T/out" "ready" "status shows the state"
expect_in "$T/out" "graced 'ctltest' (pid $GPID): running" "status names graced"
run $CTL --json status web
expect_rc 0 "status web --json"
pids=$(python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["ok"] is True and r["name"] == "ctltest" and r["step"] == "running"
names = [i["name"] for i in r["instances"]]
assert names == ["web.0", "web.1"], names
for i in r["instances"]:
    assert i["state"] == "ready" and i["restarts"] == 0 and i["uptime_ms"] >= 0, i
    assert "last_exit" not in i, i
print(" ".join(str(i["pid"]) for i in r["instances"]))' "$T/out" 2>"$T/py.err") ||
	fail "status --json: $(cat "$T/py.err")"
for p in $pids; do
	expect_eq "$(pids_alive "$p")" 1 "status pid $p is a live process"
	expect_eq "$(cut -d' ' -f4 "/proc/$p/stat")" "$GPID" "status pid $p is graced's child"
done
run $CTL status web nosuch
expect_rc 1 "status of a worker that does not exist"
expect_in "$T/err" "no worker 'nosuch'" "status names the unknown worker"

# dump: the task table.
run $CTL dump
expect_rc 0 "dump"
for task in supervisor web.0 web.1 db "control socket"; do
	expect_in "$T/out" "$task" "dump names $task"
done
run $CTL --json dump
expect_rc 0 "dump --json"
python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); assert r["ok"] and any(t["name"] == "supervisor" for t in r["tasks"])' \
	"$T/out" 2>"$T/py.err" && pass || fail "dump --json: $(cat "$T/py.err")"

# signal: every instance of the worker gets it.
run $CTL signal web HUP
expect_rc 0 "signal web HUP"
expect_in "$T/out" "Sent SIGHUP to 2 instances of 'web'" "signal says how many"
wait_for 5 events_at_least 2 'web signal SIGHUP' || fail "not both web instances got SIGHUP"
expect_eq "$(count_events 'db signal')" 0 "db got no signal"
run $CTL signal nosuch HUP
expect_rc 1 "signal to a worker that does not exist"
run $CTL signal web NOTASIGNAL
expect_rc 2 "signal with a bad signal name"

# Usage errors: 2, nothing sent. The commands that need live workers are not there at all.
for args in "" "frobnicate" "reload extra" "restart" "start" "stop" "dump extra" \
	"signal web" "shutdown --now" "status ../x"; do
	run $CTL $args
	expect_rc 2 "gracectl $args"
done
run "$GRACECTL" -s "$S" -c "$T/a.ini" status
expect_rc 2 "-s and -c together"

# The socket found through the configuration and through GRACED_SOCKET.
run "$GRACECTL" -c "$T/a.ini" status db
expect_rc 0 "status through -c"
expect_in "$T/out" "db" "status through -c"
run env GRACED_SOCKET="$S" "$GRACECTL" status db
expect_rc 0 "status through GRACED_SOCKET"
printf '[supervisor]\nbogus = 1\n' >"$T/bad.ini"
run "$GRACECTL" -c "$T/bad.ini" status
expect_rc 2 "a configuration graced would reject"
expect_in "$T/err" "bad.ini:2" "the rejected configuration's error names FILE:LINE"

# The wire protocol without gracectl: several requests on one connection, each answered in
# order; garbage and unknown commands get {"ok": false}; a line beyond the limit is refused.
run $CLIENT raw "$S" '{"command":"status","workers":["db"]}' 'not json' '{"command":"frobnicate"}' \
	'{"command":"dump"}'
expect_rc 0 "raw protocol"
python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 4, r
assert r[0]["ok"] and [i["name"] for i in r[0]["instances"]] == ["db"], r[0]
assert r[1] == {"ok": False, "error": "not valid JSON"}, r[1]
assert r[2]["ok"] is False and "unknown command" in r[2]["error"], r[2]
assert r[3]["ok"] and r[3]["tasks"], r[3]' "$T/out" 2>"$T/py.err" && pass ||
	fail "raw protocol replies: $(cat "$T/py.err"; cat "$T/out")"
# Blank lines between requests are skipped; the last request may end without a newline.
run env RAW_NO_NEWLINE=1 $CLIENT raw "$S" '' '{"command":"dump"}' '' '{"command":"status"}'
expect_rc 0 "raw protocol without a last newline"
expect_eq "$(grep -c '"ok":true' "$T/out")" 2 "both requests answered, blank lines skipped"
run $CLIENT raw "$S" "{\"command\":\"status\",\"x\":\"$(head -c 5000 /dev/zero | tr '\0' a)\"}"
expect_in "$T/out" '"request longer than 4096 bytes"' "an overlong line is refused"

# A peer of another uid: the socket's mode keeps it out (exit 3)...
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	AS_NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	run $AS_NOBODY $CTL status
	expect_rc 3 "status as nobody (socket mode 0600)"
	# ... and with the mode opened up, SO_PEERCRED still does.
	chmod 711 "$T" "$T/run"
	chmod 666 "$S"
	run $AS_NOBODY $CTL status
	expect_rc 3 "status as nobody (SO_PEERCRED)"
	expect_in "$T/err" "permission denied" "graced refuses the peer"
	run $AS_NOBODY $CTL shutdown
	expect_rc 3 "shutdown as nobody"
	expect_in "$T/graced.log" "event=control-refused" "the refusal is logged"
	expect_eq "$(pids_alive "$GPID")" 1 "graced still runs after a refused shutdown"
	chmod 600 "$S"
	chmod 700 "$T/run"
else
	echo "control.sh: no user nobody or no setpriv, skipping the other-uid checks" >&2
fi

wait_for 30 grep -q . "$T/trickle" || fail "the half-request client was never closed"
wait "$TRICKLE"
expect_between "$(cat "$T/trickle")" 9500 25000 "a half request is closed at its 10 s deadline (ms)"

# Stalled clients: more connections than the limit (16) that send nothing or half a line do
# not keep others from being served.
$CLIENT hold "$S" 10 '' >"$T/hold1" 2>&1 &
H1=$!
$CLIENT hold "$S" 10 '{"command":"sta' >"$T/hold2" 2>&1 &
H2=$!
wait_for 10 grep -q held "$T/hold1" || fail "the silent clients could not connect"
wait_for 10 grep -q held "$T/hold2" || fail "the half-line clients could not connect"
start=$(date +%s%N)
run $CTL status
expect_rc 0 "status while 20 clients stall"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
# The request deadline is 10 s: being served must not have waited for it.
expect_between "$ms" 0 5000 "status while 20 clients stall took ${ms} ms"

# shutdown --wait, with the stalled clients still connected: every step, then graced's exit
# status; the stalled clients do not hold up the shutdown.
run $CTL shutdown --wait
expect_rc 0 "shutdown --wait returns graced's exit status (0)"
expect_in "$T/out" "Shutdown started" "shutdown --wait"
for step in intake stop cancel join close; do
	expect_in "$T/out" "step $step" "shutdown --wait prints step $step"
done
expect_in "$T/out" "graced exited with status 0" "shutdown --wait prints the exit status"
wait_graced 10
expect_rc 0 "graced's own exit status"
expect_eq "$(json 'r["trigger"]')" "gracectl shutdown" "the report's trigger"
expect_pending_at_exit 0
kill "$H1" "$H2" 2>/dev/null
wait "$H1" "$H2" 2>/dev/null
[ -e "$S" ] && fail "the socket file is left behind" || pass
run $CTL status
expect_rc 3 "status when graced is not running"
expect_in "$T/err" "cannot reach graced" "status when graced is not running"

# shutdown without --wait, and the exit status of a forced shutdown through --wait (a worker
# that ignores SIGTERM is killed: 1). A stale socket file (nobody listens) is replaced.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$S"
cat >"$T/b.ini" <<INI
[supervisor]
control_socket = $S
[worker:stubborn]
command = $GW --name stubborn --log $EV --ignore TERM,INT
stop_timeout = 3s
join_timeout = 200ms
INI
rm -f "$EV"
start_graced -c "$T/b.ini"
wait_for 10 events_at_least 1 'stubborn start' || fail "stubborn did not start"
wait_for 10 grep -q "Control socket on" "$T/graced.log" || fail "the stale socket was not replaced"
# During the shutdown the socket still answers: the step, the trigger, the instance stopping.
run $CTL shutdown
expect_rc 0 "shutdown without --wait"
expect_in "$T/out" "Shutdown started" "shutdown without --wait"
wait_for 10 events_at_least 1 'stubborn signal SIGTERM' || fail "stubborn got no SIGTERM"
run $CTL --json status
expect_rc 0 "status during the shutdown"
python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["stopping"] is True and r["step"] == "stop" and r["trigger"] == "gracectl shutdown", r
i = r["instances"][0]
assert i["state"] == "stopping" and i["step"] == "stop" and i["pid"] > 0, i' "$T/out" 2>"$T/py.err" &&
	pass || fail "status during the shutdown: $(cat "$T/py.err" "$T/out")"
run $CTL shutdown
expect_rc 0 "shutdown again"
expect_in "$T/out" "already under way" "a second shutdown changes nothing"
run $CTL shutdown --wait
expect_rc 1 "shutdown --wait returns 1 after a forced shutdown"
expect_in "$T/out" "graced exited with status 1" "forced shutdown's status"
wait_graced 10
expect_rc 1 "graced's own status after a forced shutdown"

# A busy socket (another graced serves it) and a path that is not a socket: graced refuses to
# start (1) and touches neither.
cat >"$T/c.ini" <<INI
[supervisor]
control_socket = $S
[worker:w]
command = $GW --name w --log $EV
INI
start_graced -c "$T/c.ini"
FIRST=$GPID
wait_for 10 socket_there || fail "no control socket for the first graced"
run "$GRACED" -c "$T/c.ini"
expect_rc 1 "a second graced on the same control socket"
expect_in "$T/err" "another graced serves it" "the second graced says why"
run $CTL shutdown
expect_rc 0 "shutdown of the first graced"
GPID=$FIRST
wait_graced 10
expect_rc 0 "the first graced ended cleanly"
echo "not a socket" >"$T/run/file"
sed "s|$S|$T/run/file|" "$T/c.ini" >"$T/d.ini"
run "$GRACED" -c "$T/d.ini"
expect_rc 1 "control_socket naming a regular file"
expect_eq "$(cat "$T/run/file")" "not a socket" "the regular file is untouched"

# control_group: a member of it gets in, as the socket's group (0660) and by SO_PEERCRED.
if [ -n "${AS_NOBODY:-}" ] && getent group nogroup >/dev/null; then
	printf '[supervisor]\ncontrol_socket = %s\ncontrol_group = nogroup\n[worker:w]\ncommand = %s --name w\n' \
		"$T/g/ctl.sock" "$GW" >"$T/g.ini"
	start_graced -c "$T/g.ini"
	wait_for 10 test -S "$T/g/ctl.sock" || fail "no control socket with control_group"
	expect_eq "$(stat -c '%a %G' "$T/g/ctl.sock")" "660 nogroup" "socket mode and group with control_group"
	expect_eq "$(stat -c '%a %G' "$T/g")" "750 nogroup" "directory mode and group with control_group"
	chmod 711 "$T"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$GRACECTL" -s "$T/g/ctl.sock" status
	expect_rc 0 "status as a member of control_group"
	# A supplementary member (SO_PEERGROUPS), and a stranger to the group.
	run setpriv --reuid=nobody --regid=daemon --groups=nogroup "$GRACECTL" -s "$T/g/ctl.sock" status
	expect_rc 0 "status as a supplementary member of control_group"
	chmod 666 "$T/g/ctl.sock"
	chmod 755 "$T/g"
	run setpriv --reuid=nobody --regid=daemon --clear-groups "$GRACECTL" -s "$T/g/ctl.sock" status
	expect_rc 3 "status as a stranger to control_group"
	expect_in "$T/err" "permission denied" "graced refuses a stranger to control_group"
	chmod 700 "$T"
	run $GRACECTL -s "$T/g/ctl.sock" shutdown --wait
	expect_rc 0 "shutdown --wait with control_group"
	wait_graced 10
fi

# The default path (as root: /run/graced/NAME.sock), found by gracectl -c; control_socket =
# none has none.
if [ "$(id -u)" = 0 ]; then
	name=ctltest-$$
	printf '[supervisor]\nname = %s\n[worker:w]\ncommand = %s --name w\n' "$name" "$GW" >"$T/e.ini"
	start_graced -c "$T/e.ini"
	wait_for 10 test -S "/run/graced/$name.sock" || fail "no socket at the default path"
	run "$GRACECTL" -c "$T/e.ini" shutdown --wait
	expect_rc 0 "shutdown --wait through the default path"
	wait_graced 10
	[ -e "/run/graced/$name.sock" ] && fail "the default socket is left behind" || pass
	printf '[supervisor]\nname = %s\ncontrol_socket = none\n[worker:w]\ncommand = %s --name w\n' \
		"$name" "$GW" >"$T/f.ini"
	start_graced -c "$T/f.ini"
	wait_for 10 grep -q "Every worker is ready" "$T/graced.log" || fail "graced did not start"
	[ -e "/run/graced/$name.sock" ] && fail "control_socket = none made a socket" || pass
	run "$GRACECTL" -c "$T/f.ini" status
	expect_rc 3 "status with control_socket = none"
	kill -TERM "$GPID"
	wait_graced 10
fi

# Single-command mode: no control socket unless --control-socket; with it, status names the
# command and shutdown --wait returns the command's status (SIGTERM: 143).
start_graced --control-socket "$T/single.sock" -- "$GW" --name single --log "$EV" --die-on TERM
wait_for 10 test -S "$T/single.sock" || fail "no --control-socket"
run "$GRACECTL" -s "$T/single.sock" status
expect_rc 0 "status in single-command mode"
run "$GRACECTL" -s "$T/single.sock" shutdown --wait
expect_rc 143 "shutdown --wait in single-command mode returns the command's status"
wait_graced 10
expect_rc 143 "graced's status in single-command mode"

finish
