#!/bin/bash
# limit_nofile, limit_nproc, limit_core, limit_memlock, nice and oom_score_adjust reach the worker
# (issue 15): read back from /proc/PID/limits, /proc/PID/stat and /proc/PID/oom_score_adj of real
# workers, one of them switched to another user after its limits were raised. A limit the kernel
# refuses fails the start with the stage and the errno. Raising a hard limit, a nice value below
# graced's and a lower OOM score need root (CAP_SYS_RESOURCE, CAP_SYS_NICE).
. "$TEST_LIB"

# Raising a hard limit and lowering the OOM score need CAP_SYS_RESOURCE, a negative nice value
# CAP_SYS_NICE (root in a container may lack the first): those parts run where they can.
can_raise=
(ulimit -Hl unlimited && ulimit -Hu unlimited) 2>/dev/null && can_raise=yes
can_nice=
[ "$(nice -n -1 nice 2>/dev/null)" = "$(($(nice) - 1))" ] && can_nice=yes
nobody=
[ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null && nobody=yes
# Above the kernel's nr_open: refused even to root.
nr_open=$(cat /proc/sys/fs/nr_open)

cat >"$T/l.ini" <<INI
[supervisor]
report = $T/report.json
[worker:a]
command = $GW --name a --log $EV
limit_nofile = 256:512
limit_nproc = 1000:2000
limit_core = 0:0
limit_memlock = 65536:65536
nice = 7
oom_score_adjust = 321
[worker:b]
command = sleep 1000
limit_nofile = 300
limit_core = 4096
[worker:plain]
command = $GW --name plain --log $EV
[worker:toomany]
command = $GW --name toomany --log $EV
limit_nofile = $((nr_open + 1))
INI
want=2
if [ -n "$can_raise" ]; then
	want=$((want + 1))
	cat >>"$T/l.ini" <<INI
[worker:raised]
command = $GW --name raised --log $EV
limit_nproc = 1000:infinity
limit_memlock = infinity
oom_score_adjust = -100
INI
fi
if [ -n "$can_nice" ]; then
	want=$((want + 1))
	cat >>"$T/l.ini" <<INI
[worker:urgent]
command = $GW --name urgent --log $EV
nice = -5
INI
fi
if [ -n "$nobody" ]; then
	cat >>"$T/l.ini" <<INI
[worker:nobody]
command = sleep 1000
user = nobody
limit_memlock = 4096:${can_raise:+infinity}${can_raise:-8192}
${can_nice:+nice = -3}
INI
fi

start_graced -c "$T/l.ini"
wait_for 10 events_at_least "$want" ' start ' || fail "the workers did not start"
wait_for 10 grep -q "Worker 'toomany' failed" "$T/graced.log" || fail "toomany not reported"

pid_of() {
	value pid "$(grep -E " $1 start " "$EV" | head -1)"
}
# limit NAME PID: "soft hard" of a line of /proc/PID/limits.
limit() {
	grep "^$1 " "/proc/$2/limits" | sed "s/^$1 *//" | awk '{print $1, $2}'
}
nice_of() {
	sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f17
}
# sleeping NAME: the pid of worker NAME, a sleep (not gworker: a sanitizer build of it sets its
# own core limit, and user nobody cannot write to the test's directory), once it runs sleep.
sleeping() {
	local n
	wait_for 10 grep -q "Started worker '$1'" "$T/graced.log" || { fail "$1 did not start"; return; }
	n=$(sed -n "s/.*Started worker '$1' (pid \([0-9]*\)).*/\1/p" "$T/graced.log")
	wait_for 10 grep -qx sleep "/proc/$n/comm" || fail "$1: not sleep"
	echo "$n"
}

a=$(pid_of a)
expect_eq "$(limit 'Max open files' "$a")" "256 512" "a: limit_nofile = 256:512"
expect_eq "$(limit 'Max processes' "$a")" "1000 2000" "a: limit_nproc = 1000:2000"
expect_eq "$(limit 'Max core file size' "$a")" "0 0" "a: limit_core = 0:0"
expect_eq "$(limit 'Max locked memory' "$a")" "65536 65536" "a: limit_memlock = 65536:65536"
expect_eq "$(nice_of "$a")" 7 "a: nice = 7"
expect_eq "$(cat "/proc/$a/oom_score_adj")" 321 "a: oom_score_adjust = 321"

b=$(sleeping b)
expect_eq "$(limit 'Max open files' "$b")" "300 300" "b: one value sets both"
expect_eq "$(limit 'Max core file size' "$b")" "4096 4096" "b: limit_core = 4096"

# What is not set is graced's own.
p=$(pid_of plain)
for l in 'Max open files' 'Max processes' 'Max core file size' 'Max locked memory'; do
	expect_eq "$(limit "$l" "$p")" "$(limit "$l" "$GPID")" "plain: $l as graced's"
done
expect_eq "$(nice_of "$p")" "$(nice_of "$GPID")" "plain: graced's nice"
expect_eq "$(cat "/proc/$p/oom_score_adj")" "$(cat "/proc/$GPID/oom_score_adj")" \
    "plain: graced's oom_score_adj"

if [ -n "$can_raise" ]; then
	r=$(pid_of raised)
	expect_eq "$(limit 'Max processes' "$r")" "1000 unlimited" "raised: limit_nproc = 1000:infinity"
	expect_eq "$(limit 'Max locked memory' "$r")" "unlimited unlimited" \
	    "raised: limit_memlock = infinity"
	expect_eq "$(cat "/proc/$r/oom_score_adj")" -100 "raised: oom_score_adjust = -100"
else
	echo "note: no CAP_SYS_RESOURCE here, the hard limits are not raised"
fi
if [ -n "$can_nice" ]; then
	expect_eq "$(nice_of "$(pid_of urgent)")" -5 "urgent: nice = -5"
else
	echo "note: no CAP_SYS_NICE here, no negative nice value"
fi
if [ -n "$nobody" ]; then
	n=$(sleeping nobody)
	expect_eq "$(stat -c %U "/proc/$n")" nobody "nobody: runs as nobody"
	expect_eq "$(limit 'Max locked memory' "$n")" "4096 ${can_raise:+unlimited}${can_raise:-8192}" \
	    "nobody: the limit set before the user switch"
	[ -n "$can_nice" ] && expect_eq "$(nice_of "$n")" -3 "nobody: nice = -3"
else
	echo "note: not root or no user nobody, no user switch"
fi

kill -TERM "$GPID"
wait_graced 10
expect_rc 1 "a failed worker: status 1"
expect_in "$T/graced.log" "Failed to start worker 'toomany' (limits " "the limits stage is named"
expect_in "$T/graced.log" "Operation not permitted" "with the errno"
expect_eq "$(count_events ' toomany start ')" 0 "toomany never ran"
expect_eq "$(json '[w["outcome"] for w in r["workers"] if w["name"] == "toomany"]')" "['failed']" \
    "toomany: failed"
expect_eq "$(json '[w["exit_code"] for w in r["workers"] if w["name"] == "toomany"]')" "[126]" \
    "toomany: 126 like a shell"

finish
