#!/bin/bash
# Reload, the edges: a reload that cannot open what it adds (an intake's address in use, an
# unknown control_group) is refused with FILE:LINE and changes nothing, not even the intakes it
# had opened already; one reload at a time (a second one and a SIGHUP while the first applies
# are refused and say so); what applies at run time does ([supervisor] log_level, [shutdown]
# for the next shutdown); a worker stopped with gracectl stop stays stopped across a reload; a
# shutdown that comes while a reload applies takes over cleanly (nothing pending, nothing left
# running); single-command mode has no file to reload; [shutdown] applies to the next shutdown.
. "$TEST_LIB"

: "${GRACECTL:=$GRACED_BUILDDIR/src/gracectl}"
S=$T/ctl.sock
CTL="$GRACECTL -s $S"
C=$T/e.ini

write_config() {
	cat >"$1.tmp" && mv "$1.tmp" "$1"
}

state_of() {
	$CTL --json status "$1" 2>/dev/null | python3 -c '
import json, sys
print(json.loads(sys.stdin.readline())["instances"][0]["state"])'
}

busy=$(free_port)
spare=$(free_port)
while [ "$spare" = "$busy" ]; do spare=$(free_port); done

base() {
	cat <<INI
[supervisor]
name = edgetest
control_socket = $S
report = $T/report.json
[shutdown]
stop_timeout = 5s
[worker:a]
command = $GW --name a --log $EV
[worker:b]
command = $GW --name b --log $EV
[worker:slow]
command = $GW --name slow --log $EV --delay 1500
INI
}
base | write_config "$C"
start_graced -c "$C"
wait_for 10 events_at_least 3 ' start ' || fail "workers did not start: $(cat "$T/graced.log")"
wait_for 10 test -S "$S" || fail "no control socket"
wait_for 10 grep -q 'Every worker is ready' "$T/graced.log" || fail "not ready"
before=$(status_pids)

# 1. An added intake whose address is taken, next to an added intake that opens fine and an
# added worker: refused (2), FILE:LINE of the busy one's listen, nothing opened or started.
python3 -c '
import socket, sys, time, os
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2], "w").close()
while os.path.exists(sys.argv[2]): time.sleep(0.05)' "$busy" "$T/holding" &
HOLDER=$!
wait_for 10 test -e "$T/holding" || fail "the port holder did not start"
{ base; cat <<INI
[intake:fine]
type = socket
listen = tcp://127.0.0.1:$spare
[intake:taken]
type = socket
listen = tcp://127.0.0.1:$busy
[worker:new]
command = $GW --name new --log $EV
INI
} | write_config "$C"
busy_line=$(grep -nxF "listen = tcp://127.0.0.1:$busy" "$C" | cut -d: -f1)
run $CTL reload
expect_rc 2 "a reload with an intake whose address is in use"
expect_in "$T/err" "$C:$busy_line: intake 'taken': cannot open" "the reply names the busy intake's FILE:LINE"
expect_in "$T/graced.log" "$C:$busy_line: intake 'taken'" "the log names it too"
expect_eq "$(status_pids)" "$before" "nothing restarted or added"
expect_eq "$(count_events ' new start')" 0 "the added worker did not start"
expect_eq "$(listen_inode "$spare")" "" "the intake that did open was closed again"
rm -f "$T/holding"
wait "$HOLDER"

# 2. An unknown control_group: refused with its FILE:LINE.
base | sed 's/^report = .*/&\ncontrol_group = no-such-group-here/' | write_config "$C"
group_line=$(grep -nxF "control_group = no-such-group-here" "$C" | cut -d: -f1)
run $CTL reload
expect_rc 2 "a reload naming an unknown control_group"
expect_in "$T/err" "$C:$group_line: control_group 'no-such-group-here': no such group" \
	"the reply names control_group's FILE:LINE"
expect_eq "$(status_pids)" "$before" "nothing changed"
run $CTL status a
expect_rc 0 "the control socket still answers as before"

# 3. What applies at run time: log_level = debug logs the control socket's requests from now on;
# a [shutdown] default applies to the next shutdown (the plan's budget in the report).
base | sed -e 's/^report = .*/&\nlog_level = debug/' -e 's/^stop_timeout = 5s$/stop_timeout = 7s/' |
	write_config "$C"
run $CTL reload
expect_rc 0 "a reload of live settings"
expect_in "$T/out" "log_level" "the reply lists log_level"
expect_in "$T/out" "stop_timeout" "the reply lists [shutdown] stop_timeout"
expect_eq "$(status_pids)" "$before" "live settings restart nothing"
run $CTL status a
wait_for 5 grep -q 'Control socket: status from uid' "$T/graced.log" ||
	fail "log_level = debug did not apply: no debug line for a request after the reload"

# 4. gracectl stop, then a reload: the stopped worker stays stopped (the same file keeps it).
run $CTL stop b
expect_rc 0 "gracectl stop b"
run $CTL reload
expect_rc 0 "a reload with b stopped"
expect_eq "$(state_of b)" "stopped" "b stays stopped across a reload"

# 5. One reload at a time: slow is removed (1.5 s to exit on SIGTERM); meanwhile a second
# gracectl reload is refused (1) and a SIGHUP is logged as not done.
base | sed '/^\[worker:slow\]$/,$d' | write_config "$C"
$CTL reload >"$T/first.out" 2>"$T/first.err" &
FIRST=$!
wait_for 10 events_at_least 1 ' slow signal SIGTERM' || fail "slow got no stop signal"
run $CTL reload
expect_rc 1 "a second reload while one applies"
expect_in "$T/err" "a reload is being applied" "the refusal says why"
kill -HUP "$GPID"
wait_for 5 grep -q 'Received SIGHUP while a reload is applied' "$T/graced.log" ||
	fail "SIGHUP during a reload: not logged as refused"
wait "$FIRST"
rc=$?
expect_rc 0 "the first reload ends once slow has stopped"
expect_in "$T/first.out" "slow" "its reply names slow"
expect_eq "$(count_events ' slow exit 0')" 1 "slow went through its stop and exited 0"

# 6. A shutdown while a reload applies: slow comes back, then is removed again and graced gets
# SIGTERM during its 1.5 s stop. graced ends cleanly: slow exited, no task left.
base | write_config "$C"
run $CTL reload
expect_rc 0 "slow added back"
wait_for 10 events_at_least 2 ' slow start' || fail "slow did not start again"
base | sed '/^\[worker:slow\]$/,$d' | write_config "$C"
$CTL reload >"$T/third.out" 2>"$T/third.err" &
THIRD=$!
wait_for 10 events_at_least 2 ' slow signal SIGTERM' || fail "slow got no stop signal"
kill -TERM "$GPID"
wait_graced 30
expect_rc 0 "a clean shutdown during a reload"
wait "$THIRD"
rc=$?
expect_rc 1 "the reload interrupted by the shutdown fails"
expect_in "$T/third.err" "the shutdown began" "and says why"
expect_eq "$(count_events ' slow exit 0')" 2 "slow exited 0 on its stop signal"
expect_eq "$(count_events ' (a|slow) exit ')" 3 "every process ended (a by the shutdown)"
expect_pending_at_exit 0

# 7. Single-command mode has no file to reload (1); SIGHUP goes to the command, as before.
start_graced --control-socket "$S" -- "$GW" --name cmd --log "$EV" --ignore HUP
wait_for 10 events_at_least 1 ' cmd start' || fail "the command did not start"
wait_for 10 test -S "$S" || fail "no control socket in single-command mode"
run $CTL reload
expect_rc 1 "reload in single-command mode"
expect_in "$T/err" "single-command mode" "the refusal says why"
kill -HUP "$GPID"
wait_for 5 events_at_least 1 ' cmd signal SIGHUP' || fail "SIGHUP was not forwarded to the command"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "single-command mode ends cleanly"

# 8. [shutdown] applies to the next shutdown: stubborn ignores SIGTERM; started with a 60 s
# stop_timeout, reloaded to 1 s, the shutdown kills it after about 1 s, and the report's budget
# is the new plan's.
rm -f "$T/report.json"
stubborn() {
	cat <<INI
[supervisor]
name = edgetest
control_socket = $S
report = $T/report.json
[shutdown]
stop_timeout = $1
join_timeout = 1s
kill_timeout = 1s
[worker:stubborn]
command = $GW --name stubborn --log $EV --ignore TERM,INT
INI
}
stubborn 60s | write_config "$C"
start_graced -c "$C"
wait_for 10 events_at_least 1 ' stubborn start' || fail "stubborn did not start"
wait_for 10 test -S "$S" || fail "no control socket"
stubborn 1s | write_config "$C"
run $CTL reload
expect_rc 0 "stop_timeout 60s -> 1s"
kill -TERM "$GPID"
wait_graced 20
expect_rc 1 "stubborn was killed: forced"
expect_eq "$(json 'r["workers"][0]["outcome"]')" "killed" "stubborn's outcome"
signalled=$(json 'r["workers"][0]["signal_ms"]')
exited=$(json 'r["workers"][0]["exit_ms"]')
expect_between "$((exited - signalled))" 900 6000 "killed after the new stop_timeout (1 s), not the old (60 s)"
run "$GRACED" -c "$C" --plan
worst=$(sed -n 's/^Worst case: .* = \([0-9.]*\)s$/\1/p' "$T/out")
expect_eq "$(json 'r["budget_ms"] // 1000')" "${worst%.*}" "the report's budget is the new plan's worst case"
finish
