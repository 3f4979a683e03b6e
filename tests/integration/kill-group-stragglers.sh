#!/bin/bash
# NOT REGISTERED in Makefile.am: expected to fail (intermittently) on today's code.
# With kill_mode = group, the kill signal goes to the whole process group: the worker's children
# die of it in the kill step, so they are the worker's, not stragglers. Today the worker's main
# process can be reaped (and the worker joined) before its children have finished dying; the
# final straggler scan then finds them, sends them the kill signal again and lists them in the
# report as stragglers "killed" ("Found straggler ..." in the log).
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
