#!/bin/bash
# Socket and readiness intakes: sockets passed in sockets= order with LISTEN_FDNAMES; a unix socket
# with mode and owner, removed at close; a port already in use is a clear error and nothing starts;
# the readiness endpoint's answers, including 400 to garbage, without crashing.
. "$TEST_LIB"

http=$(free_port)
ready=$(free_port)
if [ "$(id -u)" -eq 0 ]; then owner=daemon; else owner=$(id -un); fi
cat >"$T/s.ini" <<INI
[supervisor]
report = $T/report.json
[intake:http]
type = socket
listen = tcp://127.0.0.1:$http
backlog = 64
[intake:local]
type = socket
listen = unix:$T/web.sock
mode = 0660
owner = $owner
[intake:ready]
type = readiness
listen = tcp://127.0.0.1:$ready
[worker:web]
command = $GS --name web --log $EV
sockets = local, http
[worker:other]
command = $GS --name other --log $EV --fdname http
sockets = http
instances = 2
[worker:fds]
command = $GW --list-fds
sockets = http
INI
"$GRACED" -c "$T/s.ini" --check >/dev/null || fail "--check rejects the configuration"
start_graced -c "$T/s.ini"
wait_for 10 events_at_least 3 ' start ' || fail "workers did not start: $(cat "$T/graced.log")"
expect_eq "$(grep ' web start' "$EV" | sed 's/.* listen_fds=//')" "2 fdnames=local:http" \
    "LISTEN_FDS and LISTEN_FDNAMES in sockets= order"
expect_eq "$(count_events ' other.* start .* listen_fds=1 fdnames=http')" 2 "every instance gets the socket"
web=$(grep ' web start' "$EV" | sed 's/.*pid=\([0-9]*\).*/\1/')
expect_eq "$($TCP get "unix:$T/web.sock")" "served by $web" "served through the unix socket (fd 3)"
case "$($TCP get "$http")" in
"served by "*) pass ;;
*) fail "no answer through the TCP socket" ;;
esac
expect_eq "$(stat -c '%a %U' "$T/web.sock")" "660 $owner" "the unix socket has its mode and owner"
wait_for 5 grep -q '^fds:' "$T/graced.out" || fail "the descriptor lister did not run"
expect_eq "$(grep '^fds:' "$T/graced.out" | head -1)" "fds: 0 1 2 3" \
    "a worker inherits its socket and nothing else (not the other intakes, not the endpoint)"

# The readiness endpoint.
ready_now() { [ "$($TCP http "$ready" /ready)" = "200 ready" ]; }
wait_for 10 ready_now || fail "/ready did not answer 200"
expect_eq "$($TCP http "$ready" /live)" "200 alive" "/live"
status=$($TCP http "$ready" /status)
expect_eq "$(echo "${status#200 }" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["step"], s["ready"], [(w["name"], w["running"], w["ready"]) for w in s["workers"]][:2], s["workers"][0]["pid"])')" \
    "running True [('web', True, True), ('other.0', True, True)] $web" "/status: the step and the workers"
expect_eq "$($TCP http "$ready" /nope)" "404 not found" "other paths are 404"
expect_eq "$($TCP http "$ready" /ready POST | cut -d' ' -f1)" "405" "other methods are 405"
expect_eq "$($TCP raw "$ready" 00016761726261676520ff0d0a0d0a)" "HTTP/1.1 400 Bad Request" "garbage is 400"
# Request heads beyond the 8 KiB bound are refused (400) instead of buffered.
expect_eq "$($TCP raw "$ready" "$(python3 -c 'print((b"GET /ready HTTP/1.1\r\nX: " + b"0" * 9000 + b"\r\n\r\n").hex())')" | cut -d' ' -f2)" \
    "400" "oversized headers are refused"
expect_eq "$($TCP http "$ready" /ready)" "200 ready" "... and the endpoint still answers"

# A second graced on the same port: a clear error, nothing started.
cat >"$T/busy.ini" <<INI
[intake:web]
type = socket
listen = tcp://127.0.0.1:$http
[worker:late]
command = $GS --name late --log $EV
sockets = web
INI
run "$GRACED" -c "$T/busy.ini"
expect_rc 1 "port in use"
expect_in "$T/err" "$T/busy.ini:1: intake 'web': failed to listen on tcp://127.0.0.1:$http: Address already in use" \
    "the error names the intake and its address"
expect_in "$T/err" "Nothing was started" "nothing started"
expect_eq "$(count_events ' late ')" 0 "no worker ran"

kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "clean shutdown"
[ -e "$T/web.sock" ] && fail "the socket file is left after the close step" || pass
expect_eq "$(json '[(i["name"], i["action"], i["result"]) for i in r["intakes"]]')" \
    "[('http', 'shutdown', 'ok'), ('local', 'shutdown', 'ok'), ('ready', '503', 'ok')]" "the report lists each intake"
expect_eq "$(json '[w["outcome"] for w in r["workers"]]')" "['exited', 'exited', 'exited', 'exited']" \
    "every worker exited on its stop signal"
expect_pending_at_exit 0

# A stale socket file is replaced; anything else at the path is an error.
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$T/web.sock"
start_graced -c "$T/s.ini"
wait_for 10 events_at_least 6 ' start ' || fail "a stale socket file stopped graced: $(cat "$T/graced.log")"
kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "clean shutdown after replacing a stale socket"
echo data >"$T/web.sock"
run "$GRACED" -c "$T/s.ini"
expect_rc 1 "a regular file at the unix: path"
expect_in "$T/err" "intake 'local': failed to listen on unix:$T/web.sock: the path exists and is not a socket" \
    "... is refused with a reason"
expect_eq "$(cat "$T/web.sock")" "data" "... and left alone"

finish
