#!/bin/bash
# etc/examples/web.ini runs as written (its Python worker serves on the passed socket, its
# readiness endpoint answers), and kubernetes.yaml's terminationGracePeriodSeconds covers the
# worst case graced --plan computes for it.
. "$TEST_LIB"

ini=$SRC/etc/examples/web.ini
run "$GRACED" -c "$ini" --check
expect_rc 0 "web.ini passes --check"
expect_eq "$(wc -c <"$T/err")" 0 "web.ini: no warning"

worst=$("$GRACED" -c "$ini" --plan | sed -n 's/^Worst case: .* = \([0-9]*\)s$/\1/p')
grace=$(sed -n 's/^ *terminationGracePeriodSeconds: *\([0-9]*\).*/\1/p' "$SRC/etc/examples/kubernetes.yaml")
expect_between "$worst" 1 "$grace" "terminationGracePeriodSeconds ($grace) covers the plan's worst case"
expect_in "$SRC/etc/examples/kubernetes.yaml" "Worst case: $("$GRACED" -c "$ini" --plan | sed -n 's/^Worst case: //p')" \
    "the manifest's comment shows the current --plan line"
expect_in "$SRC/etc/examples/kubernetes.yaml" "path: /ready" "the readiness probe asks /ready"

port=$(free_port)
ready=$(free_port)
PORT=$port READY_PORT=$ready TMPDIR=$T start_graced -c "$ini"
ready_now() { [ "$($TCP http "$ready" /ready)" = "200 ready" ]; }
wait_for 10 ready_now || fail "web.ini: /ready did not answer 200: $(cat "$T/graced.log")"
case "$($TCP http "$port" /)" in
"200 served by "*) pass ;;
*) fail "web.ini: the Python worker does not serve on the passed socket" ;;
esac
kill -TERM "$GPID"
wait_graced 30
expect_rc 0 "web.ini shuts down cleanly"
expect_eq "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print([(i["name"], i["result"]) for i in r["intakes"]], r["tasks_pending_at_exit"])' "$T/graced-web-report.json")" \
    "[('http', 'ok'), ('ready', 'ok'), ('deregister', 'exit 0')] 0" "web.ini's report"
expect_pending_at_exit 0 "$T/graced-web-report.json"

finish
