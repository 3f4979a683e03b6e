#!/bin/bash
# The command line: help, version, usage errors (exit 2), single-command mode's options.
. "$TEST_LIB"

run "$GRACED" --help
expect_rc 0 "--help"
expect_in "$T/out" "Usage: graced" "--help"
expect_in "$T/out" "-- CMD [ARG...]" "--help shows single-command mode"

run "$GRACED" --version
expect_rc 0 "--version"
expect_in "$T/out" "graced " "--version"

run "$GRACED" --bogus
expect_rc 2 "unknown option"
expect_in "$T/err" "unknown option '--bogus'" "unknown option"

run "$GRACED" -c
expect_rc 2 "-c without a value"
expect_in "$T/err" "needs a value" "-c without a value"

run "$GRACED" --stop-timeout 3s
expect_rc 2 "single-command option without a command"
expect_in "$T/err" "need a command" "single-command option without a command"

run "$GRACED" -c "$SRC/etc/graced.ini" -- sleep 1
expect_rc 2 "-c and a command"
expect_in "$T/err" "exclude each other" "-c and a command"

run "$GRACED" --stop-timeout 10x -- true
expect_rc 2 "bad duration option"
expect_in "$T/err" "invalid value '10x' for --stop-timeout" "bad duration option"

run "$GRACED" --kill-signal SIGFOO -- true
expect_rc 2 "bad signal option"
expect_in "$T/err" "invalid value 'SIGFOO' for --kill-signal" "bad signal option"

run "$GRACED" -c "$T/missing.ini" --check
expect_rc 2 "missing configuration file"
expect_in "$T/err" "$T/missing.ini" "missing configuration file is named"
expect_in "$T/err" "nothing started" "missing configuration file"

# Single-command mode is a one-worker configuration: --check and --plan explain it too.
run "$GRACED" --check -- sleep 10
expect_rc 0 "--check of a command"
expect_in "$T/out" "OK: 1 worker (1 instance)" "--check of a command"

run "$GRACED" --plan --stop-timeout 3s --cancel-signal SIGINT --join-timeout 2s -- /bin/sh -c 'exit 0'
expect_rc 0 "--plan of a command"
expect_in "$T/out" "worker 'sh'" "the worker is named after the command"
expect_in "$T/out" "stop:   SIGTERM + SIGCONT, wait up to 3s" "--stop-timeout"
expect_in "$T/out" "cancel: SIGINT, join up to 2s" "--cancel-signal and --join-timeout"
expect_in "$T/out" "kill:   SIGKILL to the process group, reap up to 1s" "kill defaults"
expect_in "$T/out" "= 6s" "worst case 3s + 2s + 1s"

# The defaults fit inside docker stop's 10 s, which applies when graced is PID 1.
run "$GRACED" --plan -- true
expect_in "$T/out" "Worst case: 0 (intake) + 0 (drain) + 9s (level 1) + 0 (close) = 9s" \
    "default single-command budget"
if unshare --pid --fork --mount-proc true 2>/dev/null; then
	run unshare --pid --fork --mount-proc "$GRACED" --plan -- true
	expect_in "$T/out" "Deadline: 10s (PID 1 default, docker stop's 10s): fits, 1s to spare" \
	    "PID 1 deadline"
	run unshare --pid --fork --mount-proc "$GRACED" --check --stop-timeout 20s -- true
	expect_rc 0 "--check warns but passes"
	expect_in "$T/err" "warning: the worst-case shutdown 21s exceeds the deadline 10s" \
	    "PID 1 deadline warning"
else
	echo "skipping the PID 1 checks: unshare --pid is not permitted here"
fi

finish
