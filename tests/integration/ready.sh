#!/bin/bash
# Readiness before dependents start: ready = tcp:PORT waits for a listener on loopback; a worker
# not ready within start_timeout fails (and its process is stopped); success_status codes are
# clean exits; an unknown user is a clear error.
. "$TEST_LIB"

port=$(free_port)
cat >"$T/r.ini" <<INI
[supervisor]
report = $T/report.json
[worker:db]
command = sh -c 'sleep 0.3; exec $GW --name db --log $EV --listen $port'
ready = tcp:$port
[worker:web]
command = $GW --name web --log $EV
after = db
[worker:three]
command = $GW --name three --log $EV --exit 3
success_status = 3
INI
start_graced -c "$T/r.ini"
wait_for 10 events_at_least 1 ' web start' || fail "web did not start"
bound=$(event_ms ' db bound')
web=$(event_ms ' web start')
expect_at_least "$((web - bound))" 0 "web starts only once db accepts connections"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "clean: exit 3 is a success_status"
expect_eq "$(json '[w["outcome"] for w in r["workers"]]')" "['exited', 'exited', 'exited']" "outcomes"

# Nothing listens: not ready within start_timeout, the worker fails and its process is stopped;
# its dependent is never started.
rm -f "$EV"
cat >"$T/n.ini" <<INI
[supervisor]
report = $T/report.json
[worker:mute]
command = $GW --name mute --log $EV
ready = tcp:$port
start_timeout = 1s
[worker:after-mute]
command = $GW --name after --log $EV
after = mute
INI
start_graced -c "$T/n.ini"
wait_for 10 grep -q "Worker 'after-mute' failed" "$T/graced.log" || fail "dependent not failed"
expect_in "$T/graced.log" "Worker 'mute' failed: not ready within start_timeout" "start_timeout"
expect_in "$T/graced.log" "not started, worker 'mute' it is after= failed" "dependent not started"
expect_eq "$(count_events ' after start')" 0 "the dependent never ran"
# Both gave up (mute once its killed process is reaped): nothing is left to run.
wait_graced 10
expect_rc 1 "failed workers: 1"
expect_eq "$(json 'r["trigger"]')" "nothing left to run" "graced ends on its own"
expect_eq "$(json '[w["outcome"] for w in r["workers"]]')" "['failed', 'failed']" "outcomes"
expect_eq "$(json 'r["workers"][0]["term_signal"]')" 9 "the process that never got ready was killed"

# ready = delay:DUR is a minimum: the dependent starts no sooner than DUR after the worker was
# started. t0 (CLOCK_MONOTONIC, as the workers' event times) is taken before graced even runs,
# so the bound needs no slack; slow's own start time gets JITTER_MS (its clock is read late).
rm -f "$EV"
cat >"$T/d.ini" <<INI
[worker:slow]
command = $GW --name slow --log $EV
ready = delay:1s
[worker:next]
command = $GW --name next --log $EV
after = slow
INI
t0=$(python3 -c 'import time; print(int(time.monotonic() * 1000))')
start_graced -c "$T/d.ini"
wait_for 10 events_at_least 1 ' next start' || fail "the dependent did not start"
next=$(event_ms ' next start')
expect_at_least "$((next - t0))" 1000 "the dependent starts no sooner than the whole delay"
expect_at_least "$((next - $(event_ms ' slow start')))" $((1000 - JITTER_MS)) \
    "the delay counts from the worker's start"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "clean shutdown"

cat >"$T/u.ini" <<INI
[worker:u]
command = true
user = graced-no-such-user
critical = yes
INI
run "$GRACED" -c "$T/u.ini"
expect_rc 1 "unknown user"
expect_in "$T/err" "Failed to start worker 'u': unknown user 'graced-no-such-user'" "unknown user message"

finish
