#!/bin/bash
# The intake step: intake_signal and [intake:*] type = signal reach their workers before the stop
# step, and drain_delay passes before the stop signal.
. "$TEST_LIB"

cat >"$T/i.ini" <<INI
[supervisor]
report = $T/report.json
[shutdown]
drain_delay = 500ms
[intake:quiet]
type = signal
signal = SIGTSTP
workers = jobs
[intake:everyone]
type = signal
signal = SIGUSR2
[worker:jobs]
command = $GW --name jobs --log $EV
intake_signal = SIGUSR1
[worker:web]
command = $GW --name web --log $EV
[worker:api]
command = $GW --name api --log $EV
instances = 2
INI
start_graced -c "$T/i.ini"
wait_for 10 events_at_least 4 ' start ' || fail "workers did not start"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "clean shutdown"
usr1=$(event_ms ' jobs signal SIGUSR1')
tstp=$(event_ms ' jobs signal SIGTSTP')
term=$(event_ms ' jobs signal SIGTERM')
# Orders and lower bounds (lib.sh): both intake signals in the intake step, the stop signal not
# before drain_delay.
expect_between "$((tstp - usr1))" $((-JITTER_MS)) 499 "intake signals together, before the drain delay ends"
expect_at_least "$((term - usr1))" $((500 - JITTER_MS)) "drain_delay between the intake and the stop signal"
expect_eq "$(count_events ' web signal SIGUSR1')" 0 "only the worker with an intake signal hears it"
expect_eq "$(json '[s["end_ms"] - s["start_ms"] for s in r["steps"] if s["name"] == "intake"][0] >= 500')" \
    True "the intake step lasts the drain delay"

# A signal intake without workers= reaches every worker, each instance once, in the intake step.
expect_eq "$(count_events ' (jobs|web|api) signal SIGUSR2')" 4 "the intake without workers= signals every instance"
for w in jobs web api; do
	expect_at_least "$(count_events " $w signal SIGUSR2")" 1 "$w got the signal of the intake without workers="
done
expect_eq "$(count_events ' (web|api) signal SIGTSTP')" 0 "workers= limits the other intake to jobs"
expect_at_least "$(( $(event_ms ' web signal SIGTERM') - $(event_ms ' web signal SIGUSR2') ))" \
    $((500 - JITTER_MS)) "the intake signal comes before drain_delay and the stop signal"

expect_eq "$(json '[(i["name"], i["type"], i["action"], i["result"]) for i in r["intakes"]]')" \
    "[('quiet', 'signal', 'SIGTSTP', 'ok'), ('everyone', 'signal', 'SIGUSR2', 'ok')]" \
    "the report lists the signal intakes"

finish
