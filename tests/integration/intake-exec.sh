#!/bin/bash
# Exec intakes run together at the intake step, bounded by intake_timeout: one that hangs is killed
# (with its process group) at the deadline and the shutdown goes on; failures are recorded too.
. "$TEST_LIB"

cat >"$T/e.ini" <<INI
[supervisor]
report = $T/report.json
[shutdown]
# Room for graced to fork the four hooks before the deadline: one fork of an ASan graced took
# 236 ms on a loaded machine, and a hook that is not done when graced looks counts as a timeout.
intake_timeout = 2s
[intake:deregister]
type = exec
command = sh -c 'echo "\$(date +%s%N) deregistered" >>$T/hook'
[intake:hangs]
type = exec
command = sh -c 'sleep 60 & echo \$! >$T/hang.pid; wait'
[intake:fails]
type = exec
command = sh -c 'exit 3'
[intake:missing]
type = exec
command = $T/no-such-hook
[worker:app]
command = $GW --name app --log $EV
INI
start_graced -c "$T/e.ini"
wait_for 10 events_at_least 1 ' app start ' || fail "worker did not start: $(cat "$T/graced.log")"
kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "the shutdown completes cleanly despite the hooks"

expect_eq "$(json '"|".join("%s %s %s" % (i["name"], i["action"], i["result"]) for i in r["intakes"])')" \
    "deregister run exit 0|hangs run timeout|fails run exit 3|missing run failed: exec '$T/no-such-hook': No such file or directory" \
    "the report says what each hook did"
intake_ms=$(json '[s["end_ms"] - s["start_ms"] for s in r["steps"] if s["name"] == "intake"][0]')
# By graced's own clock: not shorter than intake_timeout, nowhere near the hanging hook's 60 s.
expect_between "$intake_ms" 1999 20000 "the intake step lasts intake_timeout, not the hanging hook's 60 s"
[ -s "$T/hook" ] && pass || fail "the deregistration hook did not run"
expect_eq "$(pids_alive "$(cat "$T/hang.pid")")" 0 "the hanging hook's whole process group was killed"
expect_eq "$(json '[w["outcome"] for w in r["workers"]]')" "['exited']" "the worker was stopped after the hooks"
expect_in "$T/graced.log" "Intake 'hangs': command (pid" "the timeout is logged"
expect_in "$T/graced.log" "still ran at intake_timeout, killed it, continuing shutdown" "... and says the shutdown goes on"
expect_pending_at_exit 0

# A second signal cuts the hooks short at once. SIGINT: another SIGTERM this soon after the first
# would be the same request (second_signal_window).
sed -i 's/^intake_timeout = .*/intake_timeout = 30s/' "$T/e.ini"
rm -f "$EV" "$T/hang.pid"
start_graced -c "$T/e.ini"
wait_for 10 events_at_least 1 ' app start ' || fail "worker did not start again"
kill -TERM "$GPID"
wait_for 5 test -s "$T/hang.pid" || fail "the hanging hook did not start"
kill -INT "$GPID"
wait_graced 20
expect_eq "$(json '[i["result"] for i in r["intakes"] if i["name"] == "hangs"][0]')" "cancelled" \
    "a second signal cuts the hanging hook"
expect_between "$(json '[s["end_ms"] for s in r["steps"] if s["name"] == "intake"][0]')" 0 15000 \
    "... without waiting for intake_timeout (30 s)"

finish
