#!/bin/bash
# The join step: a worker (or a straggler) that exits within join_timeout after the cancel
# signal is cancelled, not killed (join_timeout is a minimum wait, in its own unit); one that
# survives with kill_signal = none is abandoned, and that makes the shutdown forced: exit status 1.
. "$TEST_LIB"

# slow exits 700 ms after SIGINT, well within join_timeout = 3s.
cat >"$T/j.ini" <<INI
[supervisor]
report = $T/report.json
[shutdown]
stop_timeout = 200ms
join_timeout = 3s
kill_timeout = 2s
[worker:slow]
command = $GW --name slow --log $EV --ignore TERM --exit-on INT --delay 700
[worker:esc]
command = $GW --name esc --log $EV --exit 0 --setsid-child --ignore TERM --exit-on INT --delay 700
INI
start_graced -c "$T/j.ini"
wait_for 10 events_at_least 1 ' slow start' || fail "worker did not start"
# esc leaves a straggler that left its process group (escapee), deaf to TERM like slow.
wait_for 10 events_at_least 1 ' esc.escapee start' || fail "straggler did not start"
wait_for 10 grep -q "Worker 'esc'.*exited with status 0" "$T/graced.log" || fail "esc did not exit"
kill -TERM "$GPID"
wait_graced 15
expect_rc 0 "exited within join_timeout: clean"
expect_eq "$(json 'r["workers"][0]["outcome"] + "/" + r["workers"][0]["step"]')" cancelled/join \
    "cancelled in the join step, not killed"
expect_eq "$(json 'r["workers"][0]["exit_code"]')" 0 "its own exit"
expect_eq "$(count_events ' slow exit 0')" 1 "it finished its 700 ms"
# A straggler gets the same join_timeout.
expect_eq "$(json '[s["outcome"] for s in r["stragglers"]]')" "['cancelled']" \
    "the straggler exited within join_timeout: cancelled, not killed"
expect_eq "$(count_events ' esc.escapee exit 0')" 1 "the straggler finished its 700 ms"
expect_not_in "$T/graced.log" "signal=SIGKILL" "no kill signal"
# The join step waited for them: at least their 700 ms after the cancel signal.
expect_at_least "$(json '[s["end_ms"] - s["start_ms"] for s in r["steps"] if s["name"] == "join"][0]')" \
    $((700 - JITTER_MS)) "the join step lasted until it exited"

# kill_signal = none: a worker deaf to TERM and INT is abandoned after join_timeout; exit 1.
rm -f "$EV" "$T/report.json"
cat >"$T/a.ini" <<INI
[supervisor]
report = $T/report.json
[shutdown]
stop_timeout = 200ms
join_timeout = 200ms
[worker:deaf]
command = $GW --name deaf --log $EV --ignore TERM,INT
kill_signal = none
[worker:fine]
command = $GW --name fine --log $EV
INI
start_graced -c "$T/a.ini"
wait_for 10 events_at_least 2 ' start ' || fail "workers did not start"
deaf=$(grep ' deaf start' "$EV" | sed 's/.*pid=\([0-9]*\).*/\1/')
kill -TERM "$GPID"
wait_graced 15
expect_rc 1 "an abandoned worker makes the shutdown forced"
expect_eq "$(json '[(w["name"], w["outcome"]) for w in r["workers"]]')" \
    "[('deaf', 'abandoned'), ('fine', 'exited')]" "deaf abandoned, fine exited"
expect_eq "$(json 'r["exit_code"]')" 1 "the report's exit code"
expect_in "$T/graced.log" "event=abandoned" "the abandon is logged"
expect_eq "$(pids_alive "$deaf")" 1 "kill_signal = none: nothing killed it"
expect_eq "$(count_events ' deaf signal SIGKILL')" 0 "no kill signal"
# It is the test's to end, and then its new parent's (init) to reap.
if [ -n "$deaf" ]; then
	kill -KILL "$deaf" 2>/dev/null
	wait_for 10 test ! -e "/proc/$deaf" || fail "the abandoned worker was not reaped"
fi

finish
