/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "plan.h"
#include "util.h"

#define S USEC_PER_SEC

/* Loads text as a config (failing the test on any error) and builds its plan. */
static struct plan *
plan_of(const char *text, struct config **ret_config)
{
	struct config_errors errors = {};
	struct config *c = NULL;
	struct plan *p = NULL;

	if (config_load_string("test.ini", text, &c, &errors) < 0) {
		config_errors_print(&errors, stderr);
		config_errors_clear(&errors);
		fail_msg("config did not load");
	}
	assert_int_equal(plan_build(c, &p), 0);
	*ret_config = c;
	return p;
}

static void
free_both(struct plan *p, struct config *c)
{
	plan_free(p);
	config_free(c);
}

static void
test_levels_follow_reverse_dependency_order(void **state)
{
	struct config *c;
	struct plan *p = plan_of("[worker:db]\ncommand = true\n"
				 "[worker:web]\ncommand = true\nafter = db\n"
				 "[worker:jobs]\ncommand = true\nafter = db\n"
				 "[worker:edge]\ncommand = true\nafter = web\n",
	    &c);

	assert_int_equal(p->n_levels, 3);
	/* edge is stopped first, then web and jobs together, db last. */
	assert_int_equal(p->levels[0].n_workers, 2);
	assert_string_equal(p->levels[0].workers[0]->worker->name, "jobs");
	assert_string_equal(p->levels[0].workers[1]->worker->name, "edge");
	assert_int_equal(p->levels[1].n_workers, 1);
	assert_string_equal(p->levels[1].workers[0]->worker->name, "web");
	assert_int_equal(p->levels[2].n_workers, 1);
	assert_string_equal(p->levels[2].workers[0]->worker->name, "db");
	free_both(p, c);
}

#define CHAIN 10000

/* CHAIN workers; forward: w_i after= w_(i+1) (w0 is stopped first), else w_i after= w_(i-1)
 * (w9999 first). */
static char *
chain_text(bool forward)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	for (size_t i = 0; i < CHAIN; i++) {
		fprintf(f, "[worker:w%zu]\ncommand = true\nstop_timeout = 1s\n", i);
		if (forward && i + 1 < CHAIN)
			fprintf(f, "after = w%zu\n", i + 1);
		else if (!forward && i > 0)
			fprintf(f, "after = w%zu\n", i - 1);
	}
	assert_int_equal(fclose(f), 0);
	return text;
}

/* One level per worker of a 10,000-long chain, in either file order, and the worst case sums
 * them all. */
static void
test_long_chain_levels(void **state)
{
	for (int forward = 0; forward <= 1; forward++) {
		_cleanup_free_ char *text = chain_text(forward);
		struct config *c;
		struct plan *p = plan_of(text, &c);
		char name[16];

		assert_int_equal(p->n_levels, CHAIN);
		for (size_t l = 0; l < CHAIN; l++) {
			snprintf(name, sizeof(name), "w%zu", forward ? l : CHAIN - 1 - l);
			assert_int_equal(p->levels[l].n_workers, 1);
			assert_string_equal(p->levels[l].workers[0]->worker->name, name);
		}
		/* Each level: stop 1s + join 5s + kill 5s (the defaults but stop_timeout). */
		assert_int_equal(p->levels[0].budget, p->workers[0].total);
		assert_int_equal(p->worst_case, p->intake + p->drain + CHAIN * p->workers[0].total +
		    p->close);
		free_both(p, c);
	}
}

/* A worker after= two chains of different lengths waits for the longer one. */
static void
test_level_is_longest_path(void **state)
{
	struct config *c;
	struct plan *p = plan_of("[worker:db]\ncommand = true\n"
				 "[worker:a]\ncommand = true\nafter = db\n"
				 "[worker:b]\ncommand = true\nafter = a\n"
				 "[worker:c]\ncommand = true\nafter = b db\n"
				 "[worker:d]\ncommand = true\nafter = db db\n",
	    &c);

	/* c and d first, then b, then a, then db. */
	assert_int_equal(p->n_levels, 4);
	assert_int_equal(p->levels[0].n_workers, 2);
	assert_string_equal(p->levels[0].workers[0]->worker->name, "c");
	assert_string_equal(p->levels[0].workers[1]->worker->name, "d");
	assert_string_equal(p->levels[1].workers[0]->worker->name, "b");
	assert_string_equal(p->levels[2].workers[0]->worker->name, "a");
	assert_string_equal(p->levels[3].workers[0]->worker->name, "db");
	free_both(p, c);
}

/* What the plan quotes from the config (a command, a path) is escaped; its own newlines stay. */
static void
test_print_escapes_config_text(void **state)
{
	struct config *c;
	struct plan *p = plan_of("[supervisor]\npidfile = /run/g\x1b[2J.pid\n"
				 "[resource:r]\ntype = exec\ncommand = /bin/echo \x1b]0;owned\x07 \x7f\n"
				 "[worker:w]\ncommand = true\n",
	    &c);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	plan_print(p, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "   - pidfile /run/g\\x1b[2J.pid: remove\n"));
	assert_non_null(strstr(text, "run /bin/echo '\\x1b]0;owned\\x07' '\\x7f', up to"));
	for (const char *q = text; *q; q++)
		assert_true((unsigned char) *q >= 0x20 && (unsigned char) *q != 0x7f ? true : *q == '\n');
	free(text);
	free_both(p, c);
}

static void
test_worst_case_sums_levels_and_steps(void **state)
{
	struct config *c;
	struct plan *p = plan_of("[shutdown]\nintake_timeout = 4s\ndrain_delay = 2s\n"
				 "stop_timeout = 10s\njoin_timeout = 5s\nkill_timeout = 5s\n"
				 "close_timeout = 3s\n"
				 "[intake:ready]\ntype = readiness\nlisten = tcp://127.0.0.1:18081\n"
				 "[worker:db]\ncommand = true\n"
				 "[worker:web]\ncommand = true\nafter = db\nstop_timeout = 20s\n"
				 "[worker:jobs]\ncommand = true\nafter = db\n"
				 "[resource:a]\ntype = exec\ncommand = true\n"
				 "[resource:b]\ntype = exec\ncommand = true\nclose_timeout = 1s\n"
				 "[resource:c]\ntype = file\npath = /tmp/x\n",
	    &c);

	assert_true(p->announces);
	assert_int_equal(p->intake, 4 * S);
	assert_int_equal(p->drain, 2 * S);
	assert_int_equal(p->levels[0].budget, 30 * S); /* web: 20 + 5 + 5 */
	assert_string_equal(p->levels[0].longest->worker->name, "web");
	assert_int_equal(p->levels[1].budget, 20 * S); /* db: 10 + 5 + 5 */
	assert_int_equal(p->close, 4 * S);             /* 3 + 1, the file costs nothing */
	assert_int_equal(p->worst_case, (4 + 2 + 30 + 20 + 4) * S);
	free_both(p, c);
}

/* A level's budget is its longest worker's, wherever that worker is in the file: not the
 * first one's, nor the last one's. */
static void
test_level_budget_is_its_longest_worker(void **state)
{
	struct config *c;
	struct plan *p = plan_of("[shutdown]\nstop_timeout = 1s\njoin_timeout = 1s\nkill_timeout = 1s\n"
				 "[worker:db]\ncommand = true\n"
				 "[worker:short]\ncommand = true\nafter = db\n"
				 "[worker:long]\ncommand = true\nafter = db\nstop_timeout = 30s\n"
				 "[worker:mid]\ncommand = true\nafter = db\njoin_timeout = 9s\n",
	    &c);
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(p->n_levels, 2);
	assert_int_equal(p->levels[0].n_workers, 3);
	assert_string_equal(p->levels[0].workers[0]->worker->name, "short");
	assert_int_equal(p->levels[0].budget, 32 * S); /* long: 30 + 1 + 1 */
	assert_string_equal(p->levels[0].longest->worker->name, "long");
	assert_int_equal(p->levels[1].budget, 3 * S);
	assert_int_equal(p->worst_case, (32 + 3) * S);

	/* --plan says the same. */
	assert_non_null(f = open_memstream(&text, &len));
	plan_print(p, f);
	fclose(f);
	assert_non_null(strstr(text, "level 1: budget 32s"));
	assert_non_null(strstr(text, "level 2: budget 3s"));
	free(text);
	free_both(p, c);
}

static void
test_none_signals_do_not_wait(void **state)
{
	struct config *c;
	struct plan *p = plan_of("[shutdown]\nstop_timeout = 3s\njoin_timeout = 2s\nkill_timeout = 1s\n"
				 "[worker:nocancel]\ncommand = true\ncancel_signal = none\n"
				 "[worker:nostop]\ncommand = true\nstop_signal = none\n"
				 "[worker:stopfd]\ncommand = true\nstop_signal = none\nstop_fd = yes\n"
				 "[worker:nokill]\ncommand = true\nkill_signal = none\n",
	    &c);

	assert_int_equal(p->workers[0].total, 4 * S);
	assert_int_equal(p->workers[0].join, 0);
	assert_int_equal(p->workers[1].total, 3 * S);
	assert_int_equal(p->workers[1].stop, 0);
	/* stop_fd alone still tells the worker to stop, so stop_timeout applies. */
	assert_int_equal(p->workers[2].stop, 3 * S);
	assert_int_equal(p->workers[3].kill, 0);
	assert_int_equal(p->workers[3].total, 5 * S);
	/* Nothing to announce: only the drain delay (0) counts in the intake step. */
	assert_false(p->announces);
	assert_int_equal(p->intake, 0);
	free_both(p, c);
}

static void
test_intake_signal_announces(void **state)
{
	struct config *c;
	struct plan *p = plan_of("[worker:q]\ncommand = true\nintake_signal = SIGTSTP\n", &c);

	assert_true(p->announces);
	assert_int_equal(p->intake, 5 * S);
	free_both(p, c);
}

static void
test_infinity_exceeds_any_deadline(void **state)
{
	struct config *c;
	struct plan *p = plan_of("[shutdown]\ndeadline = 1h\n"
				 "[worker:w]\ncommand = true\nstop_timeout = infinity\n",
	    &c);
	char step[256];

	plan_resolve_deadline(p, false);
	assert_int_equal(p->worst_case, USEC_INFINITY);
	assert_true(plan_exceeds_deadline(p));
	plan_biggest_step(p, step, sizeof(step));
	assert_string_equal(step, "level 1 (worker 'w': stop_timeout infinity)");
	free_both(p, c);
}

static void
test_deadline_sources(void **state)
{
	struct config *c;
	struct plan *p = plan_of("[worker:w]\ncommand = true\nstop_timeout = 20s\n", &c);

	plan_resolve_deadline(p, false);
	assert_int_equal(p->deadline, USEC_INFINITY);
	assert_false(plan_exceeds_deadline(p));

	plan_resolve_deadline(p, true);
	assert_int_equal(p->deadline, 10 * S);
	assert_true(plan_exceeds_deadline(p));
	free_both(p, c);

	p = plan_of("[shutdown]\ndeadline = 40s\n[worker:w]\ncommand = true\nstop_timeout = 20s\n", &c);
	plan_resolve_deadline(p, true);
	assert_int_equal(p->deadline, 40 * S);
	assert_string_equal(p->deadline_source, "[shutdown] deadline");
	assert_false(plan_exceeds_deadline(p));
	free_both(p, c);
}

static void
test_biggest_step_names_drain_and_close(void **state)
{
	struct config *c;
	struct plan *p = plan_of("[shutdown]\ndrain_delay = 1m\n[worker:w]\ncommand = true\n", &c);
	char step[256];

	plan_biggest_step(p, step, sizeof(step));
	assert_string_equal(step, "intake (drain_delay 1m)");
	free_both(p, c);

	p = plan_of("[worker:w]\ncommand = true\n[resource:r]\ntype = exec\ncommand = true\n"
		    "close_timeout = 2m\n",
	    &c);
	plan_biggest_step(p, step, sizeof(step));
	assert_string_equal(step, "close (close_timeout of the exec resources, 2m in all)");
	free_both(p, c);
}

/* on_exit: the worker is joined once its exit hooks ended, hook_timeout after its join budget. */
static void
test_exit_hook_adds_hook_timeout(void **state)
{
	struct config *c;
	struct plan *p = plan_of("[shutdown]\nstop_timeout = 2s\njoin_timeout = 1s\nkill_timeout = 1s\n"
				 "[worker:a]\ncommand = true\non_exit = true\nhook_timeout = 3s\n"
				 "[worker:b]\ncommand = true\nhook_timeout = 30s\n",
	    &c);

	assert_int_equal(p->workers[0].hook, 3 * S);
	assert_int_equal(p->workers[0].total, 7 * S);
	/* Without on_exit, hook_timeout costs nothing. */
	assert_int_equal(p->workers[1].hook, 0);
	assert_int_equal(p->workers[1].total, 4 * S);
	assert_int_equal(p->worst_case, 7 * S);
	free_both(p, c);
}

static void
test_print_spells_out_the_sum(void **state)
{
	struct config *c;
	struct plan *p = plan_of("[shutdown]\ndeadline = 10s\n"
				 "[worker:a]\ncommand = true\n[worker:b]\ncommand = true\nafter = a\n",
	    &c);
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	assert_non_null(f);
	plan_resolve_deadline(p, false);
	plan_print(p, f);
	fclose(f);
	assert_non_null(strstr(text, "Worst case: 0 (intake) + 0 (drain) + 20s (level 1) + "
				     "20s (level 2) + 0 (close) = 40s\n"));
	assert_non_null(strstr(text, "Deadline: 10s ([shutdown] deadline): EXCEEDED by 30s; "
				     "shorten level 1 (worker 'b': stop_timeout 10s) first\n"));
	free(text);
	free_both(p, c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels_follow_reverse_dependency_order),
		cmocka_unit_test(test_long_chain_levels),
		cmocka_unit_test(test_print_escapes_config_text),
		cmocka_unit_test(test_level_is_longest_path),
		cmocka_unit_test(test_worst_case_sums_levels_and_steps),
		cmocka_unit_test(test_level_budget_is_its_longest_worker),
		cmocka_unit_test(test_none_signals_do_not_wait),
		cmocka_unit_test(test_intake_signal_announces),
		cmocka_unit_test(test_infinity_exceeds_any_deadline),
		cmocka_unit_test(test_deadline_sources),
		cmocka_unit_test(test_biggest_step_names_drain_and_close),
		cmocka_unit_test(test_print_spells_out_the_sum),
		cmocka_unit_test(test_exit_hook_adds_hook_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
