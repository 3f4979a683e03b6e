#!/bin/bash
# When nothing is running and nothing will start again, graced runs the ordered shutdown with the
# trigger "nothing left to run": exit 0 if every worker ended in success, else 1.
# [supervisor] when_empty = stay keeps it up. An instance waiting to be restarted is not over.
. "$TEST_LIB"

write_config() {
	cat >"$T/e.ini" <<INI
[supervisor]
report = $T/report.json
$1
[worker:job]
$2
INI
}

# run_alone: graced on e.ini, which must end on its own (bounded); the log in $T/graced.log.
run_alone() {
	start_graced -c "$T/e.ini"
	wait_graced 20
}

trigger() {
	json 'r["trigger"]'
}

# 1. A one-shot job that succeeds: graced ends on its own, 0. success_status counts as success.
write_config "" "command = true"
run_alone
expect_rc 0 "a job that exited 0"
expect_eq "$(trigger)" "nothing left to run" "the trigger"
expect_eq "$(json 'r["workers"][0]["outcome"]')" exited "the job's outcome"
expect_eq "$(json 'r["exit_code"]')" 0 "the report's exit code"
expect_in "$T/graced.log" "Every worker has ended and none will start again" "it is logged"
expect_pending_at_exit 0

write_config "" "command = sh -c 'exit 3'
success_status = 3"
run_alone
expect_rc 0 "a job that exited with a success_status"

# A death signal in success_status is a clean exit too (a shell killed by SIGHUP, say); without
# it the same death is a failure. ($$ is a $ in a config file.)
write_config "" "command = sh -c 'kill -HUP \$\$\$\$'
success_status = 3 SIGHUP"
run_alone
expect_rc 0 "a job that died of a success_status signal"
expect_eq "$(json 'r["workers"][0]["outcome"] + "/" + str(r["workers"][0]["term_signal"])')" exited/1 \
    "died of SIGHUP, listed in success_status: exited"
write_config "" "command = sh -c 'kill -HUP \$\$\$\$'
success_status = 3"
run_alone
expect_rc 1 "the same death without SIGHUP in success_status"
expect_eq "$(json 'r["workers"][0]["outcome"]')" failed "died of SIGHUP, not listed: failed"

# 2. A job that fails: 1.
write_config "" "command = false"
run_alone
expect_rc 1 "a job that exited 1"
expect_eq "$(trigger)" "nothing left to run" "the trigger after a failure"
expect_eq "$(json 'r["workers"][0]["outcome"]')" failed "the failed job's outcome"
expect_eq "$(json 'r["workers"][0]["exit_code"]')" 1 "its exit code"

# 3. restart = always until the start limit gives up: 1, after the ordered shutdown.
write_config "" "command = $GW --name job --log $EV --exit 0
restart = always
restart_delay = 10ms
start_limit = 3 in 1m"
run_alone
expect_rc 1 "a worker that gave up (start_limit)"
expect_eq "$(count_events ' job start')" 3 "three starts, then the start limit"
expect_eq "$(trigger)" "nothing left to run" "the trigger after the start limit"
expect_eq "$(json 'r["workers"][0]["outcome"]')" failed "gave up: failed"
expect_in "$T/graced.log" "Step close begins" "the ordered shutdown ran"

# A drain_delay is skipped: no worker is left to accept.
write_config "" "command = true"
sed -i 's/^\[worker:job\]/[shutdown]\ndrain_delay = 30s\n&/' "$T/e.ini"
run_alone
expect_rc 0 "with a drain_delay"
expect_in "$T/graced.log" "No worker is left to accept, skipping drain_delay" "no drain with nothing to drain"

# 4. when_empty = stay: the old behaviour, graced stays up until told to stop.
rm -f "$EV"
write_config "when_empty = stay" "command = $GW --name job --log $EV --exit 0"
start_graced -c "$T/e.ini"
wait_for 10 grep -q "Worker 'job' (pid [0-9]*) exited with status 0" "$T/graced.log" ||
    fail "the job did not exit"
# The one wait for something not to happen: graced must still be up a second later.
if wait_for 1 graced_gone; then fail "when_empty = stay: graced exited on its own"; else pass; fi
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "when_empty = stay: a clean shutdown on SIGTERM"
expect_eq "$(trigger)" SIGTERM "when_empty = stay: the trigger is the signal"

# 5. An instance waiting for its restart_delay is not over: the first run fails, the second
# stays up; graced must still be there to start it.
rm -f "$EV" "$T/second"
write_config "" "command = sh -c 'if [ -e $T/second ]; then exec $GW --name job --log $EV; fi; touch $T/second; exit 1'
restart = on-failure
restart_delay = 500ms"
start_graced -c "$T/e.ini"
wait_for 10 events_at_least 1 ' job start' || fail "the restarted job did not start"
if graced_gone; then fail "graced ended while the job waited to be restarted"; else pass; fi
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "the restarted job stopped cleanly"
expect_eq "$(trigger)" SIGTERM "the restarted job: the trigger is the signal"

finish
