#!/bin/bash
# A second SIGTERM during the shutdown skips the current wait (second_signal = escalate), the
# stragglers' too; with second_signal = ignore it changes nothing. The same signal again within
# second_signal_window (200 ms) of the first is the same request (signal-repeat.sh): the
# drain_delay of 300 ms puts the stop signal, after which the second SIGTERM is sent, past it.
. "$TEST_LIB"

write_config() {
	cat >"$T/s.ini" <<INI
[supervisor]
report = $T/report.json
[shutdown]
second_signal = $1
stop_timeout = $2
drain_delay = 300ms
join_timeout = 30s
[worker:slow]
command = $GW --name slow --log $EV --ignore TERM
INI
}

# escalate: the 30 s stop_timeout is cut short by the second SIGTERM.
write_config escalate 30s
start_graced -c "$T/s.ini"
wait_for 10 events_at_least 1 ' slow start' || fail "worker did not start"
kill -TERM "$GPID"
wait_for 10 events_at_least 1 ' slow signal SIGCONT' || fail "no stop signal"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "the worker exited on SIGINT: a clean, if hurried, shutdown"
term=$(event_ms ' slow signal SIGTERM')
int=$(event_ms ' slow signal SIGINT')
# Far from the 30 s it cuts short (a loaded machine may make "at once" late).
expect_between "$((int - term))" 0 15000 "second SIGTERM: SIGINT at once instead of after 30 s"
expect_in "$T/graced.log" "skipping the current wait" "escalation is logged"
expect_eq "$(json 'r["workers"][0]["outcome"]')" cancelled "outcome after escalation"

# escalate cuts the stragglers' waits short too: a background job left by the command, which
# ignores SIGTERM, is killed at the second SIGTERM instead of after --stop-timeout 30s (-v: the
# step log, which single-command mode keeps quiet by default).
rm -f "$EV"
start_graced -v --stop-timeout 30s --report "$T/report.json" -- sh -c "$GW --name deafbg --log $EV --ignore TERM & until grep -q ' deafbg start' $EV 2>/dev/null; do sleep 0.01; done; exit 5"
wait_for 10 events_at_least 1 ' deafbg signal SIGCONT' || fail "the job got no stop signal"
t0=$(date +%s%3N)
kill -TERM "$GPID"
wait_graced 10
t1=$(date +%s%3N)
expect_rc 5 "the command's status"
expect_between "$((t1 - t0))" 0 9000 "second SIGTERM: the straggler is killed at once, not after 30 s"
expect_eq "$(json 'r["stragglers"][0]["outcome"]')" killed "the straggler was killed"
expect_in "$T/graced.log" "skipping the current wait" "escalation is logged"

# ignore: the second SIGTERM is only logged; SIGINT still comes after stop_timeout (1 s).
rm -f "$EV"
write_config ignore 1s
start_graced -c "$T/s.ini"
wait_for 10 events_at_least 1 ' slow start' || fail "worker did not start"
kill -TERM "$GPID"
wait_for 10 events_at_least 1 ' slow signal SIGCONT' || fail "no stop signal"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "ignore: clean shutdown"
term=$(event_ms ' slow signal SIGTERM')
int=$(event_ms ' slow signal SIGINT')
expect_at_least "$((int - term))" $((1000 - JITTER_MS)) "second_signal = ignore keeps the stop_timeout"
expect_in "$T/graced.log" "second_signal = ignore" "ignored second signal is logged"

finish
