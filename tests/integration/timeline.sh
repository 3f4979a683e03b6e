#!/bin/bash
# graced --timeline: the text rows match the report (one per step, per instance, per straggler,
# in its order), the SVG is well-formed XML with the same rows, -c marks the plan's budget, and a
# missing or malformed report is a usage error (exit 2) that says why.
. "$TEST_LIB"

cat >"$T/t.ini" <<INI
[supervisor]
report = $T/report.json
[shutdown]
stop_timeout = 300ms
join_timeout = 300ms
kill_timeout = 2s
deadline = 2s
[worker:web]
command = $GW --name web --log $EV
instances = 2
[worker:deaf]
command = $GW --name deaf --log $EV --ignore TERM,INT
after = db
[worker:db]
command = $GW --name db --log $EV
INI
start_graced -c "$T/t.ini"
wait_for 10 events_at_least 4 ' start ' || fail "workers did not start: $(cat "$T/graced.log")"
kill -TERM "$GPID"
wait_graced 20
expect_rc 1 "forced shutdown (deaf was killed)"

# The labels the report implies: steps, then instances (name.N when a worker has several), then
# stragglers as "pid N".
want=$(json '"|".join([s["name"] for s in r["steps"]] + [w["name"] + ("." + str(w["instance"]) if [x["name"] for x in r["workers"]].count(w["name"]) > 1 else "") for w in r["workers"]] + ["pid %d" % s["pid"] for s in r["stragglers"]])')
expect_eq "$want" "intake|stop|cancel|join|close|web.0|web.1|deaf|db" "the report's rows (sanity)"
# The report says when graced first signalled each worker and the plan's budget: db is after=
# nothing that deaf is not, so it is stopped only once deaf was killed.
expect_eq "$(json 'r["budget_ms"]')" 5200 "the report's budget is the plan's worst case"
expect_eq "$(json 'int(all(w["signal_ms"] is not None and w["signal_ms"] <= w["exit_ms"] for w in r["workers"]))')" 1 "every worker was signalled before it exited"
expect_eq "$(json '[w for w in r["workers"] if w["name"] == "db"][0]["signal_ms"] >= [w for w in r["workers"] if w["name"] == "deaf"][0]["exit_ms"]')" True "db signalled after deaf was killed"

run "$GRACED" --timeline "$T/report.json"
expect_rc 0 "--timeline"
# Rows are the lines after the axis (the line starting with spaces and +), blank lines aside.
rows() { awk 'axis && NF { print substr($0, 1, 14) } /^ +\+-/ { getline; axis = 1 }' "$1" | sed 's/ *$//' | paste -sd'|'; }
expect_eq "$(rows "$T/out")" "$want" "one text row per step and per instance, in the report's order"
expect_eq "$(awk 'length($0) > 79' "$T/out" | wc -l)" 0 "every line fits 80 columns"
expect_in "$T/out" "Scale: 1 column = " "the scale is shown"
expect_in "$T/out" "Budget (the plan's worst case): 5s200ms, marked ':'." "the report's budget is marked"
expect_eq "$(grep -cE '^deaf +-+K +: killed SIGKILL, join, ' "$T/out")" 1 "deaf's bar ends in K at its exit"
# db's bar starts at its signal, after deaf's end: not at the trigger.
expect_at_least "$(awk '/^db / { print index(substr($0, 16), "|") }' "$T/out")" 4 "db's bar starts at its signal"
expect_eq "$(grep -cE '^web\.[01] +-*\|.* exited 0, stop, ' "$T/out")" 2 "web's instances exited"

# -c: the plan's worst case and the deadline are marked.
run "$GRACED" --timeline "$T/report.json" -c "$T/t.ini"
expect_rc 0 "--timeline -c"
expect_in "$T/out" "Budget (the plan's worst case): 5s200ms, marked ':'." "the budget"
expect_in "$T/out" "Deadline: 2s, marked '!'." "the deadline"
expect_eq "$(grep -E '^ +\+-' "$T/out" | grep -c 'D.*B')" 1 "the axis marks them"

# The SVG: well-formed, one group per row, in order.
run "$GRACED" --timeline "$T/report.json" --svg "$T/t.svg"
expect_rc 0 "--svg"
svg_rows() {
	python3 -c '
import sys, xml.etree.ElementTree as E
ns = "{http://www.w3.org/2000/svg}"
root = E.parse(sys.argv[1]).getroot()
assert root.tag == ns + "svg", root.tag
print("|".join(g.find(ns + "text").text for g in root.iter(ns + "g")))' "$1"
}
expect_eq "$(svg_rows "$T/t.svg" 2>&1)" "$want" "the SVG parses and has the same rows"
expect_eq "$(stat -c %a "$T/t.svg")" "$(printf '%o' $((0644 & ~$(umask))))" "the SVG's mode"

# A report with names no configuration allows (edited, or from elsewhere): the SVG escapes them,
# the text shows no raw control byte.
cat >"$T/odd.json" <<'JSON'
{"supervisor": "a<b>&\"c'", "exit_code": 0, "trigger": "x\u0001\u001b[2J\u009b\ufffe",
 "steps": [{"name": "stop", "start_ms": 0, "end_ms": 10}],
 "workers": [{"name": "w<&>\"\u0007", "instance": 0, "pid": 1, "outcome": "exited", "step": "stop",
  "exit_code": 0, "term_signal": null, "exit_ms": 5}],
 "stragglers": [], "intakes": [], "tasks_pending_at_exit": 0, "output_dropped_bytes": 0}
JSON
run "$GRACED" --timeline "$T/odd.json" --svg -
expect_rc 0 "--svg - with odd names"
expect_eq "$(python3 -c '
import sys, xml.etree.ElementTree as E
root = E.fromstring(sys.stdin.buffer.read())
texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
want = "Shutdown of \x27a<b>&\"c\x27\x27, trigger \x27x\ufffd\ufffd[2J\x9b\ufffd\x27, exit status 0"
print(texts[0] == want and "w<&>\"\ufffd" in texts or ascii(texts))' <"$T/out" 2>&1)" \
    True "markup escaped, what XML cannot hold replaced"
run "$GRACED" --timeline "$T/odd.json"
expect_rc 0 "text with odd names"
expect_eq "$(LC_ALL=C grep -c '[[:cntrl:]]' "$T/out")" 0 "no control byte reaches the terminal"
# A report without budget_ms or signal_ms (an older graced's): the budget is said to be unknown,
# the bars start at the trigger.
expect_in "$T/out" "Budget: not in the report" "without budget_ms, the budget is unknown"

# Missing, malformed, not a report: exit 2 with the reason.
run "$GRACED" --timeline "$T/none.json"
expect_rc 2 "a missing report"
expect_in "$T/err" "graced: --timeline $T/none.json: not a readable graced report: unable to open" "... says so"
printf '{"supervisor": "x", "exit_code": ' >"$T/cut.json"
run "$GRACED" --timeline "$T/cut.json"
expect_rc 2 "a cut report"
expect_in "$T/err" "not a readable graced report: line 1:" "... names the line"
echo '{"supervisor": "x", "exit_code": 0, "trigger": "", "steps": [{"name": "stop"}], "workers": []}' >"$T/odd2.json"
run "$GRACED" --timeline "$T/odd2.json"
expect_rc 2 "a report without step times"
expect_in "$T/err" "steps[0]: Object item not found: start_ms" "... names the field"
run "$GRACED" --svg "$T/x.svg"
expect_rc 2 "--svg without --timeline"
[ -e "$T/x.svg" ] && fail "an SVG was written" || pass

finish
