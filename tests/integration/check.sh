#!/bin/bash
# graced --check on the shipped example, on good files, and on every broken file under
# tests/config/bad: exit 2 and exactly the expected FILE:LINE errors, nothing started.
. "$TEST_LIB"

run "$GRACED" -c "$SRC/etc/graced.ini" --check
expect_rc 0 "etc/graced.ini"
expect_in "$T/out" "OK: 3 workers (4 instances)" "etc/graced.ini summary"
expect_eq "$(wc -c <"$T/err")" 0 "etc/graced.ini: nothing on stderr"

for f in "$SRC"/tests/config/good/*.ini "$SRC"/etc/examples/*.ini; do
	run "$GRACED" -c "$f" --check
	expect_rc 0 "good/$(basename "$f")"
done

n=0
for f in "$SRC"/tests/config/bad/*.ini; do
	name=bad/$(basename "$f")
	dir=$(dirname "$f")
	n=$((n + 1))
	run "$GRACED" -c "$f" --check
	expect_rc 2 "$name"
	expect_eq "$(wc -c <"$T/out")" 0 "$name: nothing on stdout"
	# Every FILE:LINE line, in order, exactly as expected; then the summary line.
	grep -E '^/' "$T/err" >"$T/got"
	sed "s|@DIR@|$dir|g" "${f%.ini}.expected" >"$T/want"
	if diff -u "$T/want" "$T/got" >"$T/diff"; then pass; else
		fail "$name: errors differ"
		cat "$T/diff" >&2
	fi
	expect_in "$T/err" "nothing started" "$name summary"
done
[ "$n" -ge 10 ] && pass || fail "expected at least 10 broken files, found $n"

# A plan longer than the deadline is a warning: exit 0, and the step to shorten is named.
cat >"$T/slow.ini" <<'INI'
[shutdown]
deadline = 10s
[worker:slow]
command = sleep 100
stop_timeout = 20s
INI
run "$GRACED" -c "$T/slow.ini" --check
expect_rc 0 "deadline exceeded is only a warning"
expect_in "$T/err" "warning: the worst-case shutdown 30s exceeds the deadline 10s ([shutdown] deadline); shorten level 1 (worker 'slow': stop_timeout 20s)" \
    "deadline warning"

finish
