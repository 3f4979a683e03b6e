/* SPDX-License-Identifier: MIT */
/*
 * graced --timeline's pure parts: the column of a time on the axis, the rows read from a report
 * (one per step, per instance, per straggler, in the report's order) and the refusal of what is
 * not a graced report.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "timeline.h"

static const char report[] =
    "{\"supervisor\": \"shop\", \"exit_code\": 1, \"trigger\": \"SIGTERM\","
    " \"steps\": [{\"name\": \"intake\", \"start_ms\": 0, \"end_ms\": 2},"
    "  {\"name\": \"stop\", \"start_ms\": 2, \"end_ms\": 1002},"
    "  {\"name\": \"close\", \"start_ms\": 1002, \"end_ms\": 1010}],"
    " \"workers\": ["
    "  {\"name\": \"web\", \"instance\": 0, \"pid\": 1, \"outcome\": \"exited\", \"step\": \"stop\","
    "   \"exit_code\": 0, \"term_signal\": null, \"exit_ms\": 500},"
    "  {\"name\": \"web\", \"instance\": 1, \"pid\": 2, \"outcome\": \"killed\", \"step\": \"join\","
    "   \"exit_code\": null, \"term_signal\": 9, \"exit_ms\": 1001},"
    "  {\"name\": \"db\", \"instance\": 0, \"pid\": 0, \"outcome\": \"failed\", \"step\": null,"
    "   \"exit_code\": null, \"term_signal\": null, \"exit_ms\": null}],"
    " \"stragglers\": [{\"pid\": 77, \"command\": \"sleep\", \"outcome\": \"abandoned\", \"exit_ms\": null}],"
    " \"intakes\": [], \"tasks_pending_at_exit\": 0, \"output_dropped_bytes\": 0}";

static struct timeline *
load(const char *text, int expect, const char *reason)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	struct timeline *t = NULL;
	char err[256] = "";

	assert_non_null(j);
	assert_int_equal(timeline_from_json(j, &t, err, sizeof(err)), expect);
	if (reason)
		assert_non_null(strstr(err, reason));
	json_decref(j);
	return t;
}

static void
test_column(void **state)
{
	assert_int_equal(timeline_column(0, 1000, 30), 0);
	assert_int_equal(timeline_column(-5, 1000, 30), 0);
	assert_int_equal(timeline_column(1000, 1000, 30), 29);
	assert_int_equal(timeline_column(5000, 1000, 30), 29);
	assert_int_equal(timeline_column(500, 1000, 30), 15);   /* 14.5 rounds up */
	assert_int_equal(timeline_column(1, 1000, 30), 0);
	assert_int_equal(timeline_column(1, 1, 30), 29);
	assert_int_equal(timeline_column(7, 0, 30), 0);
	assert_int_equal(timeline_column(7, 10, 0), 0);
	/* Huge times do not overflow. */
	assert_int_equal(timeline_column(INT64_C(1) << 50, INT64_C(1) << 51, 31), 15);
	/* Monotonic across the axis. */
	for (int64_t ms = 1, last = 0; ms <= 6010; ms++) {
		unsigned c = timeline_column(ms, 6010, 30);

		assert_true(c >= last && c < 30);
		last = c;
	}
}

static void
test_rows(void **state)
{
	struct timeline *t = load(report, 0, NULL);
	static const char *const labels[] = { "intake", "stop", "close", "web.0", "web.1", "db",
		"pid 77" };
	static const enum timeline_kind kinds[] = { TIMELINE_STEP, TIMELINE_STEP, TIMELINE_STEP,
		TIMELINE_INSTANCE, TIMELINE_INSTANCE, TIMELINE_INSTANCE, TIMELINE_STRAGGLER };

	assert_int_equal(t->n_rows, 7);
	for (size_t i = 0; i < t->n_rows; i++) {
		assert_string_equal(t->rows[i].label, labels[i]);
		assert_int_equal(t->rows[i].kind, kinds[i]);
	}
	assert_int_equal(t->rows[1].start_ms, 2);
	assert_int_equal(t->rows[1].end_ms, 1002);
	assert_int_equal(t->rows[4].end_ms, 1001);
	assert_string_equal(t->rows[4].note, "killed SIGKILL, join, 1001 ms");
	assert_string_equal(t->rows[5].note, "failed, before the shutdown, no exit time");
	assert_int_equal(t->rows[5].end_ms, -1);
	assert_int_equal(t->end_ms, 1010);
	assert_int_equal(t->budget_ms, -1);
	assert_int_equal(timeline_span(t), 1010);
	t->budget_ms = 5000;
	assert_int_equal(timeline_span(t), 5000);
	timeline_free(t);
}

static void
test_text_fits(void **state)
{
	struct timeline *t = load(report, 0, NULL);
	char *text = NULL, *line, *save = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	assert_non_null(f);
	t->budget_ms = 900;
	t->deadline_ms = 30000;
	assert_int_equal(timeline_print(t, f), 0);
	assert_int_equal(fclose(f), 0);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		assert_true(strlen(line) <= 79);
	free(text);
	timeline_free(t);
}

static void
test_not_a_report(void **state)
{
	assert_null(load("[1, 2]", -EBADMSG, ""));
	assert_null(load("{\"supervisor\": \"x\"}", -EBADMSG, "exit_code"));
	assert_null(load("{\"supervisor\": \"x\", \"exit_code\": 0, \"trigger\": \"\", \"steps\": {},"
			 " \"workers\": []}", -EBADMSG, "expected arrays"));
	assert_null(load("{\"supervisor\": \"x\", \"exit_code\": 0, \"trigger\": \"\", \"steps\": "
			 "[{\"name\": \"stop\", \"start_ms\": 5, \"end_ms\": 1}], \"workers\": []}",
	    -EBADMSG, "steps[0]"));
	assert_null(load("{\"supervisor\": \"x\", \"exit_code\": 0, \"trigger\": \"\", \"steps\": [],"
			 " \"workers\": [{\"name\": \"w\", \"instance\": 0, \"outcome\": \"exited\","
			 " \"step\": 3, \"exit_code\": null, \"term_signal\": null, \"exit_ms\": null}]}",
	    -EBADMSG, "workers[0]: step"));
	assert_null(load("{\"supervisor\": \"x\", \"exit_code\": 0, \"trigger\": \"\", \"steps\": [],"
			 " \"workers\": [{\"name\": \"w\", \"instance\": 0, \"outcome\": \"exited\","
			 " \"step\": null, \"exit_code\": null, \"term_signal\": null, \"exit_ms\": -4}]}",
	    -EBADMSG, "exit_ms"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_column),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_text_fits),
		cmocka_unit_test(test_not_a_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
