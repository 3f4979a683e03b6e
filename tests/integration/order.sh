#!/bin/bash
# The ordered shutdown on SIGTERM: step order in the report, reverse dependency order across
# workers, independent instances signalled together, SIGCONT after the stop signal, exit 0.
. "$TEST_LIB"

cat >"$T/shop.ini" <<INI
[supervisor]
name = shop
report = $T/report.json
[shutdown]
stop_timeout = 5s
[worker:db]
command = $GW --name db --log $EV
ready = delay:300ms
[worker:web]
command = $GW --name web --log $EV --delay 200
instances = 2
after = db
[worker:cache]
command = $GW --name cache --log $EV
INI
start_graced -c "$T/shop.ini"
wait_for 10 events_at_least 4 ' start ' || fail "workers did not start: $(cat "$T/graced.log")"
# web is after= db: it starts once db is ready, 300 ms after db's start.
db_start=$(event_ms ' db start')
web_start=$(event_ms ' web start')
expect_at_least "$((web_start - db_start))" 150 "web starts after db is ready"

kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "clean shutdown exit status"

# Steps in order.
expect_eq "$(json '",".join(s["name"] for s in r["steps"])')" "intake,stop,cancel,join,close" \
    "all five steps, in order"
expect_eq "$(json 'all(a["start_ms"] <= b["start_ms"] for a, b in zip(r["steps"], r["steps"][1:]))')" \
    "True" "steps start in order"
expect_eq "$(json 'all(s["end_ms"] <= r["steps"][-1]["start_ms"] for s in r["steps"][:-1])')" \
    "True" "close starts after every other step ended"
# Nothing to cancel: every worker exited on SIGTERM, so the cancel step took no time (a loaded
# machine may preempt graced between its two clock reads: far less than stop_timeout's 5 s).
expect_eq "$(json '[s["end_ms"] - s["start_ms"] for s in r["steps"] if s["name"] == "cancel"][0] < 2500')" \
    True "nothing to cancel: every worker exited on SIGTERM"
expect_eq "$(json 'r["trigger"]')" "SIGTERM" "trigger"
expect_pending_at_exit 0
expect_eq "$(json '" ".join(w["outcome"] for w in r["workers"])')" "exited exited exited exited" \
    "every worker exited"

# Reverse dependency order: both web instances are gone before db hears SIGTERM.
db_term=$(event_ms ' db signal SIGTERM')
last_web_exit=$(grep -E ' web exit' "$EV" | cut -d' ' -f1 | sort -n | tail -1)
expect_eq "$(count_events ' web exit')" 2 "both web instances exited"
expect_at_least "$((db_term - last_web_exit))" 0 "db is stopped only after web is joined"
# Independent workers are signalled together: the last of web.0, web.1 and cache hears SIGTERM
# before the first web instance is done with its 200 ms exit (JITTER_MS for its delivery).
first_web_exit=$(grep -E ' web exit' "$EV" | cut -d' ' -f1 | sort -n | head -1)
first=$(grep -E ' (web|cache) signal SIGTERM' "$EV" | cut -d' ' -f1 | sort -n | head -1)
last=$(grep -E ' (web|cache) signal SIGTERM' "$EV" | cut -d' ' -f1 | sort -n | tail -1)
expect_eq "$(count_events ' (web|cache) signal SIGTERM')" 3 "web.0, web.1 and cache got SIGTERM"
expect_between "$last" "$first" "$((first_web_exit + JITTER_MS))" "independent workers signalled together"
# web took 200 ms to exit; db waited for that.
expect_at_least "$((db_term - first))" 190 "db waited for web's 200 ms"

# The log has each step and each signal, with fields.
expect_in "$T/graced.log" "step=stop signal=SIGTERM" "signals are logged with their step"
expect_in "$T/graced.log" "step=stop event=step-begin msg=\"Step stop begins\"" "steps are logged"
expect_in "$T/graced.log" "msg=\"Shutdown complete, exit status 0\"" "final line"

finish
