#!/bin/bash
# Many reloads in a row, each adding or removing one worker, in one graced: every reply comes,
# every unchanged worker keeps its pid, and graced still runs and stops cleanly. (bench/reload.py
# found graced dying here: the workers' name index keyed on names in a configuration a reload
# had freed; worker.c now indexes each worker by its own copy of its name.)
. "$TEST_LIB"

: "${GRACECTL:=$GRACED_BUILDDIR/src/gracectl}"
S=$T/ctl.sock
CTL="$GRACECTL -s $S"
C=$T/r.ini
N=40      # workers that must keep their pid
ROUNDS=6  # reload pairs: add "extra", remove it

# write_config WITH_EXTRA: the file, renamed into place at once.
write_config() {
	{
		printf '[supervisor]\nname = reloadrepeat\ncontrol_socket = %s\n' "$S"
		for i in $(seq 1 "$N"); do
			printf '[worker:w%d]\ncommand = %s --name w%d --log %s\n' "$i" "$GW" "$i" "$EV"
		done
		if [ "$1" = yes ]; then
			printf '[worker:extra]\ncommand = %s --name extra --log %s\n' "$GW" "$EV"
		fi
	} >"$C.tmp" && mv "$C.tmp" "$C"
}

# pids: "NAME=PID" of every instance of w1..wN, sorted, one line.
pids() {
	$CTL --json status 2>/dev/null | python3 -c '
import json, sys
r = json.loads(sys.stdin.readline())
print(" ".join("%s=%s" % (i["name"], i.get("pid")) for i in sorted(r["instances"], key=lambda i: i["name"])
               if i["name"] != "extra"))' 2>/dev/null
}

write_config no
start_graced -c "$C"
wait_for 15 events_at_least "$N" ' start ' || fail "workers did not start: $(tail -5 "$T/graced.log")"
wait_for 10 test -S "$S" || fail "no control socket"
before=$(pids)
for k in $(seq 1 "$ROUNDS"); do
	write_config yes
	run $CTL reload
	expect_rc 0 "round $k: gracectl reload adding worker extra"
	write_config no
	run $CTL reload
	expect_rc 0 "round $k: gracectl reload removing worker extra"
	if [ "$(pids_alive "$GPID")" != 1 ] || graced_gone; then
		fail "round $k: graced died: $(grep -E 'ERROR|SUMMARY|#[0-9] ' "$T/graced.log" | head -12)"
		break
	fi
done
expect_eq "$(pids)" "$before" "every unchanged worker keeps its pid across $ROUNDS add/remove pairs"
expect_eq "$(count_events ' w[0-9]+ signal')" 0 "no unchanged worker got a signal"
expect_eq "$(pids_alive "$GPID")" 1 "graced still runs"
kill -TERM "$GPID" 2>/dev/null
wait_graced 30
expect_rc 0 "clean shutdown after the reloads"

finish
