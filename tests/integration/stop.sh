#!/bin/bash
# gracectl stop WORKER...: the worker alone goes through its stop, cancel and join steps with its
# own budgets and stays down (restart = always notwithstanding), status "stopped", /ready not
# held back by it, the others untouched (same pids); one ignoring SIGTERM is killed after its
# budget; gracectl start brings it back; each refusal exits 1; several at once stop in reverse
# dependency order; a SIGTERM during a worker's own stop ends within the plan, the worker is not
# stopped twice, and the report keeps the outcome of its own stop.
. "$TEST_LIB"

: "${GRACECTL:=$GRACED_BUILDDIR/src/gracectl}"
S=$T/ctl.sock
CTL="$GRACECTL -s $S"
socket_there() { [ -S "$S" ]; }

# pids_of NAME: the pids of NAME's start events ("pid=N").
pids_of() {
	grep -E " $1 start " "$EV" | sed -n 's/.* pid=\([0-9]*\).*/\1/p'
}
# st EXPR: a Python expression on `gracectl --json status` as s, its instances by name as w.
st() {
	$CTL --json status | python3 -c "import json,sys; s=json.load(sys.stdin); \
w={i['name']: i for i in s['instances']}; print($1)"
}
# in_state NAME STATE: for wait_for.
in_state() {
	[ "$(st "w['$1']['state']")" = "$2" ]
}
ms() { echo $(($(date +%s%N) / 1000000)); }
ready=$(free_port)
answer() { $TCP http "$ready" /ready 2>/dev/null | cut -c1-3; }

cat >"$T/a.ini" <<INI
[supervisor]
report = $T/report.json
control_socket = $S
[intake:ready]
type = readiness
listen = tcp://127.0.0.1:$ready
[worker:web]
command = $GW --name web --log $EV
restart = always
restart_delay = 100ms
intake_signal = SIGUSR1
[worker:db]
command = $GW --name db --log $EV
[worker:api]
command = $GW --name api --log $EV --delay 500
after = db
[worker:deaf]
command = $GW --name deaf --log $EV --ignore TERM,INT
stop_timeout = 1s
join_timeout = 1s
kill_timeout = 2s
[worker:slow]
command = $GW --name slow --log $EV --delay 11000
stop_timeout = 20s
[worker:lazy]
command = $GW --name lazy --log $EV
autostart = no
INI
run "$GRACED" -c "$T/a.ini" --plan
expect_rc 0 "--plan"
start_graced -c "$T/a.ini"
wait_for 10 socket_there || fail "no control socket: $(cat "$T/graced.log")"
for w in web db api deaf slow; do
	wait_for 10 events_at_least 1 " $w start " || fail "$w did not start"
done
wait_for 10 in_state web ready || fail "web not ready"
expect_eq "$(answer)" 200 "/ready 200 with everything up"
others="$(pids_of db) $(pids_of api) $(pids_of deaf) $(pids_of slow)"

# 1. Stop web: its stop signal, its exit, no restart, status stopped, /ready still 200.
run $CTL stop web
expect_rc 0 "gracectl stop web"
expect_in "$T/out" "Stopped worker 'web'" "the reply names it"
expect_eq "$(count_events ' web signal SIGUSR1') $(count_events ' web signal SIGTERM')" "1 1" \
    "web got its intake_signal and its stop signal"
expect_at_least "$(event_ms ' web signal SIGTERM')" "$(event_ms ' web signal SIGUSR1')" "the intake_signal first"
expect_eq "$(count_events ' web exit ')" 1 "web exited (before the reply)"
expect_eq "$(pids_alive $(pids_of web))" 0 "web's process is gone when the reply comes"
expect_in "$T/graced.log" "Worker 'web' stopped on request" "the stop is logged"
expect_not_in "$T/graced.log" "Step stop begins" "a worker's own stop is not the shutdown's stop step"
expect_eq "$(st "w['web']['state'], w['web']['pid']")" "stopped 0" "status: stopped, no pid"
expect_eq "$(answer)" 200 "/ready: the service does not wait for a worker stopped on request"
run $CTL status web
expect_in "$T/out" "stopped" "gracectl status shows stopped"
expect_eq "$(pids_alive $others)" 4 "the others keep running"

# 2. Each refusal: exit 1 and a clear error; usage: exit 2.
run $CTL stop web
expect_rc 1 "stop of a stopped worker"
expect_in "$T/err" "cannot stop worker 'web': not running" "already stopped"
run $CTL stop lazy
expect_rc 1 "stop of a worker never started"
expect_in "$T/err" "cannot stop worker 'lazy': not running" "never started"
run $CTL stop nosuch
expect_rc 1 "stop of an unknown worker"
expect_in "$T/err" "cannot stop worker 'nosuch': no such worker" "no such worker"
run $CTL stop db
expect_rc 1 "stop of a worker another is after="
expect_in "$T/err" "cannot stop worker 'db': a worker after= it still runs" "a dependent runs"
run $CTL stop db nosuch
expect_rc 1 "a refusal stops none"
expect_eq "$(count_events ' db signal ')" 0 "db was not signalled"
run $CTL stop
expect_rc 2 "stop without a name"

# 3. A worker ignoring SIGTERM: killed after its budget (stop 1s + join 1s); a second stop while
# the first runs is refused.
t0=$(ms)
( $CTL stop deaf >"$T/deaf.out" 2>"$T/deaf.err"; echo $? >"$T/deaf.rc" ) &
wait_for 10 grep -q "Stopping worker 'deaf' on request" "$T/graced.log" || fail "deaf's stop did not begin"
run $CTL stop deaf
expect_rc 1 "a second stop while one runs"
expect_in "$T/err" "cannot stop worker 'deaf': its stop is already in progress" "already in progress"
run $CTL start deaf
expect_rc 1 "a start while its stop runs"
wait_for 20 test -s "$T/deaf.rc" || fail "gracectl stop deaf did not return"
elapsed=$(( $(ms) - t0 ))
expect_eq "$(cat "$T/deaf.rc")" 0 "gracectl stop deaf: exit 0"
expect_at_least "$elapsed" 2000 "deaf was given its stop and join budgets"
expect_between "$elapsed" 0 15000 "and killed within its budget (kill 2s), not held up"
expect_eq "$(count_events ' deaf signal SIGTERM') $(count_events ' deaf signal SIGINT')" "1 1" \
    "deaf got the stop, then the cancel signal"
expect_eq "$(pids_alive $(pids_of deaf))" 0 "deaf is gone"
expect_eq "$(st "w['deaf']['state'], w['deaf']['last_exit']['signal']")" "stopped SIGKILL" \
    "status: stopped, last exit SIGKILL"
expect_eq "$(count_events ' web start ')" 1 "web was not restarted meanwhile (restart = always)"

# 3b. A stop longer than the request deadline (10 s): slow exits 11 s after SIGTERM, within its
# stop_timeout; the reply still comes once it is down.
t0=$(ms)
run $CTL stop slow
elapsed=$(( $(ms) - t0 ))
expect_rc 0 "gracectl stop of a worker that takes 11 s"
expect_in "$T/out" "Stopped worker 'slow'" "its reply"
expect_at_least "$elapsed" 11000 "the reply came once slow was down"
expect_eq "$(count_events ' slow exit ')" 1 "slow exited"

# 4. Start again.
run $CTL start web
expect_rc 0 "gracectl start of a stopped worker"
wait_for 10 events_at_least 2 ' web start ' || fail "web did not start again"
wait_for 10 in_state web ready || fail "web not ready again"

# 5. A worker and its dependent at once: the dependent stops first.
run $CTL stop db api
expect_rc 0 "stop db api"
expect_in "$T/out" "Stopped worker 'api'" "api stopped"
expect_in "$T/out" "Stopped worker 'db'" "db stopped"
api_exit=$(event_ms ' api exit ')
db_signal=$(event_ms ' db signal SIGTERM')
expect_at_least "${db_signal:-0}" "${api_exit:-999999999}" "db is signalled after api exited"

# 6. SIGTERM during deaf's own stop: graced ends within the plan, deaf is not stopped twice.
run $CTL start deaf
expect_rc 0 "start deaf again"
wait_for 10 events_at_least 2 ' deaf start ' || fail "deaf did not start again"
wait_for 10 in_state deaf ready || fail "deaf not ready again"
: >"$T/deaf.rc"
( $CTL stop deaf >"$T/deaf.out" 2>"$T/deaf.err"; echo $? >"$T/deaf.rc" ) &
wait_for 10 events_at_least 2 ' deaf signal SIGTERM' || fail "deaf's second stop did not begin"
t0=$(ms)
kill -TERM "$GPID"
# During the shutdown (deaf's own stop holds it up for 2 s at least): refused.
wait_for 10 grep -q "Step intake begins" "$T/graced.log" || fail "the shutdown did not begin"
run $CTL stop web
expect_rc 1 "stop during the shutdown"
expect_in "$T/err" "cannot stop worker 'web': the shutdown is under way" "refused during the shutdown"
wait_graced 30
elapsed=$(( $(ms) - t0 ))
expect_rc 0 "exit status 0: the shutdown itself forced nothing (deaf was its own stop's)"
budget=$(json 'r["budget_ms"]')
expect_between "$elapsed" 0 $((budget + 10000)) "the shutdown ends within the plan's worst case (${budget} ms)"
expect_eq "$(count_events ' deaf signal SIGTERM')" 2 "deaf got SIGTERM once in this run, not twice"
expect_eq "$(count_events ' deaf signal SIGINT')" 2 "and SIGINT once"
wait_for 10 test -s "$T/deaf.rc"
expect_in "$T/deaf.rc" "0" "the stop that was running still replied"

# The report: each worker stopped on request keeps the outcome of its own stop.
expect_eq "$(json '[(w["name"], w["outcome"], w["step"], w["stopped_by"]) for w in r["workers"]]')" \
    "[('web', 'exited', 'stop', 'shutdown'), ('db', 'exited', 'stop', 'request'), ('api', 'exited', 'stop', 'request'), ('deaf', 'killed', 'join', 'request'), ('slow', 'exited', 'stop', 'request'), ('lazy', 'exited', None, 'shutdown')]" \
    "the report's entries"
expect_eq "$(json '[w["name"] for w in r["workers"] if w["stopped_by"] == "request" and w["exit_ms"] == 0]')" \
    "['db', 'api', 'slow']" "their exit came before the trigger (times before it read 0)"
expect_eq "$(pids_alive $(pids_of web) $(pids_of db) $(pids_of api) $(pids_of deaf) $(pids_of slow))" 0 \
    "no process left"
finish
