#!/bin/bash
# output = prefix loses no line: 10,000 lines, the last one without a newline, in order, each
# tagged with the instance; stderr goes to graced's stderr, tagged the same way.
. "$TEST_LIB"

cat >"$T/o.ini" <<INI
[worker:talker]
command = $GW --lines 10000 --last-partial --stderr-lines 3
output = prefix
critical = yes
INI
run "$GRACED" -c "$T/o.ini"
expect_rc 0 "every worker exited 0"
grep '^talker| ' "$T/out" >"$T/talker"
expect_eq "$(wc -l <"$T/talker")" 10000 "10,000 lines"
seq 1 10000 | sed 's/^/talker| line /' >"$T/want"
if cmp -s "$T/want" "$T/talker"; then pass; else fail "lines lost, reordered or altered"; fi
expect_eq "$(grep -c '^err [0-9]' "$T/err")" 0 "stderr lines are tagged"
expect_eq "$(grep -c '^talker| err [123]$' "$T/err")" 3 "stderr lines go to graced's stderr"

# output = journal: to journald when it runs; here, without one, graced says so and the
# worker's output is inherited rather than lost.
if [ -S /run/systemd/journal/stdout ]; then
	echo "journald runs here: output = journal goes to it, not checked further"
else
	cat >"$T/j.ini" <<INI
[worker:j]
command = $GW --lines 1
output = journal
critical = yes
INI
	run "$GRACED" -c "$T/j.ini"
	expect_rc 0 "output = journal without journald"
	expect_in "$T/err" "cannot reach the journal for output = journal, inheriting" "journal fallback is said"
	expect_eq "$(cat "$T/out")" "line 1" "the line is not lost"
fi

# Instances are tagged apart: web.0, web.1.
cat >"$T/p.ini" <<INI
[worker:pair]
command = $GW --lines 2
instances = 2
output = prefix
INI
start_graced -c "$T/p.ini"
pair_lines() { [ "$(grep -c '^pair\.[01]| line [12]$' "$T/graced.out")" -ge 4 ]; }
wait_for 10 pair_lines || fail "each instance is tagged: $(cat "$T/graced.out")"
# Both exit 0, so nothing is left to run: graced ends on its own.
wait_graced 10
expect_rc 0 "both exited 0"
expect_eq "$(grep -c '^pair\.0| ' "$T/graced.out") $(grep -c '^pair\.1| ' "$T/graced.out")" "2 2" \
    "each instance is tagged"

finish
