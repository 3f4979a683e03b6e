/* SPDX-License-Identifier: MIT */
/*
 * policy.c: the rules of DESIGN.md as pure functions. Time is passed in, so nothing sleeps:
 * how an exit is judged, the restart backoff and start limit, the readiness rule, the exit
 * status, and what a SIGTERM or SIGINT means (trigger, the same request, escalation).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "config.h"
#include "policy.h"

/* waitpid() statuses. */
#define EXITED(code) ((code) << 8)
#define KILLED_BY(sig) (sig)

static struct worker_config
worker(void)
{
	struct worker_config c = {
		.name = (char *) "web",
		.restart_delay = 1 * USEC_PER_SEC,
		.restart_delay_max = 30 * USEC_PER_SEC,
		.start_limit_burst = 3,
		.start_limit_interval = 10 * USEC_PER_SEC,
		.shutdown = {
			.stop_signal = SIGTERM,
			.cancel_signal = SIGINT,
			.kill_signal = SIGKILL,
			.intake_signal = SIGNAL_NONE,
		},
	};

	return c;
}

static void
test_exit_is_clean(void **state)
{
	struct worker_config c = worker();
	int codes[] = { 3 }, signals[] = { SIGUSR1 };

	assert_true(policy_exit_is_clean(&c, EXITED(0)));
	assert_false(policy_exit_is_clean(&c, EXITED(3)));
	assert_false(policy_exit_is_clean(&c, KILLED_BY(SIGUSR1)));
	/* success_status = 3, success_signal = SIGUSR1 */
	c.success_status = codes;
	c.n_success_status = 1;
	c.success_signal = signals;
	c.n_success_signal = 1;
	assert_true(policy_exit_is_clean(&c, EXITED(3)));
	assert_true(policy_exit_is_clean(&c, KILLED_BY(SIGUSR1)));
	assert_false(policy_exit_is_clean(&c, EXITED(4)));
	assert_false(policy_exit_is_clean(&c, KILLED_BY(SIGTERM)));
}

static void
test_exit_outcome(void **state)
{
	struct worker_config c = worker();
	int signals[] = { SIGUSR1 };

	/* Before the shutdown: clean is exited, anything else failed, the stop signal too. */
	assert_int_equal(policy_exit_outcome(&c, EXITED(0), false, _PHASE_INVALID, false, SIGTERM),
	    OUTCOME_EXITED);
	assert_int_equal(policy_exit_outcome(&c, EXITED(1), false, _PHASE_INVALID, false, SIGTERM),
	    OUTCOME_FAILED);
	assert_int_equal(policy_exit_outcome(&c, KILLED_BY(SIGTERM), false, _PHASE_INVALID, false,
	    SIGTERM), OUTCOME_FAILED);
	/* The stop step: dying of the signal graced sent is a clean exit. */
	assert_int_equal(policy_exit_outcome(&c, KILLED_BY(SIGTERM), true, PHASE_STOP, false,
	    SIGTERM), OUTCOME_EXITED);
	/* ... the one it sent, which single-command mode may replace (SIGINT received). */
	assert_int_equal(policy_exit_outcome(&c, KILLED_BY(SIGINT), true, PHASE_STOP, false, SIGINT),
	    OUTCOME_EXITED);
	assert_int_equal(policy_exit_outcome(&c, KILLED_BY(SIGINT), true, PHASE_STOP, false,
	    SIGTERM), OUTCOME_FAILED);
	assert_int_equal(policy_exit_outcome(&c, EXITED(2), true, PHASE_STOP, false, SIGTERM),
	    OUTCOME_FAILED);
	/* During the intake step (quiet signal sent, not yet the stop signal). */
	c.shutdown.intake_signal = SIGTSTP;
	assert_int_equal(policy_exit_outcome(&c, KILLED_BY(SIGTSTP), true, PHASE_INTAKE, false,
	    SIGTERM), OUTCOME_EXITED);
	/* Cancel and join: cancelled, on the cancel signal too, but not on another one. */
	assert_int_equal(policy_exit_outcome(&c, EXITED(0), true, PHASE_CANCEL, false, SIGTERM),
	    OUTCOME_CANCELLED);
	assert_int_equal(policy_exit_outcome(&c, KILLED_BY(SIGINT), true, PHASE_JOIN, false,
	    SIGTERM), OUTCOME_CANCELLED);
	assert_int_equal(policy_exit_outcome(&c, KILLED_BY(SIGINT), true, PHASE_STOP, false,
	    SIGTERM), OUTCOME_FAILED);
	assert_int_equal(policy_exit_outcome(&c, KILLED_BY(SIGHUP), true, PHASE_JOIN, false,
	    SIGTERM), OUTCOME_FAILED);
	/* After the kill signal, killed, whatever the status. */
	assert_int_equal(policy_exit_outcome(&c, EXITED(0), true, PHASE_JOIN, true, SIGTERM),
	    OUTCOME_KILLED);
	/* success_signal counts in the shutdown too. */
	c.success_signal = signals;
	c.n_success_signal = 1;
	assert_int_equal(policy_exit_outcome(&c, KILLED_BY(SIGUSR1), true, PHASE_STOP, false,
	    SIGTERM), OUTCOME_EXITED);
}

static void
test_give_up_signal(void **state)
{
	struct worker_config c = worker();

	c.shutdown.kill_signal = SIGQUIT;
	assert_int_equal(policy_give_up_signal(&c), SIGQUIT);
	/* kill_signal = none leaves a worker alone in the shutdown, not one that is hung. */
	c.shutdown.kill_signal = SIGNAL_NONE;
	assert_int_equal(policy_give_up_signal(&c), SIGKILL);
}

static void
test_restart_backoff(void **state)
{
	struct worker_config c = worker();

	/* A clean exit (0 failures) and the first failure: restart_delay. */
	assert_int_equal(policy_restart_backoff(&c, 0), 1 * USEC_PER_SEC);
	assert_int_equal(policy_restart_backoff(&c, 1), 1 * USEC_PER_SEC);
	/* Doubled for each failure in a row after the first. */
	assert_int_equal(policy_restart_backoff(&c, 2), 2 * USEC_PER_SEC);
	assert_int_equal(policy_restart_backoff(&c, 3), 4 * USEC_PER_SEC);
	assert_int_equal(policy_restart_backoff(&c, 5), 16 * USEC_PER_SEC);
	/* Up to restart_delay_max. */
	assert_int_equal(policy_restart_backoff(&c, 6), 30 * USEC_PER_SEC);
	assert_int_equal(policy_restart_backoff(&c, 1000), 30 * USEC_PER_SEC);
	/* A max below the delay does not shorten it. */
	c.restart_delay_max = USEC_PER_MSEC;
	assert_int_equal(policy_restart_backoff(&c, 4), 1 * USEC_PER_SEC);
	/* No overflow on the way to an infinite max. */
	c.restart_delay = USEC_INFINITY / 3;
	c.restart_delay_max = USEC_INFINITY;
	assert_int_equal(policy_restart_backoff(&c, 10), USEC_INFINITY);
}

static void
test_start_limit(void **state)
{
	struct worker_config c = worker();
	usec_t starts[3] = { 0 };
	unsigned n = 0;

	/* Three starts at 0, 1 and 2 s: a fourth at 5 s is the fourth within 10 s. */
	for (usec_t at = 0; at < 3 * USEC_PER_SEC; at += USEC_PER_SEC) {
		assert_false(policy_start_limit_hit(&c, starts, n, at));
		starts[n % 3] = at;
		n++;
	}
	assert_true(policy_start_limit_hit(&c, starts, n, 5 * USEC_PER_SEC));
	/* At 10 s the first start is out of the interval. */
	assert_false(policy_start_limit_hit(&c, starts, n, 10 * USEC_PER_SEC));
	assert_true(policy_start_limit_hit(&c, starts, n, 10 * USEC_PER_SEC - 1));
	/* Burst 0: no limit. */
	c.start_limit_burst = 0;
	assert_false(policy_start_limit_hit(&c, starts, n, 5 * USEC_PER_SEC));
}

static void
test_readiness_rule(void **state)
{
	/* Where an instance is: running, ready, failed, finished. */
	assert_int_equal(policy_instance_readiness(true, false, false, false), READINESS_STARTING);
	assert_int_equal(policy_instance_readiness(false, false, false, false), READINESS_STARTING);
	assert_int_equal(policy_instance_readiness(true, true, false, false), READINESS_SERVING);
	assert_int_equal(policy_instance_readiness(false, true, false, false), READINESS_GONE);
	assert_int_equal(policy_instance_readiness(false, false, false, true), READINESS_DONE);
	assert_int_equal(policy_instance_readiness(false, false, true, false), READINESS_FAILED);
	assert_int_equal(policy_instance_readiness(true, false, true, false), READINESS_FAILED);
	/* It serves while running and ready, or once done for good (a one-shot that exited). */
	assert_true(policy_instance_serving(READINESS_SERVING));
	assert_true(policy_instance_serving(READINESS_DONE));
	assert_false(policy_instance_serving(READINESS_STARTING));
	assert_false(policy_instance_serving(READINESS_GONE));
	assert_false(policy_instance_serving(READINESS_FAILED));
	/* A worker never started (autostart = no) does not hold /ready back. */
	assert_true(policy_instance_serving(READINESS_INACTIVE));
	/* The service: never while stopping. */
	assert_true(policy_service_ready(false, true));
	assert_false(policy_service_ready(false, false));
	assert_false(policy_service_ready(true, true));
	/* READY=1 waits for those starting only: a failed one does not hold it back. */
	assert_true(policy_instance_starting(READINESS_STARTING));
	for (enum instance_readiness s = READINESS_SERVING; s < _READINESS_MAX; s++)
		assert_false(policy_instance_starting(s));
}

/* when_empty: what is over; after=: what lets a dependent start. */
static void
test_start_rules(void **state)
{
	(void) state;
	/* Over: done, failed or never started, and no process left. */
	assert_true(policy_instance_over(READINESS_DONE, false));
	assert_true(policy_instance_over(READINESS_FAILED, false));
	assert_true(policy_instance_over(READINESS_INACTIVE, false));
	assert_false(policy_instance_over(READINESS_FAILED, true)); /* given up, still dying */
	assert_false(policy_instance_over(READINESS_STARTING, false)); /* waits for after= */
	assert_false(policy_instance_over(READINESS_GONE, false));     /* waits for its restart */
	assert_false(policy_instance_over(READINESS_SERVING, true));
	/* A one-shot lets its dependents start only once it exited successfully; running (even
	 * "ready") is not enough. */
	assert_true(policy_dependency_met(WORKER_ONESHOT, READINESS_DONE));
	for (enum instance_readiness s = 0; s < _READINESS_MAX; s++)
		if (s != READINESS_DONE)
			assert_false(policy_dependency_met(WORKER_ONESHOT, s));
	/* A longrun one once it is ready, or done for good. */
	assert_true(policy_dependency_met(WORKER_LONGRUN, READINESS_SERVING));
	assert_true(policy_dependency_met(WORKER_LONGRUN, READINESS_DONE));
	assert_false(policy_dependency_met(WORKER_LONGRUN, READINESS_STARTING));
	assert_false(policy_dependency_met(WORKER_LONGRUN, READINESS_GONE));
	assert_false(policy_dependency_met(WORKER_LONGRUN, READINESS_FAILED));
	assert_false(policy_dependency_met(WORKER_LONGRUN, READINESS_INACTIVE));
}

static void
test_exit_status(void **state)
{
	struct run_facts f = { .completed = true };

	/* Config mode: 0 clean, 1 forced (killed, abandoned, failed). */
	assert_int_equal(policy_exit_status(&f), 0);
	f.forced = true;
	assert_int_equal(policy_exit_status(&f), 1);
	/* The report could not be written: 1. */
	f = (struct run_facts) { .completed = true, .report_failed = true };
	assert_int_equal(policy_exit_status(&f), 1);
	/* The loop ended before the close step: a run-time failure. */
	f = (struct run_facts) { .completed = false };
	assert_int_equal(policy_exit_status(&f), 1);

	/* exit_code_from, single-command mode: the worker's own status, whether forced or not. */
	f = (struct run_facts) { .completed = true, .status_from_worker = true, .forced = true };
	f.worker_ended = true;
	f.worker_status = EXITED(0);
	assert_int_equal(policy_exit_status(&f), 0);
	f.worker_status = EXITED(42);
	assert_int_equal(policy_exit_status(&f), 42);
	/* 128+N for death by signal N: SIGINT is 130, SIGKILL 137. */
	f.worker_status = KILLED_BY(SIGINT);
	assert_int_equal(policy_exit_status(&f), 130);
	f.worker_status = KILLED_BY(SIGKILL);
	assert_int_equal(policy_exit_status(&f), 137);
	/* A status passed on stays, even when the report failed; 0 does not. */
	f.report_failed = true;
	assert_int_equal(policy_exit_status(&f), 137);
	f.worker_status = EXITED(0);
	assert_int_equal(policy_exit_status(&f), 1);
	/* Never ended (never started): 1. */
	f = (struct run_facts) { .completed = true, .status_from_worker = true };
	assert_int_equal(policy_exit_status(&f), 1);
}

static void
test_shutdown_signal(void **state)
{
	usec_t w = 200 * USEC_PER_MSEC, t = 1000 * USEC_PER_SEC;

	/* The first SIGTERM or SIGINT starts the shutdown. */
	assert_int_equal(policy_shutdown_signal(false, SIGTERM, 0, 0, t, w, SECOND_SIGNAL_ESCALATE),
	    SIGNAL_ACTION_TRIGGER);
	assert_int_equal(policy_shutdown_signal(false, SIGINT, 0, 0, t, w, SECOND_SIGNAL_ESCALATE),
	    SIGNAL_ACTION_TRIGGER);
	/* The same signal within the window (a killer's pid then group): the same request. */
	assert_int_equal(policy_shutdown_signal(true, SIGTERM, SIGTERM, t, t + w - 1, w,
	    SECOND_SIGNAL_ESCALATE), SIGNAL_ACTION_REPEAT);
	/* After it, or another signal: a second request, escalated or ignored. */
	assert_int_equal(policy_shutdown_signal(true, SIGTERM, SIGTERM, t, t + w, w,
	    SECOND_SIGNAL_ESCALATE), SIGNAL_ACTION_ESCALATE);
	assert_int_equal(policy_shutdown_signal(true, SIGINT, SIGTERM, t, t + 1, w,
	    SECOND_SIGNAL_ESCALATE), SIGNAL_ACTION_ESCALATE);
	assert_int_equal(policy_shutdown_signal(true, SIGTERM, SIGTERM, t, t + w, w,
	    SECOND_SIGNAL_IGNORE), SIGNAL_ACTION_IGNORE);
	/* A shutdown not started by a signal (a critical worker): the first signal escalates. */
	assert_int_equal(policy_shutdown_signal(true, SIGTERM, 0, 0, t, w, SECOND_SIGNAL_ESCALATE),
	    SIGNAL_ACTION_ESCALATE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_is_clean),
		cmocka_unit_test(test_exit_outcome),
		cmocka_unit_test(test_give_up_signal),
		cmocka_unit_test(test_restart_backoff),
		cmocka_unit_test(test_start_limit),
		cmocka_unit_test(test_readiness_rule),
		cmocka_unit_test(test_start_rules),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_shutdown_signal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
