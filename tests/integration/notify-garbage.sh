#!/bin/bash
# Bad notifications change nothing: oversized, binary, malformed, unknown keys, descriptors,
# and messages from a process outside the worker's group; a flood of them is not a flood of
# log lines. Each bad message carries
# WATCHDOG=trigger, so a message wrongly accepted would get the worker killed and show up.
. "$TEST_LIB"

GN=${GRACED_BUILDDIR:-.}/tests/integration/helpers/gnotify

cat >"$T/g.ini" <<INI
[supervisor]
report = $T/report.json
[worker:target]
command = $GN --name target --log $EV env send READY=1 big 5000 big 70000 binary send "WATCHDOG=trigger\nREADY=2" send "WATCHDOG=trigger\nlower=1" send "WATCHDOG=trigger\nno equals sign" send "X_UNKNOWN=1\nFDSTORE=1\nSTATUS=still fine" fds "FDSTORE=1" send "STATUS=done" wait
ready = notify
watchdog = 1h
INI
start_graced -c "$T/g.ini" -v
wait_for 10 grep -q 'status=done msg' "$T/graced.log" || fail "the last message was not seen: $(cat "$T/graced.log")"
sock=$(grep -E ' target env NOTIFY_SOCKET=' "$EV" | sed 's/.*NOTIFY_SOCKET=//')

# From a process that is not the worker's: all ignored.
python3 - "$sock" <<'PY'
import socket, sys
addr = "\0" + sys.argv[1][1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for m in (b"WATCHDOG=trigger", b"MAINPID=1\nWATCHDOG=trigger", b"STOPPING=1", b"READY=1"):
    s.sendto(m, addr)
PY
strangers_dropped() { [ "$(grep -c "which is not the worker's, ignoring" "$T/graced.log")" -ge "$1" ]; }
wait_for 10 strangers_dropped 4 || fail "the stranger's messages were not dropped"

expect_eq "$(kill -0 "$GPID" 2>/dev/null && echo alive)" "alive" "graced keeps running"
expect_eq "$(count_events ' target start')" 1 "the worker was never killed or restarted"
expect_not_in "$T/graced.log" "event=watchdog" "no bad message reached the watchdog"
expect_not_in "$T/graced.log" "MAINPID=1" "a stranger's MAINPID= is not taken"
expect_in "$T/graced.log" "longer than 4096 bytes, ignoring" "oversized messages are dropped"
expect_eq "$(grep -c 'longer than 4096 bytes, ignoring' "$T/graced.log")" 2 "both oversized messages"
expect_in "$T/graced.log" "invalid notification from pid" "malformed messages are dropped"
expect_eq "$(grep -c 'invalid notification from pid' "$T/graced.log")" 4 \
    "binary, bad value, bad key and a line without '=' are each dropped"
expect_in "$T/graced.log" "2 assignments not acted on (X_UNKNOWN=...), ignoring" \
    "unknown keys are logged at debug and the rest applied"
expect_in "$T/graced.log" 'status="still fine"' "the known key next to unknown ones applies"
expect_eq "$(count_events ' target fds-closed')" 1 "descriptors are closed"
expect_eq "$(grep -c "which is not the worker's, ignoring" "$T/graced.log")" 4 \
    "each stranger's message is dropped"

# A flood of bad messages is not a flood of log lines: 20 warnings per worker in 10 s, then one
# line saying the rest are not logged (the burst may start over once, on a slow run).
python3 - "$sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for i in range(2000):
    s.sendto(b"WATCHDOG=trigger", "\0" + sys.argv[1][1:])
PY
wait_for 10 grep -q "too many bad notifications, not logging them for 10s" "$T/graced.log" ||
    fail "the flood was not cut short"
expect_between "$(grep -cE "(bytes|from pid [0-9]+|the worker's), ignoring" "$T/graced.log")" 20 40 \
    "at most 20 warnings per 10 s"
expect_eq "$(count_events ' target start')" 1 "the flood changed nothing"

kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "clean shutdown"
expect_eq "$(json 'r["workers"][0]["outcome"]')" "exited" "the worker exited at the shutdown"
if [ "$failures" -gt 0 ]; then
	sed 's/^/  graced.log: /' "$T/graced.log" | grep -v "ASan doesn't" | tail -60 >&2
	sed 's/^/  events: /' "$EV" >&2
fi
finish
