#!/bin/bash
# SIGUSR1 writes the task table to the log, naming every task; tasks_pending_at_exit is 0.
. "$TEST_LIB"

cat >"$T/u.ini" <<INI
[supervisor]
report = $T/report.json
[worker:web]
command = $GW --name web --log $EV
instances = 2
output = prefix
[worker:db]
command = $GW --name db --log $EV
INI
start_graced -c "$T/u.ini"
wait_for 10 events_at_least 3 ' start ' || fail "workers did not start"
kill -USR1 "$GPID"
wait_for 5 grep -q 'event=dump.*web.1:stdout' "$T/graced.log" || fail "no task table in the log"
for task in supervisor web.0 web.1 db web.0:stdout web.1:stderr; do
	expect_in "$T/graced.log" "$task" "the dump names $task"
done
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "clean shutdown"
expect_pending_at_exit 0

finish
