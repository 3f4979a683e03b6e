/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "report.h"
#include "util.h"

#define MS USEC_PER_MSEC

static char *
to_json(const struct report *r)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	assert_non_null(f);
	assert_int_equal(report_write_json(r, f), 0);
	fclose(f);
	return text;
}

static struct report *
sample(void)
{
	struct report *r = report_new("shop");
	struct report_straggler *s;
	struct report_worker *w;
	struct report_intake *i;

	assert_non_null(r);
	r->trigger = strdup("SIGTERM");
	r->triggered = 1000 * MS;
	r->exit_code = 1;
	r->steps[PHASE_INTAKE] = (struct report_step) { 1000 * MS, 1002 * MS };
	r->steps[PHASE_STOP] = (struct report_step) { 1002 * MS, 2002 * MS };
	r->steps[PHASE_CLOSE] = (struct report_step) { 2002 * MS, 2010 * MS };
	assert_non_null(w = report_add_worker(r, "web", 0));
	w->pid = 4242;
	w->step = PHASE_STOP;
	w->exit_code = 0;
	w->exit = 1500 * MS;
	assert_non_null(w = report_add_worker(r, "web", 1));
	w->pid = 4243;
	w->outcome = OUTCOME_KILLED;
	w->step = PHASE_JOIN;
	w->term_signal = 9;
	w->exit = 2001 * MS;
	assert_non_null(w = report_add_worker(r, "db", 0));
	w->outcome = OUTCOME_FAILED;
	assert_non_null(s = report_add_straggler(r, 77, "sleep 1000"));
	s->outcome = OUTCOME_KILLED;
	s->exit = 1900 * MS;
	assert_non_null(i = report_add_intake(r, "http", "socket"));
	assert_int_equal(report_intake_set(i, "shutdown", "ok"), 0);
	assert_non_null(report_add_intake(r, "lb", "exec"));
	r->tasks_pending_at_exit = 0;
	r->output_dropped_bytes = 4096;
	return r;
}

static void
test_json_shape(void **state)
{
	struct report *r = sample();
	char *json = to_json(r);

	assert_string_equal(json,
	    "{\"supervisor\": \"shop\", \"exit_code\": 1, \"trigger\": \"SIGTERM\",\n"
	    " \"steps\": [\n"
	    "  {\"name\": \"intake\", \"start_ms\": 0, \"end_ms\": 2},\n"
	    "  {\"name\": \"stop\", \"start_ms\": 2, \"end_ms\": 1002},\n"
	    "  {\"name\": \"close\", \"start_ms\": 1002, \"end_ms\": 1010}],\n"
	    " \"workers\": [\n"
	    "  {\"name\": \"web\", \"instance\": 0, \"pid\": 4242, \"outcome\": \"exited\", "
	    "\"step\": \"stop\", \"exit_code\": 0, \"term_signal\": null, \"exit_ms\": 500},\n"
	    "  {\"name\": \"web\", \"instance\": 1, \"pid\": 4243, \"outcome\": \"killed\", "
	    "\"step\": \"join\", \"exit_code\": null, \"term_signal\": 9, \"exit_ms\": 1001},\n"
	    "  {\"name\": \"db\", \"instance\": 0, \"pid\": 0, \"outcome\": \"failed\", "
	    "\"step\": null, \"exit_code\": null, \"term_signal\": null, \"exit_ms\": null}],\n"
	    " \"stragglers\": [\n"
	    "  {\"pid\": 77, \"command\": \"sleep 1000\", \"outcome\": \"killed\", \"exit_ms\": 900}],\n"
	    " \"intakes\": [\n"
	    "  {\"name\": \"http\", \"type\": \"socket\", \"action\": \"shutdown\", \"result\": \"ok\"},\n"
	    "  {\"name\": \"lb\", \"type\": \"exec\", \"action\": null, \"result\": null}],\n"
	    " \"tasks_pending_at_exit\": 0,\n"
	    " \"output_dropped_bytes\": 4096}\n");
	free(json);
	report_free(r);
}

static void
test_string_escaping(void **state)
{
	struct report *r = report_new("a\"b\\c\n\x01 \xc3\xa9 \xff");
	char *json = to_json(r);

	/* Quotes, backslashes and control bytes escaped, UTF-8 kept, invalid bytes replaced. */
	assert_non_null(strstr(json, "\"supervisor\": \"a\\\"b\\\\c\\n\\u0001 \xc3\xa9 \\ufffd\""));
	assert_non_null(strstr(json, "\"trigger\": \"\""));
	free(json);
	report_free(r);
}

static void
test_atomic_file(void **state)
{
	char dir[] = "/tmp/graced-test-report.XXXXXX", path[64], tmp[96];
	struct report *r = sample();
	char buf[2048];
	FILE *f;
	size_t n;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/report.json", dir);
	assert_int_equal(report_write_file(r, path), 0);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "\"tasks_pending_at_exit\": 0,"));
	/* No temporary file is left behind. */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long) getpid());
	assert_int_equal(access(tmp, F_OK), -1);

	/* A directory that does not exist is an error, not a crash. */
	snprintf(path, sizeof(path), "%s/missing/report.json", dir);
	assert_int_equal(report_write_file(r, path), -ENOENT);
	snprintf(path, sizeof(path), "%s/report.json", dir);
	unlink(path);
	rmdir(dir);
	report_free(r);
}

static void
test_outcome_strings(void **state)
{
	assert_string_equal(outcome_to_string(OUTCOME_ABANDONED), "abandoned");
	assert_int_equal(outcome_from_string("cancelled"), OUTCOME_CANCELLED);
	assert_int_equal(outcome_from_string("bogus"), _OUTCOME_INVALID);
	assert_null(outcome_to_string(_OUTCOME_MAX));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_string_escaping),
		cmocka_unit_test(test_atomic_file),
		cmocka_unit_test(test_outcome_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
