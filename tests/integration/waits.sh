#!/bin/bash
# Tasks wait on the events that exist, several at once, never polling (SIGUSR1's task table
# shows what each awaits): an instance waiting for READY=1 awaits the shutdown trigger, its
# child, its worker's own stop (gracectl stop) and its wake event together, with start_timeout as
# its only deadline; an instance in restart_delay awaits the stop event and its worker's own stop;
# the stragglers' task awaits their pidfds. Each such wait
# ends on its event: the trigger ends the start phase, the stop step a restart_delay, a second
# signal the stragglers' stop_timeout.
. "$TEST_LIB"

GN=${GRACED_BUILDDIR:-.}/tests/integration/helpers/gnotify

# 1. mute never says READY=1 (start_timeout 60 s); flap exits at once and restarts after 60 s.
cat >"$T/a.ini" <<INI
[supervisor]
report = $T/report.json
[worker:mute]
command = $GN --name mute --log $EV wait
ready = notify
start_timeout = 60s
[worker:flap]
command = $GW --name flap --log $EV --exit 0
restart = always
restart_delay = 60s
INI
start_graced -c "$T/a.ini"
wait_for 10 events_at_least 1 ' mute start' || fail "mute did not start: $(cat "$T/graced.log")"
wait_for 10 grep -q "Restarting worker 'flap' in" "$T/graced.log" || fail "flap did not exit"
kill -USR1 "$GPID"
wait_for 5 grep -q 'event=dump.* alive' "$T/graced.log" || fail "no task table in the log"
mute=$(grep 'event=dump' "$T/graced.log" | grep -E ' mute +workers ')
flap=$(grep 'event=dump' "$T/graced.log" | grep -E ' flap +workers ')
case "$mute" in
*"event shutdown trigger | child "*" | event worker stop | event instance retired | event instance changed, until +"[2-6][0-9].*) pass ;;
*) fail "mute awaits the trigger, its child, its worker's own stop, its retirement (rolling restart) and its wake event until start_timeout: '$mute'" ;;
esac
case "$flap" in
*"event stop | event worker stop | event instance retired, until +"[2-6][0-9].*) pass ;;
*) fail "flap awaits the stop event, its worker's own stop and its retirement (rolling restart) until its restart_delay: '$flap'" ;;
esac
t0=$(date +%s%3N)
kill -TERM "$GPID"
wait_graced 20
t1=$(date +%s%3N)
expect_rc 0 "clean shutdown"
# Far from the 60 s either wait would take if nothing ended it.
expect_between "$((t1 - t0))" 0 20000 "the trigger ends the start phase, the stop step the delay"
expect_not_in "$T/graced.log" "Worker 'mute' failed" "a start phase ended by the shutdown is no failure"
expect_eq "$(count_events ' flap start')" 1 "no restart once the shutdown began"
expect_pending_at_exit 0

# 2. A straggler that ignores SIGTERM (it left its worker's process group): the stragglers'
# task waits on its pidfd for stop_timeout (60 s); a second SIGTERM cuts that wait short.
rm -f "$EV"
cat >"$T/b.ini" <<INI
[supervisor]
report = $T/report.json
[shutdown]
stop_timeout = 60s
second_signal_window = 1ms
[worker:main]
command = sh -c "setsid $GW --name deaf --log $EV --ignore TERM & exec $GW --name main --log $EV"
INI
start_graced -c "$T/b.ini"
wait_for 10 events_at_least 1 ' deaf start' || fail "the job did not start: $(cat "$T/graced.log")"
# It left the test's session too (setsid): run.sh would not see it if graced failed to end it.
deaf=$(grep -E ' deaf start pid=' "$EV" | sed 's/.*pid=\([0-9]*\).*/\1/')
trap '[ -n "$deaf" ] && kill -KILL "$deaf" 2>/dev/null' EXIT
wait_for 10 events_at_least 1 ' main start' || fail "main did not start"
kill -TERM "$GPID"
wait_for 10 events_at_least 1 ' deaf signal SIGCONT' || fail "the straggler got no stop signal"
wait_for 10 events_at_least 1 ' main signal SIGTERM' || fail "main got no stop signal"
kill -USR1 "$GPID"
wait_for 5 grep -q 'event=dump.* alive' "$T/graced.log" || fail "no task table in the log"
strag=$(grep 'event=dump' "$T/graced.log" | grep -E ' stragglers +stoppers ')
case "$strag" in
*"fd "*" | event supervisor changed, until +"*) pass ;;
*) fail "the stragglers' task awaits the pidfd: '$strag'" ;;
esac
kill -TERM "$GPID"
wait_graced 20
expect_in "$T/graced.log" "skipping the current wait" "escalation is logged"
expect_eq "$(json 'len(r["stragglers"])')" 1 "one straggler in the report"
expect_between "$(json 'r["stragglers"][0]["exit_ms"]')" 0 30000 \
    "the second SIGTERM ends the straggler's stop wait, not its 60 s stop_timeout"
expect_pending_at_exit 0
expect_eq "$(pids_alive "$deaf")" 0 "the straggler is gone"

finish
