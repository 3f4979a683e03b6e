#!/bin/bash
# Escalation windows: a worker that ignores SIGTERM gets SIGINT after stop_timeout; one that
# ignores both is killed with its whole process group after join_timeout; SIGCONT follows the
# stop signal; custom signals and "none".
. "$TEST_LIB"

cat >"$T/esc.ini" <<INI
[supervisor]
report = $T/report.json
[shutdown]
stop_timeout = 1s
join_timeout = 1s
kill_timeout = 2s
[worker:stubborn]
command = $GW --name stubborn --log $EV --ignore TERM
[worker:deaf]
command = $GW --name deaf --log $EV --ignore TERM,INT --children 3
[worker:custom]
command = $GW --name custom --log $EV --ignore TERM,INT --exit-on USR2
stop_signal = SIGUSR1
cancel_signal = SIGUSR2
[worker:direct]
command = $GW --name direct --log $EV --ignore TERM,INT
cancel_signal = none
kill_signal = SIGKILL
stop_timeout = 500ms
INI
start_graced -c "$T/esc.ini"
wait_for 10 events_at_least 7 ' start ' || fail "workers did not start"
children=$(grep -E ' deaf child pid=' "$EV" | sed 's/.*pid=//')

t0=$(date +%s%3N)
kill -TERM "$GPID"
wait_graced 20
expect_rc 1 "forced shutdown (something was killed)"

# The windows come from the config. Orders and lower bounds only (see lib.sh): the worker's times
# get JITTER_MS of slack, graced's own (the report's steps) none.
term=$(event_ms ' stubborn signal SIGTERM')
cont=$(event_ms ' stubborn signal SIGCONT')
int=$(event_ms ' stubborn signal SIGINT')
expect_between "$cont" "$term" "$int" "SIGCONT follows the stop signal, before the cancel signal"
expect_at_least "$((int - term))" $((1000 - JITTER_MS)) "cancel signal not before stop_timeout"
expect_at_least "$(json '[s["start_ms"] for s in r["steps"] if s["name"] == "cancel"][0] - [s["start_ms"] for s in r["steps"] if s["name"] == "stop"][0]')" \
    999 "the cancel step begins stop_timeout after the stop step, not before"

# deaf ignores TERM and INT: SIGKILL to its group join_timeout after SIGINT; its children die too.
dterm=$(event_ms ' deaf signal SIGTERM')
dint=$(event_ms ' deaf signal SIGINT')
expect_at_least "$((dint - dterm))" $((1000 - JITTER_MS)) "deaf: SIGINT not before stop_timeout"
expect_eq "$(pids_alive $children)" 0 "the kill signal reached the whole process group"
expect_eq "$(count_events ' deaf\.child[0-9] signal')" 0 "stop and cancel signals go to the main process only"

# custom signals: USR1 then USR2, on which it exits.
expect_eq "$(count_events ' custom signal SIGUSR1')" 1 "custom stop_signal"
expect_eq "$(count_events ' custom signal SIGTERM')" 0 "no SIGTERM with a custom stop_signal"
cusr2=$(event_ms ' custom signal SIGUSR2')
cusr1=$(event_ms ' custom signal SIGUSR1')
expect_at_least "$((cusr2 - cusr1))" $((1000 - JITTER_MS)) "custom cancel_signal not before stop_timeout"

# cancel_signal = none: the kill follows stop_timeout directly; no SIGINT at all.
expect_eq "$(count_events ' direct signal SIGINT')" 0 "cancel_signal = none sends nothing"

outcomes=$(json '" ".join(w["name"] + "=" + w["outcome"] + "/" + str(w["step"]) for w in r["workers"])')
expect_eq "$outcomes" "stubborn=cancelled/join deaf=killed/join custom=cancelled/join direct=killed/join" \
    "outcomes and steps"
expect_eq "$(json 'r["workers"][1]["term_signal"]')" 9 "deaf died of SIGKILL"
expect_pending_at_exit 0
# direct was killed after its own 500 ms (not before), not after join_timeout on top: before deaf,
# which graced kills 1 s + 1 s after the stop step.
direct_exit=$(json '[w["exit_ms"] for w in r["workers"] if w["name"] == "direct"][0]')
deaf_exit=$(json '[w["exit_ms"] for w in r["workers"] if w["name"] == "deaf"][0]')
expect_at_least "$direct_exit" 500 "no kill before stop_timeout with cancel_signal = none"
expect_between "$direct_exit" 500 "$deaf_exit" "killed right after stop_timeout, before the join_timeout kill"

finish
