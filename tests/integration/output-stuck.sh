#!/bin/bash
# A stuck reader of graced's stdout or stderr (a stopped pager, a full log pipe) costs output,
# never the deadline: graced exits within its plan, the report's step times are true, what was
# dropped is counted and no line reaches the reader torn. Before the shutdown, a slow reader
# loses nothing (the worker waits on its pipe).
. "$TEST_LIB"

# pipe_bytes FIFO: how many bytes wait in the FIFO (opened without reading, so nothing moves).
pipe_bytes() {
	python3 -c '
import fcntl, os, struct, sys, termios
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
print(struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0])' "$1"
}
pipe_full() {
	[ "$(pipe_bytes "$1")" -ge 60000 ]
}

# start_reader [held]: a reader drains $T/fifo into $T/got (its pid in $CAT); held, it opens
# the FIFO but reads nothing until release_reader.
start_reader() {
	rm -f "$T/fifo" "$T/got" "$T/go" "$T/opened"
	mkfifo "$T/fifo"
	[ "${1:-}" = held ] || touch "$T/go"
	python3 -c '
import os, select, sys, time
fifo, go, got, opened = sys.argv[1:]
# Opened without waiting for a writer, so graced never meets a FIFO without its reader.
fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
open(opened, "w").close()
p = select.poll()
p.register(fd, select.POLLIN)
p.poll()
os.set_blocking(fd, True)
while not os.path.exists(go):
    time.sleep(0.01)
with open(got, "wb") as out:
    while True:
        data = os.read(fd, 65536)
        if not data:
            break
        out.write(data)
        out.flush()' "$T/fifo" "$T/go" "$T/got" "$T/opened" &
	CAT=$!
	wait_for 10 test -e "$T/opened" || fail "the reader opens the FIFO"
}

release_reader() {
	touch "$T/go"
}

stop_reader() {
	kill -CONT "$CAT" 2>/dev/null
	wait "$CAT" 2>/dev/null
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

cat >"$T/flood.ini" <<INI
[supervisor]
report = $T/report.json
[shutdown]
stop_timeout = 2s
join_timeout = 1s
kill_timeout = 1s
[worker:f]
command = yes
output = prefix
INI

# stop_behind_stuck_reader STDERR ARGS...: graced ARGS floods the FIFO (its stderr to the file
# STDERR, or into the FIFO too with "fifo"); the reader stops once output flows, and once the pipe
# is full graced gets SIGTERM. Its exit status in $rc, the time it took to exit (ms) in $took.
stop_behind_stuck_reader() {
	local err=$1 sent
	shift
	start_reader
	if [ "$err" = fifo ]; then
		( exec "$GRACED" "$@" >"$T/fifo" 2>&1 ) &
	else
		( exec "$GRACED" "$@" >"$T/fifo" 2>"$err" ) &
	fi
	GPID=$!
	wait_for 10 test -s "$T/got" || fail "output reaches the reader"
	kill -STOP "$CAT"
	wait_for 10 pipe_full "$T/fifo" || fail "the pipe fills up"
	sent=$(now_ms)
	kill -TERM "$GPID"
	wait_graced 10
	took=$(($(now_ms) - sent))
	echo "behind a stuck reader: graced exited $took ms after SIGTERM"
}

# 1. stdout stuck: the reader is stopped while a worker floods it.
stop_behind_stuck_reader "$T/graced.log" -c "$T/flood.ini"
expect_rc 0 "a stuck stdout reader: the clean shutdown"
# The reader never wakes before graced ends (wait_graced would have failed): by graced's own
# clock it ended within its plan (2 s stop, 0.5 s output flush), and the shell saw it end after
# that (the report's step times are true), within a few seconds of slack for a loaded machine.
close_end=$(json 'r["steps"][4]["end_ms"]')
expect_between "$close_end" 450 4500 "graced's close step ended within its plan, not when the reader wakes"
expect_between "$((took - close_end))" 0 5000 "the report's step times are true (took ${took} ms, the close step ended at +${close_end} ms)"
expect_at_least "$(json 'r["steps"][4]["end_ms"] - r["steps"][4]["start_ms"]')" 450 \
    "the close step waited for the output flush"
expect_between "$(json 'r["output_dropped_bytes"]')" 1 1000000000 "dropped bytes are counted"
expect_in "$T/graced.log" "bytes of graced's output were dropped" "the drop is logged"
stop_reader
expect_eq "$(grep -cvx 'f| y' "$T/got")" 0 "no line reaches the reader torn"

# 2. stdout and stderr are one stuck pipe: log lines and worker output share one buffer.
stop_behind_stuck_reader fifo -c "$T/flood.ini" -v
expect_rc 0 "a stuck stdout and stderr reader: the clean shutdown"
expect_between "$(json 'r["steps"][4]["end_ms"]')" 450 4500 "graced ends within its plan with its log stuck too (took $took ms)"
expect_between "$(json 'r["output_dropped_bytes"]')" 1 1000000000 "dropped bytes are counted"
stop_reader
expect_eq "$(grep -cvE '^(f\| y|level=.*)$' "$T/got")" 0 "log lines and output lines are never torn"

# 3. Before the shutdown a slow reader loses nothing: the worker waits on its pipe. (The idle
# worker keeps graced running after the talker ended, so the lines all leave before the shutdown.)
cat >"$T/lines.ini" <<INI
[supervisor]
report = $T/report.json
[worker:talker]
command = $GW --lines 50000
output = prefix
[worker:idle]
command = $GW
INI
all_lines() {
	[ "$(wc -l <"$T/got" 2>/dev/null || echo 0)" -ge 50000 ]
}
start_reader held
( exec "$GRACED" -c "$T/lines.ini" >"$T/fifo" 2>"$T/graced.log" ) &
GPID=$!
wait_for 10 pipe_full "$T/fifo" || fail "the pipe fills up"
release_reader
wait_for 20 all_lines || fail "every line arrives: $(wc -l <"$T/got") of 50000"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "a slow reader: the clean shutdown"
stop_reader
seq 1 50000 | sed 's/^/talker| line /' >"$T/want"
if cmp -s "$T/want" "$T/got"; then pass; else
	fail "lines lost, reordered or torn behind a slow reader: $(wc -l <"$T/got") of 50000"
fi
expect_eq "$(json 'r["output_dropped_bytes"]')" 0 "nothing dropped before the shutdown"

finish
