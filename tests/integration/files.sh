#!/bin/bash
# The pidfile and the report cannot be forged by someone who can write their directory: files
# and symlinks planted at the temporary names graced used to write through (PATH.tmp.PID) are
# never written through, and the files are graced's own, mode 0644.
. "$TEST_LIB"

umask 022
cat >"$T/f.ini" <<INI
[supervisor]
report = $T/report.json
pidfile = $T/graced.pid
[worker:w]
command = $GW --name w --log $EV
INI
: >"$T/victim"
# graced's pid is the one of the shell that plants at its names and then execs it.
(
	exec sh -c '
	ln -s "$T/victim" "$T/graced.pid.tmp.$$"
	ln -s "$T/victim" "$T/graced.pid.tmp"
	echo forged >"$T/report.json.tmp.$$"
	chmod 666 "$T/report.json.tmp.$$"
	[ "$(id -u)" -eq 0 ] && chown 65534:65534 "$T/report.json.tmp.$$"
	exec "$GRACED" -c "$T/f.ini" >"$T/graced.out" 2>"$T/graced.log"'
) &
GPID=$!
wait_for 10 events_at_least 1 ' w start' || fail "worker did not start"
wait_for 5 test -s "$T/graced.pid" || fail "no pidfile"
if [ -f "$T/graced.pid" ] && [ ! -L "$T/graced.pid" ]; then pass; else fail "pidfile is not a plain file"; fi
expect_eq "$(cat "$T/graced.pid" 2>/dev/null)" "$GPID" "pidfile holds graced's pid"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "clean shutdown"
if [ -f "$T/report.json" ] && [ ! -L "$T/report.json" ]; then pass; else fail "report is not a plain file"; fi
expect_eq "$(stat -c '%u %a' "$T/report.json" 2>/dev/null)" "$(id -u) 644" "report owner and mode"
expect_eq "$(json 'r["exit_code"]' 2>/dev/null)" 0 "report is whole"
expect_eq "$(cat "$T/report.json.tmp.$GPID" 2>/dev/null)" forged "planted file untouched"
if [ -L "$T/graced.pid.tmp.$GPID" ]; then pass; else fail "planted link gone"; fi
expect_eq "$(stat -c %s "$T/victim")" 0 "nothing written through a link"
expect_eq "$(find "$T" -name '*.tmp.*' | wc -l)" 2 "no temporary file left behind"

finish
