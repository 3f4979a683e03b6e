#!/bin/bash
# ready = notify from the worker's side: its own NOTIFY_SOCKET (not graced's), READY=1 from the
# process or from a child in its process group, a dependent starting only after READY=1, a
# worker that never says READY=1 failing at start_timeout, EXTEND_TIMEOUT_USEC= stretching
# start_timeout and stop_timeout, passed descriptors closed (a BARRIER=1 sender is released), and
# a restarted worker waited for again.
. "$TEST_LIB"

GN=${GRACED_BUILDDIR:-.}/tests/integration/helpers/gnotify

# 1. Readiness. db says READY=1 after 500 ms from a child process in its group (the way
# `systemd-notify` from a script does); web is after= db and starts only then. graced's own
# NOTIFY_SOCKET (bogus here) must not reach the workers.
cat >"$T/a.ini" <<INI
[supervisor]
report = $T/report.json
[worker:db]
command = $GN --name db --log $EV env sleep 500 child "READY=1" fds "STATUS=with fds\nBARRIER=1" wait
ready = notify
[worker:web]
command = $GN --name web --log $EV wait
after = db
INI
NOTIFY_SOCKET=/nonexistent/graced.sock start_graced -c "$T/a.ini"
wait_for 10 events_at_least 1 ' web start' || fail "web did not start: $(cat "$T/graced.log")"
child_sent=$(event_ms ' db child-sent')
web_start=$(event_ms ' web start')
expect_at_least "$((web_start - child_sent))" 0 "web starts only after db's child said READY=1"
db_start=$(event_ms ' db start')
expect_at_least "$((web_start - db_start))" 480 "web waited for db's READY=1 (500 ms after its start)"
expect_eq "$(grep -cE ' db env NOTIFY_SOCKET=@[0-9a-f]+$' "$EV")" 1 \
    "the worker gets an abstract NOTIFY_SOCKET of its own"
wait_for 10 events_at_least 1 ' db fds-' || fail "no fds outcome"
expect_eq "$(count_events ' db fds-closed')" 1 "descriptors passed with a notification are closed"
kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "clean shutdown"
expect_eq "$(json '" ".join(w["outcome"] for w in r["workers"])')" "exited exited" "both exited"

# 2. Never ready: fails at start_timeout, its dependent is not started; critical is not set.
# Exiting before READY=1 fails at once.
rm -f "$EV"
cat >"$T/b.ini" <<INI
[supervisor]
report = $T/report.json
[worker:mute]
command = $GN --name mute --log $EV send "STATUS=thinking" wait
ready = notify
start_timeout = 400ms
[worker:web]
command = $GN --name web --log $EV wait
after = mute
[worker:quitter]
command = sh -c 'sleep 0.2; exit 3'
ready = notify
start_timeout = 30s
INI
start_graced -c "$T/b.ini"
wait_for 10 grep -q "Worker 'mute' failed: not ready within start_timeout" "$T/graced.log" ||
    fail "mute did not fail: $(cat "$T/graced.log")"
expect_in "$T/graced.log" "Worker 'web' failed: not started, worker 'mute' it is after= failed" \
    "the dependent of a never-ready worker is not started"
# An exit before READY=1 is seen at once, not at start_timeout (30 s).
wait_for 5 grep -q "Worker 'quitter' failed: exited before it was ready" "$T/graced.log" ||
    fail "an exit before READY=1 was not seen within 5 s: $(cat "$T/graced.log")"
# Every worker gave up: nothing is left to run, graced ends on its own.
wait_graced 20
expect_rc 1 "every worker failed: 1"
expect_eq "$(count_events ' web start')" 0 "web never started"

# 3. EXTEND_TIMEOUT_USEC= during start (past start_timeout) and during stop (past stop_timeout).
rm -f "$EV"
cat >"$T/c.ini" <<INI
[supervisor]
report = $T/report.json
[worker:slow]
command = sh -c 'trap "systemd-notify EXTEND_TIMEOUT_USEC=2000000; sleep 1.2; exit 0" TERM; systemd-notify EXTEND_TIMEOUT_USEC=3000000; sleep 1; systemd-notify --ready; while :; do sleep 0.05; done'
ready = notify
start_timeout = 500ms
stop_timeout = 500ms
join_timeout = 200ms
cancel_signal = none
INI
start_graced -c "$T/c.ini"
wait_for 10 grep -q "Every worker is ready" "$T/graced.log" ||
    fail "EXTEND_TIMEOUT_USEC= did not extend start_timeout: $(cat "$T/graced.log")"
expect_in "$T/graced.log" "Worker 'slow' extends its current budget to 3s from now" "extension logged"
kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "the extended stop let it exit on its own"
expect_eq "$(json 'r["workers"][0]["outcome"]')" "exited" "exited within the extended stop budget"
expect_in "$T/graced.log" "Worker 'slow' extends its current budget to 2s from now" \
    "extension during the stop step"

# 4. A restarted ready = notify worker is waited for again: killed after its READY=1, it is
# restarted, and /ready answers 503 until the new process says READY=1 (it waits on a FIFO the
# test opens).
rm -f "$EV"
ready=$(free_port)
mkfifo "$T/go"
cat >"$T/d.ini" <<INI
[supervisor]
report = $T/report.json
[intake:ready]
type = readiness
listen = tcp://127.0.0.1:$ready
[worker:again]
command = sh -c 'if [ -e $T/once ]; then touch $T/second; read x <$T/go; exec $GN --name second --log $EV send READY=1 wait; fi; touch $T/once; exec $GN --name first --log $EV send READY=1 wait'
ready = notify
restart = always
restart_delay = 100ms
INI
start_graced -c "$T/d.ini"
ready_is() { [ "$($TCP http "$ready" /ready | cut -d' ' -f1)" = "$1" ]; }
wait_for 10 ready_is 200 || fail "/ready was not 200 after READY=1: $(cat "$T/graced.log")"
first=$(grep ' first start ' "$EV" | sed 's/.*pid=\([0-9]*\).*/\1/')
kill -KILL "$first"
wait_for 10 test -e "$T/second" || fail "the worker was not restarted: $(cat "$T/graced.log")"
expect_eq "$($TCP http "$ready" /ready | cut -d' ' -f1)" 503 \
    "the restarted process is not ready before its READY=1"
echo go >"$T/go"
wait_for 10 ready_is 200 || fail "/ready was not 200 after the second READY=1"
expect_eq "$(grep -c "Worker 'again' is ready" "$T/graced.log")" 2 "ready once per process"
kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "clean shutdown"
finish
