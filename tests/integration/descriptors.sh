#!/bin/bash
# A worker inherits stdin, stdout, stderr and the descriptors meant for it, nothing else; with
# stop_fd = yes, the stop pipe is fd 3 and reaches EOF at the stop step.
. "$TEST_LIB"

cat >"$T/d.ini" <<INI
[supervisor]
report = $T/report.json
pidfile = $T/graced.pid
[worker:plain]
command = $GW --list-fds --exit 0
[worker:prefixed]
command = $GW --list-fds --exit 0
output = prefix
[worker:stopper]
command = $GW --name stopper --log $EV --list-fds --stop-fd
output = prefix
stop_fd = yes
stop_signal = none
stop_timeout = 5s
INI
# Open an extra descriptor without close-on-exec in graced's environment: it must not leak.
exec 7</dev/null
start_graced -c "$T/d.ini"
exec 7<&-
wait_for 10 events_at_least 1 ' stopper start' || fail "stopper did not start"
wait_for 5 test -s "$T/graced.pid" || fail "no pidfile"
expect_eq "$(cat "$T/graced.pid")" "$GPID" "pidfile holds graced's pid"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "clean shutdown"
expect_in "$T/graced.out" "fds: 0 1 2" "inherit: only stdio"
expect_in "$T/graced.out" "prefixed| fds: 0 1 2" "prefix: only stdio (pipes)"
expect_in "$T/graced.out" "stopper| fds: 0 1 2 3" "stop_fd: fd 3"
expect_eq "$(grep -c 'fds: 0 1 2 [0-9]' "$T/graced.out")" 1 "no other descriptor anywhere"
expect_eq "$(count_events ' stopper stop-fd eof')" 1 "the stop pipe reached EOF"
expect_eq "$(count_events ' stopper signal')" 0 "stop_signal = none: no signal at all"
expect_eq "$(json 'r["workers"][2]["outcome"]')" exited "stop_fd exit is clean"
if [ -e "$T/graced.pid" ]; then fail "pidfile not removed at close"; else pass; fi

finish
