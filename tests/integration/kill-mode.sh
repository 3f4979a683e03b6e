#!/bin/bash
# kill_mode: with group (the default) the kill signal goes to the whole process group, so a
# process the worker left in its group gets it in the kill step itself; with main only the main
# process gets it, the rest of the group survives the kill step and the final straggler scan
# after the join kills it at once (graced.8, "Stragglers"), which the report lists.
#
# The worker is a shell that leaves "kid" (a gworker that records signals) in its process group
# and becomes "deaf". The kill signal is SIGHUP, which deaf dies of and kid exits on, while the
# stragglers get [shutdown]'s SIGKILL: kid's "signal SIGHUP" says who signalled it.
. "$TEST_LIB"

left=
for mode in group main; do
	rm -f "$EV" "$T/report.json"
	cat >"$T/k.ini" <<INI
[supervisor]
report = $T/report.json
[shutdown]
stop_timeout = 200ms
join_timeout = 200ms
kill_timeout = 3s
[worker:deaf]
command = sh -c '$GW --name kid --log $EV --ignore TERM,INT --exit-on HUP & exec $GW --name deaf --log $EV --ignore TERM,INT --die-on HUP'
kill_signal = SIGHUP
kill_mode = $mode
INI
	start_graced -c "$T/k.ini"
	wait_for 10 events_at_least 2 ' start ' || fail "$mode: worker and kid did not start"
	kid=$(grep ' kid start' "$EV" | sed 's/.*pid=\([0-9]*\).*/\1/')
	left="$left $kid"
	kill -TERM "$GPID"
	wait_graced 15
	expect_rc 1 "kill_mode = $mode: forced shutdown"
	expect_eq "$(json 'r["workers"][0]["outcome"]')" killed "kill_mode = $mode: the worker was killed"
	expect_eq "$(json 'r["workers"][0]["term_signal"]')" 1 "kill_mode = $mode: by its kill_signal"
	expect_eq "$(pids_alive $kid)" 0 "kill_mode = $mode: nothing of the group survives graced"
	expect_eq "$(count_events ' kid signal SIG(TERM|INT)')" 0 "kill_mode = $mode: stop and cancel signals go to the main process"
	expect_pending_at_exit 0
	case $mode in
	group)
		if grep -qE 'step=join signal=SIGHUP pid=[0-9]+ target=group' "$T/graced.log"; then pass; else
			fail "group: the kill signal is logged as going to the group"
		fi
		expect_eq "$(count_events ' kid signal SIGHUP')" 1 "group: the kill signal reached the group"
		;;
	main)
		if grep -qE 'step=join signal=SIGHUP pid=[0-9]+ target=main' "$T/graced.log"; then pass; else
			fail "main: the kill signal is logged as going to the main process"
		fi
		expect_eq "$(count_events ' kid signal SIGHUP')" 0 "main: the kill signal reached only the main process"
		# kid survived the kill step: the scan after the join found it and killed it.
		expect_eq "$(json '[(s["pid"], s["outcome"]) for s in r["stragglers"]]')" "[($kid, 'killed')]" \
		    "main: the rest of the group is a straggler, killed"
		expect_eq "$(json 'all(s["exit_ms"] >= r["workers"][0]["exit_ms"] for s in r["stragglers"])')" \
		    True "main: the straggler died after the worker, not with it"
		;;
	esac
done
# Whatever a bug left alive, by pid.
for p in $left; do
	kill -KILL "$p" 2>/dev/null
done

finish
