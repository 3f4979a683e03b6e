#!/bin/bash
# on_exit (graced.ini(5)): a command run after each exit of an instance, with the exit in its
# environment, bounded by hook_timeout. A restart waits for it; the shutdown joins a worker once
# its hooks ended (hook_timeout, counted in --plan); a hook that hangs is killed at its deadline
# and one that fails is logged, never fatal.
. "$TEST_LIB"

HOOK="sh -c 'echo \"hook w=\$GRACED_WORKER i=\$GRACED_INSTANCE s=\$GRACED_EXIT_STATUS sig=\$GRACED_TERM_SIGNAL o=\$GRACED_OUTCOME\" >>$EV'"

# 1. The environment of a clean exit, a crash (exit 3) and a death by signal.
rm -f "$EV" "$T/report.json"
cat >"$T/h.ini" <<INI
[supervisor]
report = $T/report.json
[worker:clean]
command = $GW --name clean --log $EV --exit 0
on_exit = $HOOK
[worker:crash]
command = sh -c 'exit 3'
on_exit = $HOOK
[worker:sig]
command = $GW --name sig --log $EV --die-on TERM
instances = 2
on_exit = $HOOK
INI
run "$GRACED" -c "$T/h.ini" --check
expect_rc 0 "--check takes on_exit"
start_graced -c "$T/h.ini"
wait_for 10 events_at_least 2 '^hook ' || fail "env: the hooks of the first two exits did not run"
wait_for 10 events_at_least 2 ' sig start' || fail "env: sig did not start"
kill -TERM "$GPID"
wait_graced 15
expect_rc 1 "env: crash is a failure"
expect_in "$EV" "hook w=clean i=0 s=0 sig= o=exited" "env: a clean exit"
expect_in "$EV" "hook w=crash i=0 s=3 sig= o=failed" "env: a crash"
expect_in "$EV" "hook w=sig i=0 s= sig=SIGTERM o=exited" "env: death by the stop signal, instance 0"
expect_in "$EV" "hook w=sig i=1 s= sig=SIGTERM o=exited" "env: death by the stop signal, instance 1"
expect_eq "$(count_events '^hook ')" 4 "env: one hook per exit"
expect_pending_at_exit 0

# 2. A restart waits for the hook: the next start comes after the hook ended.
rm -f "$EV" "$T/report.json"
cat >"$T/h.ini" <<INI
[supervisor]
report = $T/report.json
[worker:again]
command = $GW --name again --log $EV --exit 1
restart = on-failure
restart_delay = 10ms
start_limit = none
on_exit = sh -c 'echo hook-begin >>$EV; sleep 0.3; echo hook-end >>$EV'
INI
start_graced -c "$T/h.ini"
wait_for 15 events_at_least 3 ' again start' || fail "restart: did not restart twice"
kill -TERM "$GPID"
wait_graced 15
order=$(grep -oE 'again start|hook-begin|hook-end' "$EV" | head -6 | paste -sd, -)
expect_eq "$order" "again start,hook-begin,hook-end,again start,hook-begin,hook-end" \
    "restart: each start after the previous exit's hook ended"

# 3. A hook that hangs is killed at hook_timeout; neither a restart nor the shutdown waits
# longer. A failing hook is logged and changes nothing.
rm -f "$EV" "$T/report.json"
cat >"$T/h.ini" <<INI
[supervisor]
report = $T/report.json
[worker:hang]
command = $GW --name hang --log $EV --exit 0
restart = always
restart_delay = 10ms
start_limit = none
hook_timeout = 500ms
on_exit = sh -c 'echo hook-pid \$\$ >>$EV; exec sleep 30'
[worker:fails]
command = $GW --name fails --log $EV
on_exit = sh -c 'exit 7'
hook_timeout = 1s
INI
run "$GRACED" -c "$T/h.ini" --plan
expect_in "$T/out" "on_exit: joined once its exit hooks ended, up to 500ms (hook_timeout)" "plan: the hook's budget"
expect_in "$T/out" "worker 'hang': 20s500ms" "plan: hook_timeout in the worker's worst case"
start_graced -c "$T/h.ini"
wait_for 20 events_at_least 3 ' hang start' || fail "hang: a hung hook stalled the restart"
start_ms=$(date +%s%N)
kill -TERM "$GPID"
wait_graced 20
took=$(( ($(date +%s%N) - start_ms) / 1000000 ))
expect_rc 0 "hang: hooks that hang or fail do not make the stop forced"
expect_between "$took" 0 8000 "hang: the shutdown waited no longer than hook_timeout (and slack)"
expect_in "$T/graced.log" "did not end within hook_timeout 500ms, killed, continuing" "hang: logged"
expect_in "$T/graced.log" "Exit hook of worker 'fails' failed: exit 7, continuing" "fails: logged"
pids=$(sed -n 's/^hook-pid //p' "$EV")
expect_eq "$(pids_alive $pids)" 0 "hang: every hung hook was killed"
expect_pending_at_exit 0

# 4. The hook of a final exit: the shutdown waits for it, up to hook_timeout, then kills it.
rm -f "$EV" "$T/report.json"
cat >"$T/h.ini" <<INI
[supervisor]
report = $T/report.json
[worker:last]
command = $GW --name last --log $EV
hook_timeout = 2s
on_exit = sh -c 'echo hook-pid \$\$ >>$EV; exec sleep 30'
INI
start_graced -c "$T/h.ini"
wait_for 10 events_at_least 1 ' last start' || fail "last: did not start"
start_ms=$(date +%s%N)
kill -TERM "$GPID"
wait_graced 20
took=$(( ($(date +%s%N) - start_ms) / 1000000 ))
expect_rc 0 "last: a hook killed at its deadline does not make the stop forced"
expect_between "$took" 1900 12000 "last: the shutdown waited for the hook, and not past hook_timeout"
expect_in "$T/graced.log" "Exit hook of worker 'last' did not end within hook_timeout 2s, killed" "last: logged"
pids=$(sed -n 's/^hook-pid //p' "$EV")
expect_eq "$(pids_alive $pids)" 0 "last: the hook was killed"
expect_pending_at_exit 0

finish
