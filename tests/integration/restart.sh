#!/bin/bash
# restart = on-failure with a doubling delay, and the start limit that ends it.
. "$TEST_LIB"

cat >"$T/r.ini" <<INI
[supervisor]
report = $T/report.json
[worker:flaky]
command = $GW --name flaky --log $EV --exit 3
restart = on-failure
restart_delay = 100ms
restart_delay_max = 1s
start_limit = 4 in 1m
[worker:steady]
command = $GW --name steady --log $EV
INI
start_graced -c "$T/r.ini"
wait_for 15 grep -q "start_limit" "$T/graced.log" || fail "start limit not reached"
expect_eq "$(count_events ' flaky start')" 4 "four starts, then the start limit"
starts=($(grep ' flaky start' "$EV" | cut -d' ' -f1))
gap1=$((starts[1] - starts[0]))
gap2=$((starts[2] - starts[1]))
gap3=$((starts[3] - starts[2]))
# The delays double (the log says so), and each gap between starts is at least its delay.
expect_eq "$(grep -o "Restarting worker 'flaky' in [0-9a-z]*" "$T/graced.log" | awk '{print $NF}' | tr '\n' ' ')" \
    "100ms 200ms 400ms " "restart delays double"
# Lower bounds only (lib.sh): a loaded machine makes a restart late, never early.
expect_at_least "$gap1" 100 "first restart not before restart_delay"
expect_at_least "$gap2" 200 "then not before twice as long"
expect_at_least "$gap3" 400 "then not before four times"
expect_in "$T/graced.log" "Worker 'flaky' failed: started 4 times within 1m (start_limit), giving up" \
    "start limit is logged"
# A failed, non-critical worker does not stop the others.
expect_eq "$(count_events ' steady signal')" 0 "steady is still running"
kill -TERM "$GPID"
wait_graced 10
expect_rc 1 "a failed worker makes the exit status 1"
expect_eq "$(json '[w["outcome"] for w in r["workers"]]')" "['failed', 'exited']" "outcomes"

# restart = always restarts clean exits too; a clean worker under on-failure is not restarted.
# Once always gave up and once finished, nothing is left to run: graced ends on its own.
rm -f "$EV"
cat >"$T/a.ini" <<INI
[supervisor]
report = $T/report.json
[worker:always]
command = $GW --name always --log $EV --exit 0
restart = always
restart_delay = 50ms
start_limit = 3 in 1m
[worker:once]
command = $GW --name once --log $EV --exit 0
restart = on-failure
INI
start_graced -c "$T/a.ini"
wait_for 15 grep -q "start_limit" "$T/graced.log" || fail "restart = always did not restart"
expect_eq "$(count_events ' always start')" 3 "restart = always"
expect_eq "$(count_events ' once start')" 1 "on-failure does not restart a clean exit"
wait_graced 10
expect_rc 1 "nothing left to run, and a worker gave up: 1"
expect_eq "$(json 'r["trigger"]')" "nothing left to run" "the shutdown's trigger"
expect_eq "$(json '[w["outcome"] for w in r["workers"]]')" "['failed', 'exited']" \
    "gave up, finished"

finish
