/* SPDX-License-Identifier: MIT */
/*
 * GET /status's body (readiness.c) read back with a real JSON parser: whatever an instance is
 * called, the body parses and says the same. GET /ready's body names the instances that gave up.
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
#include "shutdown.h"
#include "status.h"
#include "straggler.h"
#include "worker-internal.h"

/* The intakes' view of the domain: the shutdown and the workers, one instance each. */
struct domain {
	struct shutdown sd;
	struct task_event changed;
	struct worker_context ctx;
	struct workers *ws;
	struct stragglers stragglers;
	usec_t started;
	struct status_source src;
	struct worker_config wc[4];
};

static struct instance *
domain_add(struct domain *d, size_t i, const char *name)
{
	struct worker *w;

	d->wc[i] = (struct worker_config) { .name = (char *) name, .instances = 1,
		.autostart = true };
	assert_int_equal(workers_add(d->ws, &d->wc[i], &w), 0);
	return w->instances[0];
}

static void
domain_init(struct domain *d)
{
	shutdown_init(&d->sd);
	task_event_init(&d->changed, "changed");
	d->ctx = (struct worker_context) { .shutdown = &d->sd, .changed = &d->changed };
	assert_int_equal(workers_new(&d->ctx, &d->ws), 0);
	d->src = (struct status_source) { .name = "test", .workers = d->ws, .shutdown = &d->sd,
		.stragglers = &d->stragglers, .started = &d->started };
}

static json_t *
status(const struct status_source *src)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	json_error_t error;
	json_t *j;

	assert_non_null(f);
	assert_int_equal(readiness_status_write(src, f), 0);
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
	static struct domain d;
	struct instance *in[ELEMENTSOF(names)];
	json_t *j, *workers;

	domain_init(&d);
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		in[i] = domain_add(&d, i, names[i]);
		in[i]->running = in[i]->ready = true;
		in[i]->pid = (pid_t) (100 + i);
	}
	in[1]->ready = false;
	j = status(&d.src);
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
	workers_free(d.ws);
}

static void
test_status_stopping(void **state)
{
	static struct domain d;
	json_t *j;

	domain_init(&d);
	(void) domain_add(&d, 0, "db");
	d.sd.stopping = true;
	d.sd.phase = PHASE_JOIN;
	j = status(&d.src);

	assert_string_equal(json_string_value(json_object_get(j, "step")), "join");
	assert_true(json_is_false(json_object_get(j, "ready")));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(j, "workers"),
	    0), "pid")), 0);
	json_decref(j);
	workers_free(d.ws);
}

static char *
ready_text(const struct status_source *src)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	assert_non_null(f);
	assert_int_equal(readiness_ready_text(src, f), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* GET /ready's body: an instance that gave up is named, a starting one is not; /status gives
 * each instance's state, restarts, last exit and uptime (from its start time). */
static void
test_ready_failed(void **state)
{
	static struct domain d;
	struct instance *a, *b, *c;
	json_t *j, *o;
	char *t;

	domain_init(&d);
	a = domain_add(&d, 0, "a");
	b = domain_add(&d, 1, "b");
	c = domain_add(&d, 2, "c");
	a->running = a->ready = true;
	a->pid = a->last_pid = 10;
	a->n_starts = 1;
	a->started_at = 1;
	b->failed = true;
	b->n_starts = 5;
	b->last_pid = 11;
	b->ended = true;
	b->status = 1 << 8;
	t = ready_text(&d.src);
	assert_string_equal(t, "failed: b\n");
	free(t);
	a->failed = true;
	a->running = false;
	t = ready_text(&d.src);
	assert_string_equal(t, "failed: a, b\n");
	free(t);
	a->failed = b->failed = false;
	a->running = true;
	b->finished = true; /* done for good: a one-shot */
	t = ready_text(&d.src);
	assert_string_equal(t, "starting\n");
	free(t);
	c->running = c->ready = true;
	c->pid = c->last_pid = 12;
	t = ready_text(&d.src);
	assert_string_equal(t, "ready\n");
	free(t);

	b->finished = false;
	b->failed = true;
	j = status(&d.src);
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
	workers_free(d.ws);
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
