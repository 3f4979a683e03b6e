#!/bin/bash
# Control bytes from the input never reach the terminal: --check and --plan of a config with ESC
# and DEL in a section name, a key, values and a command; command-line values; a worker's
# STATUS= notification in the log. Each comes back escaped (\x1b, \x7f).
. "$TEST_LIB"

GN=${GRACED_BUILDDIR:-.}/tests/integration/helpers/gnotify

# no_raw FILE WHAT: FILE has no control byte but newline, no DEL, no C1 (U+0080..U+009F).
no_raw() {
	if LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$1"; then
		fail "$2: raw control bytes in $(basename "$1"): $(od -c "$1" | head -20)"
	else
		pass
	fi
}

printf '[worker:a]\ncommand = /bin/true\nstop_timeout = 5\033[31ms\177\nke\033y = v\nrestart = al\177ways\n[wo\033rker:b]\n[worker:c\177]\n[worker:e]\ncommand = x\nafter = \302\233\n' >"$T/bad.ini"
run "$GRACED" -c "$T/bad.ini" --check
expect_rc 2 "bad config"
cat "$T/out" "$T/err" >"$T/all"
no_raw "$T/all" "--check"
expect_in "$T/err" "invalid duration '5\\x1b[31ms\\x7f' for stop_timeout" "value escaped"
expect_in "$T/err" "unknown key 'ke\\x1by' in [worker:a]" "key escaped"
expect_in "$T/err" "unknown section [wo\\x1brker:b]" "section escaped"
expect_in "$T/err" "invalid name 'c\\x7f' in [worker:c\\x7f]" "name escaped"
expect_in "$T/err" "invalid name '\\xc2\\x9b' in after" "C1 control escaped"

# A valid config whose command and paths hold control bytes: --check and --plan.
printf '[supervisor]\npidfile = %s/g\033[2J.pid\n[worker:w]\ncommand = /bin/echo \033]0;owned\007 \177\n' "$T" >"$T/ok.ini"
run "$GRACED" -c "$T/ok.ini" --plan
expect_rc 0 "--plan"
cat "$T/out" "$T/err" >"$T/all"
no_raw "$T/all" "--plan"
expect_in "$T/out" "g\\x1b[2J.pid: remove" "pidfile escaped in the plan"
run "$GRACED" -c "$T/ok.ini" --check
expect_rc 0 "--check of a valid config"
no_raw "$T/out" "--check of a valid config"

# Command-line values and paths.
run "$GRACED" -c "$T/missing"$'\e[31m'.ini --check
expect_rc 2 "missing config"
cat "$T/out" "$T/err" >"$T/all"
no_raw "$T/all" "a missing config's path"
expect_in "$T/err" 'missing\x1b[31m.ini' "the path escaped"
run "$GRACED" --stop-timeout $'5\e[2J' -- /bin/true
expect_rc 2 "bad option value"
no_raw "$T/err" "an option's value"
expect_in "$T/err" "invalid value '5\\x1b[2J' for --stop-timeout" "the value escaped"
run "$GRACED" $'--\e[2Jx'
expect_rc 2 "unknown option"
no_raw "$T/err" "an unknown option"
run "$GRACED" --plan -- /bin/echo $'\e]0;owned\a'
expect_rc 0 "--plan of a command"
no_raw "$T/out" "--plan of a command"

# A worker's STATUS= with what a notification can hold (C0 and DEL make it invalid): a tab, a
# C1 CSI (U+009B, which some terminals act on like ESC [) and a byte that is not UTF-8.
cat >"$T/n.ini" <<INI
[worker:n]
command = $GN --name n --log $EV send READY=1 send "STATUS=$(printf 'a\tb\302\23331mred\377')end" wait
ready = notify
INI
start_graced -c "$T/n.ini" -v
wait_for 10 grep -q 'Worker .n. status' "$T/graced.log" || fail "the status was not logged"
kill -TERM "$GPID"
wait_graced 10
expect_rc 0 "clean shutdown"
no_raw "$T/graced.log" "the log"
expect_in "$T/graced.log" 'status: a\tb\xc2\x9b31mred\xffend' "the status escaped"

finish
