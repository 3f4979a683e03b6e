#!/bin/bash
# Single-command mode as a container entrypoint: forwarding, stop budget, descendants left by
# the command, argv and stdio passed through, a clean signal state for the child.
. "$TEST_LIB"

# Each forwarded signal reaches the command.
start_graced -- "$GW" --name fwd --log "$EV"
wait_for 10 events_at_least 1 ' fwd start' || fail "command did not start"
for sig in HUP USR1 USR2 WINCH QUIT CONT TSTP; do
	kill -"$sig" "$GPID"
	wait_for 5 events_at_least 1 " fwd signal SIG$sig\$" || fail "SIG$sig was not forwarded"
done
expect_eq "$(count_events ' fwd signal SIG(HUP|USR1|USR2|WINCH|QUIT|CONT|TSTP)$')" 7 "all seven forwarded"
# Job control as dumb-init does it: after forwarding SIGTSTP graced stops itself; SIGCONT
# continues it (and is forwarded too).
graced_state_is() {
	[ "$(cut -d' ' -f3 "/proc/$GPID/stat")" = "$1" ]
}
wait_for 5 graced_state_is T || fail "graced did not stop itself after forwarding SIGTSTP"
kill -CONT "$GPID"
wait_for 5 graced_state_is S || fail "graced did not continue on SIGCONT"
wait_for 5 events_at_least 2 ' fwd signal SIGCONT$' || fail "SIGCONT was not forwarded"

# 200 signals in a burst: no crash; standard signals coalesce in the kernel, so at least one
# arrives, and a signal sent after the burst is not lost behind it.
for i in $(seq 200); do kill -USR1 "$GPID"; done
kill -USR2 "$GPID"
wait_for 5 events_at_least 2 ' fwd signal SIGUSR2$' || fail "the signal after the burst was lost"
expect_between "$(count_events ' fwd signal SIGUSR1$')" 2 201 "burst delivered (coalesced)"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "compliant command: its own status"

# A command that ignores SIGTERM is killed after --stop-timeout: 128+9.
rm -f "$EV"
start_graced --stop-timeout 1s --report "$T/report.json" -- "$GW" --name deaf --log "$EV" --ignore TERM
wait_for 10 events_at_least 1 ' deaf start' || fail "command did not start"
t0=$(date +%s%3N)
kill -TERM "$GPID"
wait_graced 10
t1=$(date +%s%3N)
expect_rc 137 "killed after --stop-timeout: 137"
# Not before --stop-timeout (the shell's clock started before the signal), and by graced's own
# clock killed long before the 8 s default would have.
expect_at_least "$((t1 - t0))" 1000 "no exit before --stop-timeout 1s after SIGTERM"
expect_between "$(json 'r["workers"][0]["exit_ms"]')" 1000 7999 "killed after --stop-timeout, not the default 8 s"
expect_eq "$(json 'r["workers"][0]["outcome"]')" killed "report: killed"
expect_pending_at_exit 0

# The default budget (8s stop, then SIGKILL) ends before docker stop's 10 s.
rm -f "$EV"
# By graced's own clock (the report): killed no sooner than 8 s, all closed before 10 s.
start_graced --report "$T/report.json" -- "$GW" --name stubborn --log "$EV" --ignore TERM
wait_for 10 events_at_least 1 ' stubborn start' || fail "command did not start"
t0=$(date +%s%3N)
kill -TERM "$GPID"
wait_graced 20
t1=$(date +%s%3N)
expect_rc 137 "default budget: killed"
expect_at_least "$((t1 - t0))" 8000 "the default budget is 8 s of stop"
expect_at_least "$(json 'r["workers"][0]["exit_ms"]')" 8000 "killed no sooner than 8 s"
expect_between "$(json 'r["steps"][-1]["end_ms"]')" 8000 9999 "the default budget ends before 10 s"

# The command exits while a background job runs: the job gets SIGTERM, graced waits for it (it
# takes 300 ms) and exits with the command's status. The report names the straggler.
rm -f "$EV"
# (The command exits only once the job runs, lest the job die of SIGTERM before its exec.)
run "$GRACED" --report "$T/report.json" -- sh -c "$GW --name bg --log $EV --delay 300 & until grep -q ' bg start' $EV 2>/dev/null; do sleep 0.01; done; exit 3"
expect_rc 3 "the command's status"
expect_eq "$(count_events ' bg signal SIGTERM')" 1 "the background job got SIGTERM"
expect_eq "$(count_events ' bg exit 0')" 1 "graced waited for it to exit"
expect_eq "$(json 'len(r["stragglers"])')" 1 "one straggler in the report"
expect_eq "$(json 'r["stragglers"][0]["command"].startswith("'"$GW"' --name bg")')" True \
    "the straggler's command"
expect_eq "$(json 'r["stragglers"][0]["outcome"]')" exited "the straggler exited on SIGTERM"

# The command line's budget holds for what the command leaves behind too: a background job that
# ignores SIGTERM is killed after --stop-timeout, and gets no cancel signal (none by default).
rm -f "$EV"
t0=$(date +%s%3N)
run "$GRACED" --stop-timeout 1s --report "$T/report.json" -- sh -c "$GW --name deafbg --log $EV --ignore TERM & until grep -q ' deafbg start' $EV 2>/dev/null; do sleep 0.01; done; exit 5"
t1=$(date +%s%3N)
expect_rc 5 "the command's status"
expect_at_least "$((t1 - t0))" 1000 "the job is not killed before --stop-timeout"
expect_between "$(json 'r["stragglers"][0]["exit_ms"]')" 1000 7999 \
    "the job is killed after --stop-timeout, not after the 8 s default"
expect_eq "$(count_events ' deafbg signal SIGINT')" 0 "no cancel signal: --cancel-signal is none"
expect_eq "$(json 'r["stragglers"][0]["outcome"]')" killed "the job was killed"

# A setsid() escapee is found and stopped together with the command.
rm -f "$EV"
start_graced --report "$T/report.json" -- "$GW" --name main --log "$EV" --setsid-child
wait_for 10 events_at_least 2 ' start ' || fail "command did not start"
esc=$(grep ' main.escapee start' "$EV" | sed 's/.*pid=\([0-9]*\).*/\1/')
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "clean"
expect_eq "$(count_events ' main.escapee signal SIGTERM')" 1 "the escapee got SIGTERM"
expect_eq "$(pids_alive "$esc")" 0 "the escapee is gone"
expect_eq "$(json 'r["stragglers"][0]["pid"]')" "$esc" "the escapee is in the report"

# argv passes verbatim (no shell), stdin and stdout pass through.
run "$GRACED" -q -- printf '%s|' "a b" "c'd" 'e"f' '$HOME' ''
expect_eq "$(cat "$T/out")" "a b|c'd|e\"f|\$HOME||" "argv verbatim"
echo "through stdin" | "$GRACED" -q -- cat >"$T/out" 2>"$T/err"
expect_eq "$(cat "$T/out")" "through stdin" "stdin and stdout pass through"

# The command starts with an empty signal mask and nothing ignored, whatever graced inherited.
run sh -c "trap '' HUP USR2 PIPE; exec $GRACED -q -- grep -E '^Sig(Blk|Ign):' /proc/self/status"
expect_eq "$(tr '\t\n' '  ' <"$T/out")" "SigBlk: 0000000000000000 SigIgn: 0000000000000000 " \
    "clean signal state"

# With a terminal on stdin the command's group is the terminal's foreground group (so Ctrl+C
# and Ctrl+Z reach it); without one nothing tty-related is done.
if command -v script >/dev/null; then
	script -qec "$GRACED -q -- sh -c 'ps -o tpgid=,pgid= -p \$\$' 2>/dev/null" /dev/null | tr -d '\r' >"$T/tty"
	read -r tpgid pgid <"$T/tty"
	expect_eq "$tpgid" "$pgid" "the command owns the terminal's foreground"
else
	echo "skipping the terminal check: script(1) is missing"
fi
run "$GRACED" -q -- sh -c 'ps -o tpgid= -p $$' </dev/null
expect_eq "$(tr -d ' ' <"$T/out")" "-1" "no terminal: nothing tty-related"

finish
