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
