#!/bin/bash
# graced as PID 1 of a PID namespace: it reaps every orphan, stops what is left in the namespace
# when the command exits, and passes the command's status on.
. "$TEST_LIB"

if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
	echo "skipping: unshare --pid is not permitted here"
	exit 77
fi

# 2,000 orphaned grandchildren: all reaped, no zombie left while the command still runs.
run unshare --pid --fork --mount-proc "$GRACED" -q -- "$GW" --name orph --log "$EV" --orphans 2000 --exit 0
expect_rc 0 "command status"
expect_eq "$(count_events ' orph orphans 2000')" 1 "2,000 orphans made"
expect_eq "$(count_events ' orph zombies 0')" 1 "no zombie left: graced reaped them all"

# As PID 1, a background job and a setsid escapee are stopped when the command exits, and the
# command's status is graced's, hence the namespace's.
rm -f "$EV"
run unshare --pid --fork --mount-proc "$GRACED" --report "$T/report.json" -- \
    sh -c "$GW --name job --log $EV & $GW --name sess --log $EV --setsid-child --exit 0; until grep -q ' job start' $EV && grep -q ' sess.escapee start' $EV; do sleep 0.01; done; exit 7"
expect_rc 7 "the command's status from PID 1"
expect_eq "$(count_events ' job signal SIGTERM')" 1 "the background job got SIGTERM"
expect_eq "$(count_events ' sess.escapee signal SIGTERM')" 1 "the setsid escapee got SIGTERM"
expect_eq "$(json 'sorted(s["outcome"] for s in r["stragglers"])')" "['exited', 'exited']" \
    "both stragglers in the report"

# SIGTERM from outside the namespace reaches PID 1 (a handler is installed, as PID 1 needs).
rm -f "$EV"
unshare --pid --fork --mount-proc "$GRACED" -q -- "$GW" --name inner --log "$EV" &
outer=$!
wait_for 10 events_at_least 1 ' inner start' || fail "command did not start"
pid1=$(ps -o pid= --ppid "$outer" | tr -d ' ')
kill -TERM "$pid1"
wait_for 10 sh -c "! kill -0 $outer 2>/dev/null" || fail "graced as PID 1 did not exit"
wait "$outer"
rc=$?
expect_rc 0 "SIGTERM to PID 1: the command's status"
expect_eq "$(count_events ' inner signal SIGTERM')" 1 "the command got SIGTERM"

finish
