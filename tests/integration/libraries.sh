#!/bin/bash
# What graced maps while it runs a command: no libsystemd (and none of the libraries behind it)
# until a feature only libsystemd has is used; the static build maps no shared library at all.
. "$TEST_LIB"

start_graced -q -- "$GW" --name main --log "$EV"
wait_for 10 grep -qs ' main start' "$EV" || fail "the command did not start"
cat "/proc/$GPID/maps" >"$T/maps"
expect_in "$T/maps" "[stack]" "graced's maps were read"
expect_not_in "$T/maps" libsystemd "graced -- CMD has not loaded libsystemd"
expect_not_in "$T/maps" libgcrypt "nor libgcrypt behind it"
if [ "$(ldd "$GRACED" 2>&1 | tr -d '\t ')" = notadynamicexecutable ]; then
	expect_not_in "$T/maps" '.so' "the static build maps no shared library"
fi
kill -TERM "$GPID"
wait_graced 15
expect_rc 0 "the command exited 0 on SIGTERM, and so did graced"
finish
