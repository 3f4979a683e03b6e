#!/bin/bash
# graced towards systemd, with a NOTIFY_SOCKET receiver standing in for it: READY=1 only after
# the ready = notify worker said READY=1 (and after its dependent started), MAINPID= is graced's,
# STATUS= while running and stopping, STOPPING=1 and EXTEND_TIMEOUT_USEC= during the shutdown.
. "$TEST_LIB"

GN=${GRACED_BUILDDIR:-.}/tests/integration/helpers/gnotify
NL=$SRC/tests/integration/helpers/notify_listener.py
N=$T/notify.log
python3 "$NL" "$T/notify.sock" "$N" &
LPID=$!
wait_for 10 grep -qs listening "$N" || fail "the notify listener did not start"

# db says READY=1 after 400 ms; web (after db) uses systemd-notify from a shell, as a
# systemd-written program would; web is slow to stop (1 s) so the join shows in STATUS=.
cat >"$T/shop.ini" <<INI
[supervisor]
name = shop
log_level = debug
report = $T/report.json
[shutdown]
stop_timeout = 5s
join_timeout = 2s
kill_timeout = 1s
[worker:db]
command = $GN --name db --log $EV sleep 400 send "STATUS=db warming up" send "READY=1\nSTATUS=db up" wait
ready = notify
start_timeout = 5s
[worker:web]
command = sh -c 'trap "sleep 1; exit 0" TERM; sleep 0.1; systemd-notify --ready --status=serving; while :; do sleep 0.05; done'
ready = notify
after = db
INI
NOTIFY_SOCKET=$T/notify.sock start_graced -c "$T/shop.ini"
wait_for 10 grep -qs 'READY=1|STATUS=running' "$N" || fail "no READY=1: $(cat "$T/graced.log")"

ready_ms=$(grep -E ' READY=1' "$N" | head -1 | cut -d' ' -f1)
db_ready=$(event_ms ' db sent READY=1')
expect_at_least "$((ready_ms - db_ready))" 0 "READY=1 only after db said READY=1"
expect_in "$T/graced.log" "worker=web event=ready" "web became ready through systemd-notify"
web_ready=$(grep -n 'worker=web event=ready' "$T/graced.log" | cut -d: -f1)
all_ready=$(grep -n 'Every worker is ready' "$T/graced.log" | cut -d: -f1)
expect_between "$all_ready" "${web_ready:-999999}" 999999 "READY=1 after the last worker (web) was ready"
expect_eq "$(grep -c ' READY=1' "$N")" 1 "READY=1 sent once"
expect_in "$N" "READY=1|STATUS=running: 2 workers|MAINPID=$GPID" "READY=1 with STATUS= and graced's MAINPID="
# Before READY=1 the status said what was starting.
expect_in "$N" "STATUS=starting: 0 workers, 2 starting" "STATUS= while starting"
first_ready=$(grep -n ' READY=1' "$N" | head -1 | cut -d: -f1)
first_start=$(grep -n 'STATUS=starting' "$N" | head -1 | cut -d: -f1)
expect_between "$first_start" 1 "$first_ready" "starting status comes before READY=1"
expect_in "$T/graced.log" 'worker=db event=status status="db up"' "a worker's STATUS= is logged (debug)"

kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "clean shutdown"
kill "$LPID" 2>/dev/null
wait "$LPID" 2>/dev/null

expect_in "$N" "STOPPING=1|STATUS=stopping: intake" "STOPPING=1 with a status when the shutdown begins"
# Each step renews the budget: the plan is 2 levels x (5s + 2s + 1s) = 16 s, plus 5 s slack.
n_extend=$(grep -c 'EXTEND_TIMEOUT_USEC=' "$N")
expect_between "$n_extend" 4 100 "EXTEND_TIMEOUT_USEC= at each step (got $n_extend)"
first_extend=$(grep -oE 'EXTEND_TIMEOUT_USEC=[0-9]+' "$N" | head -1 | cut -d= -f2)
# At most the plan's 16 s + 5 s slack; what is left of it when the step begins, and a loaded
# machine may begin it late (4 s allowed): more than the plan plus 1 s all the same.
expect_between "$first_extend" 17000000 21000000 "first EXTEND_TIMEOUT_USEC= is the plan's 16 s + 5 s slack"
stopping_line=$(grep -n 'STOPPING=1' "$N" | head -1 | cut -d: -f1)
extend_line=$(grep -n 'EXTEND_TIMEOUT_USEC=' "$N" | head -1 | cut -d: -f1)
expect_between "$extend_line" "$stopping_line" 999999 "EXTEND_TIMEOUT_USEC= follows STOPPING=1"
expect_in "$N" "STATUS=stopping: stop" "STATUS= names the step"
# web takes 1 s to stop: the still-alive status names it with its pid.
if grep -qE "STATUS=stopping: stop, [0-9] left: .*web \(pid [0-9]+\)" "$N"; then pass; else
	fail "STATUS= names what is still alive: $(grep 'left:' "$N")"
fi
expect_eq "$(json '" ".join(w["outcome"] for w in r["workers"])')" "exited exited" "both exited"
expect_pending_at_exit 0

# Without NOTIFY_SOCKET nothing is sent and nothing fails.
start_graced -c "$T/shop.ini"
wait_for 10 grep -q 'Every worker is ready' "$T/graced.log" || fail "not ready without NOTIFY_SOCKET"
kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "clean shutdown without NOTIFY_SOCKET"
finish
