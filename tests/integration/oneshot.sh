#!/bin/bash
# type = oneshot: a one-shot gates its after= dependents until it exited successfully; its
# failure stops the start-up (exit 1, every process gone); one running at the shutdown gets the
# five steps. autostart = no: planned, not started, over for when_empty, started by
# `gracectl start`, then stopped at the shutdown; gracectl start of a worker that gave up; each
# exit code of gracectl start.
. "$TEST_LIB"

: "${GRACECTL:=$GRACED_BUILDDIR/src/gracectl}"
S=$T/ctl.sock
CTL="$GRACECTL -s $S"
socket_there() { [ -S "$S" ]; }

# pids_of NAME: the pids of NAME's start events ("pid=N").
pids_of() {
	grep -E " $1 start " "$EV" | sed -n 's/.* pid=\([0-9]*\).*/\1/p'
}

# 1. A one-shot gates its dependent: web starts only after init exited 0.
cat >"$T/a.ini" <<INI
[supervisor]
report = $T/report.json
control_socket = $S
[worker:init]
type = oneshot
command = sh -c 'sleep 0.4; exec $GW --name init --log $EV --exit 0'
[worker:web]
command = $GW --name web --log $EV
after = init
INI
run "$GRACED" -c "$T/a.ini" --plan
expect_rc 0 "--plan of a one-shot"
expect_in "$T/out" "type oneshot" "--plan shows the type"
start_graced -c "$T/a.ini"
wait_for 10 events_at_least 1 ' web start ' || fail "web did not start: $(cat "$T/graced.log")"
init_exit=$(event_ms ' init exit ')
web_start=$(event_ms ' web start ')
expect_at_least "$web_start" "${init_exit:-999999999}" "web starts after init exited"
expect_in "$T/graced.log" "One-shot worker 'init' completed" "the completion is logged"
wait_for 10 socket_there || fail "no control socket"
run $CTL status init
expect_in "$T/out" "exited" "a finished one-shot is exited"
expect_in "$T/out" "(one-shot)" "status says it is a one-shot"
run $CTL --json status
expect_eq "$(python3 -c 'import json, sys; r = json.load(sys.stdin); print(" ".join(i["worker"] + "=" + i["type"] for i in r["instances"]))' <"$T/out")" \
    "init=oneshot web=longrun" "status gives each worker's type"
# A finished one-shot is not a reason to shut down: web still runs.
expect_eq "$(pids_alive $GPID)" 1 "graced still runs after the one-shot finished"
kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "clean shutdown after a one-shot"
expect_eq "$(json '[w["outcome"] for w in r["workers"]]')" "['exited', 'exited']" \
    "the report: the one-shot exited"

# 2. A failing one-shot stops the start-up: exit 1, its dependent never starts, an independent
# worker already started goes through the ordered shutdown, no process left.
: >"$EV"
cat >"$T/b.ini" <<INI
[supervisor]
report = $T/report.json
[worker:side]
command = $GW --name side --log $EV
[worker:init]
type = oneshot
command = sh -c 'sleep 0.4; exec $GW --name init --log $EV --exit 3'
[worker:web]
command = $GW --name web --log $EV
after = init
INI
start_graced -c "$T/b.ini"
wait_graced 20
expect_rc 1 "a failed one-shot: exit 1"
expect_in "$T/graced.log" "Worker 'init' failed: one-shot exited with status 3" "a clear error"
expect_eq "$(json 'r["trigger"]')" "one-shot worker 'init' failed" "the trigger names the one-shot"
expect_eq "$(count_events ' web start ')" 0 "the dependent never started"
expect_eq "$(count_events ' side signal SIGTERM')" 1 "the started worker got the stop signal"
expect_eq "$(pids_alive $(pids_of side) $(pids_of init))" 0 "no process left"
# success_status counts: 3 is a success there.
: >"$EV"
sed -i 's/^type = oneshot$/type = oneshot\nsuccess_status = 3/' "$T/b.ini"
start_graced -c "$T/b.ini"
wait_for 10 events_at_least 1 ' web start ' || fail "success_status 3: web did not start"
kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "success_status applies to a one-shot"

# An exec failure of a one-shot stops the start-up too.
cat >"$T/c.ini" <<INI
[worker:init]
type = oneshot
command = $T/no-such-program
[worker:web]
command = $GW --name web --log $EV
after = init
INI
: >"$EV"
start_graced -c "$T/c.ini"
wait_graced 20
expect_rc 1 "a one-shot that cannot be started: exit 1"
expect_eq "$(count_events ' web start ')" 0 "its dependent never started"

# 3. A one-shot still running at the shutdown gets the five steps (SIGTERM, exit 0).
cat >"$T/d.ini" <<INI
[supervisor]
report = $T/report.json
[worker:job]
type = oneshot
command = $GW --name job --log $EV
INI
: >"$EV"
start_graced -c "$T/d.ini"
wait_for 10 events_at_least 1 ' job start ' || fail "job did not start"
kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "a one-shot stopped by the shutdown"
expect_eq "$(count_events ' job signal SIGTERM')" 1 "it got the stop signal"
expect_eq "$(json 'r["workers"][0]["outcome"] + "/" + r["workers"][0]["step"]')" exited/stop \
    "it exited in the stop step"

# 4. --check: restart= and ready= on a one-shot; a started worker after= an autostart = no one.
cat >"$T/e.ini" <<INI
[worker:init]
type = oneshot
restart = always
ready = delay:1s
[worker:lazy]
command = true
autostart = no
[worker:web]
command = true
after = lazy
INI
sed -i '3i command = true' "$T/e.ini"
run "$GRACED" -c "$T/e.ini" --check
expect_rc 2 "--check refuses the one-shot and the after="
expect_in "$T/err" "e.ini:4: restart = always in [worker:init]: a one-shot (type = oneshot) is never restarted" "restart= on a one-shot"
expect_in "$T/err" "e.ini:5: ready = delay in [worker:init]" "ready= on a one-shot"
expect_in "$T/err" "e.ini:11: [worker:web] is after= 'lazy', which has autostart = no" "after= an autostart = no worker"
run "$GRACED" -c "$T/e.ini" --check
cat >"$T/e.ini" <<INI
[worker:init]
type = once
INI
run "$GRACED" -c "$T/e.ini" --check
expect_rc 2 "an unknown type"
expect_in "$T/err" "longrun or oneshot" "the message lists the types"

# 5. autostart = no: planned, not started, over for when_empty; started by gracectl start, and
# its after= dependent (autostart = no too) waits for it; both stopped at the shutdown.
cat >"$T/f.ini" <<INI
[supervisor]
report = $T/report.json
control_socket = $S
[worker:web]
command = $GW --name web --log $EV
[worker:lazy]
command = $GW --name lazy --log $EV
autostart = no
ready = delay:300ms
[worker:later]
command = $GW --name later --log $EV
autostart = no
after = lazy
[worker:broken]
command = $T/no-such-program
INI
run "$GRACED" -c "$T/f.ini" --plan
expect_rc 0 "--plan with autostart = no"
expect_in "$T/out" "worker 'lazy'" "lazy is in the plan"
expect_in "$T/out" "autostart = no (started by \`gracectl start\`)" "--plan says autostart = no"
: >"$EV"
start_graced -c "$T/f.ini"
wait_for 10 events_at_least 1 ' web start ' || fail "web did not start"
wait_for 10 socket_there || fail "no control socket"
wait_for 10 grep -q "Worker 'broken' failed" "$T/graced.log" || fail "broken did not fail"
expect_eq "$(count_events ' lazy start ')" 0 "autostart = no: not started"
run $CTL status lazy
expect_in "$T/out" "inactive" "status: inactive"
run $CTL start lazy later
expect_rc 0 "gracectl start lazy later"
expect_in "$T/out" "Started worker 'lazy'" "start says what it started"
wait_for 10 events_at_least 1 ' later start ' || fail "later did not start"
lazy_start=$(event_ms ' lazy start ')
later_start=$(event_ms ' later start ')
expect_at_least "$((later_start - lazy_start))" 150 "later waited for lazy to be ready"
# The error exit codes, each with its message.
run $CTL start nosuch
expect_rc 1 "start of no such worker"
expect_in "$T/err" "cannot start worker 'nosuch': no such worker" "no such worker is named"
run $CTL start lazy
expect_rc 1 "start of a running worker"
expect_in "$T/err" "cannot start worker 'lazy': already running" "already running is said"
run $CTL start web nosuch
expect_rc 1 "start of a list with an unknown name"
run $CTL start
expect_rc 2 "start without a worker: usage"
# A worker that gave up (exec failure) is started again, and gives up again.
ln -s "$GW" "$T/no-such-program"
run $CTL start broken
expect_rc 0 "start of a worker that gave up"
wait_for 10 grep -q "Started worker 'broken'" "$T/graced.log" || fail "broken was not started again"
rm -f "$T/no-such-program"
kill -TERM "$GPID"
wait_for 10 grep -q "Shutdown triggered" "$T/graced.log" || fail "no shutdown"
run $CTL start lazy
if [ "$rc" -eq 1 ] && grep -q "the shutdown is under way" "$T/err"; then pass
elif [ "$rc" -eq 3 ]; then pass # graced was already gone
else fail "start during the shutdown: exit $rc, $(cat "$T/err")"; fi
wait_graced 20
expect_rc 0 "clean shutdown"
for w in lazy later web; do
	expect_eq "$(count_events " $w signal SIGTERM")" 1 "$w was stopped at the shutdown"
done
expect_eq "$(pids_alive $(pids_of lazy) $(pids_of later) $(pids_of web))" 0 "no process left"

# 6. when_empty: a never-started autostart = no worker does not keep graced up.
cat >"$T/g.ini" <<INI
[supervisor]
report = $T/report.json
[worker:job]
command = true
[worker:lazy]
command = $GW --name lazy --log $EV
autostart = no
INI
: >"$EV"
start_graced -c "$T/g.ini"
wait_graced 20
expect_rc 0 "only autostart = no left: graced ends on its own"
expect_eq "$(json 'r["trigger"]')" "nothing left to run" "the trigger"
expect_eq "$(json 'str(r["workers"][1]["pid"]) + "/" + r["workers"][1]["outcome"]')" 0/exited \
    "the report: a never-started worker has pid 0, outcome exited"
expect_eq "$(count_events ' lazy start ')" 0 "it was never started"
finish
