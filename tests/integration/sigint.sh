#!/bin/bash
# SIGINT (Ctrl+C) starts the ordered shutdown in config mode, as SIGTERM does: the workers get
# their stop_signal (SIGTERM, not the SIGINT graced received), in reverse dependency order.
. "$TEST_LIB"

cat >"$T/c.ini" <<INI
[supervisor]
report = $T/report.json
[shutdown]
stop_timeout = 5s
[worker:db]
command = $GW --name db --log $EV
[worker:web]
command = $GW --name web --log $EV
after = db
INI
start_graced -c "$T/c.ini"
wait_for 10 events_at_least 2 ' start ' || fail "workers did not start"
kill -INT "$GPID"
wait_graced 10
expect_rc 0 "SIGINT: a clean shutdown"
expect_eq "$(json 'r["trigger"]')" SIGINT "the trigger is SIGINT"
expect_eq "$(json '",".join(s["name"] for s in r["steps"])')" "intake,stop,cancel,join,close" "all five steps"
expect_eq "$(json '[(w["name"], w["outcome"], w["step"]) for w in r["workers"]]')" \
    "[('db', 'exited', 'stop'), ('web', 'exited', 'stop')]" "both workers exited in the stop step"
expect_eq "$(count_events ' (db|web) signal SIGTERM')" 2 "each got its stop_signal"
expect_eq "$(count_events ' (db|web) signal SIGINT')" 0 "nobody got the SIGINT graced received"
expect_at_least "$(( $(event_ms ' db signal SIGTERM') - $(event_ms ' web exit') ))" 0 \
    "web (after = db) is stopped first"
expect_in "$T/graced.log" "Shutdown complete, exit status 0" "final line"
expect_pending_at_exit 0

finish
