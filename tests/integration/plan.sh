#!/bin/bash
# graced --plan: steps in order, dependency levels, budgets, and the worst case spelled out.
. "$TEST_LIB"

run "$GRACED" -c "$SRC/etc/graced.ini" --plan
expect_rc 0 "--plan of etc/graced.ini"
out=$T/out
expect_in "$out" "Shutdown plan of 'shop'" "title"
expect_in "$out" "worker 'jobs': intake_signal SIGUSR1" "the intake signal is announced"
expect_in "$out" "drain_delay 1s while workers still accept" "drain delay"
expect_in "$out" "resource 'spool': run sh -c 'echo \"spool: flushed\"', up to 2s" "close command"
expect_in "$out" "Worst case: 2s (intake) + 1s (drain) + 9s (level 1) + 9s (level 2) + 2s (close) = 23s" \
    "worst case"
expect_in "$out" "Deadline: 30s ([shutdown] deadline): fits, 7s to spare" "deadline"
expect_in "$out" "a critical worker's death, or nothing left to run; a second signal skips the current wait (the same signal again within 200ms is the same request)" \
    "triggers, and the second signal with its window"

# Steps in order, and the dependents (web, jobs) in the level before their dependency (db).
order=$(grep -E "^(1\. intake|2-4\.|5\. close|   level [0-9]|     worker '[a-z]+')" "$out" |
	sed -E "s/^ *(1\. intake|2-4|5\. close|level [0-9]|worker '[a-z]+').*/\1/" | tr '\n' ',')
expect_eq "$order" "1. intake,2-4,level 1,worker 'web',worker 'jobs',level 2,worker 'db',5. close," \
    "step and level order"
expect_in "$out" "worker 'web' (2 instances): 9s" "instances and a worker's total"
expect_in "$out" "stop:   SIGTERM + SIGCONT, wait up to 2s" "jobs' own stop_timeout"

# A chain c after b after a is three levels; "none" signals drop their waits from the sum.
cat >"$T/chain.ini" <<'INI'
[shutdown]
stop_timeout = 3s
join_timeout = 2s
kill_timeout = 1s
[worker:a]
command = sleep 100
[worker:b]
command = sleep 100
after = a
cancel_signal = none
[worker:c]
command = sleep 100
after = b
stop_signal = none
[resource:tmp]
type = file
path = /tmp/graced-plan-test
INI
run "$GRACED" -c "$T/chain.ini" --plan
expect_rc 0 "--plan of a chain"
expect_in "$T/out" "Worst case: 0 (intake) + 0 (drain) + 3s (level 1) + 4s (level 2) + 6s (level 3) + 0 (close) = 13s" \
    "chain worst case"
expect_in "$T/out" "cancel: none (cancel_signal = none)" "cancel none"
expect_in "$T/out" "stop:   none (stop_signal = none)" "stop none"
expect_in "$T/out" "resource 'tmp': remove /tmp/graced-plan-test" "file resource"
expect_in "$T/out" "Deadline: none known" "no deadline"

# when_empty = stay drops "nothing left to run"; the window is the configured one.
cat >"$T/stay.ini" <<'INI'
[supervisor]
when_empty = stay
[shutdown]
second_signal_window = 1s
[worker:a]
command = sleep 100
INI
run "$GRACED" -c "$T/stay.ini" --plan
expect_rc 0 "--plan with when_empty = stay"
expect_in "$T/out" "Trigger: SIGTERM or SIGINT, gracectl stop, or a critical worker's death; a second signal skips the current wait (the same signal again within 1s is the same request)" \
    "when_empty = stay and second_signal_window in the plan"

finish
