#!/bin/bash
# signal_target (graced.ini(5)): where the stop and cancel signals go, and what happens to the
# processes a worker's main process leaves in its process group when it exits during the
# shutdown. They are the worker's, not stragglers: they get the signal of the step at once
# (killpg) and their exit on it is clean. Before, `sh -c "sleep 30; ..."` stopped with SIGTERM
# left sleep to the final straggler scan, which killed it: a clean stop became exit 1.
. "$TEST_LIB"

write_ini() {
	cat >"$T/g.ini" <<INI
[supervisor]
report = $T/report.json
[shutdown]
stop_timeout = 10s
join_timeout = 2s
kill_timeout = 3s
[worker:sh]
command = $1
${2:-}
INI
}

# The process group of the worker: its main process's pid, from the start line of the log.
main_pid() {
	sed -n "s/.*Started worker 'sh' (pid \([0-9]*\)).*/\1/p" "$T/graced.log" | head -1
}

started() {
	[ -n "$(main_pid)" ] && pgrep -g "$(main_pid)" -x "$1" >/dev/null
}

clean_stop() {
	local what=$1
	expect_rc 0 "$what: a clean stop"
	expect_eq "$(json 'r["stragglers"]')" "[]" "$what: nothing of the group is a straggler"
	expect_eq "$(json 'r["workers"][0]["outcome"]')" exited "$what: the worker exited"
	expect_not_in "$T/graced.log" SIGKILL "$what: nothing was killed"
	expect_pending_at_exit 0
}

# 1. A foreground job of the shell: sh dies of SIGTERM, sleep is left in the group.
rm -f "$EV" "$T/report.json"
write_ini "sh -c 'sleep 30; echo done'"
start_graced -c "$T/g.ini"
wait_for 10 started sleep || fail "sleep: did not start"
sleep_pid=$(pgrep -g "$(main_pid)" -x sleep)
kill -TERM "$GPID"
wait_graced 15
clean_stop "sh -c 'sleep 30; echo done'"
expect_eq "$(pids_alive $sleep_pid)" 0 "sleep: gone when graced is"
if grep -qE "step=stop signal=SIGTERM pid=$(main_pid) target=group-left" "$T/graced.log"; then pass; else
	fail "sleep: the rest of the group is logged as getting SIGTERM"
fi

# 2. A background job and `wait`; the job records the signal it got.
rm -f "$EV" "$T/report.json"
write_ini "sh -c '$GW --name kid --log $EV & wait'"
start_graced -c "$T/g.ini"
wait_for 10 events_at_least 1 ' kid start' || fail "kid: did not start"
kill -TERM "$GPID"
wait_graced 15
clean_stop "sh -c 'kid & wait'"
expect_eq "$(count_events ' kid signal SIGTERM')" 1 "kid: got the stop signal"
expect_eq "$(count_events ' kid exit 0')" 1 "kid: exited on it"

# 3. signal_target = group: the stop signal reaches the group while the main process still
# runs (it takes 1 s to exit); kid hears it before main exits.
rm -f "$EV" "$T/report.json"
write_ini "sh -c '$GW --name kid --log $EV & exec $GW --name main --log $EV --delay 1000'" \
    "signal_target = group"
run "$GRACED" -c "$T/g.ini" --plan
expect_in "$T/out" "stop:   SIGTERM + SIGCONT to the process group, wait up to 10s" "group: --plan"
expect_in "$T/out" "cancel: SIGINT to the process group, join up to 2s" "group: --plan, cancel"
start_graced -c "$T/g.ini"
wait_for 10 events_at_least 2 ' start' || fail "group: did not start"
kill -TERM "$GPID"
wait_graced 15
clean_stop "signal_target = group"
if grep -qE "step=stop signal=SIGTERM pid=[0-9]+ target=group( |$)" "$T/graced.log"; then pass; else
	fail "group: the stop signal is logged as going to the group"
fi
kid_ms=$(event_ms ' kid signal SIGTERM')
main_exit=$(event_ms ' main exit')
expect_between "$kid_ms" 0 "$((${main_exit:-1} - 1))" "group: kid got SIGTERM before main exited"

# 4. The default (main): the same worker, kid only hears once main has exited.
rm -f "$EV" "$T/report.json"
write_ini "sh -c '$GW --name kid --log $EV & exec $GW --name main --log $EV --delay 300'"
start_graced -c "$T/g.ini"
wait_for 10 events_at_least 2 ' start' || fail "main: did not start"
kill -TERM "$GPID"
wait_graced 15
clean_stop "signal_target = main"
kid_ms=$(event_ms ' kid signal SIGTERM')
main_exit=$(event_ms ' main exit')
expect_at_least "${kid_ms:-0}" "${main_exit:-999999999}" "main: kid got SIGTERM after main exited"

# 5. A group left behind that ignores the stop and cancel signals: the kill signal goes to it
# (kill_mode = group), the instance counts as killed, and it is still no straggler.
rm -f "$EV" "$T/report.json"
write_ini "sh -c '$GW --name kid --log $EV --ignore TERM,INT & wait'" \
    "stop_timeout = 200ms
join_timeout = 200ms"
start_graced -c "$T/g.ini"
wait_for 10 events_at_least 1 ' kid start' || fail "deaf kid: did not start"
kid=$(grep ' kid start' "$EV" | sed 's/.*pid=\([0-9]*\).*/\1/')
kill -TERM "$GPID"
wait_graced 15
expect_rc 1 "deaf kid: a forced stop"
expect_eq "$(json 'r["workers"][0]["outcome"]')" killed "deaf kid: the instance counts as killed"
expect_eq "$(json 'r["stragglers"]')" "[]" "deaf kid: no straggler"
expect_eq "$(count_events ' kid signal SIGTERM')" 1 "deaf kid: got the stop signal"
expect_eq "$(count_events ' kid signal SIGINT')" 1 "deaf kid: got the cancel signal"
expect_eq "$(pids_alive $kid)" 0 "deaf kid: killed"
expect_pending_at_exit 0

finish
