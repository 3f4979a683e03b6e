#!/bin/bash
# Readiness before dependents start: ready = tcp:PORT waits for a listener on loopback; a worker
# not ready within start_timeout fails (and its process is stopped); success_status codes are
# clean exits; an unknown user is a clear error.
. "$TEST_LIB"

port=$((20000 + RANDOM % 20000))
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
listening=$(event_ms ' db listening')
web=$(event_ms ' web start')
expect_at_least "$((web - listening))" 0 "web starts only once db accepts connections"
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
