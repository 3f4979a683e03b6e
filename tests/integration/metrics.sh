#!/bin/bash
# GET /metrics (read by python3-prometheus-client's parser), GET /status (python's json) and
# GET /ready of a readiness intake, with real workers: one that crashed twice and then stays up,
# one that hits its start limit and gives up (state failed, /ready 503 "failed: NAME"), and during
# the shutdown, while a worker takes its time to stop, the steps done so far.
. "$TEST_LIB"

PY=/usr/bin/python3
SCRAPE="$PY $SRC/tests/integration/helpers/scrape.py"
if ! $PY -c 'import prometheus_client.parser' 2>/dev/null; then
	fail "python3-prometheus-client is not installed (./dev check installs it)"
	finish
fi

ready=$(free_port)
# Fails twice (exit 3), then runs as a gworker.
cat >"$T/flaky.sh" <<SH
n=\$(cat "$T/flaky.count" 2>/dev/null || echo 0)
echo \$((n + 1)) >"$T/flaky.count"
[ "\$n" -ge 2 ] || exit 3
exec $GW --name flaky --log $EV
SH
cat >"$T/m.ini" <<INI
[supervisor]
report = $T/report.json
[intake:ready]
type = readiness
listen = tcp://127.0.0.1:$ready
[worker:flaky]
command = /bin/sh $T/flaky.sh
restart = on-failure
restart_delay = 50ms
start_limit = 10 in 1m
[worker:doomed]
command = $GW --name doomed --log $EV --exit 1
restart = on-failure
restart_delay = 50ms
start_limit = 3 in 1m
[worker:slow]
command = $GW --name slow --log $EV --delay 1500
instances = 2
stop_timeout = 30s
INI
start_graced -c "$T/m.ini"
answer() { $TCP http "$ready" /ready 2>/dev/null; }
failed_named() { [ "$(answer)" = "503 failed: doomed" ]; }
wait_for 15 failed_named || fail "/ready did not name the failed worker: '$(answer)'"
flaky_up() { events_at_least 1 ' flaky start' && events_at_least 2 ' slow start'; }
wait_for 15 flaky_up || fail "flaky and slow did not start"
# Still 503: a worker that gave up keeps the service unready for good.
expect_eq "$(answer)" "503 failed: doomed" "/ready names the worker that gave up, once all others run"
expect_in "$T/graced.log" "Worker 'doomed' failed: started 3 times" "doomed hit its start limit"

# /status, read by a real JSON parser.
status=$($TCP http "$ready" /status)
expect_eq "${status%% *}" 200 "/status answers 200"
echo "${status#200 }" >"$T/status.json"
st() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); w={i['name']: i for i in s['workers']}; print($1)" "$T/status.json"; }
expect_eq "$(st 's["step"], s["ready"], s["stopping"], list(w)')" \
    "running False False ['flaky', 'doomed', 'slow.0', 'slow.1']" "/status: step, ready, instances"
expect_eq "$(st 'w["flaky"]["state"], w["flaky"]["restarts"], w["flaky"]["last_exit"], w["flaky"]["pid"] > 0, w["flaky"]["running"], w["flaky"]["uptime_ms"] >= 0')" \
    "ready 2 {'status': 3} True True True" "/status: flaky crashed twice, then runs"
expect_eq "$(st 'w["doomed"]["state"], w["doomed"]["restarts"], w["doomed"]["last_exit"], w["doomed"]["pid"], w["doomed"]["running"], "uptime_ms" in w["doomed"]')" \
    "failed 2 {'status': 1} 0 False False" "/status: doomed gave up after three starts"
flaky_pid=$(st 'w["flaky"]["pid"]')
expect_eq "$(grep ' flaky start' "$EV" | sed -n 's/.* start pid=\([0-9]*\).*/\1/p')" "$flaky_pid" \
    "/status: flaky's pid is the process running"
expect_eq "$(st 'w["slow.1"]["worker"], w["slow.1"]["instance"], w["slow.1"]["state"], "last_exit" in w["slow.1"], "step" in w["slow.1"]')" \
    "slow 1 ready False False" "/status: a second instance"

# /metrics, read by the Prometheus text parser.
expect_eq "$($SCRAPE "$ready" 'ct')" "text/plain; version=0.0.4; charset=utf-8" "/metrics content type"
expect_eq "$($SCRAPE "$ready" 'v("graced_instance_restarts_total", worker="flaky", name="flaky"), v("graced_instance_restarts_total", worker="doomed", name="doomed"), v("graced_instance_restarts_total", worker="slow", name="slow.0")')" \
    "2.0 2.0 0.0" "restarts counted"
expect_eq "$($SCRAPE "$ready" 'fams["graced_instance_restarts"], fams["graced_instance_state"][0], fams["graced_output_dropped_bytes"][0]')" \
    "('counter', 'Starts of each worker instance after its first.') gauge counter" "HELP and TYPE"
expect_eq "$($SCRAPE "$ready" 'sorted(l["state"] for l, x in s("graced_instance_state") if l["name"] == "doomed" and x == 1), len(s("graced_instance_state"))')" \
    "['failed'] 32" "the failed worker's state, one series per state (8) and instance (4)"
expect_eq "$($SCRAPE "$ready" '[v("graced_instances", state=x) for x in ("starting", "ready", "stopping", "exited", "failed", "backoff")]')" \
    "[0.0, 3.0, 0.0, 0.0, 1.0, 0.0]" "instances by state"
expect_eq "$($SCRAPE "$ready" 'v("graced_instance_last_exit_status", worker="flaky", name="flaky"), v("graced_instance_last_exit_status", worker="doomed", name="doomed"), v("graced_instance_last_exit_status", worker="slow", name="slow.0")')" \
    "3.0 1.0 None" "last exit status, only for instances that had an exit"
expect_eq "$($SCRAPE "$ready" 'v("graced_instance_uptime_seconds", worker="flaky", name="flaky") >= 0, v("graced_instance_uptime_seconds", worker="doomed", name="doomed"), v("graced_uptime_seconds") > 0')" \
    "True None True" "uptime of running instances and of graced"
expect_eq "$($SCRAPE "$ready" 'v("graced_shutdown_active"), s("graced_shutdown_step_duration_seconds"), v("graced_stragglers"), v("graced_output_dropped_bytes_total", to="stdio"), v("graced_output_dropped_bytes_total", to="logfile")')" \
    "0.0 [] 0.0 0.0 0.0" "before the shutdown: no step, no straggler, nothing dropped"

# The shutdown: slow takes 1.5 s to stop; meanwhile the intake step is done, the stop step not.
kill -TERM "$GPID"
in_stop() { $SCRAPE "$ready" 'v("graced_shutdown_active") == 1 and any(l["step"] == "intake" for l, x in s("graced_shutdown_step_duration_seconds"))' 2>/dev/null | grep -q True; }
wait_for 10 in_stop || fail "/metrics during the shutdown: $($SCRAPE "$ready" text 2>&1)"
expect_eq "$($SCRAPE "$ready" '[l["step"] for l, x in s("graced_shutdown_step_duration_seconds")], v("graced_shutdown_step_duration_seconds", step="intake") >= 0')" \
    "['intake'] True" "during the stop step: only the intake step's duration"
expect_eq "$($SCRAPE "$ready" '[l["state"] for l, x in s("graced_instance_state") if l["name"] == "slow.0" and x == 1]')" \
    "['stopping']" "slow is stopping"
status=$($TCP http "$ready" /status)
echo "${status#200 }" >"$T/status.json"
expect_eq "$(st 's["step"], s["stopping"], s["trigger"], w["slow.0"]["state"], w["slow.0"]["step"]')" \
    "stop True SIGTERM stopping stop" "/status during the stop step"
expect_eq "$(answer)" "503 stopping" "/ready during the shutdown"
wait_graced 30
expect_rc 1 "a worker gave up: exit status 1"
expect_eq "$(json '[(w["name"], w["outcome"]) for w in r["workers"]]')" \
    "[('flaky', 'exited'), ('doomed', 'failed'), ('slow', 'exited'), ('slow', 'exited')]" "the report"

finish
