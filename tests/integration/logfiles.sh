#!/bin/bash
# output = file:PATH and stderr =: graced writes the worker's lines to its own rotated files.
# 100 MB through rotation with every line accounted for, in order, no file past output_max_size;
# stderr = stdout interleaving whole lines; stderr = file:; the last lines of a stopped worker;
# a missing directory and bad sizes as config errors with FILE:LINE.
. "$TEST_LIB"

# The big run writes about GRACED_TEST_LOG_MB (default 100) megabytes: 10,000 lines of 101
# bytes ("%010d", a space, 89 x's, newline) per MB. Under a second here, sanitizers included.
mb=${GRACED_TEST_LOG_MB:-100}
lines=$((mb * 10000))
pad=$(printf 'x%.0s' $(seq 89))
writer() { seq -f "%010.0f $pad" 1 "$lines"; }
max=$((4 * 1024 * 1024))

mkdir "$T/log"
cat >"$T/big.ini" <<INI
[worker:writer]
command = sh -c 'seq -f "%010.0f $pad" 1 $lines'
output = file:$T/log/w.log
output_max_size = 4M
output_backups = 100
critical = yes
INI
start=$(date +%s%N)
run "$GRACED" -c "$T/big.ini"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_rc 0 "the writer exited 0"
echo "logfiles.sh: $mb MB ($lines lines) through output = file: in $ms ms"
nfiles=$(ls "$T/log" | wc -l)
# Oldest first: w.log.N ... w.log.1, then w.log.
files=$(for i in $(seq $((nfiles - 1)) -1 1); do echo "$T/log/w.log.$i"; done; echo "$T/log/w.log")
expect_eq "$(ls "$T/log" | grep -cv '^w\.log\(\.[0-9]*\)\?$')" 0 "only w.log and its backups"
expect_at_least "$nfiles" $(( mb * 1024 * 1024 / max )) "rotated by size"
# shellcheck disable=SC2086
if cmp -s <(cat $files) <(writer); then pass; else
	fail "lines lost, split, doubled or reordered across the rotated files"
fi
# shellcheck disable=SC2086
expect_eq "$(cat $files | wc -l)" "$lines" "every line, once"
too_big=0
for f in $files; do
	[ "$(stat -c %s "$f")" -le "$max" ] || too_big=$((too_big + 1))
	[ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ] || fail "$f ends inside a line"
done
expect_eq "$too_big" 0 "no file is larger than output_max_size"
echo "logfiles.sh: $nfiles files, $(wc -l <"$T/log/w.log.1") lines in w.log.1"
rm -rf "$T/log"

# A small limit with few backups: the oldest go, the newest stay whole.
mkdir "$T/few"
cat >"$T/few.ini" <<INI
[worker:few]
command = seq 1 20000
output = file:$T/few/f.log
output_max_size = 10K
output_backups = 2
critical = yes
INI
run "$GRACED" -c "$T/few.ini"
expect_rc 0 "the small writer exited 0"
expect_eq "$(ls "$T/few" | tr '\n' ' ')" "f.log f.log.1 f.log.2 " "two backups are kept"
expect_eq "$(tail -1 "$T/few/f.log")" "20000" "the last line is in f.log"
if cmp -s <(cat "$T/few/f.log.2" "$T/few/f.log.1" "$T/few/f.log") \
    <(seq "$(head -1 "$T/few/f.log.2")" 20000); then pass; else
	fail "the kept files are not one run of lines"
fi

# stderr = stdout (the default with output = file:): both streams in one file, whole lines.
cat >"$T/both.ini" <<INI
[worker:both]
command = sh -c 'for i in \$(seq 1 3000); do echo "out \$i padding-padding-padding"; echo "err \$i padding-padding-padding" >&2; done'
output = file:$T/both.log
critical = yes
INI
run "$GRACED" -c "$T/both.ini"
expect_rc 0 "stderr = stdout"
expect_eq "$(grep -c '^out [0-9]* padding-padding-padding$' "$T/both.log")" 3000 "stdout's lines whole"
expect_eq "$(grep -c '^err [0-9]* padding-padding-padding$' "$T/both.log")" 3000 "stderr's lines whole"
expect_eq "$(wc -l <"$T/both.log")" 6000 "nothing else in the file"
if cmp -s <(grep '^out' "$T/both.log" | cut -d' ' -f2) <(seq 3000) &&
    cmp -s <(grep '^err' "$T/both.log" | cut -d' ' -f2) <(seq 3000); then pass; else
	fail "each stream's lines keep their order"
fi
expect_not_in "$T/err" "err 1 " "nothing on graced's stderr"

# stderr = file:PATH: its own file; stderr = separate: graced's stderr.
cat >"$T/sep.ini" <<INI
[worker:sep]
command = $GW --lines 5 --stderr-lines 3 --last-partial
output = file:$T/sep-out.log
stderr = file:$T/sep-err.log

[worker:plain]
command = $GW --lines 2 --stderr-lines 2
output = file:$T/plain.log
stderr = separate
INI
run "$GRACED" -c "$T/sep.ini"
expect_rc 0 "stderr = file: and separate"
expect_eq "$(cat "$T/sep-out.log")" "$(seq 1 5 | sed 's/^/line /')" "stdout in its file, the partial last line ended"
expect_eq "$(cat "$T/sep-err.log")" "$(printf 'err 1\nerr 2\nerr 3')" "stderr in its own file"
expect_eq "$(cat "$T/plain.log")" "$(printf 'line 1\nline 2')" "stdout alone in the file"
expect_eq "$(grep -c '^err [12]$' "$T/err")" 2 "stderr = separate: graced's stderr"
expect_eq "$(stat -c %a "$T/sep-out.log")" 640 "created with mode 0640"

# Instances share one file: their lines interleave whole.
cat >"$T/inst.ini" <<INI
[worker:many]
command = $GW --lines 20000
instances = 3
output = file:$T/many.log
output_max_size = 0
INI
run "$GRACED" -c "$T/inst.ini"
expect_rc 0 "three instances"
expect_eq "$(grep -c '^line [0-9]*$' "$T/many.log")" 60000 "every instance's lines, whole"
expect_eq "$(cut -d' ' -f2 "$T/many.log" | sort -n | uniq -c | awk '$1 != 3' | wc -l)" 0 \
    "each number from each instance"

# stderr = stdout and stderr = file: with the other output modes.
cat >"$T/modes.ini" <<INI
[worker:pre]
command = $GW --lines 2 --stderr-lines 2
output = prefix
stderr = stdout

[worker:inh]
command = $GW --lines 1 --stderr-lines 1 --name inh
stderr = stdout

[worker:tofile]
command = $GW --lines 1 --stderr-lines 2
output = prefix
stderr = file:$T/tofile.err
INI
run "$GRACED" -c "$T/modes.ini"
expect_rc 0 "other output modes"
expect_eq "$(grep -c '^pre| err [12]$' "$T/out")" 2 "prefix, stderr = stdout: on graced's stdout"
expect_eq "$(grep -c '^err 1$' "$T/out")" 1 "inherit, stderr = stdout: graced's stdout"
expect_eq "$(grep -c '^err' "$T/err")" 0 "nothing of theirs on graced's stderr"
expect_eq "$(cat "$T/tofile.err")" "$(printf 'err 1\nerr 2')" "prefix, stderr = file:"
expect_in "$T/out" "tofile| line 1" "its stdout still prefixed"

# The last lines of a stopped worker reach the file: it writes them (more than a pipe holds) on
# SIGTERM, then exits.
cat >"$T/stop.ini" <<INI
[worker:stopper]
command = sh -c 'trap "seq 1 50000 | sed s/^/bye-/; exit 0" TERM; echo started; while :; do sleep 0.05; done'
output = file:$T/stop.log
INI
start_graced -c "$T/stop.ini"
started() { grep -q '^started$' "$T/stop.log" 2>/dev/null; }
wait_for 10 started || fail "the worker's first line in its file"
kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "stopped"
expect_eq "$(grep -c '^bye-' "$T/stop.log")" 50000 "every line written while stopping"
expect_eq "$(tail -1 "$T/stop.log")" "bye-50000" "up to the last"

# Config errors, at --check with FILE:LINE.
cat >"$T/bad.ini" <<INI
[worker:a]
command = /bin/true
output = file:$T/no/such/dir/a.log
stderr = file:$T/no/such/dir/a.err
output_max_size = 10X
output_backups = -1

[worker:b]
command = /bin/true
output = file:relative.log
stderr = inherit
output_max_size = 1.5M

[worker:c]
command = /bin/true
output = file
output_max_size = 2000000G
INI
run "$GRACED" -c "$T/bad.ini" --check
expect_rc 2 "bad log file settings"
expect_in "$T/err" "bad.ini:3: output: cannot use the directory '$T/no/such/dir' of log file '$T/no/such/dir/a.log': No such file or directory" "missing directory"
expect_in "$T/err" "bad.ini:4: stderr: cannot use the directory" "missing directory for stderr"
expect_in "$T/err" "bad.ini:5: invalid size '10X' for output_max_size" "bad suffix"
expect_in "$T/err" "bad.ini:6: invalid number '-1' for output_backups" "bad backups"
expect_in "$T/err" "bad.ini:10: invalid path 'relative.log' for output" "relative path"
expect_in "$T/err" "bad.ini:11: invalid value 'inherit' for stderr (expected stdout, separate or file:PATH)" "bad stderr"
expect_in "$T/err" "bad.ini:12: invalid size '1.5M'" "fraction"
expect_in "$T/err" "bad.ini:16: invalid value 'file' for output (expected inherit, prefix, journal or file:PATH)" "file without a path"
expect_in "$T/err" "bad.ini:17: invalid size '2000000G'" "too large"
# The same file at start: the config error, nothing started.
run "$GRACED" -c "$T/bad.ini"
expect_rc 2 "refused at start"
expect_in "$T/err" "bad.ini:3: output: cannot use the directory" "said at start"

# A log file that cannot be opened at start (here a directory stands at its path): the start
# fails with an error naming the worker and the file.
mkdir "$T/isdir"
cat >"$T/isdir.ini" <<INI
[worker:g]
command = /bin/true
output = file:$T/isdir
critical = yes
INI
run "$GRACED" -c "$T/isdir.ini"
expect_rc 1 "the start fails"
expect_in "$T/err" "Worker 'g': cannot open log file '$T/isdir': Is a directory" "the error names the file"

# gracectl reopen-logs: after the file was moved away (as logrotate does), the lines go to a new
# file at the path; no line is lost or doubled between the two. A path that cannot be opened
# (a directory stands there) fails the request (1) and the lines go on to the open file.
: "${GRACECTL:=$GRACED_BUILDDIR/src/gracectl}"
mkdir "$T/ro"
printf 'import time\nfor i in range(1, 100001):\n    print(i)\n    time.sleep(0.002)\n' >"$T/ro/count.py"
cat >"$T/reopen.ini" <<INI
[supervisor]
control_socket = $T/ro/ctl.sock
[worker:w]
command = python3 -u $T/ro/count.py
output = file:$T/ro/w.log
INI
lines_in() { [ -s "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }
start_graced -c "$T/reopen.ini"
wait_for 10 lines_in "$T/ro/w.log" 20 || fail "no lines in w.log"
mv "$T/ro/w.log" "$T/ro/w.log.moved"
wait_for 10 lines_in "$T/ro/w.log.moved" 40 || fail "the moved file stopped growing"
run $GRACECTL -s "$T/ro/ctl.sock" --json status w
expect_eq "$(python3 -c 'import json, sys; i = json.load(sys.stdin)["instances"][0]; print(i["log"], "stderr_log" in i)' <"$T/out")" \
    "$T/ro/w.log False" "status gives the log file"
run $GRACECTL -s "$T/ro/ctl.sock" reopen-logs
expect_rc 0 "reopen-logs"
expect_in "$T/out" "Log files reopened" "said so"
wait_for 10 lines_in "$T/ro/w.log" 20 || fail "no lines in the reopened w.log"
mv "$T/ro/w.log" "$T/ro/w.log.second"
mkdir "$T/ro/w.log"
run $GRACECTL -s "$T/ro/ctl.sock" reopen-logs
expect_rc 1 "reopen-logs fails when a path cannot be opened"
expect_in "$T/err" "cannot reopen every log file: Is a directory" "the error says why"
n=$(wc -l <"$T/ro/w.log.second")
wait_for 10 lines_in "$T/ro/w.log.second" $((n + 20)) || fail "the old file stopped taking lines"
kill -TERM "$GPID"
wait_graced 20
expect_rc 0 "stopped cleanly"
# Every number from 1 up to the last one written, once, in order, across the three files.
cat "$T/ro/w.log.moved" "$T/ro/w.log.second" >"$T/ro/all"
last=$(tail -n1 "$T/ro/all")
if cmp -s "$T/ro/all" <(seq 1 "$last"); then pass; else
	fail "lines lost, doubled or reordered at the reopen"
fi
expect_at_least "$last" 60 "the worker wrote across both reopens"

finish
