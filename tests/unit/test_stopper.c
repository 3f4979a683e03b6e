/* SPDX-License-Identifier: MIT */
/*
 * stopper.c with a target that is no process: the order of the steps, which step waits and for
 * how long (a step that tells the target nothing does not wait), the kill to the group, and what
 * is abandoned. The target "dies" on a chosen signal, so no test sleeps.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "shutdown.h"
#include "stopper.h"
#include "task.h"
#include "util.h"

struct target {
	int dies_on;        /* the signal it ends on, 0: none */
	bool alive;
	char log[512];      /* what the stopper did, in order */
	usec_t waited[4];   /* the budget of each wait */
	unsigned n_waits;
};

static void
say(struct target *t, const char *what)
{
	size_t n = strlen(t->log);

	snprintf(t->log + n, sizeof(t->log) - n, "%s%s", n ? " " : "", what);
}

static void
op_signal(void *target, int sig, bool group, enum phase step)
{
	struct target *t = target;
	char what[48];

	snprintf(what, sizeof(what), "%s%s@%d", group ? "-" : "", sig == SIGCONT ? "CONT" :
	    sig == SIGTERM ? "TERM" : sig == SIGINT ? "INT" : sig == SIGKILL ? "KILL" : "?", step);
	say(t, what);
	if (sig == t->dies_on)
		t->alive = false;
}

static bool
op_alive(void *target)
{
	return ((struct target *) target)->alive;
}

static void
op_wait(void *target, usec_t deadline, bool extendable)
{
	struct target *t = target;
	usec_t now = now_usec();

	/* The budget, give or take the time between the stopper's clock and ours. */
	if (t->n_waits < ELEMENTSOF(t->waited))
		t->waited[t->n_waits++] = deadline > now ? (deadline - now + USEC_PER_MSEC / 2) /
			USEC_PER_SEC * USEC_PER_SEC : 0;
	say(t, extendable ? "wait" : "wait-kill");
}

static void
op_step(void *target, enum phase p)
{
	char what[16];

	snprintf(what, sizeof(what), "step%d", p);
	say(target, what);
}

static void
op_abandon(void *target)
{
	say(target, "abandon");
}

static const struct stopper_ops ops = {
	.signal = op_signal,
	.alive = op_alive,
	.wait = op_wait,
	.step = op_step,
	.abandon = op_abandon,
};

struct run {
	struct shutdown sd;
	struct stop_settings s;
	struct target t;
};

static int
run_task(void *arg)
{
	struct run *r = arg;

	stopper_run(&r->sd, &r->s, &ops, &r->t);
	return 0;
}

static void
run(struct run *r)
{
	struct event_base *base = event_base_new();
	struct task_runtime *rt;
	struct task_group *g;

	assert_non_null(base);
	assert_int_equal(task_runtime_new(base, &rt), 0);
	assert_int_equal(task_group_new(rt, NULL, "test", &g), 0);
	assert_int_equal(task_spawn(g, "stopper", run_task, r, NULL), 0);
	assert_int_equal(task_runtime_run_until(rt, g, now_usec() + 10 * USEC_PER_SEC), 0);
	assert_int_equal(task_group_free(g), 0);
	task_runtime_free(rt);
	event_base_free(base);
}

static void
init(struct run *r, int dies_on)
{
	*r = (struct run) {
		.s = {
			.stop_signal = SIGTERM,
			.cancel_signal = SIGINT,
			.kill_signal = SIGKILL,
			.kill_group = true,
			.stop = 10 * USEC_PER_SEC,
			.join = 5 * USEC_PER_SEC,
			.kill = 2 * USEC_PER_SEC,
		},
		.t = { .dies_on = dies_on, .alive = true },
	};
	shutdown_init(&r->sd);
}

static void
test_stops_on_the_stop_signal(void **state)
{
	static struct run r;

	init(&r, SIGTERM);
	run(&r);
	/* Stop signal, SIGCONT, and the stop step's wait; nothing after. */
	assert_string_equal(r.t.log, "step1 TERM@1 CONT@1 wait");
	assert_int_equal(r.t.waited[0], 10 * USEC_PER_SEC);
	assert_true(r.sd.steps[PHASE_STOP].start > 0);
	assert_int_equal(r.sd.steps[PHASE_CANCEL].start, 0);
	assert_int_equal(r.sd.steps[PHASE_JOIN].start, 0);
}

static void
test_cancel_then_join(void **state)
{
	static struct run r;

	init(&r, SIGINT);
	run(&r);
	assert_string_equal(r.t.log, "step1 TERM@1 CONT@1 wait step2 INT@2 step3 wait");
	assert_int_equal(r.t.waited[1], 5 * USEC_PER_SEC);
	assert_true(r.sd.steps[PHASE_CANCEL].start > 0);
	assert_true(r.sd.steps[PHASE_JOIN].start > 0);
}

/* A worker's own stop (gracectl stop): the same steps, none of them recorded in the shutdown. */
static void
test_alone_records_no_step(void **state)
{
	static struct run r;

	init(&r, SIGKILL);
	r.s.alone = true;
	run(&r);
	assert_string_equal(r.t.log,
	    "step1 TERM@1 CONT@1 wait step2 INT@2 step3 wait -KILL@3 wait-kill");
	for (enum phase p = 0; p < _PHASE_MAX; p++)
		assert_int_equal(r.sd.steps[p].start, 0);
	assert_int_equal(r.sd.phase, _PHASE_INVALID);
}

static void
test_kill_to_the_group(void **state)
{
	static struct run r;

	init(&r, SIGKILL);
	run(&r);
	assert_string_equal(r.t.log,
	    "step1 TERM@1 CONT@1 wait step2 INT@2 step3 wait -KILL@3 wait-kill");
	assert_int_equal(r.t.waited[2], 2 * USEC_PER_SEC);
}

static void
test_kill_to_the_main_process(void **state)
{
	static struct run r;

	init(&r, SIGKILL);
	r.s.kill_group = false;
	run(&r);
	assert_string_equal(r.t.log,
	    "step1 TERM@1 CONT@1 wait step2 INT@2 step3 wait KILL@3 wait-kill");
}

static void
test_survivor_abandoned(void **state)
{
	static struct run r;

	init(&r, 0);
	run(&r);
	assert_string_equal(r.t.log,
	    "step1 TERM@1 CONT@1 wait step2 INT@2 step3 wait -KILL@3 wait-kill abandon");
}

/* A step that tells the target nothing does not wait: with cancel_signal = none the kill
 * follows the stop step's budget directly (no join_timeout); with stop_signal = none and no
 * stop budget, nothing waits before the cancel signal. */
static void
test_none_skips_the_wait(void **state)
{
	static struct run r;

	init(&r, SIGKILL);
	r.s.cancel_signal = SIGNAL_NONE; /* join_timeout is left at 5 s: not waited */
	run(&r);
	assert_string_equal(r.t.log, "step1 TERM@1 CONT@1 wait step3 -KILL@3 wait-kill");

	init(&r, SIGINT);
	r.s.stop_signal = SIGNAL_NONE;
	r.s.stop = 0;
	run(&r);
	assert_string_equal(r.t.log, "step1 step2 INT@2 step3 wait");

	init(&r, 0);
	r.s.kill_signal = SIGNAL_NONE;
	r.s.kill = 0;
	run(&r);
	assert_string_equal(r.t.log, "step1 TERM@1 CONT@1 wait step2 INT@2 step3 wait abandon");
}

static void
test_nothing_alive(void **state)
{
	static struct run r;

	init(&r, 0);
	r.t.alive = false;
	run(&r);
	assert_string_equal(r.t.log, "");
	assert_int_equal(r.sd.steps[PHASE_STOP].start, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stops_on_the_stop_signal),
		cmocka_unit_test(test_cancel_then_join),
		cmocka_unit_test(test_kill_to_the_group),
		cmocka_unit_test(test_alone_records_no_step),
		cmocka_unit_test(test_kill_to_the_main_process),
		cmocka_unit_test(test_survivor_abandoned),
		cmocka_unit_test(test_none_skips_the_wait),
		cmocka_unit_test(test_nothing_alive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
