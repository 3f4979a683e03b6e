#!/bin/bash
# The same SIGTERM twice within second_signal_window (200 ms by default) is one request: GNU
# timeout sends it to graced's pid and then to its process group, microseconds apart. The full
# drain is kept. A later repeat, or a different signal, still escalates.
. "$TEST_LIB"

write_config() {
	cat >"$T/s.ini" <<INI
[supervisor]
report = $T/report.json
log_level = debug
[shutdown]
drain_delay = $1
$2
[worker:app]
command = $GW --name app --log $EV $3
INI
}

# two_signals SIG1 SIG2: sends both to graced 50 ms apart; the gap in ms in $gap.
two_signals() {
	local t0 t1
	t0=$(date +%s%N)
	kill -"$1" "$GPID"
	sleep 0.05
	t1=$(date +%s%N)
	kill -"$2" "$GPID"
	gap=$(((t1 - t0) / 1000000))
}

intake_end_ms() {
	json '[s["end_ms"] for s in r["steps"] if s["name"] == "intake"][0]'
}

# 1. Two SIGTERMs 50 ms apart: one request, the whole drain_delay (1 s) is kept.
write_config 1s "" ""
start_graced -c "$T/s.ini"
wait_for 10 events_at_least 1 ' app start' || fail "worker did not start"
two_signals TERM TERM
wait_graced 15
expect_rc 0 "two SIGTERMs: a clean shutdown"
if [ "$gap" -lt 150 ]; then
	expect_between "$(intake_end_ms)" 1000 10000 "the drain is not skipped"
	expect_not_in "$T/graced.log" "skipping the current wait" "no escalation"
	expect_in "$T/graced.log" "Received SIGTERM again within second_signal_window: the same request" \
	    "the repeat is logged at debug"
else
	echo "the two signals were $gap ms apart on this machine, too close to the window: not checked"
fi
expect_eq "$(json 'r["workers"][0]["outcome"]')" exited "the worker got its stop signal, not more"
expect_eq "$(count_events ' app signal SIGINT')" 0 "no cancel signal"

# 2. A real GNU timeout: SIGTERM to the pid and to the process group.
rm -f "$EV"
run timeout --preserve-status -k 30 -s TERM 2 "$GRACED" -c "$T/s.ini"
expect_rc 0 "under timeout: a clean shutdown"
expect_between "$(intake_end_ms)" 1000 10000 "under timeout: the drain is not skipped"
expect_not_in "$T/err" "skipping the current wait" "under timeout: no escalation"
expect_eq "$(json 'r["trigger"]')" SIGTERM "under timeout: the trigger"
expect_eq "$(json 'r["workers"][0]["outcome"]')" exited "under timeout: the worker exited on SIGTERM"

# 3. A repeat later than the window escalates: window 100 ms, the second SIGTERM after the stop
# signal, which comes after a drain of 300 ms. The worker ignores SIGTERM (stop_timeout 30 s).
rm -f "$EV"
write_config 300ms "second_signal_window = 100ms
stop_timeout = 30s" "--ignore TERM"
start_graced -c "$T/s.ini"
wait_for 10 events_at_least 1 ' app start' || fail "worker did not start"
kill -TERM "$GPID"
wait_for 10 events_at_least 1 ' app signal SIGCONT' || fail "no stop signal"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "a later repeat: the worker exited on SIGINT"
term=$(event_ms ' app signal SIGTERM')
int=$(event_ms ' app signal SIGINT')
expect_between "$((int - term))" 0 15000 "a later repeat skips the stop_timeout (30 s)"
expect_in "$T/graced.log" "skipping the current wait" "a later repeat escalates"

# 4. ... and the window is the configured one: with 1 min, the same later repeat is one request.
rm -f "$EV"
write_config 300ms "second_signal_window = 1m
stop_timeout = 1s" "--ignore TERM"
start_graced -c "$T/s.ini"
wait_for 10 events_at_least 1 ' app start' || fail "worker did not start"
kill -TERM "$GPID"
wait_for 10 events_at_least 1 ' app signal SIGCONT' || fail "no stop signal"
kill -TERM "$GPID"
wait_graced 10
term=$(event_ms ' app signal SIGTERM')
int=$(event_ms ' app signal SIGINT')
expect_at_least "$((int - term))" $((1000 - JITTER_MS)) "within a window of 1 m the stop_timeout is kept"
expect_not_in "$T/graced.log" "skipping the current wait" "no escalation within the window"

# 5. A different signal is a second request, however soon: SIGINT 50 ms after SIGTERM skips a
# drain_delay of 30 s.
rm -f "$EV"
write_config 30s "" ""
start_graced -c "$T/s.ini"
wait_for 10 events_at_least 1 ' app start' || fail "worker did not start"
two_signals TERM INT
wait_graced 15
expect_rc 0 "SIGINT after SIGTERM: a clean shutdown"
expect_between "$(intake_end_ms)" 0 10000 "SIGINT after SIGTERM skips the drain"
expect_in "$T/graced.log" "Received SIGINT again: skipping the current wait" "and is logged"

# 6. Single-command mode, default window: two SIGTERMs 50 ms apart do not skip --stop-timeout.
rm -f "$EV"
start_graced --stop-timeout 2s --report "$T/report.json" -- "$GW" --name one --log "$EV" --ignore TERM
wait_for 10 events_at_least 1 ' one start' || fail "the command did not start"
two_signals TERM TERM
wait_graced 15
expect_rc 137 "single-command mode: killed after --stop-timeout"
if [ "$gap" -lt 150 ]; then
	expect_between "$(json 'r["workers"][0]["exit_ms"]')" 1950 10000 \
	    "single-command mode: the stop timeout is not skipped"
else
	echo "the two signals were $gap ms apart on this machine, too close to the window: not checked"
fi

finish
