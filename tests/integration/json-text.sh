#!/bin/bash
# JSON that graced writes, read by a real parser (python3's json): the report and /status parse
# whatever text reaches them. Worker names cannot hold quotes or backslashes (the configuration
# refuses them), but a straggler's command line is anything a process sets: quotes, backslashes,
# control bytes, a terminal escape and a byte that is not UTF-8.
. "$TEST_LIB"

# Names: the configuration refuses what would need escaping.
for name in 'a"b' 'a\b'; do
	printf '[worker:%s]\ncommand = /bin/true\n' "$name" >"$T/name.ini"
	run "$GRACED" -c "$T/name.ini" --check
	expect_rc 2 "worker name '$name' is refused"
done

# A straggler whose argv[0] is hostile: the report still parses and says what it was, with the
# invalid byte as U+FFFD. The command exits once the job has exec'd.
export NASTY
NASTY=$(printf 'q"b\\c\t\001\033[31m\377\302\233end')
run "$GRACED" --report "$T/report.json" -- bash -c \
    '(exec -a "$NASTY" sleep 30) & for i in $(seq 500); do grep -q end /proc/$!/cmdline 2>/dev/null && exit 3; sleep 0.02; done; exit 4'
expect_rc 3 "the command's status"
expect_eq "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(ascii(r["stragglers"][0]["command"]))' "$T/report.json")" \
    "'q\"b\\\\c\\t\\x01\\x1b[31m\\ufffd\\x9bend 30'" "the straggler's command, decoded"
expect_eq "$(LC_ALL=C grep -c '[^ -~]' "$T/report.json")" 0 "the report is printable ASCII (escapes for the rest)"
expect_eq "$(json 'r["stragglers"][0]["outcome"]')" exited "the straggler exited on SIGTERM"

# /status with a real parser: every instance, in order, with names as configured.
ready=$(free_port)
cat >"$T/s.ini" <<INI
[supervisor]
report = $T/report.json
[intake:ready]
type = readiness
listen = tcp://127.0.0.1:$ready
[worker:a-b_c]
command = $GW --name abc --log $EV
instances = 2
[worker:Z9]
command = $GW --name z9 --log $EV
INI
start_graced -c "$T/s.ini"
ready_now() { [ "$($TCP http "$ready" /ready)" = "200 ready" ]; }
wait_for 10 ready_now || fail "/ready did not answer 200: $(cat "$T/graced.log")"
status=$($TCP http "$ready" /status)
expect_eq "$(echo "${status#200 }" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["step"], s["ready"], [(w["name"], w["running"], w["ready"], w["pid"] > 0) for w in s["workers"]])')" \
    "running True [('a-b_c.0', True, True, True), ('a-b_c.1', True, True, True), ('Z9', True, True, True)]" \
    "/status parses and lists every instance"
kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "clean shutdown"
expect_eq "$(json '[(w["name"], w["instance"], w["outcome"]) for w in r["workers"]]')" \
    "[('a-b_c', 0, 'exited'), ('a-b_c', 1, 'exited'), ('Z9', 0, 'exited')]" "the report's workers"

finish
