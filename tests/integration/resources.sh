#!/bin/bash
# [resource:*] in the close step: closed in reverse order of opening (the config's order), an
# exec resource's close command run to its end, one that outlives its close_timeout killed (not
# before that budget, and without waiting for it), a file resource removed.
. "$TEST_LIB"

# Each close command appends its name and the time (ms) to $T/closed.
stamp() {
	echo "sh -c 'echo $1 \$(date +%s%3N) >>$T/closed'"
}
touch "$T/spool"
cat >"$T/r.ini" <<INI
[supervisor]
report = $T/report.json
pidfile = $T/graced.pid
[worker:w]
command = $GW --name w --log $EV
[resource:first]
type = exec
command = $(stamp first)
[resource:stuck]
type = exec
command = sleep 30
close_timeout = 300ms
[resource:spool]
type = file
path = $T/spool
[resource:last]
type = exec
command = $(stamp last)
INI
start_graced -c "$T/r.ini"
wait_for 10 events_at_least 1 ' w start' || fail "worker did not start"
wait_for 10 test -s "$T/graced.pid" || fail "no pidfile"
expect_eq "$(cat "$T/closed" 2>/dev/null)" "" "nothing closed before the shutdown"
kill -TERM "$GPID"
wait_graced 15

# Reverse order: last, spool, stuck, first.
expect_eq "$(cut -d' ' -f1 "$T/closed" | tr '\n' ' ')" "last first " "close commands in reverse order"
expect_eq "$(grep -oE "resource '[a-z]+'" "$T/graced.log" | tr '\n' ' ')" \
    "resource 'last' resource 'spool' resource 'stuck' resource 'first' " \
    "every resource closed once, in reverse order of opening"
expect_in "$T/graced.log" "resource=last step=close msg=\"Closed resource 'last': close command exited with status 0\"" \
    "the close command's end is logged"
expect_in "$T/graced.log" "resource=spool step=close" "the file resource is logged"
[ -e "$T/spool" ] && fail "the file resource was not removed" || pass
[ -e "$T/graced.pid" ] && fail "the pidfile was not removed" || pass

# stuck outlived its close_timeout: killed after 300 ms (not before), and the close step went on.
expect_in "$T/graced.log" "Close command of resource 'stuck'" "stuck is named"
expect_in "$T/graced.log" "still ran after close_timeout, killed it" "stuck was killed at close_timeout"
last=$(sed -n 's/^last //p' "$T/closed")
first=$(sed -n 's/^first //p' "$T/closed")
expect_at_least "$((first - last))" 299 "stuck had its whole close_timeout before first was closed"
close=$(json '[s["end_ms"] - s["start_ms"] for s in r["steps"] if s["name"] == "close"][0]')
expect_at_least "$close" 300 "the close step in the report covers the close commands"
expect_between "$close" 300 10000 "the close step did not wait for sleep 30"
expect_eq "$(json 'r["workers"][0]["outcome"]')" exited "the worker exited"
expect_pending_at_exit 0

finish
