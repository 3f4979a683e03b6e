/* SPDX-License-Identifier: MIT */
/*
 * GET /status's body (readiness.c) read back with a real JSON parser: whatever an instance is
 * called, the body parses and says the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "config.h"
#include "intake.h"
#include "report.h"
#include "supervisor.h"

static struct config config = { .supervisor.name = "t" };
static struct worker_config wc = { .name = "w" };

static json_t *
status(const struct supervisor *sv)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	json_error_t error;
	json_t *j;

	assert_non_null(f);
	assert_int_equal(readiness_status_write(sv, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_true(n > 0 && text[n - 1] == '\n');
	j = json_loads(text, JSON_REJECT_DUPLICATES, &error);
	if (!j)
		fail_msg("/status does not parse: %s\n%s", error.text, text);
	free(text);
	return j;
}

static void
test_status_names(void **state)
{
	/* Names the configuration refuses today (parse.c name_is_valid()), but the body must not
	 * depend on that: quotes, a backslash, control bytes, invalid UTF-8. */
	static const char *const names[] = { "web.0", "a\"b\\c", "tab\there\x01\x1b[31m", "bad\xff" };
	static const char *const decoded[] = { "web.0", "a\"b\\c", "tab\there\x01\x1b[31m",
		"bad\xef\xbf\xbd" };
	struct instance in[ELEMENTSOF(names)] = {};
	struct worker w = { .config = &wc, .instances = in, .n_instances = ELEMENTSOF(names) };
	struct supervisor sv = { .config = &config, .workers = &w, .n_workers = 1,
		.phase = _PHASE_INVALID };
	json_t *j, *workers;

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		snprintf(in[i].name, sizeof(in[i].name), "%s", names[i]);
		in[i].running = in[i].ready = true;
		in[i].pid = (pid_t) (100 + i);
	}
	in[1].ready = false;
	j = status(&sv);
	assert_string_equal(json_string_value(json_object_get(j, "step")), "running");
	assert_true(json_is_false(json_object_get(j, "ready")));
	workers = json_object_get(j, "workers");
	assert_int_equal(json_array_size(workers), ELEMENTSOF(names));
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		json_t *o = json_array_get(workers, i);

		assert_string_equal(json_string_value(json_object_get(o, "name")), decoded[i]);
		assert_int_equal(json_integer_value(json_object_get(o, "pid")), 100 + i);
		assert_true(json_is_true(json_object_get(o, "running")));
		assert_int_equal(json_is_true(json_object_get(o, "ready")), i != 1);
	}
	json_decref(j);
}

static void
test_status_stopping(void **state)
{
	struct instance in = { .name = "db", .running = false, .n_starts = 3, .exited_at = 1,
		.status = 9 /* killed by SIGKILL */ };
	struct worker w = { .config = &wc, .instances = &in, .n_instances = 1, .step = PHASE_JOIN };
	struct report report = { .trigger = "SIGTERM" };
	struct supervisor sv = { .config = &config, .report = &report, .workers = &w, .n_workers = 1,
		.stopping = true, .phase = PHASE_JOIN };
	json_t *j = status(&sv), *o;

	assert_string_equal(json_string_value(json_object_get(j, "step")), "join");
	assert_true(json_is_false(json_object_get(j, "ready")));
	assert_true(json_is_true(json_object_get(j, "stopping")));
	assert_string_equal(json_string_value(json_object_get(j, "trigger")), "SIGTERM");
	o = json_array_get(json_object_get(j, "workers"), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "pid")), 0);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "exited");
	assert_int_equal(json_integer_value(json_object_get(o, "restarts")), 2);
	assert_string_equal(json_string_value(json_object_get(o, "step")), "join");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "last_exit"), "signal")),
	    "SIGKILL");
	assert_null(json_object_get(o, "uptime_ms"));
	json_decref(j);
}

static char *
ready_text(const struct supervisor *sv)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	assert_non_null(f);
	assert_int_equal(readiness_ready_text(sv, f), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* GET /ready's body: an instance that gave up is named, a starting one is not; uptime is read
 * from the instance's start time. */
static void
test_ready_failed(void **state)
{
	struct instance in[3] = {
		{ .name = "w.0", .running = true, .ready = true, .pid = 10, .n_starts = 1,
		    .started_at = 1 },
		{ .name = "w.1", .failed = true, .n_starts = 5, .exited_at = 1, .status = 1 << 8 },
		{ .name = "w.2", .n_starts = 0 },
	};
	struct worker w = { .config = &wc, .instances = in, .n_instances = 3 };
	struct supervisor sv = { .config = &config, .workers = &w, .n_workers = 1,
		.phase = _PHASE_INVALID };
	char *t;
	json_t *j, *o;

	t = ready_text(&sv);
	assert_string_equal(t, "failed: w.1\n");
	free(t);
	in[0].failed = true;
	in[0].running = false;
	t = ready_text(&sv);
	assert_string_equal(t, "failed: w.0, w.1\n");
	free(t);
	in[0].failed = in[1].failed = false;
	in[0].running = true;
	in[1].finished = true; /* done for good: a one-shot */
	t = ready_text(&sv);
	assert_string_equal(t, "starting\n");
	free(t);
	in[2].running = in[2].ready = true;
	in[2].pid = 12;
	t = ready_text(&sv);
	assert_string_equal(t, "ready\n");
	free(t);

	in[1].finished = false;
	in[1].failed = true;
	j = status(&sv);
	assert_true(json_is_false(json_object_get(j, "ready")));
	o = json_array_get(json_object_get(j, "workers"), 1);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "failed");
	assert_int_equal(json_integer_value(json_object_get(o, "restarts")), 4);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "last_exit"), "status")), 1);
	o = json_array_get(json_object_get(j, "workers"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "ready");
	assert_true(json_integer_value(json_object_get(o, "uptime_ms")) >= 0);
	assert_null(json_object_get(o, "last_exit"));
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_status_stopping),
		cmocka_unit_test(test_ready_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
