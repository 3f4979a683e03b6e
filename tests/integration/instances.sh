#!/bin/bash
# Instance numbers: three instances of one worker listen on ports built from ${INSTANCE}
# (ready = tcp:...${INSTANCE}), each sees GRACED_WORKER and GRACED_INSTANCE, and a dependent
# starts only once all three accept connections. environment_file: systemd's syntax (quotes,
# comments, continuation), read at each start, an optional missing file, and FILE:LINE errors.
. "$TEST_LIB"

# Ports P0, P1, P2 from one prefix: string substitution, as documented. Below the ephemeral range
# (32768 up), where no outgoing connection of a parallel test takes one, and free right now.
ports_free() {
	python3 -c '
import socket, sys
for p in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(p)))
    s.close()' "$@" 2>/dev/null
}
for _ in $(seq 50); do
	prefix=$((2000 + RANDOM % 1200))
	ports_free "${prefix}0" "${prefix}1" "${prefix}2" && break
done
cat >"$T/env" <<'ENV'
# a comment
; another
QUOTED="a \"b\"  c"
SINGLE='$HOME stays'
CONT=one \
two
ENV
cat >"$T/i.ini" <<INI
[supervisor]
report = $T/report.json
[worker:srv]
instances = 3
command = sh -c 'echo "\$GRACED_WORKER \$GRACED_INSTANCE \$DIR [\$QUOTED] [\$SINGLE] [\$CONT] [\$OPT]" >>$T/seen; exec $GW --name srv.\${INSTANCE} --log $EV --listen ${prefix}\${INSTANCE}'
ready = tcp:${prefix}\${INSTANCE}
environment = DIR=\$\$d\${INSTANCE} OPT=unset
environment_file = $T/env
directory = $T/d\${INSTANCE}
[worker:missing]
command = sh -c 'echo "[\$GRACED_WORKER \$GRACED_INSTANCE]" >>$T/seen2; exec $GW --name missing --log $EV'
environment_file = -$T/no-such-file
[worker:dep]
command = $GW --name dep --log $EV
after = srv
INI
mkdir "$T/d0" "$T/d1" "$T/d2"
run "$GRACED" -c "$T/i.ini" --check
expect_rc 0 "--check"
start_graced -c "$T/i.ini"
wait_for 20 events_at_least 1 ' dep start' || fail "dep did not start"
for n in 0 1 2; do
	expect_in "$T/seen" "srv $n \$d$n [a \"b\"  c] [\$HOME stays] [one two] [unset]" "srv.$n environment"
	expect_in "$EV" " srv.$n listening" "srv.$n listens on its own port"
	bound=$(event_ms " srv.$n bound")
	dep=$(event_ms ' dep start')
	expect_at_least "$((dep - bound))" 0 "dep starts only once srv.$n accepts connections"
done
expect_in "$T/seen2" "[missing 0]" "an optional environment_file that is missing is no error"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "clean shutdown"

# ${INSTANCE} in directory: a missing d1 fails that instance alone, with the directory named.
rm -f "$EV"
rmdir "$T/d1"
: >"$T/seen"
start_graced -c "$T/i.ini"
wait_for 20 grep -q "d1" "$T/graced.log" || fail "no failure for srv.1's directory"
expect_in "$T/graced.log" "$T/d1" "the failed directory is the instance's own"
expect_not_in "$T/graced.log" "$T/d0" "srv.0's directory exists"
kill -TERM "$GPID"
wait_graced 10

# A malformed file: --check names the file's line and the key's; so does a start after the file
# went bad.
printf 'GOOD=1\nBAD LINE\n' >"$T/env"
run "$GRACED" -c "$T/i.ini" --check
expect_rc 2 "--check on a malformed environment_file"
expect_in "$T/err" "$T/i.ini:8: environment_file $T/env:2: invalid character in a name" "FILE:LINE of both"

# Read at each start: a restart sees the file as it is now.
printf 'V=first\n' >"$T/env2"
cat >"$T/r.ini" <<INI
[worker:r]
command = sh -c 'echo "v=\$V" >>$T/seen3; exec $GW --name r --log $EV --exit 1'
environment_file = $T/env2
restart = always
restart_delay = 100ms
start_limit = none
INI
rm -f "$EV"
start_graced -c "$T/r.ini"
wait_for 10 grep -q "v=first" "$T/seen3" || fail "first start"
printf 'V=second\n' >"$T/env2"
wait_for 10 grep -q "v=second" "$T/seen3" || fail "a restart did not read the changed file"
pass
# Broken now: the next start fails, naming the file's line and the key's.
printf 'BROKEN\n' >"$T/env2"
wait_for 10 grep -q "env2:1: missing '='" "$T/graced.log" || fail "no error for the broken file"
expect_in "$T/graced.log" "Worker 'r'[0]: $T/env2:1: missing '=' (expected NAME=VALUE) (environment_file at $T/r.ini:3)" "FILE:LINE of both at the start"
# r gave up, nothing is left to run: graced ends on its own (no SIGTERM into its exit, which
# under ASan killed it with LeakSanitizer's tracer alive, left to init as a zombie).
wait_graced 10
expect_rc 1 "r failed: graced ends on its own with 1"
expect_in "$T/graced.log" 'trigger="nothing left to run"' "the shutdown's trigger"
finish
