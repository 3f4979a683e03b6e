/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "task.h"
#include "util.h"

/*
 * Checks inside tasks only record the first failing line: a cmocka assertion longjmp()s, and
 * jumping from a task's stack back to the runner would leave the runtime half-switched. The test
 * body asserts that nothing was recorded.
 */
#define CHECK(f, cond)                                                                             \
	do {                                                                                       \
		if (!(cond) && (f)->failed_line == 0) {                                            \
			(f)->failed_line = __LINE__;                                               \
			(f)->failed_what = #cond;                                                  \
		}                                                                                  \
	} while (0)

#define MAX_REPORTS 32
/* Only an upper bound for a broken test: ASan with fake stacks or valgrind are slow. */
#define RUN_BUDGET (60 * USEC_PER_SEC)

struct report {
	enum task_report kind;
	char name[TASK_NAME_MAX];
	char message[256];
};

struct fixture {
	struct event_base *base;
	struct task_runtime *rt;
	struct task_group *g;
	struct task_group *g2;
	struct task_scope *scope;
	struct report reports[MAX_REPORTS];
	size_t n_reports;
	int failed_line;
	const char *failed_what;
	/* Scratch shared by the tasks of one test. */
	struct task_event ev;
	struct task_event ev2;
	struct task *t[8];
	int r[8];
	int order[16];
	size_t n_order;
	usec_t t0;
	int fds[2];
	pid_t pid;
	int counter;
};

/*
 * The now_usec() seam (linked with -Wl,--wrap=now_usec): the real clock, unless a test freezes
 * it, then only clock_advance() moves it. For tests whose assertion is about a duration the
 * runtime measures (a slow step), so the machine's load cannot change the outcome. Timers still
 * run on libevent's real clock: a frozen test must not depend on one firing.
 */
usec_t __real_now_usec(void);
usec_t __wrap_now_usec(void);
static bool clock_frozen;
static usec_t clock_now;

usec_t
__wrap_now_usec(void)
{
	return clock_frozen ? clock_now : __real_now_usec();
}

static void
clock_freeze(void)
{
	clock_now = __real_now_usec();
	clock_frozen = true;
}

static void
clock_advance(usec_t d)
{
	clock_now += d;
}

static bool
under_valgrind(void)
{
	return getenv("GRACED_UNDER_VALGRIND") != NULL;
}

static void
capture_reporter(enum task_report kind, const char *name, const char *message, void *userdata)
{
	struct fixture *f = userdata;
	struct report *r;

	if (f->n_reports >= MAX_REPORTS)
		return;
	r = &f->reports[f->n_reports++];
	r->kind = kind;
	(void) snprintf(r->name, sizeof(r->name), "%s", name);
	(void) snprintf(r->message, sizeof(r->message), "%s", message);
}

static size_t
count_reports(const struct fixture *f, enum task_report kind, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n_reports; i++)
		if (f->reports[i].kind == kind && (!name || streq(f->reports[i].name, name)))
			n++;
	return n;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base = event_base_new();
	assert_non_null(f->base);
	assert_int_equal(task_runtime_new(f->base, &f->rt), 0);
	task_runtime_set_reporter(f->rt, capture_reporter, f);
	assert_int_equal(task_group_new(f->rt, NULL, "test", &f->g), 0);
	task_event_init(&f->ev, "stop");
	task_event_init(&f->ev2, "other");
	f->fds[0] = f->fds[1] = -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	clock_frozen = false;
	/* Every scenario ends with nothing pending. */
	assert_int_equal(task_runtime_shutdown(f->rt), 0);
	assert_int_equal(task_group_free(f->g), 0);
	task_runtime_free(f->rt);
	event_base_free(f->base);
	safe_close(f->fds[0]);
	safe_close(f->fds[1]);
	free(f);
	return 0;
}

/* Runs the scheduled tasks until the test group is empty, then checks what they recorded. */
static void
run(struct fixture *f)
{
	int r = task_runtime_run_until(f->rt, f->g, now_usec() + RUN_BUDGET);

	if (r < 0)
		task_runtime_dump(f->rt, stderr);
	assert_int_equal(r, 0);
	if (f->failed_line)
		fail_msg("check failed in a task at line %d: %s", f->failed_line, f->failed_what);
}

/* Lets every task run until it blocks: a few loop iterations, none of which waits. */
static void
settle(struct fixture *f)
{
	for (int i = 0; i < 100; i++)
		assert_true(event_base_loop(f->base, EVLOOP_NONBLOCK) >= 0);
	if (f->failed_line)
		fail_msg("check failed in a task at line %d: %s", f->failed_line, f->failed_what);
}

static void
spawn(struct fixture *f, const char *name, task_fn fn, struct task **ret)
{
	assert_int_equal(task_spawn(f->g, name, fn, f, ret), 0);
}

static usec_t
ms_since(usec_t t0)
{
	return (now_usec() - t0) / USEC_PER_MSEC;
}

/* --- spawn and join --- */

static int
record_task(void *arg)
{
	struct fixture *f = arg;
	int me = f->counter++;

	f->order[f->n_order++] = me;
	/* Run in steps so the others interleave. */
	CHECK(f, task_yield() == 0);
	f->order[f->n_order++] = 10 + me;
	return me * 2;
}

static int
join_all_task(void *arg)
{
	struct fixture *f = arg;

	for (int i = 0; i < 3; i++)
		CHECK(f, task_spawn(f->g, "worker", record_task, f, &f->t[i]) == 0);
	for (int i = 0; i < 3; i++) {
		int result = -1;

		CHECK(f, task_join(f->t[i], USEC_INFINITY, &result) == 0);
		CHECK(f, result == i * 2);
	}
	return 0;
}

static void
test_spawn_join_order(void **state)
{
	struct fixture *f = *state;
	const int expected[] = { 0, 1, 2, 10, 11, 12 };

	spawn(f, "main", join_all_task, NULL);
	run(f);
	assert_int_equal(f->n_order, 6);
	for (size_t i = 0; i < ELEMENTSOF(expected); i++)
		assert_int_equal(f->order[i], expected[i]);
}

static int
wait_ev_task(void *arg)
{
	struct fixture *f = arg;

	return task_event_wait(&f->ev, USEC_INFINITY);
}

static int
join_timeout_task(void *arg)
{
	struct fixture *f = arg;
	struct task *w;
	int result = 1;
	usec_t t0;

	CHECK(f, task_spawn(f->g, "waiter", wait_ev_task, f, &w) == 0);
	t0 = now_usec();
	CHECK(f, task_join(w, now_usec() + 30 * USEC_PER_MSEC, &result) == -ETIMEDOUT);
	/* Never before the deadline; how late depends on the machine's load. */
	CHECK(f, ms_since(t0) >= 30);
	CHECK(f, result == 1);
	CHECK(f, task_get_state(w) == TASK_WAITING);
	task_event_set(&f->ev);
	CHECK(f, task_join(w, USEC_INFINITY, &result) == 0);
	CHECK(f, result == 0);
	return 0;
}

static void
test_join_deadline(void **state)
{
	struct fixture *f = *state;

	spawn(f, "main", join_timeout_task, NULL);
	run(f);
}

static int
sleep50_task(void *arg)
{
	struct fixture *f = arg;
	usec_t t0 = now_usec();

	CHECK(f, task_sleep_until(t0 + 50 * USEC_PER_MSEC) == 0);
	CHECK(f, now_usec() >= t0 + 50 * USEC_PER_MSEC);
	/* A deadline already past does not block. */
	CHECK(f, task_sleep_until(t0) == 0);
	CHECK(f, task_event_wait(&f->ev, t0) == -ETIMEDOUT);
	return 0;
}

static void
test_sleep_timing(void **state)
{
	struct fixture *f = *state;

	spawn(f, "sleeper", sleep50_task, NULL);
	run(f);
}

/* --- events --- */

static int
event_waiter_task(void *arg)
{
	struct fixture *f = arg;

	CHECK(f, task_event_wait(&f->ev, USEC_INFINITY) == 0);
	f->counter++;
	/* Level-triggered: still set, so this returns at once. */
	CHECK(f, task_event_wait(&f->ev, USEC_INFINITY) == 0);
	return 0;
}

static int
event_setter_task(void *arg)
{
	struct fixture *f = arg;

	/* Every waiter is blocked by the time the setter runs (spawn order is run order). */
	CHECK(f, f->counter == 0);
	task_event_set(&f->ev);
	return 0;
}

static void
test_event_wakes_all(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 5; i++)
		spawn(f, "waiter", event_waiter_task, NULL);
	spawn(f, "setter", event_setter_task, NULL);
	run(f);
	assert_int_equal(f->counter, 5);
	assert_true(task_event_is_set(&f->ev));
	task_event_reset(&f->ev);
	assert_false(task_event_is_set(&f->ev));
}

/* --- cancellation wherever a task waits --- */

static int
sleep_forever_task(void *arg)
{
	return task_sleep_until(USEC_INFINITY);
}

static int
sleep_long_task(void *arg)
{
	return task_sleep_until(now_usec() + 60 * USEC_PER_SEC);
}

static int
wait_fd_task(void *arg)
{
	struct fixture *f = arg;

	return task_wait_fd(f->fds[0], TASK_FD_READ, USEC_INFINITY);
}

static int
wait_event_long_task(void *arg)
{
	struct fixture *f = arg;

	return task_event_wait(&f->ev, now_usec() + 60 * USEC_PER_SEC);
}

static int
join_blocked_task(void *arg)
{
	struct fixture *f = arg;
	int result;

	/* t[1] waits on ev2, which nobody sets before the cancel. */
	return task_join(f->t[1], USEC_INFINITY, &result);
}

static int
wait_ev2_task(void *arg)
{
	struct fixture *f = arg;

	return task_event_wait(&f->ev2, USEC_INFINITY);
}

/*
 * Spawns victim, lets it block, cancels it and checks it ended with -ECANCELED: the victims wait
 * for good or for 60 s, so only the cancel can end them with that result (no time window).
 */
static int
cancel_driver_task(void *arg)
{
	struct fixture *f = arg;
	int result = 0;

	CHECK(f, task_yield() == 0);
	CHECK(f, task_get_state(f->t[0]) == TASK_WAITING);
	task_cancel(f->t[0]);
	CHECK(f, task_join(f->t[0], now_usec() + RUN_BUDGET, &result) == 0);
	CHECK(f, result == -ECANCELED);
	return 0;
}

static void
cancel_scenario(struct fixture *f, task_fn victim)
{
	spawn(f, "victim", victim, &f->t[0]);
	spawn(f, "driver", cancel_driver_task, NULL);
	run(f);
}

static void
test_cancel_sleep(void **state)
{
	struct fixture *f = *state;

	cancel_scenario(f, sleep_forever_task);
}

static void
test_cancel_sleep_deadline(void **state)
{
	struct fixture *f = *state;

	cancel_scenario(f, sleep_long_task);
}

static void
test_cancel_fd(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pipe2(f->fds, O_CLOEXEC | O_NONBLOCK), 0);
	cancel_scenario(f, wait_fd_task);
}

static void
test_cancel_event(void **state)
{
	struct fixture *f = *state;

	cancel_scenario(f, wait_event_long_task);
}

static void
test_cancel_join(void **state)
{
	struct fixture *f = *state;
	struct task_group *targets;

	/* The joined task lives in a group of its own, so run() can wait for the joiner alone. */
	assert_int_equal(task_group_new(f->rt, NULL, "targets", &targets), 0);
	assert_int_equal(task_spawn(targets, "target", wait_ev2_task, f, &f->t[1]), 0);
	cancel_scenario(f, join_blocked_task);
	/* The joined task lives on, unaffected. */
	assert_int_equal(task_get_state(f->t[1]), TASK_WAITING);
	task_event_set(&f->ev2);
	assert_int_equal(task_runtime_run_until(f->rt, targets, now_usec() + RUN_BUDGET), 0);
	assert_int_equal(task_get_outcome(f->t[1]), TASK_OUTCOME_RETURNED);
	spawn(f, "late-joiner", join_blocked_task, &f->t[2]);
	run(f);
	assert_int_equal(task_get_outcome(f->t[2]), TASK_OUTCOME_RETURNED);
	assert_int_equal(task_group_free(targets), 0);
}

static int
fd_ready_task(void *arg)
{
	struct fixture *f = arg;
	char c;

	CHECK(f, task_wait_fd(f->fds[0], TASK_FD_READ, now_usec() + 20 * USEC_PER_MSEC) ==
	    -ETIMEDOUT);
	/* A deadline already passed is a timeout only for a descriptor that is not ready. */
	CHECK(f, task_wait_fd(f->fds[0], TASK_FD_READ, 1) == -ETIMEDOUT);
	CHECK(f, write(f->fds[1], "x", 1) == 1);
	CHECK(f, task_wait_fd(f->fds[0], TASK_FD_READ, 1) == TASK_FD_READ);
	CHECK(f, task_wait_fd(f->fds[0], TASK_FD_READ, USEC_INFINITY) == TASK_FD_READ);
	CHECK(f, read(f->fds[0], &c, 1) == 1);
	CHECK(f, task_wait_fd(f->fds[1], TASK_FD_WRITE, USEC_INFINITY) == TASK_FD_WRITE);
	CHECK(f, task_wait_fd(-1, TASK_FD_READ, USEC_INFINITY) == -EINVAL);
	return 0;
}

static void
test_wait_fd(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pipe2(f->fds, O_CLOEXEC | O_NONBLOCK), 0);
	spawn(f, "fd", fd_ready_task, NULL);
	run(f);
}

/* --- children, fed by a reaper like graced's (SIGCHLD through the loop) --- */

static void
sigchld_cb(evutil_socket_t sig, short what, void *userdata)
{
	struct fixture *f = userdata;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		(void) task_runtime_child_exited(f->rt, pid, status);
}

/* A child that exits with the byte it reads from the pipe, or dies of what it is sent. */
static pid_t
fork_child(struct fixture *f)
{
	pid_t pid;

	assert_int_equal(pipe2(f->fds, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned char c = 0;

		close(f->fds[1]);
		if (read(f->fds[0], &c, 1) != 1)
			_exit(99);
		_exit(c);
	}
	f->fds[0] = safe_close(f->fds[0]);
	assert_int_equal(task_runtime_watch_child(f->rt, pid), 0);
	return pid;
}

static int
wait_child_task(void *arg)
{
	struct fixture *f = arg;
	int status = 0;
	int r;

	r = task_wait_child(f->pid, USEC_INFINITY, &status);
	return r < 0 ? r : status;
}

static int
child_exit_driver_task(void *arg)
{
	struct fixture *f = arg;
	int result = -1;

	CHECK(f, task_yield() == 0);
	CHECK(f, task_get_state(f->t[0]) == TASK_WAITING);
	CHECK(f, write(f->fds[1], "\7", 1) == 1);
	CHECK(f, task_join(f->t[0], now_usec() + 5 * USEC_PER_SEC, &result) == 0);
	CHECK(f, WIFEXITED(result) && WEXITSTATUS(result) == 7);
	return 0;
}

static void
test_wait_child(void **state)
{
	struct fixture *f = *state;
	struct event *sig = evsignal_new(f->base, SIGCHLD, sigchld_cb, f);

	assert_non_null(sig);
	assert_int_equal(event_add(sig, NULL), 0);
	f->pid = fork_child(f);
	spawn(f, "child-waiter", wait_child_task, &f->t[0]);
	spawn(f, "driver", child_exit_driver_task, NULL);
	run(f);
	event_free(sig);
}

static int
child_cancel_driver_task(void *arg)
{
	struct fixture *f = arg;
	int status = 0, result = 0;

	CHECK(f, task_yield() == 0);
	CHECK(f, task_get_state(f->t[0]) == TASK_WAITING);
	task_cancel(f->t[0]);
	CHECK(f, task_join(f->t[0], now_usec() + 5 * USEC_PER_SEC, &result) == 0);
	CHECK(f, result == -ECANCELED);
	/* The child is still running; now let it exit and wait again: the interest was kept. */
	CHECK(f, write(f->fds[1], "\3", 1) == 1);
	CHECK(f, task_wait_child(f->pid, now_usec() + 5 * USEC_PER_SEC, &status) == 0);
	CHECK(f, WIFEXITED(status) && WEXITSTATUS(status) == 3);
	return 0;
}

static void
test_cancel_child(void **state)
{
	struct fixture *f = *state;
	struct event *sig = evsignal_new(f->base, SIGCHLD, sigchld_cb, f);

	assert_non_null(sig);
	assert_int_equal(event_add(sig, NULL), 0);
	f->pid = fork_child(f);
	spawn(f, "child-waiter", wait_child_task, &f->t[0]);
	spawn(f, "driver", child_cancel_driver_task, NULL);
	run(f);
	event_free(sig);
}

static int
late_child_wait_task(void *arg)
{
	struct fixture *f = arg;
	int status = 0;

	CHECK(f, task_wait_child(f->pid, now_usec(), &status) == 0);
	CHECK(f, WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	/* Consumed: an unknown pid now, as for the reaper. */
	CHECK(f, task_runtime_child_exited(f->rt, f->pid, 0) == -ESRCH);
	return 0;
}

static void
test_child_exit_before_wait(void **state)
{
	struct fixture *f = *state;
	int status;

	f->pid = fork_child(f);
	assert_int_equal(kill(f->pid, SIGTERM), 0);
	assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
	/* Reaped before any task waits: kept because the pid is watched. */
	assert_int_equal(task_runtime_child_exited(f->rt, f->pid, status), 0);
	assert_int_equal(task_runtime_child_exited(f->rt, 1, 0), -ESRCH);
	spawn(f, "late-waiter", late_child_wait_task, NULL);
	run(f);
}

static int
ping_task(void *arg)
{
	struct fixture *f = arg;

	for (;;) {
		int r;

		task_event_set(&f->ev2);
		r = task_event_wait(&f->ev, USEC_INFINITY);
		if (r < 0)
			return r;
		task_event_reset(&f->ev);
		f->counter++;
	}
}

static int
pong_task(void *arg)
{
	struct fixture *f = arg;

	for (;;) {
		int r = task_event_wait(&f->ev2, USEC_INFINITY);

		if (r < 0)
			return r;
		task_event_reset(&f->ev2);
		task_event_set(&f->ev);
	}
}

static int
stop_pingpong_task(void *arg)
{
	struct fixture *f = arg;

	/* This timer only fires if the ping-pong hands the loop back now and then. */
	CHECK(f, task_sleep_until(now_usec() + 20 * USEC_PER_MSEC) == 0);
	task_cancel(f->t[0]);
	task_cancel(f->t[1]);
	return 0;
}

static void
test_busy_tasks_do_not_starve_loop(void **state)
{
	struct fixture *f = *state;

	spawn(f, "ping", ping_task, &f->t[0]);
	spawn(f, "pong", pong_task, &f->t[1]);
	spawn(f, "stopper", stop_pingpong_task, NULL);
	run(f);
	assert_int_equal(task_get_outcome(f->t[0]), TASK_OUTCOME_CANCELLED);
	assert_int_equal(task_get_outcome(f->t[1]), TASK_OUTCOME_CANCELLED);
	print_message("%d ping-pong rounds in 20 ms\n", f->counter);
	assert_true(f->counter > 0);
}

/* --- cancellation rules --- */

static int
cancelled_from_start_task(void *arg)
{
	struct fixture *f = arg;

	/* It runs (so it can free what it owns) but no blocking call blocks. */
	f->counter++;
	CHECK(f, task_is_cancelled());
	CHECK(f, task_sleep_until(USEC_INFINITY) == -ECANCELED);
	CHECK(f, task_yield() == -ECANCELED);
	CHECK(f, task_event_wait(&f->ev, USEC_INFINITY) == -ECANCELED);
	return -ECANCELED;
}

static int
join_cancelled_task(void *arg)
{
	struct fixture *f = arg;
	int result = 0;

	CHECK(f, task_join(f->t[0], USEC_INFINITY, &result) == 0);
	CHECK(f, result == -ECANCELED);
	return 0;
}

static void
test_cancel_before_first_run(void **state)
{
	struct fixture *f = *state;

	spawn(f, "early", cancelled_from_start_task, &f->t[0]);
	assert_int_equal(task_get_state(f->t[0]), TASK_NEW);
	task_cancel(f->t[0]);
	spawn(f, "joiner", join_cancelled_task, NULL);
	run(f);
	assert_int_equal(f->counter, 1);
	assert_int_equal(count_reports(f, TASK_REPORT_FAILED_UNJOINED, NULL), 0);
}

static int
sticky_task(void *arg)
{
	struct fixture *f = arg;
	int status;

	CHECK(f, task_sleep_until(USEC_INFINITY) == -ECANCELED);
	/* Every later blocking call says the same, at once. */
	CHECK(f, task_sleep_until(now_usec() + USEC_PER_SEC) == -ECANCELED);
	CHECK(f, task_wait_fd(f->fds[0], TASK_FD_READ, USEC_INFINITY) == -ECANCELED);
	CHECK(f, task_event_wait(&f->ev, USEC_INFINITY) == -ECANCELED);
	CHECK(f, task_wait_child(12345, USEC_INFINITY, &status) == -ECANCELED);
	CHECK(f, task_group_join(f->g, USEC_INFINITY) == -EDEADLK);
	return -ECANCELED;
}

static int
canceller_task(void *arg)
{
	struct fixture *f = arg;

	task_cancel(f->t[0]);
	return 0;
}

static void
test_cancel_sticky(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pipe2(f->fds, O_CLOEXEC | O_NONBLOCK), 0);
	spawn(f, "sticky", sticky_task, &f->t[0]);
	spawn(f, "canceller", canceller_task, NULL);
	run(f);
	/* Five -ECANCELED returns are cleanup, not ignoring. */
	assert_int_equal(count_reports(f, TASK_REPORT_IGNORES_CANCEL, NULL), 0);
}

static int
ignoring_task(void *arg)
{
	struct fixture *f = arg;

	/* A buggy loop that treats -ECANCELED as retryable. */
	for (int i = 0; i < 40; i++)
		if (task_sleep_until(USEC_INFINITY) == -ECANCELED)
			f->counter++;
	return 0;
}

static void
test_ignores_cancel_reported(void **state)
{
	struct fixture *f = *state;

	spawn(f, "stubborn", ignoring_task, &f->t[0]);
	spawn(f, "canceller", canceller_task, NULL);
	run(f);
	assert_int_equal(f->counter, 40);
	assert_int_equal(count_reports(f, TASK_REPORT_IGNORES_CANCEL, "stubborn"), 1);
	assert_non_null(strstr(f->reports[0].message, "stubborn"));
}

static int
leaf_task(void *arg)
{
	struct fixture *f = arg;
	int r = task_event_wait(&f->ev, USEC_INFINITY);

	CHECK(f, r == -ECANCELED);
	f->counter++;
	return r;
}

static int
parent_task(void *arg)
{
	struct fixture *f = arg;
	struct task_group *pumps;
	int r;

	/* A worker with its own group of pumps, like graced's workers. */
	CHECK(f, task_group_new(f->rt, task_get_group(task_current()), "pumps", &pumps) == 0);
	for (int i = 0; i < 3; i++)
		CHECK(f, task_spawn(pumps, "pump", leaf_task, f, NULL) == 0);
	r = task_group_join(pumps, USEC_INFINITY);
	CHECK(f, r == -ECANCELED);
	/* Closing joins even though we are cancelled: the pumps are cancelled too. */
	CHECK(f, task_group_close(pumps, now_usec() + 5 * USEC_PER_SEC) == 0);
	/* Closed, not freed: the holder lets go. */
	CHECK(f, task_group_free(pumps) == 0);
	f->counter += 100;
	return r;
}

static void
test_nested_groups_cancel(void **state)
{
	struct fixture *f = *state;
	struct task_group *workers;

	assert_int_equal(task_group_new(f->rt, f->g, "workers", &workers), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(task_spawn(workers, "worker", parent_task, f, NULL), 0);
	settle(f);
	assert_int_equal(task_group_live(f->g), 8);
	assert_int_equal(task_group_free(workers), -EBUSY);
	/* Cancel from the top. */
	task_group_cancel(f->g);
	run(f);
	assert_int_equal(f->counter, 2 * 100 + 6);
	assert_int_equal(task_group_live(f->g), 0);
	assert_int_equal(task_group_free(f->g), -EBUSY); /* workers is still a subgroup */
	assert_int_equal(task_group_free(workers), 0);
	assert_int_equal(count_reports(f, TASK_REPORT_FAILED_UNJOINED, NULL), 0);
}

static int
failing_task(void *arg)
{
	return -EIO;
}

static void
test_failed_unjoined_reported(void **state)
{
	struct fixture *f = *state;
	struct task_group *g;
	struct task *t;

	/* Without a handle: reported when it ends. */
	spawn(f, "broken", failing_task, NULL);
	run(f);
	assert_int_equal(count_reports(f, TASK_REPORT_FAILED_UNJOINED, "broken"), 1);
	assert_non_null(strstr(f->reports[0].message, "Input/output error"));

	/* With a handle nobody joins: reported when its group goes. */
	assert_int_equal(task_group_new(f->rt, NULL, "handles", &g), 0);
	assert_int_equal(task_spawn(g, "dropped", failing_task, f, &t), 0);
	assert_int_equal(task_runtime_run_until(f->rt, g, now_usec() + RUN_BUDGET), 0);
	assert_int_equal(task_get_outcome(t), TASK_OUTCOME_FAILED);
	assert_int_equal(count_reports(f, TASK_REPORT_FAILED_UNJOINED, "dropped"), 0);
	assert_int_equal(task_group_free(g), 0);
	assert_int_equal(count_reports(f, TASK_REPORT_FAILED_UNJOINED, "dropped"), 1);
}

/* --- shields --- */

static int
shielded_close(void *arg)
{
	struct fixture *f = arg;
	usec_t t0 = now_usec();

	/* The cancel arrives during this sleep and must not cut it short. */
	CHECK(f, task_sleep_until(t0 + 40 * USEC_PER_MSEC) == 0);
	CHECK(f, ms_since(t0) >= 40);
	CHECK(f, task_is_cancelled());
	f->counter++;
	return 5;
}

static int
shield_task(void *arg)
{
	struct fixture *f = arg;

	CHECK(f, task_shielded(shielded_close, f, now_usec() + 5 * USEC_PER_SEC) == 5);
	/* Delivered once the section ends. */
	CHECK(f, task_yield() == -ECANCELED);
	return -ECANCELED;
}

static int
cancel_soon_task(void *arg)
{
	struct fixture *f = arg;

	CHECK(f, task_sleep_until(now_usec() + 10 * USEC_PER_MSEC) == 0);
	task_cancel(f->t[0]);
	return 0;
}

static void
test_shield_holds_cancel(void **state)
{
	struct fixture *f = *state;

	spawn(f, "closer", shield_task, &f->t[0]);
	spawn(f, "canceller", cancel_soon_task, NULL);
	run(f);
	assert_int_equal(f->counter, 1);
	assert_int_equal(task_get_outcome(f->t[0]), TASK_OUTCOME_CANCELLED);
}

static int
shielded_slow(void *arg)
{
	struct fixture *f = arg;

	/* Asks for 10 s, but the shield allows 30 ms. */
	CHECK(f, task_event_wait(&f->ev, now_usec() + 10 * USEC_PER_SEC) == -ETIMEDOUT);
	CHECK(f, task_sleep_until(now_usec() + 10 * USEC_PER_SEC) == -ETIMEDOUT);
	return 0;
}

static int
shield_deadline_task(void *arg)
{
	struct fixture *f = arg;
	usec_t t0 = now_usec();

	CHECK(f, task_shielded(shielded_slow, f, t0 + 30 * USEC_PER_MSEC) == 0);
	/* Cut short by the shield (-ETIMEDOUT above), never before its deadline. */
	CHECK(f, ms_since(t0) >= 30);
	return 0;
}

static void
test_shield_deadline(void **state)
{
	struct fixture *f = *state;

	spawn(f, "closer", shield_deadline_task, NULL);
	run(f);
}

/* --- scale and stacks --- */

static int
many_waiter_task(void *arg)
{
	struct fixture *f = arg;

	return task_event_wait(&f->ev, USEC_INFINITY);
}

static void
test_many_tasks(void **state)
{
	struct fixture *f = *state;
	size_t n = under_valgrind() ? 500 : 10000;

	for (size_t i = 0; i < n; i++)
		assert_int_equal(task_spawn(f->g, "many", many_waiter_task, f, NULL), 0);
	settle(f);
	assert_int_equal(task_group_live(f->g), n);
	task_event_set(&f->ev);
	run(f);
	assert_int_equal(task_runtime_count(f->rt), 0);
	/* Again, now from the warm cache, and cancelled instead of woken. */
	task_event_reset(&f->ev);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(task_spawn(f->g, "many", many_waiter_task, f, NULL), 0);
	settle(f);
	task_group_cancel(f->g);
	run(f);
	assert_int_equal(task_runtime_count(f->rt), 0);
	assert_int_equal(count_reports(f, TASK_REPORT_FAILED_UNJOINED, NULL), 0);
}

static int __attribute__((noinline))
recurse(int depth, volatile char *up)
{
	volatile char frame[32];

	frame[0] = (char) depth;
	frame[31] = up ? up[0] : 0;
	if (depth == 0)
		return frame[0];
	/* Not a tail call: the frame stays live across the recursion. */
	return recurse(depth - 1, frame) + frame[31];
}

static int
deep_task(void *arg)
{
	struct fixture *f = arg;

	f->counter = recurse(200, NULL);
	CHECK(f, task_yield() == 0);
	return 0;
}

static void
test_deep_call_chain(void **state)
{
	struct fixture *f = *state;

	spawn(f, "deep", deep_task, NULL);
	run(f);
	assert_int_not_equal(f->counter, -1);
}

static int
overflow_task(void *arg)
{
	return recurse(1 << 24, NULL);
}

static void
test_stack_overflow_hits_guard(void **state)
{
	struct fixture *f = *state;
	int status;
	pid_t pid;

	/* Valgrind reports the fault as its own error and does not model the guard marker. */
	if (under_valgrind())
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit nocore = { 0, 0 };

		(void) setrlimit(RLIMIT_CORE, &nocore);
		(void) task_spawn(f->g, "overflow", overflow_task, f, NULL);
		(void) !task_runtime_run_until(f->rt, f->g, USEC_INFINITY);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	print_message("overflowing child: wait status 0x%x\n", (unsigned) status);
#ifdef __SANITIZE_ADDRESS__
	/* ASan catches the SIGSEGV itself, prints "stack-overflow" and exits non-zero. */
	assert_true((WIFEXITED(status) && WEXITSTATUS(status) != 0) ||
	    (WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGABRT)));
#else
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
#endif
}

/* --- vm.max_map_count: what stacks cost in mappings, and what happens at the limit --- */

static long
count_maps(void)
{
	FILE *m = fopen("/proc/self/maps", "re");
	long n = 0;
	int c;

	assert_non_null(m);
	while ((c = fgetc(m)) != EOF)
		if (c == '\n')
			n++;
	fclose(m);
	return n;
}

static int
park_task(void *arg)
{
	struct fixture *f = arg;

	return task_event_wait(&f->ev, USEC_INFINITY);
}

static void
test_stack_mappings_guard_madvise(void **state)
{
	struct fixture *f = *state;
	long before = count_maps();

	/* 640 parked tasks: 10 chunks of 64 stacks, each one mapping however many guards. */
	for (int i = 0; i < 640; i++)
		spawn(f, "parked", park_task, NULL);
	settle(f);
	print_message("640 stacks: %ld more lines in /proc/self/maps\n", count_maps() - before);
	/* 2 per stack (1280) with mprotect() guards; a kernel with MADV_GUARD_INSTALL needs 10. */
	assert_true(count_maps() - before <= 1280 + 8);
	task_event_set(&f->ev);
	run(f);
}

static void
test_stack_mapping_limit(void **state)
{
	struct fixture *f = *state;
	long before = count_maps();
	struct task *t;
	int r;

	/* The pre-6.13 way, with room for one chunk only: 64 stacks of 2 mappings each. */
	task_runtime_limit_stack_mappings(f->rt, 128, true);
	for (int i = 0; i < 64; i++)
		spawn(f, "parked", park_task, NULL);
	settle(f);
	print_message("64 mprotect-guarded stacks: %ld more lines in /proc/self/maps\n",
	    count_maps() - before);
	assert_true(count_maps() - before >= 120);
	/* Refused with a reason, not a crash, and reported once however often it is tried. */
	r = task_spawn(f->g, "one-too-many", park_task, f, &t);
	assert_int_equal(r, -EAGAIN);
	assert_int_equal(task_spawn(f->g, "one-too-many", park_task, f, &t), -EAGAIN);
	assert_int_equal(count_reports(f, TASK_REPORT_SPAWN_FAILED, "one-too-many"), 1);
	assert_non_null(strstr(f->reports[0].message, "vm.max_map_count"));
	/* Stacks freed are reused: the limit is on mappings, not on spawns. */
	task_event_set(&f->ev);
	run(f);
	task_event_reset(&f->ev);
	spawn(f, "again", park_task, NULL);
	task_event_set(&f->ev);
	run(f);
}

static void
test_free_with_pending(void **state)
{
	struct fixture *f = *state;
	struct event_base *base = event_base_new();
	struct task_runtime *rt;
	struct task_group *g, *sub;
	struct task *t;

	/* A runtime given up with tasks still parked frees everything it owns. */
	assert_non_null(base);
	assert_int_equal(task_runtime_new(base, &rt), 0);
	task_runtime_set_reporter(rt, capture_reporter, f);
	assert_int_equal(task_group_new(rt, NULL, "left", &g), 0);
	assert_int_equal(task_group_new(rt, g, "sub", &sub), 0);
	assert_int_equal(task_spawn(sub, "parked", park_task, f, &t), 0);
	assert_int_equal(task_spawn(g, "never-ran", park_task, f, NULL), 0);
	assert_true(event_base_loop(base, EVLOOP_NONBLOCK) >= 0);
	assert_int_equal(task_get_state(t), TASK_WAITING);
	assert_int_equal(task_runtime_shutdown(rt), 2);
	assert_int_equal(count_reports(f, TASK_REPORT_PENDING_AT_EXIT, NULL), 2);
	task_runtime_free(rt);
	event_base_free(base);
	assert_true(TAILQ_EMPTY(&f->ev.waiters));
}

static int
shallow_task(void *arg)
{
	struct fixture *f = arg;

	f->counter = recurse(50, NULL);
	CHECK(f, task_yield() == 0);
	return 0;
}

static void
test_runtime_knobs(void **state)
{
	struct fixture *f = *state;

	/* Stack size: only before the first spawn, rounded up to pages. */
	assert_int_equal(task_runtime_set_stack_size(f->rt, 16 * 1024 + 1), 0);
	assert_int_equal(task_runtime_prefault(f->rt, 100), 0);
	task_runtime_set_stack_cache(f->rt, 10);
	f->counter = -1;
	spawn(f, "small-stack", shallow_task, NULL);
	assert_int_equal(task_runtime_set_stack_size(f->rt, 128 * 1024), -EBUSY);
	run(f);
	assert_int_not_equal(f->counter, -1);
	assert_ptr_equal(task_runtime_get_base(f->rt), f->base);
	/* The default reporter and no slow-step check: nothing to capture, nothing fails. */
	task_runtime_set_slow_step(f->rt, USEC_INFINITY);
	task_runtime_set_reporter(f->rt, NULL, NULL);
	task_runtime_set_reporter(f->rt, capture_reporter, f);
}

/* --- introspection and reports --- */

static int
dump_probe_task(void *arg)
{
	struct fixture *f = arg;
	struct task_info *info = NULL;
	char *text = NULL;
	size_t size = 0, n = 0;
	FILE *m;

	CHECK(f, task_yield() == 0);
	m = open_memstream(&text, &size);
	CHECK(f, m != NULL);
	if (!m)
		return -ENOMEM;
	task_runtime_dump(f->rt, m);
	fclose(m);
	f->counter = text && strstr(text, "fd-reader") && strstr(text, "readable") &&
	    strstr(text, "event stop") && strstr(text, "until +") && strstr(text, "sleeper") &&
	    strstr(text, "dump-probe") && strstr(text, "running");
	if (!f->counter)
		fprintf(stderr, "%s", strempty(text));
	free(text);

	CHECK(f, task_runtime_list(f->rt, &info, &n) == 0);
	CHECK(f, n == 4);
	for (size_t i = 0; i < n && info; i++) {
		if (streq(info[i].name, "fd-reader")) {
			char want[32];

			(void) snprintf(want, sizeof(want), "fd %d readable", f->fds[0]);
			CHECK(f, streq(info[i].awaits, want));
			CHECK(f, info[i].state == TASK_WAITING);
			CHECK(f, streq(info[i].group, "test"));
		}
		if (streq(info[i].name, "waiter"))
			CHECK(f, streq(info[i].awaits, "event stop"));
	}
	free(info);
	task_group_cancel(f->g);
	return 0;
}

static int
sleep_2500_task(void *arg)
{
	return task_sleep_until(now_usec() + 2500 * USEC_PER_MSEC);
}

static void
test_dump(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pipe2(f->fds, O_CLOEXEC | O_NONBLOCK), 0);
	spawn(f, "fd-reader", wait_fd_task, NULL);
	spawn(f, "waiter", wait_ev_task, NULL);
	spawn(f, "sleeper", sleep_2500_task, NULL);
	spawn(f, "dump-probe", dump_probe_task, NULL);
	run(f);
	assert_int_equal(f->counter, 1);
}

static int
busy_task(void *arg)
{
	/* The bug being detected: 40 ms of CPU work without a yield (on the fake clock). */
	clock_advance(40 * USEC_PER_MSEC);
	return 0;
}

static void
test_slow_step_reported(void **state)
{
	struct fixture *f = *state;

	/* Frozen: the polite task's steps take no time however loaded the machine is. */
	clock_freeze();
	task_runtime_set_slow_step(f->rt, 20 * USEC_PER_MSEC);
	spawn(f, "hog", busy_task, NULL);
	spawn(f, "polite", deep_task, NULL);
	run(f);
	assert_int_equal(count_reports(f, TASK_REPORT_SLOW_STEP, NULL), 1);
	assert_int_equal(count_reports(f, TASK_REPORT_SLOW_STEP, "hog"), 1);
	assert_non_null(strstr(f->reports[0].message, "without yielding"));
}

static void
test_shutdown_names_pending(void **state)
{
	struct fixture *f = *state;

	spawn(f, "forgotten", wait_ev_task, NULL);
	settle(f);
	assert_int_equal(task_runtime_shutdown(f->rt), 1);
	assert_int_equal(count_reports(f, TASK_REPORT_PENDING_AT_EXIT, "forgotten"), 1);
	assert_non_null(strstr(f->reports[0].message, "event stop"));
	/* Nothing can wake it except the event: the loop says so instead of hanging. */
	assert_int_equal(task_runtime_run_until(f->rt, f->g, USEC_INFINITY), -EDEADLK);
	task_event_set(&f->ev);
	run(f);
}

static void
test_group_close_and_busy(void **state)
{
	struct fixture *f = *state;
	struct task_group *g;

	assert_int_equal(task_group_new(f->rt, NULL, "closing", &g), 0);
	assert_int_equal(task_spawn(g, "sleeper", sleep_forever_task, f, NULL), 0);
	assert_int_equal(task_spawn(g, "sleeper", sleep_long_task, f, NULL), 0);
	settle(f);
	assert_int_equal(task_group_free(g), -EBUSY);
	/* From outside a task, close drives the loop itself. */
	assert_int_equal(task_group_close(g, now_usec() + RUN_BUDGET), 0);
	assert_int_equal(task_runtime_count(f->rt), 0);
}

static int
self_join_task(void *arg)
{
	struct fixture *f = arg;
	int r;

	CHECK(f, task_join(task_current(), USEC_INFINITY, &r) == -EDEADLK);
	return 0;
}

static void
test_misuse(void **state)
{
	struct fixture *f = *state;

	/* Blocking calls outside a task. */
	assert_int_equal(task_sleep_until(USEC_INFINITY), -EPERM);
	assert_int_equal(task_yield(), -EPERM);
	assert_int_equal(task_event_wait(&f->ev, USEC_INFINITY), -EPERM);
	assert_null(task_current());
	assert_false(task_is_cancelled());
	spawn(f, "self-join", self_join_task, NULL);
	run(f);
	assert_string_equal(task_state_to_string(TASK_WAITING), "waiting");
	assert_string_equal(task_outcome_to_string(task_outcome_from_result(-EIO)), "failed");
	assert_string_equal(task_outcome_to_string(task_outcome_from_result(-ECANCELED)),
	    "cancelled");
	assert_string_equal(task_outcome_to_string(task_outcome_from_result(3)), "returned");
	assert_int_equal(task_state_from_string("done"), TASK_DONE);
	assert_int_equal(task_state_from_string("bogus"), _TASK_STATE_INVALID);
	assert_int_equal(task_outcome_from_string("cancelled"), TASK_OUTCOME_CANCELLED);
	assert_int_equal(task_report_from_string("slow-step"), TASK_REPORT_SLOW_STEP);
	assert_null(task_report_to_string(_TASK_REPORT_MAX));
}

/* --- issue 11: the runtime's rules --- */

static size_t
count_named(const struct fixture *f, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n_reports; i++)
		if (streq(f->reports[i].name, name))
			n++;
	return n;
}

static int
orphaning_task(void *arg)
{
	struct fixture *f = arg;
	struct task_group *g = NULL;

	/* A top-level group opened inside a task belongs to that task. */
	CHECK(f, task_group_new(f->rt, NULL, "mine", &g) == 0);
	if (g)
		CHECK(f, task_spawn(g, "left-behind", wait_ev_task, f, NULL) == 0);
	/* Returns with the spawned task still waiting. */
	return 0;
}

static void
test_owner_ends_with_live_group(void **state)
{
	struct fixture *f = *state;

	spawn(f, "owner", orphaning_task, &f->t[0]);
	run(f);
	/* run_until returned: nothing is left waiting, the runtime named and cancelled it. */
	assert_int_equal(task_runtime_count(f->rt), 1);
	assert_int_equal(task_get_state(f->t[0]), TASK_DONE);
	assert_true(count_named(f, "left-behind") >= 1);
}

static void
test_closed_group_refuses_spawn(void **state)
{
	struct fixture *f = *state;
	struct task_group *g;
	struct task *t;

	assert_int_equal(task_group_new(f->rt, NULL, "closing", &g), 0);
	assert_int_equal(task_spawn(g, "kept", wait_ev_task, f, &t), 0);
	settle(f);
	assert_int_equal(task_group_close(g, now_usec() + RUN_BUDGET), 0);
	/* The group and the handle stay valid until their owners let go. */
	assert_int_equal(task_spawn(g, "late", wait_ev_task, f, NULL), -ESHUTDOWN);
	assert_int_equal(task_get_outcome(t), TASK_OUTCOME_CANCELLED);
	assert_int_equal(task_get_state(t), TASK_DONE);
	assert_int_equal(task_group_free(g), 0);
	assert_int_equal(task_runtime_count(f->rt), 0);
}

static int
sleep_300ms_task(void *arg)
{
	struct fixture *f = arg;
	usec_t t0 = now_usec();

	/* Spawned inside a 50 ms shield: the inherited deadline cuts the sleep short. */
	CHECK(f, task_sleep_until(t0 + 300 * USEC_PER_MSEC) == -ETIMEDOUT);
	return 0;
}

static int
spawn_in_shield(void *arg)
{
	struct fixture *f = arg;

	CHECK(f, task_spawn(f->g, "child", sleep_300ms_task, f, NULL) == 0);
	return 0;
}

static int
deadline_parent_task(void *arg)
{
	struct fixture *f = arg;

	CHECK(f, task_shielded(spawn_in_shield, f, now_usec() + 50 * USEC_PER_MSEC) == 0);
	return 0;
}

static void
test_spawned_child_inherits_deadline(void **state)
{
	struct fixture *f = *state;

	spawn(f, "parent", deadline_parent_task, NULL);
	run(f);
}

static int
infinite_waits(void *arg)
{
	struct fixture *f = arg;
	int status;

	CHECK(f, task_event_wait(&f->ev, USEC_INFINITY) == -EDEADLK);
	CHECK(f, task_wait_fd(f->fds[0], TASK_FD_READ, USEC_INFINITY) == -EDEADLK);
	CHECK(f, task_wait_child(getpid() + 100000, USEC_INFINITY, &status) == -EDEADLK);
	CHECK(f, task_join(f->t[1], USEC_INFINITY, NULL) == -EDEADLK);
	CHECK(f, task_group_join(f->g2, USEC_INFINITY) == -EDEADLK);
	/* A finite deadline of its own is fine. */
	CHECK(f, task_event_wait(&f->ev, now_usec() + USEC_PER_MSEC) == -ETIMEDOUT);
	return 0;
}

static int
infinite_shield_task(void *arg)
{
	struct fixture *f = arg;

	CHECK(f, task_shielded(infinite_waits, f, USEC_INFINITY) == 0);
	return 0;
}

static void
test_infinite_shield_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pipe2(f->fds, O_CLOEXEC), 0);
	assert_int_equal(task_group_new(f->rt, NULL, "other", &f->g2), 0);
	assert_int_equal(task_spawn(f->g2, "parked", wait_ev_task, f, &f->t[1]), 0);
	spawn(f, "shielded", infinite_shield_task, NULL);
	run(f);
	task_event_set(&f->ev);
	assert_int_equal(task_group_close(f->g2, now_usec() + RUN_BUDGET), 0);
	assert_int_equal(task_group_free(f->g2), 0);
}

static int
fail_soon_task(void *arg)
{
	(void) arg;
	CHECK((struct fixture *) arg, task_yield() == 0);
	return -EIO;
}

static int
group_joiner_task(void *arg)
{
	struct fixture *f = arg;

	CHECK(f, task_spawn(f->g2, "ok", record_task, f, NULL) == 0);
	CHECK(f, task_spawn(f->g2, "failing", fail_soon_task, f, NULL) == 0);
	CHECK(f, task_group_join(f->g2, now_usec() + RUN_BUDGET) == -EIO);
	return 0;
}

static void
test_join_returns_first_failure(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(task_group_new(f->rt, NULL, "failing", &f->g2), 0);
	spawn(f, "joiner", group_joiner_task, NULL);
	run(f);
	/* From outside a task too. */
	assert_int_equal(task_group_join(f->g2, now_usec() + RUN_BUDGET), -EIO);
	assert_int_equal(task_group_free(f->g2), 0);
}

static void
test_free_names_pending(void **state)
{
	struct fixture *f = *state;
	struct event_base *base = event_base_new();
	struct task_runtime *rt;
	struct task_group *g;

	/* Freeing is the exit check: no task_runtime_shutdown() first. */
	assert_non_null(base);
	assert_int_equal(task_runtime_new(base, &rt), 0);
	task_runtime_set_reporter(rt, capture_reporter, f);
	assert_int_equal(task_group_new(rt, NULL, "left", &g), 0);
	assert_int_equal(task_spawn(g, "parked", park_task, f, NULL), 0);
	assert_true(event_base_loop(base, EVLOOP_NONBLOCK) >= 0);
	task_runtime_free(rt);
	event_base_free(base);
	assert_int_equal(count_reports(f, TASK_REPORT_PENDING_AT_EXIT, "parked"), 1);
}

static int
scope_body_task(void *arg)
{
	struct fixture *f = arg;
	struct task_scope s;

	/* Cancelled from outside while it waits: only the scope ends, not the task. */
	CHECK(f, task_scope_enter(&s, USEC_INFINITY) == 0);
	f->scope = &s;
	CHECK(f, task_spawn(f->g, "scoped-child", wait_ev_task, f, &f->t[3]) == 0);
	f->counter = 1;
	CHECK(f, task_event_wait(&f->ev, USEC_INFINITY) == -ECANCELED);
	CHECK(f, task_event_wait(&f->ev, USEC_INFINITY) == -ECANCELED);
	CHECK(f, task_scope_leave(&s) == -ECANCELED);
	CHECK(f, !task_is_cancelled());
	/* Later blocking calls work again. */
	CHECK(f, task_sleep_until(now_usec() + USEC_PER_MSEC) == 0);
	CHECK(f, task_yield() == 0);

	/* A scope's deadline bounds the waits inside, then is gone. */
	CHECK(f, task_scope_enter(&s, now_usec() + 20 * USEC_PER_MSEC) == 0);
	CHECK(f, task_event_wait(&f->ev, USEC_INFINITY) == -ETIMEDOUT);
	CHECK(f, task_scope_leave(&s) == -ETIMEDOUT);
	CHECK(f, task_sleep_until(now_usec() + USEC_PER_MSEC) == 0);
	f->counter = 2;
	return 0;
}

static int
scope_canceller_task(void *arg)
{
	struct fixture *f = arg;
	int result = 0;

	while (f->counter == 0)
		CHECK(f, task_yield() == 0);
	CHECK(f, task_yield() == 0);
	task_scope_cancel(f->scope, "one restart");
	/* The task spawned inside the scope is cancelled with it. */
	CHECK(f, task_join(f->t[3], now_usec() + RUN_BUDGET, &result) == 0);
	CHECK(f, result == -ECANCELED);
	return 0;
}

static void
test_scope_cancelled_alone(void **state)
{
	struct fixture *f = *state;

	spawn(f, "scoped", scope_body_task, &f->t[0]);
	spawn(f, "canceller", scope_canceller_task, NULL);
	run(f);
	assert_int_equal(f->counter, 2);
	assert_int_equal(task_get_outcome(f->t[0]), TASK_OUTCOME_RETURNED);
}

static void
test_cancel_on_failure(void **state)
{
	struct fixture *f = *state;
	struct task_info *info = NULL;
	size_t n = 0;
	bool seen = false;

	assert_int_equal(task_group_new(f->rt, NULL, "taskgroup", &f->g2), 0);
	task_group_set_cancel_on_failure(f->g2, true);
	assert_int_equal(task_spawn(f->g2, "sibling", park_task, f, &f->t[0]), 0);
	assert_int_equal(task_spawn(f->g2, "failing", fail_soon_task, f, NULL), 0);
	settle(f);
	assert_int_equal(task_runtime_list(f->rt, &info, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (streq(info[i].name, "sibling") && info[i].state == TASK_DONE)
			seen = true;
	free(info);
	assert_true(seen);
	assert_int_equal(task_group_join(f->g2, now_usec() + RUN_BUDGET), -EIO);
	assert_int_equal(task_get_outcome(f->t[0]), TASK_OUTCOME_CANCELLED);
	assert_int_equal(task_group_free(f->g2), 0);
}

static int
shielded_wait_ev(void *arg)
{
	struct fixture *f = arg;

	CHECK(f, task_event_wait(&f->ev, now_usec() + RUN_BUDGET) == 0);
	return 0;
}

static int
shielded_holder_task(void *arg)
{
	struct fixture *f = arg;

	CHECK(f, task_shielded(shielded_wait_ev, f, now_usec() + RUN_BUDGET) == 0);
	return task_yield();
}

static void
test_cancel_reason_shown(void **state)
{
	struct fixture *f = *state;
	struct task_info *info = NULL;
	char *text = NULL;
	size_t n = 0, len = 0;
	FILE *m;

	spawn(f, "holder", shielded_holder_task, NULL);
	settle(f);
	assert_int_equal(task_runtime_list(f->rt, &info, &n), 0);
	assert_int_equal(n, 1);
	assert_false(info[0].cancelled);
	free(info);
	task_group_cancel_because(f->g, "shutdown step stop");
	assert_int_equal(task_runtime_list(f->rt, &info, &n), 0);
	assert_int_equal(n, 1);
	/* Shielded: the cancel is pending, and the table says why. */
	assert_string_equal(info[0].reason, "shutdown step stop");
	free(info);
	m = open_memstream(&text, &len);
	assert_non_null(m);
	task_runtime_dump(f->rt, m);
	fclose(m);
	assert_non_null(strstr(text, "(cancelled: shutdown step stop)"));
	free(text);
	task_event_set(&f->ev);
	run(f);
}

static int
overrun_body(void *arg)
{
	struct fixture *f = arg;

	/* Cancelled meanwhile; goes on past the shield's 10 ms. */
	CHECK(f, task_sleep_until(now_usec() + RUN_BUDGET) == -ETIMEDOUT);
	CHECK(f, task_sleep_until(now_usec() + RUN_BUDGET) == -ETIMEDOUT);
	return 0;
}

static int
overrun_task(void *arg)
{
	struct fixture *f = arg;

	task_cancel_because(task_current(), "escalation");
	CHECK(f, task_shielded(overrun_body, f, now_usec() + 10 * USEC_PER_MSEC) == 0);
	return task_yield();
}

static void
test_shield_overrun_reported(void **state)
{
	struct fixture *f = *state;

	spawn(f, "overrunner", overrun_task, NULL);
	run(f);
	assert_int_equal(count_reports(f, TASK_REPORT_SHIELD_OVERRUN, "overrunner"), 1);
}

static int
shield_forever_body(void *arg)
{
	struct fixture *f = arg;

	return task_event_wait(&f->ev, USEC_INFINITY);
}

static int
shield_forever_task(void *arg)
{
	struct fixture *f = arg;
	int r = task_shielded(shield_forever_body, f, USEC_INFINITY);

	CHECK(f, r == -EDEADLK);
	return task_sleep_until(USEC_INFINITY);
}

static void
test_close_infinite_does_not_hang(void **state)
{
	struct fixture *f = *state;
	struct task_group *g;

	assert_int_equal(task_group_new(f->rt, NULL, "closing", &g), 0);
	assert_int_equal(task_spawn(g, "shielded", shield_forever_task, f, NULL), 0);
	assert_int_equal(task_group_close(g, USEC_INFINITY), 0);
	assert_int_equal(task_group_free(g), 0);
}

/* --- task_wait_any() --- */

static int
any_task(void *arg)
{
	struct fixture *f = arg;
	struct task_clause c[] = {
		{ .kind = TASK_CLAUSE_EVENT, .event = &f->ev },
		{ .kind = TASK_CLAUSE_FD, .fd = f->fds[0], .events = TASK_FD_READ },
		{ .kind = TASK_CLAUSE_CHILD, .pid = f->pid },
		{ .kind = TASK_CLAUSE_TASK, .task = f->t[1] },
		{ .kind = TASK_CLAUSE_GROUP, .group = f->g2 },
	};
	char b;
	int r;

	/* Nothing is true yet: each clause in turn fires. */
	for (int want = 0; want < 5; want++) {
		f->counter = want + 1;
		r = task_wait_any(c, ELEMENTSOF(c), now_usec() + RUN_BUDGET);
		CHECK(f, r == want);
		if (r == 0)
			task_event_reset(&f->ev);
		else if (r == 1) {
			CHECK(f, c[1].revents == TASK_FD_READ);
			CHECK(f, read(f->fds[0], &b, 1) == 1);
		} else if (r == 2) {
			CHECK(f, WIFEXITED(c[2].status) && WEXITSTATUS(c[2].status) == 5);
			c[2].pid = getpid() + 100000; /* a pid that never exits from now on */
		} else if (r == 3) {
			CHECK(f, task_join(f->t[1], now_usec(), NULL) == 0);
			c[3].task = f->t[0]; /* never ends while we wait */
		}
		if (r == 4)
			break;
	}
	/* Deadline and cancel. */
	task_event_reset(&f->ev);
	c[4].group = f->g; /* has us: never empty while we wait */
	CHECK(f, task_wait_any(c, 3, now_usec() + 10 * USEC_PER_MSEC) == -ETIMEDOUT);
	f->counter = 10;
	CHECK(f, task_wait_any(c, 3, USEC_INFINITY) == -ECANCELED);
	return 0;
}

static int
any_driver_task(void *arg)
{
	struct fixture *f = arg;
	int seen = 0;

	while (seen < 10) {
		/* Wait until the waiter asks for the next clause and is parked. */
		while (f->counter == seen || task_get_state(f->t[0]) != TASK_WAITING)
			if (task_yield() < 0)
				return -EIO;
		seen = f->counter;
		switch (seen) {
		case 1:
			task_event_set(&f->ev);
			break;
		case 2:
			CHECK(f, write(f->fds[1], "x", 1) == 1);
			break;
		case 3:
			CHECK(f, kill(f->pid, SIGUSR1) == 0);
			break;
		case 4:
			task_event_set(&f->ev2);
			break;
		case 5:
			task_event_set(&f->ev2);
			break;
		case 10:
			task_cancel_because(f->t[0], "test");
			break;
		}
	}
	return 0;
}

static int
ev2_task(void *arg)
{
	struct fixture *f = arg;

	return task_event_wait(&f->ev2, USEC_INFINITY);
}

static void
child_exits_with_5(struct fixture *f)
{
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		/* Exits on SIGUSR1 with 5. */
		sigset_t set;
		int sig;

		/* Never outlives a broken test by long: SIGALRM's default ends it. */
		(void) alarm(RUN_BUDGET / USEC_PER_SEC);
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		(void) sigwait(&set, &sig);
		_exit(5);
	}
	assert_int_equal(task_runtime_watch_child(f->rt, f->pid), 0);
}

static void
test_wait_any_each_clause(void **state)
{
	struct fixture *f = *state;
	struct event *sig = evsignal_new(f->base, SIGCHLD, sigchld_cb, f);
	sigset_t set, old;

	assert_non_null(sig);
	assert_int_equal(event_add(sig, NULL), 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	/* Blocked before the fork, so the child's sigwait() gets it. */
	assert_int_equal(sigprocmask(SIG_BLOCK, &set, &old), 0);
	child_exits_with_5(f);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	assert_int_equal(pipe2(f->fds, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(task_group_new(f->rt, NULL, "any", &f->g2), 0);
	spawn(f, "ender", ev2_task, &f->t[1]);
	assert_int_equal(task_spawn(f->g2, "group-member", ev2_task, f, NULL), 0);
	spawn(f, "any", any_task, &f->t[0]);
	spawn(f, "driver", any_driver_task, NULL);
	/* t[0] and t[1] hold handles: run until the waiter and the driver end. */
	while (task_get_state(f->t[0]) != TASK_DONE)
		assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	if (f->failed_line)
		fail_msg("check failed in a task at line %d: %s", f->failed_line, f->failed_what);
	assert_int_equal(task_group_free(f->g2), 0);
	event_free(sig);
}

static int
any_late_child_task(void *arg)
{
	struct fixture *f = arg;
	struct task_clause c[] = {
		{ .kind = TASK_CLAUSE_EVENT, .event = &f->ev },
		{ .kind = TASK_CLAUSE_CHILD, .pid = f->pid },
	};

	CHECK(f, task_wait_any(c, ELEMENTSOF(c), now_usec() + RUN_BUDGET) == 1);
	CHECK(f, WIFSIGNALED(c[1].status) && WTERMSIG(c[1].status) == SIGTERM);
	return 0;
}

static void
test_wait_any_child_exit_before_wait(void **state)
{
	struct fixture *f = *state;
	int status;

	f->pid = fork_child(f);
	assert_int_equal(kill(f->pid, SIGTERM), 0);
	assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
	assert_int_equal(task_runtime_child_exited(f->rt, f->pid, status), 0);
	spawn(f, "late", any_late_child_task, NULL);
	run(f);
}

static int
parked_owner_task(void *arg)
{
	struct fixture *f = arg;
	struct task_group *g = NULL;

	CHECK(f, task_group_new(f->rt, NULL, "nursery", &g) == 0);
	if (g)
		CHECK(f, task_spawn(g, "nursed", park_task, f, NULL) == 0);
	return park_task(f);
}

static void
test_runtime_close_counts(void **state)
{
	struct fixture *f = *state;
	struct task_runtime *saved = f->rt;
	struct event_base *base = event_base_new();
	struct task_runtime *rt;
	struct task_group *g;

	assert_non_null(base);
	assert_int_equal(task_runtime_new(base, &rt), 0);
	task_runtime_set_reporter(rt, capture_reporter, f);
	assert_int_equal(task_group_new(rt, NULL, "left", &g), 0);
	assert_int_equal(task_spawn(g, "parked", park_task, f, NULL), 0);
	assert_int_equal(task_spawn(g, "never-ran", park_task, f, NULL), 0);
	/* An owner given up while its nursery still has a task. */
	f->rt = rt;
	assert_int_equal(task_spawn(g, "owner", parked_owner_task, f, NULL), 0);
	assert_true(event_base_loop(base, EVLOOP_NONBLOCK) >= 0);
	assert_int_equal(task_runtime_close(rt), 4);
	event_base_free(base);
	assert_int_equal(count_reports(f, TASK_REPORT_PENDING_AT_EXIT, "parked"), 1);
	assert_int_equal(count_reports(f, TASK_REPORT_PENDING_AT_EXIT, "owner"), 1);
	assert_int_equal(count_reports(f, TASK_REPORT_PENDING_AT_EXIT, "nursed"), 1);
	f->rt = saved;
	assert_int_equal(count_reports(f, TASK_REPORT_PENDING_AT_EXIT, "never-ran"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_spawn_join_order),
		T(test_join_deadline),
		T(test_sleep_timing),
		T(test_event_wakes_all),
		T(test_wait_fd),
		T(test_cancel_sleep),
		T(test_cancel_sleep_deadline),
		T(test_cancel_fd),
		T(test_cancel_event),
		T(test_cancel_join),
		T(test_wait_child),
		T(test_cancel_child),
		T(test_busy_tasks_do_not_starve_loop),
		T(test_child_exit_before_wait),
		T(test_cancel_before_first_run),
		T(test_cancel_sticky),
		T(test_ignores_cancel_reported),
		T(test_nested_groups_cancel),
		T(test_failed_unjoined_reported),
		T(test_shield_holds_cancel),
		T(test_shield_deadline),
		T(test_many_tasks),
		T(test_deep_call_chain),
		T(test_stack_overflow_hits_guard),
		T(test_stack_mappings_guard_madvise),
		T(test_stack_mapping_limit),
		T(test_free_with_pending),
		T(test_runtime_knobs),
		T(test_dump),
		T(test_slow_step_reported),
		T(test_shutdown_names_pending),
		T(test_group_close_and_busy),
		T(test_misuse),
		T(test_owner_ends_with_live_group),
		T(test_closed_group_refuses_spawn),
		T(test_spawned_child_inherits_deadline),
		T(test_infinite_shield_refused),
		T(test_join_returns_first_failure),
		T(test_free_names_pending),
		T(test_scope_cancelled_alone),
		T(test_cancel_on_failure),
		T(test_cancel_reason_shown),
		T(test_shield_overrun_reported),
		T(test_close_infinite_does_not_hang),
		T(test_wait_any_each_clause),
		T(test_wait_any_child_exit_before_wait),
		T(test_runtime_close_counts),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
