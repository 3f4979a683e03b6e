#!/bin/bash
# A command that cannot be executed is reported with the command and the errno, not as a silent
# exit 127, and the worker is "failed".
. "$TEST_LIB"

cat >"$T/e.ini" <<INI
[supervisor]
report = $T/report.json
[worker:ghost]
command = /nonexistent/graced-ghost --flag
[worker:noexec]
command = $T/not-executable
[worker:nodir]
command = true
directory = /nonexistent/graced-dir
[worker:ok]
command = $GW --name ok --log $EV
INI
printf '#!/bin/sh\n' >"$T/not-executable"
chmod 0644 "$T/not-executable"
start_graced -c "$T/e.ini"
wait_for 10 events_at_least 1 ' ok start' || fail "the good worker did not start"
wait_for 10 grep -q "Worker 'nodir' failed" "$T/graced.log" || fail "nodir not reported"
kill -TERM "$GPID"
wait_graced 10
expect_rc 1 "failed workers: status 1"
expect_in "$T/graced.log" "Failed to start worker 'ghost' (exec '/nonexistent/graced-ghost'): No such file or directory" \
    "ENOENT names the command"
expect_in "$T/graced.log" "Failed to start worker 'noexec' (exec '$T/not-executable'): Permission denied" \
    "EACCES names the command"
expect_in "$T/graced.log" "Failed to start worker 'nodir' (directory '/nonexistent/graced-dir'): No such file or directory" \
    "a missing directory is named"
expect_eq "$(json '[w["outcome"] for w in r["workers"]]')" "['failed', 'failed', 'failed', 'exited']" \
    "outcomes"
expect_eq "$(json 'r["workers"][0]["exit_code"]')" 127 "ENOENT: 127 like a shell"
expect_eq "$(json 'r["workers"][1]["exit_code"]')" 126 "EACCES: 126 like a shell"

# Single-command mode: the same message, and the shell's status.
run "$GRACED" -- /nonexistent/graced-ghost
expect_rc 127 "single-command mode: 127"
expect_in "$T/err" "(exec '/nonexistent/graced-ghost'): No such file or directory" "single-command message"
run "$GRACED" -- "$T/not-executable"
expect_rc 126 "single-command mode: 126"

finish
