#!/bin/bash
# With kill_mode = group, the kill signal goes to the whole process group: the worker's children
# die of it in the kill step, so they are the worker's, not stragglers. The worker's main process
# can be reaped (and the worker joined) before its children have finished dying; the final
# straggler scan must not take them for stragglers (it did: listed as "killed", killed again).
. "$TEST_LIB"

for round in 1 2 3 4 5; do
	rm -f "$EV" "$T/report.json"
	cat >"$T/k.ini" <<INI
[supervisor]
report = $T/report.json
[shutdown]
stop_timeout = 100ms
join_timeout = 100ms
kill_timeout = 3s
[worker:deaf]
command = $GW --name deaf --log $EV --ignore TERM,INT --children 4
INI
	start_graced -c "$T/k.ini"
	wait_for 10 events_at_least 5 ' start ' || fail "round $round: worker and children did not start"
	kill -TERM "$GPID"
	wait_graced 15
	expect_rc 1 "round $round: forced shutdown"
	expect_eq "$(json 'r["stragglers"]')" "[]" "round $round: the group's own processes are no stragglers"
done

finish
