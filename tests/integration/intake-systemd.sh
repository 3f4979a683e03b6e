#!/bin/bash
# listen = systemd:NAME: the socket comes from socket activation (the real
# systemd-socket-activate), graced owns it like one it bound, and a worker serves through it.
. "$TEST_LIB"

if ! command -v systemd-socket-activate >/dev/null; then
	echo "SKIP: systemd-socket-activate is not installed (Debian package systemd)"
	exit 77
fi

port=$(free_port)
cat >"$T/a.ini" <<INI
[supervisor]
report = $T/report.json
[intake:web]
type = socket
listen = systemd:web
[worker:web]
command = $GS --name web --log $EV
sockets = web
INI
# systemd-socket-activate binds, and on the first connection execs graced with LISTEN_FDS=1
# LISTEN_FDNAMES=web; that connection waits in the backlog until graced's worker accepts it.
activate() {
	( exec systemd-socket-activate -l "127.0.0.1:$port" --fdname=web "$GRACED" -c "$T/a.ini" \
	    >"$T/graced.out" 2>"$T/graced.log" ) &
	GPID=$!
	wait_for 10 grep -q "Listening on" "$T/graced.log" || fail "systemd-socket-activate did not listen"
}
activate
first=$($TCP get "$port")
wait_for 10 events_at_least 1 ' web start ' || fail "worker did not start: $(cat "$T/graced.log")"
web=$(grep ' web start' "$EV" | sed 's/.*pid=\([0-9]*\).*/\1/')
expect_eq "$first" "served by $web" "the first client is served by the worker through the activated socket"
expect_eq "$(grep ' web start' "$EV" | sed 's/.* listen_fds=//')" "1 fdnames=web" "the worker gets the activated socket"
expect_eq "$($TCP get "$port")" "served by $web" "later clients too"
expect_in "$T/graced.log" "Intake 'web' listens on systemd:web" "graced took the socket"
kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "clean shutdown"
expect_eq "$($TCP get "$port")" "refused" "the activated socket is shut down and closed"
expect_eq "$(json '[(i["name"], i["action"], i["result"]) for i in r["intakes"]]')" \
    "[('web', 'shutdown', 'ok')]" "the report lists the intake"

# A name systemd did not pass: a clear error, nothing started.
sed -i 's/^listen = systemd:web/listen = systemd:api/' "$T/a.ini"
activate
$TCP get "$port" >/dev/null
wait_graced 10
expect_rc 1 "missing socket-activated name"
expect_in "$T/graced.log" "intake 'web': failed to listen on systemd:api: no socket of that name was passed by systemd" \
    "the error names the intake and the missing name"
expect_in "$T/graced.log" "Nothing was started" "nothing started"

finish
