#!/bin/bash
# Exit statuses: 0 clean, 1 forced, exit_code_from, a critical worker's death starts the
# shutdown, and single-command mode's child status (code, or 128+N).
. "$TEST_LIB"

# A critical worker that exits starts the shutdown; exit_code_from passes its status on.
# job starts once bystander listens, so bystander is surely up when the shutdown comes.
port=$(free_port)
cat >"$T/c.ini" <<INI
[supervisor]
report = $T/report.json
exit_code_from = job
[worker:job]
command = sh -c 'exit 42'
critical = yes
after = bystander
[worker:bystander]
command = $GW --name bystander --log $EV --listen $port
ready = tcp:$port
INI
run "$GRACED" -c "$T/c.ini"
expect_rc 42 "exit_code_from a critical worker"
expect_eq "$(json 'r["trigger"]')" "critical worker 'job' exited" "trigger"
expect_eq "$(count_events ' bystander signal SIGTERM')" 1 "the others were stopped"
expect_eq "$(json '[w["outcome"] for w in r["workers"]]')" "['failed', 'exited']" "outcomes"

# Without exit_code_from, a failed worker makes the exit status 1.
sed -i '/exit_code_from/d' "$T/c.ini"
run "$GRACED" -c "$T/c.ini"
expect_rc 1 "a failed worker: status 1"

# A report that cannot be written is a run-time failure: 1.
cat >"$T/r.ini" <<INI
[supervisor]
report = /nonexistent/graced-report.json
[worker:job]
command = true
critical = yes
INI
run "$GRACED" -c "$T/r.ini"
expect_rc 1 "unwritable report"
expect_in "$T/err" "Failed to write the report '/nonexistent/graced-report.json'" "report failure logged"

# A worker killed from outside before the shutdown failed, even by its stop signal.
rm -f "$EV"
cat >"$T/k.ini" <<INI
[supervisor]
report = $T/report.json
[worker:victim]
command = $GW --name victim --log $EV --die-on TERM
[worker:other]
command = $GW --name other --log $EV
INI
start_graced -c "$T/k.ini"
wait_for 10 events_at_least 2 ' start ' || fail "workers did not start"
kill -TERM "$(grep ' victim start' "$EV" | sed 's/.*pid=\([0-9]*\).*/\1/')"
wait_for 5 grep -q "Worker 'victim'.*killed by SIGTERM" "$T/graced.log" || fail "exit not seen"
kill -TERM "$GPID"
wait_graced 10
expect_rc 1 "a worker that died before the shutdown: 1"
expect_eq "$(json 'r["workers"][0]["outcome"]')" failed "killed from outside: failed"

# Single-command mode: the child's own status.
for code in 0 1 42 255; do
	run "$GRACED" -- sh -c "exit $code"
	expect_rc "$code" "single-command mode, exit $code"
done
run "$GRACED" -- sh -c 'kill -SEGV $$'
expect_rc $((128 + 11)) "died of SIGSEGV: 128+11"
run "$GRACED" -- sh -c 'kill -KILL $$'
expect_rc $((128 + 9)) "died of SIGKILL: 128+9"
run "$GRACED" -- sh -c 'kill -INT $$'
expect_rc $((128 + 2)) "died of SIGINT: 128+2"

# SIGTERM to graced with a compliant child: the child's status (it exits 0 on SIGTERM).
rm -f "$EV" "$T/report.json"
start_graced --report "$T/report.json" -- "$GW" --name one --log "$EV"
wait_for 10 events_at_least 1 ' one start' || fail "child did not start"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "compliant child: its status"
expect_eq "$(json 'r["workers"][0]["outcome"] + "/" + str(r["workers"][0]["exit_code"])')" exited/0 \
    "compliant child: exited 0"
# A child that dies of the SIGTERM itself: 143, as a shell would say. Each run reads its own
# report: a report left by an earlier run is removed first.
rm -f "$EV" "$T/report.json"
start_graced --report "$T/report.json" -- "$GW" --name two --log "$EV" --die-on TERM
wait_for 10 events_at_least 1 ' two start' || fail "child did not start"
kill -TERM "$GPID"
wait_graced 10
expect_rc 143 "child killed by the SIGTERM sent to it: 128+15"
expect_eq "$(json 'r["workers"][0]["outcome"] + "/" + str(r["workers"][0]["term_signal"])')" exited/15 \
    "died of the SIGTERM graced sent: exited, not failed"
expect_eq "$(json 'r["exit_code"]')" 143 "the report's exit code"

# SIGINT to graced: the child gets SIGINT (the signal received); one that dies of it gives 130.
rm -f "$EV" "$T/report.json"
start_graced --report "$T/report.json" -- "$GW" --name three --log "$EV" --die-on INT
wait_for 10 events_at_least 1 ' three start' || fail "child did not start"
kill -INT "$GPID"
wait_graced 10
expect_rc 130 "child killed by the SIGINT sent to it: 128+2"
expect_eq "$(count_events ' three signal SIGINT')" 1 "the child got SIGINT"
expect_eq "$(json 'r["trigger"] + " " + r["workers"][0]["outcome"] + "/" + str(r["workers"][0]["term_signal"])')" \
    "SIGINT exited/2" "died of the SIGINT graced forwarded: exited"
expect_eq "$(json 'r["exit_code"]')" 130 "the report's exit code"

finish
