#!/bin/bash
# The intake step with an owned socket and a readiness endpoint, measured with real clients on
# loopback: after SIGTERM, /ready answers 503 at once; during drain_delay new connections are
# still served (through the socket graced passed); after it they are refused; a slow request
# accepted before the door closed still gets its full reply. Lower bounds and orders (lib.sh): the
# probe's times count from its kill(), the report's from the trigger, which comes later.
. "$TEST_LIB"

http=$(free_port)
slow=$(free_port)
ready=$(free_port)
cat >"$T/web.ini" <<INI
[supervisor]
report = $T/report.json
[shutdown]
drain_delay = 2s
[intake:http]
type = socket
listen = tcp://127.0.0.1:$http
[intake:slow]
type = socket
listen = tcp://127.0.0.1:$slow
[intake:ready]
type = readiness
listen = tcp://127.0.0.1:$ready
[worker:web]
command = $GS --name web --log $EV
sockets = http
[worker:slowweb]
command = $GS --name slowweb --log $EV --slow 1500
sockets = slow
INI
start_graced -c "$T/web.ini"
wait_for 10 events_at_least 2 ' start ' || fail "workers did not start: $(cat "$T/graced.log")"
ready_now() { [ "$($TCP http "$ready" /ready)" = "200 ready" ]; }
wait_for 10 ready_now || fail "/ready did not answer 200 once the workers ran"
expect_eq "$($TCP get "$http")" "served by $(grep ' web start' "$EV" | sed 's/.*pid=\([0-9]*\).*/\1/')" \
    "a client is served by the worker through the passed socket"

# SIGTERM, then: /ready, connections every 5 ms until refused, one slow request at +1s.
line=$($TCP probe "$http" "$GPID" 6 "$ready" "$slow" 1000)
echo "probe: $line"
wait_graced 20
expect_rc 0 "clean shutdown"

intake_end=$(json '[s["end_ms"] for s in r["steps"] if s["name"] == "intake"][0]')
refused=$(value refused "$line")
expect_between "$(value ready503 "$line")" 0 "$(value last_served "$line")" \
    "/ready answers 503 while connections are still served"
expect_between "$(value last_served "$line")" 1000 "$refused" "new connections are served late into drain_delay"
expect_at_least "$(value served "$line")" 5 "connections served during the delay"
expect_at_least "$refused" 2000 "no connection refused before drain_delay"
expect_at_least "$((refused - intake_end))" -5 "no connection refused before the end of the intake step"
# The first refused connection was attempted soon after it (its refusal may come a SYN
# retransmission later: the kernel can drop a SYN that races the listener's shutdown). The one
# upper bound: 1 s, twenty times what an idle machine shows.
refused_sent=$(value refused_sent "$line")
expect_between "$((refused_sent - intake_end))" -1000 1000 "refused soon after the end of drain_delay"
expect_eq "$(value slow_reply "$line")" "served_by_$(grep ' slowweb start' "$EV" | sed 's/.*pid=\([0-9]*\).*/\1/')" \
    "the slow request accepted before the door closed gets its full reply"
expect_at_least "$(value slow_done "$line")" 2000 "... which ends after the door closed"
# The workers saw accept fail when the door closed, and were stopped after that.
shut=$(event_ms ' web accept-failed errno=EINVAL')
expect_at_least "$(( $(event_ms ' web signal SIGTERM') - shut ))" $((-JITTER_MS)) "accept fails in the worker, then the stop step"
expect_at_least "$(( $(event_ms ' slowweb reply') - shut ))" 0 "the slow reply is written after the door closed"
term=$(value term "$line")
echo "first refusal: attempted $((refused_sent - intake_end)) ms, refused $((refused - intake_end)) ms after the intake step's end in the report (an upper bound:" \
    "the report counts from the trigger, the probe from kill()), $((term + refused - shut)) ms after the" \
    "worker's accept() failed"

expect_eq "$(json '[(i["name"], i["type"], i["action"], i["result"]) for i in r["intakes"]]')" \
    "[('http', 'socket', 'shutdown', 'ok'), ('slow', 'socket', 'shutdown', 'ok'), ('ready', 'readiness', '503', 'ok')]" \
    "the report lists each intake with what it did"
expect_pending_at_exit 0
expect_in "$T/graced.log" "msg=\"Intake 'http' (tcp://127.0.0.1:$http) is shut down: new connections are refused\"" \
    "the door closing is logged"
expect_eq "$($TCP get "$ready")" "refused" "the readiness endpoint is closed after the close step"

finish
