#!/bin/bash
# The unit files: systemd-analyze verify finds nothing to complain about (skipped with a reason
# when it is not installed), and the settings graced depends on are there: Type=notify,
# NotifyAccess=main, KillMode=mixed, a watchdog, ExecReload= by gracectl, a TimeoutStopSec=
# above the worst case of etc/graced.ini's plan, and a socket named for listen = systemd:web.
. "$TEST_LIB"

U=$T/units
mkdir -p "$U"
bindir=$(dirname "$GRACED")
for f in graced.service graced@.service; do
	sed -e "s|@bindir@|$bindir|g" -e "s|@sysconfdir@|/etc|g" "$SRC/systemd/$f.in" >"$U/$f"
done
cp "$U/graced@.service" "$U/graced@shop.service"
cp "$SRC/systemd/graced.socket" "$U/"

expect_in "$U/graced.service" "Type=notify" "Type=notify"
expect_in "$U/graced.service" "NotifyAccess=main" "NotifyAccess=main"
expect_in "$U/graced.service" "KillMode=mixed" "KillMode=mixed"
expect_in "$U/graced.service" "WatchdogSec=" "WatchdogSec="
expect_in "$U/graced.service" "ExecStart=$bindir/graced -c /etc/graced/graced.ini" "ExecStart= names the installed binary"
expect_in "$U/graced@shop.service" "ExecStart=$bindir/graced -c /etc/graced/%i.ini" "one instance per /etc/graced/%i.ini"
expect_in "$U/graced.service" "ExecReload=$bindir/gracectl -c /etc/graced/graced.ini reload" "systemctl reload waits for gracectl reload"
expect_in "$U/graced@shop.service" "ExecReload=$bindir/gracectl -c /etc/graced/%i.ini reload" "the instance's reload names its own file"
for key in PrivatePIDs SystemCallFilter CapabilityBoundingSet MemoryDenyWriteExecute; do
	if grep -q "^$key=" "$U/graced.service"; then fail "$key= would break supervision"; else pass; fi
done
expect_in "$U/graced.socket" "FileDescriptorName=web" "the socket is named for listen = systemd:web"

# TimeoutStopSec= is above the worst case of the example configuration's plan.
run "$GRACED" -c "$SRC/etc/graced.ini" --plan
worst=$(sed -n 's/^Worst case: .* = \([0-9]*\)s$/\1/p' "$T/out")
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$U/graced.service")
expect_between "$stop" "$((worst + 1))" 600 "TimeoutStopSec=${stop}s above the plan's worst case ${worst}s"

if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze is not installed (Debian package systemd)"
	finish
fi
# verify warns on stderr (and still exits 0) for a setting it cannot parse: both must be clean.
(cd "$U" && systemd-analyze verify --man=no graced.service graced@shop.service graced.socket) \
    >"$T/verify.out" 2>"$T/verify.err"
rc=$?
expect_rc 0 "systemd-analyze verify"
if [ -s "$T/verify.err" ]; then fail "systemd-analyze verify: $(cat "$T/verify.err")"; else pass; fi
finish
