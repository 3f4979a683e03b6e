#!/bin/bash
# Reload, by `gracectl reload` and by SIGHUP. A valid new file is applied as a difference: an
# unchanged worker keeps its pid, a worker whose process would start differently gets a new pid
# (rolling: the replacement runs before the old one hears its stop signal), a worker changed only
# in keys graced alone reads keeps its pid, a removed worker goes through its stop and is gone,
# added workers start in dependency order. An unchanged listening socket stays open (the same
# socket, never refusing), an added intake opens, a removed one closes once its worker has
# stopped. systemd's NOTIFY_SOCKET gets RELOADING=1 with MONOTONIC_USEC= and then READY=1. An
# invalid file (a bad key, an unknown after=, a [supervisor] name, which cannot change at run
# time) changes nothing, and the reply and the log name FILE:LINE. A reload during a shutdown is
# refused with a clear reply.
#
# Workers: keep (unchanged, serves intake keep), swap (its command changes), tune (only
# stop_timeout changes), legacy (removed, with its intake gone), db and api (added; api after= db).
. "$TEST_LIB"

: "${GRACECTL:=$GRACED_BUILDDIR/src/gracectl}"
S=$T/ctl.sock
CTL="$GRACECTL -s $S"
C=$T/r.ini
NL=$SRC/tests/integration/helpers/notify_listener.py
N=$T/notify.log
# A notify_listener.py line with READY=1 among its fields (not RELOADING=1, not WATCHDOG=1).
READY_RE='^[0-9]+ (.*\|)?READY=1(\||$)'

keep_port=$(free_port)
gone_port=$(free_port)
new_port=$(free_port)
while [ "$gone_port" = "$keep_port" ]; do gone_port=$(free_port); done
while [ "$new_port" = "$keep_port" ] || [ "$new_port" = "$gone_port" ]; do new_port=$(free_port); done

# write_config FILE: stdin replaces FILE at once (a reload never reads a half-written file).
write_config() {
	cat >"$1.tmp" && mv "$1.tmp" "$1"
}

# line_of TEXT: the number of the first line of $C that is exactly TEXT.
line_of() {
	grep -nxF -- "$1" "$C" | head -1 | cut -d: -f1
}

# expect_event PATTERN WHAT: some event line matches the extended regex.
expect_event() {
	if [ "$(count_events "$1")" -ge 1 ]; then pass; else fail "$2: no event '$1'"; fi
}

# get PORT: the line a gserver behind PORT answers, "refused", or "no answer".
get() {
	$TCP get "$1" 2>/dev/null || echo "no answer"
}

# graced_holds INODE: graced itself has the socket open.
graced_holds() {
	ls -l "/proc/$GPID/fd" 2>/dev/null | grep -qF "socket:[$1]"
}

# The watcher that runs across a reload: connects to the kept intake every 10 ms (its gserver
# answers "served by PID") and notes when graced stops holding the removed intake's socket.
#   watch.py PORT GPID INODE STARTED STOP
# Creates STARTED after its first round; ends when STOP exists and prints
#   served=N failed=N closed_ms=MS|none [failure@ms ...]
cat >"$T/watch.py" <<'PY'
import os, socket, sys, time
port, gpid, inode, started, stop = sys.argv[1:6]
served = failed = 0
reasons = []
closed = None
def ms():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000000
def holds():
    try:
        fds = os.listdir("/proc/%s/fd" % gpid)
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink("/proc/%s/fd/%s" % (gpid, fd)) == "socket:[%s]" % inode:
                return True
        except OSError:
            pass
    return False
while not os.path.exists(stop):
    try:
        with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as s:
            data = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                data += b
        if data.startswith(b"served by"):
            served += 1
        else:
            failed += 1
            reasons.append("empty@%d" % ms())
    except OSError as e:
        failed += 1
        reasons.append("%s@%d" % (type(e).__name__, ms()))
    if closed is None and not holds():
        closed = ms()
    if not os.path.exists(started):
        open(started, "w").close()
    time.sleep(0.01)
print("served=%d failed=%d closed_ms=%s %s" % (served, failed, closed or "none",
      " ".join(reasons[:10])))
PY

# Configuration A.
write_config "$C" <<INI
[supervisor]
name = reloadtest
control_socket = $S
report = $T/report.json
[shutdown]
stop_timeout = 5s
[intake:keep]
type = socket
listen = tcp://127.0.0.1:$keep_port
backlog = 64
[intake:gone]
type = socket
listen = tcp://127.0.0.1:$gone_port
[worker:keep]
command = $GS --name keep --log $EV
sockets = keep
[worker:swap]
command = $GW --name swap --log $EV
[worker:tune]
command = $GW --name tune --log $EV --delay 3000
stop_timeout = 5s
[worker:legacy]
command = $GW --name legacy --log $EV --delay 1000
sockets = gone
INI
run "$GRACED" -c "$C" --check
expect_rc 0 "--check of configuration A"

python3 "$NL" "$T/notify.sock" "$N" &
LPID=$!
wait_for 10 grep -qs listening "$N" || fail "the notify listener did not start"
NOTIFY_SOCKET=$T/notify.sock start_graced -c "$C"
wait_for 10 events_at_least 4 ' start ' || fail "workers did not start: $(cat "$T/graced.log")"
wait_for 10 grep -qsE "$READY_RE" "$N" || fail "no READY=1 at start"
wait_for 10 test -S "$S" || fail "no control socket"
before=$(status_pids)
for w in keep swap tune legacy; do
	[ -n "$(pid_in "$w" "$before")" ] && pass || fail "status has no pid for $w: $before"
done
keep_inode=$(listen_inode "$keep_port")
gone_inode=$(listen_inode "$gone_port")
[ -n "$keep_inode" ] && graced_holds "$keep_inode" && pass ||
	fail "graced does not hold the socket of intake keep (inode '$keep_inode')"
[ -n "$gone_inode" ] && graced_holds "$gone_inode" && pass ||
	fail "graced does not hold the socket of intake gone (inode '$gone_inode')"
expect_eq "$(get "$keep_port")" "served by $(pid_in keep "$before")" "intake keep serves before the reload"

# 1. A reload of the very same file: nothing changes, every pid stays.
run $CTL reload
expect_rc 0 "gracectl reload of an unchanged file"
expect_eq "$(status_pids)" "$before" "a reload without changes keeps every pid"

# 2. gracectl reload of configuration B. keep: unchanged, its intake only gets another backlog
# (the same socket); swap: another command (a new process); tune: only stop_timeout (a key graced
# alone reads: the same process); legacy: removed, and its intake gone with it; api and db added,
# api after= db and listed before it (file order is not start order); intake new added, db's.
write_config "$C" <<INI
[supervisor]
name = reloadtest
control_socket = $S
report = $T/report.json
[shutdown]
stop_timeout = 5s
[intake:keep]
type = socket
listen = tcp://127.0.0.1:$keep_port
backlog = 128
[intake:new]
type = socket
listen = tcp://127.0.0.1:$new_port
[worker:keep]
command = $GS --name keep --log $EV
sockets = keep
[worker:swap]
command = $GW --name swap-v2 --log $EV
ready = delay:200ms
[worker:tune]
command = $GW --name tune --log $EV --delay 3000
stop_timeout = 6s
[worker:api]
command = $GW --name api --log $EV
after = db, keep
[worker:db]
command = $GS --name db --log $EV
sockets = new
ready = delay:500ms
INI
# (--check warns that the kept address is in use: by this very graced.)
run "$GRACED" -c "$C" --check
expect_rc 0 "--check of configuration B"
n_notify=$(wc -l <"$N")
python3 "$T/watch.py" "$keep_port" "$GPID" "$gone_inode" "$T/watch.started" "$T/watch.stop" \
	>"$T/watch.out" 2>&1 &
WATCH=$!
wait_for 10 test -e "$T/watch.started" || fail "the watcher did not start"
run $CTL reload
expect_rc 0 "gracectl reload of a valid configuration"
cp "$T/out" "$T/reload1.out"
for w in db api legacy swap; do
	expect_in "$T/reload1.out" "$w" "the reload's reply names what it did to $w"
done
applied() {
	events_at_least 1 ' api start ' && events_at_least 1 ' legacy exit ' &&
		events_at_least 1 ' swap-v2 start '
}
if wait_for 15 applied; then
	# The removed intake closes once legacy has exited: give graced the moment to get there.
	wait_for 10 eval '! graced_holds "$gone_inode"' || fail "graced still holds the removed intake's socket"
else
	fail "configuration B not applied within 15 s (api started, legacy exited, swap replaced)"
fi
touch "$T/watch.stop"
wait "$WATCH"
after=$(status_pids)
echo "reload.sh: pids before: $before; after: $after"

expect_eq "$(pid_in keep "$after")" "$(pid_in keep "$before")" "unchanged worker keep keeps its pid"
expect_eq "$(pid_in tune "$after")" "$(pid_in tune "$before")" \
	"worker tune (only stop_timeout changed, a key graced alone reads) keeps its pid"
expect_eq "$(count_events ' (keep|tune) signal')" 0 "keep and tune got no signal"
new_swap=$(pid_in swap "$after")
[ -n "$new_swap" ] && [ "$new_swap" != "$(pid_in swap "$before")" ] && pass ||
	fail "changed worker swap has a new pid (before $(pid_in swap "$before"), after '$new_swap')"
expect_eq "$(grep ' swap-v2 start ' "$EV" | sed 's/.*pid=\([0-9]*\).*/\1/')" "$new_swap" \
	"the new pid of swap runs the new command"
expect_eq "$(pids_alive "$(pid_in swap "$before")")" 0 "the old process of swap is gone"
expect_event ' swap signal SIGTERM' "the old process of swap got its stop signal"
# Rolling: the replacement started before the old one heard its stop signal (its ready =
# delay:200ms: with ready = none it counts as ready once spawned, which may come before its own
# first event line).
v2_start=$(event_ms ' swap-v2 start ')
old_term=$(event_ms ' swap signal SIGTERM')
if [ -n "$v2_start" ] && [ -n "$old_term" ]; then
	expect_at_least "$((old_term - v2_start))" 0 \
		"swap is restarted rolling: its replacement runs before the old one is stopped"
fi
# legacy: through its stop, then gone.
expect_event ' legacy signal SIGTERM' "removed worker legacy got its stop signal"
expect_event ' legacy exit 0' "removed worker legacy exited on it"
expect_eq "$(pids_alive "$(pid_in legacy "$before")")" 0 "the process of legacy is gone"
expect_eq "$(pid_in legacy "$after")" "" "gracectl status no longer lists legacy"
# Added: db, then api (after= db, whose ready = delay:500ms).
for w in db api; do
	[ -n "$(pid_in "$w" "$after")" ] && [ "$(pids_alive "$(pid_in "$w" "$after")")" = 1 ] && pass ||
		fail "added worker $w runs and is listed: $after"
done
db_start=$(event_ms ' db start ')
api_start=$(event_ms ' api start ')
if [ -n "$db_start" ] && [ -n "$api_start" ]; then
	expect_at_least "$((api_start - db_start))" 350 \
		"added worker api starts only once db is ready (500 ms after its start)"
fi
# Intakes: keep is the same socket and never refused during the reload; new is open and served;
# gone is closed, and only after its worker legacy had stopped.
watch=$(cat "$T/watch.out")
echo "reload.sh: watcher across the reload: $watch"
expect_eq "$(listen_inode "$keep_port")" "$keep_inode" "intake keep is the same listening socket after the reload"
graced_holds "$keep_inode" && pass || fail "graced no longer holds intake keep's socket"
expect_eq "$(value failed "$watch")" 0 "intake keep answered every connection during the reload"
expect_eq "$(get "$keep_port")" "served by $(pid_in keep "$before")" "intake keep serves after the reload"
expect_eq "$(get "$new_port")" "served by $(pid_in db "$after")" "added intake new is open and served by db"
expect_eq "$(get "$gone_port")" "refused" "removed intake gone is closed"
closed=$(value closed_ms "$watch")
legacy_exit=$(event_ms ' legacy exit ')
if [ "$closed" != none ] && [ -n "$legacy_exit" ]; then
	# closed is when the watcher (every 10 ms or so) first saw it gone: a close at the worker's
	# stop signal, 1 s before its exit, would show far earlier than JITTER_MS before the exit.
	expect_at_least "$((closed - legacy_exit + JITTER_MS))" 0 \
		"intake gone closes only after its worker legacy stopped (closed at $closed, exit at $legacy_exit)"
else
	fail "intake gone: graced still held it (closed_ms=$closed), legacy's exit at '$legacy_exit'"
fi
# systemd: RELOADING=1 with MONOTONIC_USEC=, then READY=1.
tail -n +"$((n_notify + 1))" "$N" >"$T/notify1"
reloading=$(grep -n 'RELOADING=1' "$T/notify1" | head -1)
if [ -n "$reloading" ]; then
	pass
	usec=$(echo "$reloading" | grep -oE 'MONOTONIC_USEC=[0-9]+' | cut -d= -f2)
	at=$(echo "$reloading" | cut -d: -f2 | cut -d' ' -f1)
	if [ -n "$usec" ]; then
		expect_between "$((usec / 1000))" "$((at - 5000))" "$at" \
			"RELOADING=1 carries MONOTONIC_USEC= of the moment it was sent"
	else
		fail "RELOADING=1 without MONOTONIC_USEC=: $reloading"
	fi
	ready_line=$(grep -nE "$READY_RE" "$T/notify1" | head -1 | cut -d: -f1)
	expect_between "${ready_line:-0}" "$((${reloading%%:*} + 1))" 999999 "READY=1 follows RELOADING=1"
else
	fail "no RELOADING=1 on NOTIFY_SOCKET during the reload: $(tr '\n' ' ' <"$T/notify1")"
fi

# 3. Invalid reloads change nothing. A bad key and an unknown after=: both named as FILE:LINE.
cp "$C" "$T/good.ini"
before=$(status_pids)
n_start=$(count_events ' start ')
n_signal=$(count_events ' signal ')
sed -e 's/^backlog = 128$/backlog = 128\nbogus_key = 1/' -e 's/^after = db, keep$/after = db, nosuch/' \
	"$T/good.ini" >"$T/bad.ini"
write_config "$C" <"$T/bad.ini"
bad_key=$(line_of "bogus_key = 1")
bad_after=$(line_of "after = db, nosuch")
run $CTL reload
expect_rc 2 "gracectl reload of an invalid configuration"
cat "$T/out" "$T/err" >"$T/reply"
expect_not_in "$T/reply" "unknown command" "reload is a command gracectl and graced know"
expect_in "$T/reply" "$C:$bad_key:" "the reply names the bad key's FILE:LINE"
expect_in "$T/reply" "$C:$bad_after:" "the reply names the unknown after='s FILE:LINE"
for l in "$bad_key" "$bad_after"; do
	if grep -qF "$C:$l:" "$T/graced.log"; then pass; else fail "the log does not name $C:$l:"; fi
done
expect_eq "$(status_pids)" "$before" "an invalid reload keeps every pid"
# A [supervisor] name change: a valid file that cannot apply at run time.
sed 's/^name = reloadtest$/name = renamed/' "$T/good.ini" | write_config "$C"
name_line=$(line_of "name = renamed")
run $CTL reload
expect_rc 2 "gracectl reload that changes [supervisor] name"
cat "$T/out" "$T/err" >"$T/reply"
expect_in "$T/reply" "$C:$name_line:" "the reply names the name change's FILE:LINE"
expect_in "$T/reply" "name" "the reply names the key that cannot change"
if grep -qF "$C:$name_line:" "$T/graced.log"; then pass; else fail "the log does not name $C:$name_line:"; fi
expect_eq "$(status_pids)" "$before" "a rejected name change keeps every pid"
# The same by SIGHUP: the log names FILE:LINE, nothing changes.
write_config "$C" <"$T/bad.ini"
n_named=$(grep -cF "$C:$bad_after:" "$T/graced.log")
kill -HUP "$GPID"
wait_for 10 eval '[ "$(grep -cF "$C:$bad_after:" "$T/graced.log")" -gt "$n_named" ]' ||
	fail "SIGHUP with an invalid file: the log does not name $C:$bad_after: within 10 s"
expect_eq "$(status_pids)" "$before" "SIGHUP with an invalid file keeps every pid"
expect_eq "$(count_events ' start ')" "$n_start" "no worker started by a rejected reload"
expect_eq "$(count_events ' signal ')" "$n_signal" "no worker signalled by a rejected reload"
expect_eq "$(pids_alive "$GPID")" 1 "graced still runs"

# 4. SIGHUP with configuration C: B without api.
sed '/^\[worker:api\]$/,/^after = db, keep$/d' "$T/good.ini" | write_config "$C"
grep -q 'worker:api' "$C" && fail "configuration C still has api"
n_notify=$(wc -l <"$N")
kill -HUP "$GPID"
wait_for 15 events_at_least 1 ' api exit ' || fail "SIGHUP: removed worker api did not exit within 15 s"
expect_event ' api signal SIGTERM' "SIGHUP: removed worker api got its stop signal"
after=$(status_pids)
for w in keep swap tune db; do
	expect_eq "$(pid_in "$w" "$after")" "$(pid_in "$w" "$before")" "SIGHUP: $w keeps its pid"
done
expect_eq "$(pid_in api "$after")" "" "SIGHUP: api is no longer listed"
notify2() {
	tail -n +"$((n_notify + 1))" "$N" >"$T/notify2"
	grep -qE "$READY_RE" "$T/notify2"
}
wait_for 10 notify2 || fail "SIGHUP: no READY=1 after the reload"
expect_in "$T/notify2" "RELOADING=1" "SIGHUP: RELOADING=1 on NOTIFY_SOCKET"
expect_in "$T/notify2" "MONOTONIC_USEC=" "SIGHUP: RELOADING=1 with MONOTONIC_USEC="

# 5. A reload during a shutdown is refused. tune takes 3 s to exit on SIGTERM; meanwhile a file
# that adds a worker is offered by gracectl reload and by SIGHUP: neither starts it.
{ cat "$T/good.ini"; printf '[worker:late]\ncommand = %s --name late --log %s\n' "$GW" "$EV"; } |
	write_config "$C"
run $CTL shutdown
expect_rc 0 "gracectl shutdown"
wait_for 10 events_at_least 1 ' tune signal SIGTERM' || fail "tune got no SIGTERM"
run $CTL reload
expect_rc 1 "gracectl reload during a shutdown"
cat "$T/out" "$T/err" >"$T/reply"
if grep -qiE 'shut ?down|stopping' "$T/reply" && ! grep -q "unknown command" "$T/reply"; then pass; else
	fail "the refusal says a shutdown is under way: $(tr '\n' ' ' <"$T/reply")"
fi
kill -HUP "$GPID"
wait_graced 30
expect_rc 0 "clean shutdown after the refused reloads"
expect_eq "$(count_events ' late start')" 0 "no reload during the shutdown started a worker"
expect_pending_at_exit 0
kill "$LPID" 2>/dev/null
wait "$LPID" 2>/dev/null

finish
