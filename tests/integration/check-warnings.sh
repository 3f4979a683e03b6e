#!/bin/bash
# graced --check looks at the machine too: each problem it can see before anything runs is a
# warning with the key's FILE:LINE, and the check still passes (exit 0).
. "$TEST_LIB"

port=$(free_port)
mkdir "$T/d0" "$T/ro"
touch "$T/not-exec"
chmod 0555 "$T/ro"
cat >"$T/w.ini" <<INI
[supervisor]
report = $T/missing-dir/report.json
pidfile = $T/ro/graced.pid
control_socket = $T/missing-too/graced.sock
[intake:busy]
listen = tcp://127.0.0.1:$port
[intake:busy-unix]
listen = unix:$T/busy.sock
[worker:a]
command = graced-surely-no-such-program --x
user = graced-surely-no-such-user
group = graced-surely-no-such-group
directory = $T/d\${INSTANCE}
instances = 2
environment_file = $T/no-env
[worker:b]
command = $T/not-exec
[worker:c]
command = sh -c true
environment = PATH=$T/ro
[worker:fine]
command = sh -c true
directory = $T/d0
environment_file = -$T/no-env
on_exit = sh -c true
[worker:hooks]
command = sh -c true
on_exit = graced-surely-no-such-hook
INI
# Something listens on the intake's address already.
python3 - "$port" "$T/listening" "$T/busy.sock" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
u = socket.socket(socket.AF_UNIX)
u.bind(sys.argv[3])
u.listen()
open(sys.argv[2], "w").close()
time.sleep(30)
PY
holder=$!
wait_for 10 test -e "$T/listening" || fail "the port holder did not start"
run "$GRACED" -c "$T/w.ini" --check
kill "$holder"
wait "$holder" 2>/dev/null
expect_rc 0 "warnings do not fail the check"
expect_in "$T/out" "OK: 5 workers" "the summary"
w=$T/w.ini
expect_in "$T/err" "$w:2: warning: the directory '$T/missing-dir' of report does not exist" "report"
if [ "$(id -u)" != 0 ]; then
	expect_in "$T/err" "$w:3: warning: the directory '$T/ro' of pidfile is not writable" "pidfile"
fi
expect_in "$T/err" "$w:4: warning: the directory '$T/missing-too' of control_socket does not exist" "control_socket"
expect_in "$T/err" "$w:6: warning: address tcp://127.0.0.1:$port of [intake:busy] is already in use" "listen"
expect_in "$T/err" "$w:8: warning: address unix:$T/busy.sock of [intake:busy-unix] is already in use" "a unix: listen"
expect_in "$T/err" "$w:10: warning: command 'graced-surely-no-such-program' of [worker:a] is not in its PATH" "command"
expect_in "$T/err" "$w:11: warning: unknown user 'graced-surely-no-such-user' in [worker:a]" "user"
expect_in "$T/err" "$w:12: warning: unknown group 'graced-surely-no-such-group' in [worker:a]" "group"
expect_in "$T/err" "$w:13: warning: directory '$T/d1' of [worker:a] does not exist" "instance 1's directory"
expect_in "$T/err" "$w:15: warning: environment_file '$T/no-env' of [worker:a] cannot be read" "environment_file"
expect_in "$T/err" "$w:17: warning: command '$T/not-exec' of [worker:b] is not executable" "not executable"
expect_in "$T/err" "$w:19: warning: command 'sh' of [worker:c] is not in its PATH ($T/ro)" "the worker's own PATH"
expect_not_in "$T/err" "[worker:fine]" "a worker with nothing wrong"
expect_eq "$(grep -c warning "$T/err")" "$(( $(id -u) == 0 ? 12 : 13 ))" "one warning each"
chmod 0755 "$T/ro"

expect_in "$T/err" "$w:28: warning: on_exit 'graced-surely-no-such-hook' of [worker:hooks] is not in graced's PATH" "on_exit"
expect_not_in "$T/err" "on_exit 'sh'" "on_exit found in the PATH"
# Log files whose directory graced cannot write to: a warning each, checked as nobody (root can
# write anywhere), in a directory nobody can read.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	L=$(mktemp -d /tmp/graced-lint.XXXXXX)
	mkdir "$L/logs"
	chmod 755 "$L" "$L/logs"
	printf '[worker:a]\ncommand = /bin/true\noutput = file:%s/logs/a.log\nstderr = file:%s/logs/b.log\n' "$L" "$L" >"$L/x.ini"
	chmod 644 "$L/x.ini"
	run setpriv --reuid nobody --regid nogroup --clear-groups "$GRACED" -c "$L/x.ini" --check
	expect_rc 0 "log directory warnings do not fail the check"
	expect_in "$T/err" "$L/x.ini:3: warning: the directory '$L/logs' of output is not writable" "output = file:"
	expect_in "$T/err" "$L/x.ini:4: warning: the directory '$L/logs' of stderr is not writable" "stderr = file:"
	rm -rf "$L"
fi
finish
