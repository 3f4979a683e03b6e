#!/bin/bash
# Watchdogs. graced towards systemd: with WATCHDOG_USEC=200000 it pings WATCHDOG=1 every 100 ms
# from its loop (asserted as a debug line and a count bound, not a window: see 1.); with WATCHDOG_PID naming another process, or without WATCHDOG_USEC, it sends
# none and has no timer (no wakeups at all while idle). graced towards a worker: watchdog = 500ms
# and a worker that stops pinging is killed with its kill_signal and restarted; one that keeps
# pinging stays.
. "$TEST_LIB"

GN=${GRACED_BUILDDIR:-.}/tests/integration/helpers/gnotify
NL=$SRC/tests/integration/helpers/notify_listener.py
N=$T/notify.log
python3 "$NL" "$T/notify.sock" "$N" &
LPID=$!
wait_for 10 grep -qs listening "$N" || fail "the notify listener did not start"

# Its own control socket: the default one (/run/graced/graced.sock as root) is shared with every
# other graced named graced on the machine, and their clients' connections wake this one up.
cat >"$T/idle.ini" <<INI
[supervisor]
control_socket = $T/control.sock
[worker:idle]
command = $GW --name idle --log $EV
INI

# 1. Ping rate. Under load a ping can come late (and so can the listener's reading of it), so no
# window on the gaps: graced pings at half of WATCHDOG_USEC (its debug line says so), never more
# often than that over its whole life (each ping is scheduled 100 ms after the previous one's
# slot), and keeps pinging (pings long after READY=1, not a few at the start).
t_start=$(date +%s%3N)
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=200000 start_graced -v -c "$T/idle.ini"
wait_for 10 grep -qs 'READY=1' "$N" || fail "no READY=1"
sleep 2.5
kill -TERM "$GPID"
wait_graced 20
t_end=$(date +%s%3N)
expect_rc 0 "clean shutdown"
expect_in "$T/graced.log" "Pinging the systemd watchdog every 100 ms" "pings at half of WATCHDOG_USEC"
python3 - "$N" >"$T/rate" <<'PY'
import sys
lines = [l.split(None, 1) for l in open(sys.argv[1])]
ready = [int(t) for t, m in lines if m.startswith("READY=1")][0]
t = [int(t) for t, m in lines if m.strip() == "WATCHDOG=1"]
gaps = [b - a for a, b in zip(t, t[1:])]
print(len(t), max(t, default=ready) - ready, sum(gaps) // max(len(gaps), 1), max(gaps, default=0))
PY
read -r pings last_after_ready mean_gap max_gap <"$T/rate"
lifetime=$((t_end - t_start))
echo "watchdog: $pings pings in graced's $lifetime ms, the last $last_after_ready ms after READY=1," \
    "mean interval $mean_gap ms, max $max_gap ms"
expect_between "$pings" 5 $((lifetime / 100 + 2)) "never more often than every 100 ms, and not only a few"
expect_between "$last_after_ready" 1000 999999 "pings go on after READY=1 (the loop does not stall for good)"
expect_not_in "$N" "WATCHDOG=trigger" "never WATCHDOG=trigger"

# 2. WATCHDOG_PID of another process: not ours, no pings. 3. No WATCHDOG_USEC: no timer, and
# an idle graced does not wake up at all.
: >"$N"
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=200000 WATCHDOG_PID=1 start_graced -c "$T/idle.ini"
wait_for 10 grep -qs 'READY=1' "$N" || fail "no READY=1 with WATCHDOG_PID=1"
sleep 0.5
kill -TERM "$GPID"
wait_graced 20
expect_eq "$(grep -c 'WATCHDOG=1' "$N")" 0 "no pings for another WATCHDOG_PID"

NOTIFY_SOCKET=$T/notify.sock start_graced -c "$T/idle.ini"
wait_for 10 grep -q 'Every worker is ready' "$T/graced.log" || fail "not ready"
sleep 0.3
before=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$GPID/status")
sleep 1.5
after=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$GPID/status")
expect_eq "$((after - before))" 0 "no wakeups while idle without a watchdog"
kill -TERM "$GPID"
wait_graced 20
kill "$LPID" 2>/dev/null
wait "$LPID" 2>/dev/null

# 4. A worker watchdog: hung pings 5 times (every 100 ms) then stops; steady pings forever (every
# 100 ms, with a 1 s watchdog: room for a loaded test machine). The
# watchdog runs from READY=1 on (as systemd's), so a slow exec does not count.
rm -f "$EV"
cat >"$T/wd.ini" <<INI
[supervisor]
report = $T/report.json
[worker:hung]
command = $GN --name hung --log $EV send READY=1 ping 100 5 wait
ready = notify
watchdog = 500ms
restart = on-failure
restart_delay = 100ms
kill_signal = SIGKILL
[worker:steady]
command = $GN --name steady --log $EV send READY=1 ping 100 0
ready = notify
watchdog = 1s
INI
start_graced -c "$T/wd.ini"
wait_for 10 events_at_least 2 ' hung start' || fail "hung was not restarted: $(cat "$T/graced.log")"
expect_in "$T/graced.log" "Worker 'hung' (pid" "the missed watchdog is logged"
expect_in "$T/graced.log" "sent no WATCHDOG=1 within 500ms, killing it with SIGKILL" \
    "the missed watchdog names the interval and the signal"
last_ping=$(grep -E ' hung ping' "$EV" | head -5 | tail -1 | cut -d' ' -f1)
restart=$(grep -E ' hung start' "$EV" | sed -n 2p | cut -d' ' -f1)
# Killed no sooner than 500 ms after the last ping, restarted 100 ms later (no upper bound: the
# restart itself is awaited above, and a loaded machine may make either late).
expect_between "$((restart - last_ping))" 550 999999 "killed at the watchdog interval, not before, then restarted"
expect_eq "$(count_events ' steady start')" 1 "a worker that keeps pinging stays"
kill -TERM "$GPID"
wait_graced 20
expect_eq "$(json '[w["outcome"] for w in r["workers"] if w["name"] == "steady"][0]')" "exited" \
    "steady exited at the shutdown"
if [ "$failures" -gt 0 ]; then
	sed 's/^/  graced.log: /' "$T/graced.log" | grep -v "ASan doesn't" | tail -60 >&2
fi
finish
