#!/bin/bash
# Terminal job control through a pty with a real interactive bash: Ctrl+Z stops the job (bash
# sees it stopped), fg resumes it and the command continues, Ctrl+D ends it.
. "$TEST_LIB"

command -v bash >/dev/null && command -v python3 >/dev/null || { echo "skipping: no bash or python3"; exit 77; }
run python3 "$SRC/tests/integration/helpers/jobshell.py" "$GRACED" "$T/cat.out"
expect_rc 0 "job control through a pty"
[ "$rc" -eq 0 ] || sed 's/^/  | /' "$T/out" >&2
finish
