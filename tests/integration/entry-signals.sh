#!/bin/bash
# Single-command mode takes over no signal: every signal 1-31 and SIGRTMIN..SIGRTMAX sent to
# graced is forwarded to the command or handled as graced(8) says, graced stays alive and the
# command is never orphaned; as PID 1 too. In config mode no signal ends graced either.
. "$TEST_LIB"

rtmin=$(kill -l RTMIN)
rtmax=$(kill -l RTMAX)

# name N: the name gworker records for signal N.
name() {
	if [ "$1" -ge "$rtmin" ]; then echo "SIGRTMIN+$(($1 - rtmin))"; else echo "SIG$(kill -l "$1")"; fi
}

proc_state() {
	cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null
}

state_is() {
	[ "$(proc_state "$1")" = "$2" ]
}

state_is_not() {
	[ "$(proc_state "$1")" != "$2" ]
}

# every_signal TARGET CHILD_PID: sends each signal to TARGET (graced's pid) and checks its fate.
every_signal() {
	local target=$1 child=$2 s n before
	for s in $(seq 1 31) $(seq "$rtmin" "$rtmax"); do
		case $s in
		9 | 19) continue ;;                   # SIGKILL, SIGSTOP: cannot be caught
		2 | 15 | 17) continue ;;              # SIGINT, SIGTERM: the shutdown; SIGCHLD reaps
		4 | 5 | 7 | 8 | 11 | 31) # synchronous faults sent by kill: dropped, graced alive
			kill -"$s" "$target"
			continue ;;
		esac
		n=$(name "$s")
		before=$(count_events " sig signal ${n/+/\\+}\$")
		kill -"$s" "$target"
		wait_for 5 events_at_least $((before + 1)) " sig signal ${n/+/\\+}\$" || fail "$n was not forwarded"
		case $s in
		20 | 21 | 22) # job control: graced stops itself after forwarding (not as PID 1)
			[ "$target" = "$GPID" ] && { wait_for 5 state_is "$target" T || fail "$n: graced did not stop itself"; }
			kill -CONT "$target"
			wait_for 5 state_is_not "$target" T || fail "$n: graced did not continue"
			;;
		esac
		[ -e "/proc/$target" ] && ! state_is "$target" Z || fail "$n killed graced"
		[ -e "/proc/$child" ] || fail "$n: the command is gone"
	done
	# Faults sent by kill were not forwarded, and the command still has graced as its parent.
	expect_eq "$(count_events ' sig signal SIG(SEGV|BUS|ILL|FPE|TRAP|SYS)$')" 0 "faults sent by kill are not forwarded"
	expect_eq "$(awk '/^PPid/ { print $2 }' "/proc/$child/status")" "$target" "the command's parent is graced"
}

start_graced -- "$GW" --name sig --log "$EV" --exit-on TERM
wait_for 10 events_at_least 1 ' sig start' || fail "command did not start"
child=$(grep ' sig start' "$EV" | sed 's/.*pid=\([0-9]*\).*/\1/')
every_signal "$GPID" "$child"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "graced survived every signal and stopped the command"

# SIGINT reaches the command as SIGINT (the stop step's signal is the one received) ...
rm -f "$EV"
start_graced -- "$GW" --name int --log "$EV"
wait_for 10 events_at_least 1 ' int start' || fail "command did not start"
kill -INT "$GPID"
wait_graced 10
expect_rc 0 "SIGINT: the command exited"
expect_eq "$(count_events ' int signal SIGINT$')" 1 "the command got SIGINT"
expect_eq "$(count_events ' int signal SIGTERM$')" 0 "and no SIGTERM"
# ... unless --stop-signal says otherwise.
rm -f "$EV"
start_graced --stop-signal TERM -- "$GW" --name int2 --log "$EV"
wait_for 10 events_at_least 1 ' int2 start' || fail "command did not start"
kill -INT "$GPID"
wait_graced 10
expect_eq "$(count_events ' int2 signal SIGTERM$')" 1 "--stop-signal TERM: SIGINT becomes SIGTERM"

# As PID 1 of a PID namespace, the same.
if unshare --pid --fork --mount-proc true 2>/dev/null; then
	rm -f "$EV"
	unshare --pid --fork --mount-proc "$GRACED" -- "$GW" --name sig --log "$EV" --exit-on TERM &
	outer=$!
	wait_for 10 events_at_least 1 ' sig start' || fail "command did not start as PID 1"
	pid1=$(ps -o pid= --ppid "$outer" | tr -d ' ')
	child=$(ps -o pid= --ppid "$pid1" | tr -d ' ')
	every_signal "$pid1" "$child"
	kill -TERM "$pid1"
	wait_for 10 sh -c "! kill -0 $outer 2>/dev/null" || fail "graced as PID 1 did not exit"
	wait "$outer"
	rc=$?
	expect_rc 0 "PID 1 survived every signal and stopped the command"
else
	echo "note: unshare --pid is not permitted here, PID 1 part skipped"
fi

# Config mode: signals without a meaning are logged and ignored; graced and its workers live.
rm -f "$EV"
cat >"$T/c.ini" <<INI
[worker:app]
command = $GW --name app --log $EV
INI
start_graced -c "$T/c.ini"
wait_for 10 events_at_least 1 ' app start' || fail "worker did not start"
for s in $(seq 1 31) $(seq "$rtmin" "$rtmax"); do
	case $s in 2 | 9 | 10 | 15 | 17 | 19) continue ;; esac
	kill -"$s" "$GPID"
done
kill -USR1 "$GPID"
# A signal sent last is handled once the ones before it were: SIGUSR1 (the task dump) arrives.
wait_for 10 grep -q 'event=dump' "$T/graced.log" || fail "config mode: graced did not get to SIGUSR1"
state_is_not "$GPID" Z && [ -e "/proc/$GPID" ] || fail "config mode: a signal killed graced"
expect_in "$T/graced.log" 'signal=SIGALRM' "config mode: SIGALRM is logged"
expect_eq "$(state_is "$GPID" T && echo stopped || echo running)" running "config mode: SIGTSTP does not stop graced"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "config mode: clean shutdown after every signal"
expect_eq "$(count_events ' app signal SIGTERM$')" 1 "the worker was stopped by graced, not orphaned"

finish
