# Shared helpers of the integration tests; sourced by each tests/integration/*.sh.
# $T is the test's own temporary directory and $GRACED the binary under test (run.sh sets both).
set -u

SRC=$GRACED_SRCDIR
failures=0
checks=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

pass() {
	checks=$((checks + 1))
}

# run CMD...: runs it with stdout in $T/out, stderr in $T/err and the exit status in $rc.
run() {
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
}

expect_rc() {
	local want=$1 what=$2
	if [ "$rc" -eq "$want" ]; then pass; else
		fail "$what: exit status $rc, expected $want"
		sed 's/^/  stderr: /' "$T/err" | head -20 >&2
	fi
}

# expect_in FILE TEXT WHAT: FILE contains the fixed string TEXT.
expect_in() {
	if grep -qF -- "$2" "$1"; then pass; else
		fail "$3: '$2' not in $(basename "$1")"
		sed 's/^/  | /' "$1" | head -40 >&2
	fi
}

expect_not_in() {
	if ! grep -qF -- "$2" "$1"; then pass; else fail "$3: '$2' unexpectedly in $(basename "$1")"; fi
}

expect_eq() {
	if [ "$1" = "$2" ]; then pass; else fail "$3: got '$1', expected '$2'"; fi
}

# wait_for SECONDS COMMAND...: polls COMMAND every 20 ms until it succeeds; 1 on timeout.
wait_for() {
	local limit=$1 start
	shift
	start=$(date +%s%N)
	until "$@"; do
		if [ $(( ($(date +%s%N) - start) / 1000000 )) -ge $((limit * 1000)) ]; then
			return 1
		fi
		sleep 0.02
	done
}

finish() {
	echo "$(basename "$0"): $checks checks passed, $failures failed"
	[ "$failures" -eq 0 ]
	exit $?
}

# The test worker (tests/integration/helpers/gworker.c).
GW=${GRACED_BUILDDIR:-.}/tests/integration/helpers/gworker
EV=$T/events

# start_graced ARGS...: runs graced in the background; stdout in $T/graced.out, stderr (the log)
# in $T/graced.log; its pid in $GPID. wait_graced collects its exit status.
start_graced() {
	# Gone before it starts: the background shell truncates them only later, and a wait_for
	# must never match the previous run's lines.
	rm -f "$T/graced.out" "$T/graced.log"
	( exec "$GRACED" "$@" >"$T/graced.out" 2>"$T/graced.log" ) &
	GPID=$!
}

# wait_graced SECONDS: waits for graced to end; its status in $rc (124 on timeout).
wait_graced() {
	local limit=$1
	if ! wait_for "$limit" graced_gone; then
		fail "graced did not exit within ${limit}s"
		kill -KILL "$GPID" 2>/dev/null
		wait "$GPID" 2>/dev/null
		rc=124
		return 1
	fi
	wait "$GPID"
	rc=$?
}

graced_gone() {
	local state
	state=$(cut -d' ' -f3 "/proc/$GPID/stat" 2>/dev/null) || return 0
	[ "$state" = Z ]
}

# count_events PATTERN: lines of $EV matching the extended regex.
count_events() {
	local n
	n=$(grep -cE -- "$1" "$EV" 2>/dev/null)
	echo "${n:-0}"
}

# events_at_least N PATTERN: for wait_for.
events_at_least() {
	[ "$(count_events "$2")" -ge "$1" ]
}

# event_ms PATTERN: the time (ms) of the first event matching PATTERN, or nothing.
event_ms() {
	grep -E -- "$1" "$EV" 2>/dev/null | head -1 | cut -d' ' -f1
}

# expect_between VALUE LOW HIGH WHAT
expect_between() {
	if [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; then pass; else
		fail "$4: '$1' not within [$2, $3]"
	fi
}

# Timing assertions must hold on a loaded machine (a load of 30 on two cores): bound what must
# never happen, not a window. A lower bound ("not before the deadline") holds when both times come
# from graced's own clock (the report), since load only makes things later. A worker reads its
# clock when it gets to a signal, so a difference of two such times gets JITTER_MS of slack for
# the first one's late delivery. Upper bounds only where a deadline of the product is the point,
# and then far from the expected time; otherwise an order or a count.
JITTER_MS=150

# expect_at_least VALUE LOW WHAT
expect_at_least() {
	expect_between "$1" "$2" 999999999 "$3"
}

# json EXPRESSION: evaluates a Python expression on the report ($T/report.json) as r.
json() {
	python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($1)" "$T/report.json"
}

# expect_pending_at_exit N [REPORT]: the report's tasks_pending_at_exit is N, and it is the figure
# of the runtime's exit check after the loop ended, which names each such task in the log
# (event=pending-at-exit): the report and the log must agree.
expect_pending_at_exit() {
	local want=$1 report=${2:-$T/report.json} got named
	got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tasks_pending_at_exit"])' \
	    "$report" 2>&1)
	named=$(grep -c 'event=pending-at-exit' "$T/graced.log" 2>/dev/null)
	if [ "$got" = "$want" ] && [ "${named:-0}" = "$want" ]; then pass; else
		fail "tasks pending at exit: the report says '$got', the exit check named ${named:-0}, expected $want"
	fi
}

# pids_alive PID...: how many of them still exist (zombies count as gone).
pids_alive() {
	local n=0 p state
	for p in "$@"; do
		state=$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null) || continue
		[ "$state" = Z ] || n=$((n + 1))
	done
	echo "$n"
}

# Intake tests: the server worker (tests/integration/helpers/gserver.c) and the loopback clients.
GS=${GRACED_BUILDDIR:-.}/tests/integration/helpers/gserver
TCP="python3 $SRC/tests/integration/helpers/tcp.py"

# free_port: a loopback TCP port nobody listens on right now.
free_port() {
	$TCP free-port
}

# value KEY LINE: the value of KEY in a "k=v k=v" line.
value() {
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# Control plane tests ($CTL: gracectl -s SOCKET).
# status_pids: "NAME=PID" of every instance `gracectl status` lists, sorted, on one line.
status_pids() {
	$CTL --json status 2>/dev/null | python3 -c '
import json, sys
r = json.loads(sys.stdin.readline())
print(" ".join("%s=%s" % (i["name"], i.get("pid")) for i in sorted(r["instances"], key=lambda i: i["name"])))'
}

# pid_in NAME SNAPSHOT: the pid of instance NAME in a status_pids snapshot, or nothing.
pid_in() {
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# listen_inode PORT: the inode of the socket listening on 127.0.0.1:PORT (/proc/net/tcp), or
# nothing.
listen_inode() {
	awk -v p="$(printf '0100007F:%04X' "$1")" '$2 == p && $4 == "0A" { print $10; exit }' /proc/net/tcp
}
