#!/bin/bash
# Single-command mode as a drop-in for tini and dumb-init: quiet by default, their flags and
# environment variables with their meaning, and no hold on the directory it was started in.
. "$TEST_LIB"

# Quiet: `graced -- true` prints nothing; -v brings the step log.
run "$GRACED" -- true
expect_rc 0 "graced -- true"
expect_eq "$(cat "$T/out" "$T/err")" "" "graced -- true prints nothing"
run "$GRACED" -v -- true
expect_in "$T/err" 'Step stop begins' "-v: the step log"
run env TINI_VERBOSITY=2 "$GRACED" -- true
expect_in "$T/err" 'Step stop begins' "TINI_VERBOSITY=2: the step log"
# Warnings still come through by default.
run "$GRACED" -- /nonexistent/command
expect_eq "$([ -s "$T/err" ] && echo some)" some "a failure is still reported"

# After starting the child graced is in /, the child where graced was started; a relative
# --report is resolved before.
mkdir -p "$T/dir"
rm -f "$EV"
( cd "$T/dir" && exec "$GRACED" --report rel.json -- "$GW" --name cwd --log "$EV" --cwd ) >/dev/null 2>&1 &
GPID=$!
wait_for 10 events_at_least 1 ' cwd cwd ' || fail "command did not start"
expect_eq "$(count_events " cwd cwd $T/dir\$")" 1 "the command runs where graced was started"
wait_for 5 sh -c "[ \"\$(readlink /proc/$GPID/cwd)\" = / ]" || fail "graced did not change to /"
kill -TERM "$GPID"
wait_graced 10
expect_eq "$([ -s "$T/dir/rel.json" ] && echo yes)" yes "a relative --report is written where graced was started"

# -s (always a subreaper), TINI_SUBREAPER and --single-child are accepted.
run "$GRACED" -s -- true
expect_rc 0 "-s accepted"
run env TINI_SUBREAPER=1 "$GRACED" -- true
expect_rc 0 "TINI_SUBREAPER accepted"
run "$GRACED" --single-child -- true
expect_rc 0 "--single-child accepted"

# -l: licence and version.
run "$GRACED" -l
expect_rc 0 "-l"
expect_in "$T/out" "MIT" "-l shows the licence"
expect_in "$T/out" "graced" "-l shows the version"

# -e CODE (repeatable): that exit code counts as 0.
run "$GRACED" -e 143 -e 3 -- sh -c 'exit 3'
expect_rc 0 "-e 3: exit 3 counts as 0"
run "$GRACED" -e 143 -- sh -c 'exit 4'
expect_rc 4 "-e 143: exit 4 stays 4"

# -r S:R rewrites what the command receives; R = 0 drops it.
rm -f "$EV"
start_graced -r USR1:USR2 --rewrite 28:0 -- "$GW" --name rw --log "$EV"
wait_for 10 events_at_least 1 ' rw start' || fail "command did not start"
kill -WINCH "$GPID"
kill -USR1 "$GPID"
wait_for 5 events_at_least 1 ' rw signal SIGUSR2$' || fail "-r USR1:USR2: no SIGUSR2"
kill -HUP "$GPID"
wait_for 5 events_at_least 1 ' rw signal SIGHUP$' || fail "SIGHUP not forwarded"
expect_eq "$(count_events ' rw signal SIGUSR1$')" 0 "-r USR1:USR2: no SIGUSR1"
expect_eq "$(count_events ' rw signal SIGWINCH$')" 0 "-r 28:0: SIGWINCH dropped"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "-r leaves SIGTERM to graced"
# dumb-init's --rewrite 15:3: SIGTERM still starts graced's shutdown, whose stop step sends
# SIGQUIT; --stop-signal would win.
rm -f "$EV"
start_graced --rewrite 15:3 --report "$T/report.json" -- "$GW" --name rq --log "$EV" --exit-on QUIT
wait_for 10 events_at_least 1 ' rq start' || fail "command did not start"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "--rewrite 15:3: the command exited on SIGQUIT"
expect_eq "$(count_events ' rq signal SIGQUIT$')" 1 "--rewrite 15:3: the stop step sent SIGQUIT"
expect_eq "$(count_events ' rq signal SIGTERM$')" 0 "--rewrite 15:3: no SIGTERM"
expect_eq "$(json 'r["trigger"]')" SIGTERM "graced's own shutdown was triggered by SIGTERM"

# -g, TINI_KILL_PROCESS_GROUP, DUMB_INIT_SETSID=1: forwarded to the command's process group
# (a gworker child keeps default dispositions: SIGUSR2 ends it). Without them (and with
# --single-child, DUMB_INIT_SETSID=0), the command only.
gone() {
	[ "$(pids_alive "$@")" = 0 ]
}
for variant in -g env:TINI_KILL_PROCESS_GROUP=1 env:DUMB_INIT_SETSID=1 none --single-child \
    env:DUMB_INIT_SETSID=0; do
	rm -f "$EV"
	envs=(env)
	flag=()
	case $variant in
	env:*) envs=(env "${variant#env:}") ;;
	-*) flag=("$variant") ;;
	esac
	( exec "${envs[@]}" "$GRACED" "${flag[@]}" -- "$GW" --name grp --log "$EV" --children 1 ) >/dev/null 2>"$T/graced.log" &
	GPID=$!
	wait_for 10 events_at_least 1 ' grp.child0 start' || fail "$variant: command did not start"
	cpid=$(grep ' grp.child0 start' "$EV" | sed 's/.*pid=\([0-9]*\).*/\1/')
	kill -USR2 "$GPID"
	wait_for 5 events_at_least 1 ' grp signal SIGUSR2$' || fail "$variant: SIGUSR2 not forwarded"
	case $variant in
	none | --single-child | *=0)
		expect_eq "$(pids_alive "$cpid")" 1 "$variant: the command's child got nothing" ;;
	*)
		wait_for 5 gone "$cpid" || fail "$variant: the group did not get SIGUSR2" ;;
	esac
	kill -TERM "$GPID"
	wait_graced 15
done

# -w: a reaped zombie is a warning.
rm -f "$EV"
run "$GRACED" -w -- "$GW" --name orph --log "$EV" --orphans 3 --exit 0
expect_rc 0 "-w"
expect_in "$T/err" "orphan" "-w: reaped zombies are reported"

# -p SIG: the parent-death signal. graced's parent (a shell) dies: graced gets SIGUSR2 and
# forwards it, the command exits, so does graced. A python3 subreaper above the shell collects
# graced and reports its status (bounded waits).
rm -f "$EV"
run python3 - "$GRACED" "$GW" "$EV" <<'PY'
import ctypes, os, signal, subprocess, sys, time
graced, gw, ev = sys.argv[1:4]
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
shell = subprocess.Popen(["bash", "-c", '"$0" -p SIGUSR2 -- "$1" --name pd --log "$2" --exit-on TERM,USR2 & wait',
    graced, gw, ev])
end = time.monotonic() + 10
while time.monotonic() < end and not (os.path.exists(ev) and " pd start" in open(ev).read()):
    time.sleep(0.02)
os.kill(shell.pid, signal.SIGKILL)
shell.wait()
end = time.monotonic() + 10
status = None
while time.monotonic() < end:
    pid, st = os.waitpid(-1, os.WNOHANG)
    if pid:
        status = os.waitstatus_to_exitcode(st)
        break
    time.sleep(0.02)
print("graced", status)
PY
expect_in "$T/out" "graced 0" "-p: graced ended with the command's status after its parent died"
expect_eq "$(count_events ' pd signal SIGUSR2$')" 1 "-p SIGUSR2: the parent-death signal was forwarded"

# -c stays graced's configuration option.
run "$GRACED" -c /nonexistent.ini --check
expect_rc 2 "-c is the config file"

finish
