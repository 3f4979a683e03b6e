#!/bin/bash
# Runs one integration test (automake's SH_LOG_COMPILER): a fresh temporary directory as
# $T, a time limit, and afterwards the end of every process the test left behind in its session.
set -u
test_script=$1
: "${GRACED:?GRACED must point to the built graced binary}"
: "${GRACED_SRCDIR:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/graced-test.XXXXXX")
export T GRACED GRACED_SRCDIR GRACED_BUILDDIR
export TEST_LIB="$GRACED_SRCDIR/tests/integration/lib.sh"
limit=${GRACED_TEST_TIMEOUT:-180}

# The test runs in a session of its own, so whatever it starts (and forgets) can be found by SID.
setsid bash "$test_script" &
pid=$!
( sleep "$limit" && kill -TERM "$pid" 2>/dev/null ) &
watchdog=$!
wait "$pid"
rc=$?
kill "$watchdog" 2>/dev/null
wait "$watchdog" 2>/dev/null

leftovers=$(ps -eo pid=,sid= | awk -v s="$pid" '$2 == s { print $1 }')
if [ -n "$leftovers" ]; then
	echo "run.sh: processes left behind by the test:" >&2
	ps -o pid=,ppid=,pgid=,stat=,args= -p "$(echo $leftovers | tr ' ' ',')" >&2
	kill -KILL $leftovers 2>/dev/null
	[ "$rc" -eq 0 ] && rc=1
fi
# A failure is diagnosed from the log alone (CI keeps nothing else): the end of graced's last log.
if [ "$rc" -ne 0 ] && [ -s "$T/graced.log" ]; then
	echo "run.sh: the end of graced's last log ($T/graced.log):" >&2
	tail -n 60 "$T/graced.log" | sed 's/^/  log| /' >&2
fi
rm -rf "$T"
exit "$rc"
