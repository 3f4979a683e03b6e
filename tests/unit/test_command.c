/* SPDX-License-Identifier: MIT */
/*
 * command_run(): a command run from a task on a real loop, reaped by a SIGCHLD reaper like
 * graced's: its exit status, the kill at the deadline (the whole process group), a cancelled
 * task, and an exec failure with its errno.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "command.h"
#include "task.h"
#include "util.h"

struct fixture {
	struct event_base *base;
	struct event *sigchld;
	struct task_runtime *rt;
	struct task_group *g;
	char *const *argv;
	usec_t deadline;
	struct command_result res;
	int r;
	usec_t started; /* when the deadline was set: took counts from there too */
	usec_t took;
};

static void
sigchld_cb(evutil_socket_t sig, short what, void *userdata)
{
	struct fixture *f = userdata;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		(void) task_runtime_child_exited(f->rt, pid, status);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(f->base = event_base_new());
	assert_non_null(f->sigchld = evsignal_new(f->base, SIGCHLD, sigchld_cb, f));
	assert_int_equal(event_add(f->sigchld, NULL), 0);
	assert_int_equal(task_runtime_new(f->base, &f->rt), 0);
	assert_int_equal(task_group_new(f->rt, NULL, "test", &f->g), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(task_group_free(f->g), 0);
	task_runtime_free(f->rt);
	event_free(f->sigchld);
	event_base_free(f->base);
	free(f);
	return 0;
}

static int
run_task(void *arg)
{
	struct fixture *f = arg;

	f->r = command_run(f->rt, f->argv, f->deadline, &f->res);
	f->took = now_usec() - f->started;
	return 0;
}

static void
start(struct fixture *f, char *const *argv, usec_t timeout)
{
	f->argv = argv;
	f->started = now_usec();
	f->deadline = usec_add(f->started, timeout);
	assert_int_equal(task_spawn(f->g, "command", run_task, f, NULL), 0);
}

static void
run(struct fixture *f, char *const *argv, usec_t timeout)
{
	start(f, argv, timeout);
	assert_int_equal(task_runtime_run_until(f->rt, f->g, now_usec() + 10 * USEC_PER_SEC), 0);
}

static void
test_exit_status(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "sh", "-c", "exit 3", NULL };
	char what[64];

	run(f, argv, 5 * USEC_PER_SEC);
	assert_int_equal(f->r, 0);
	assert_true(f->res.reaped);
	assert_false(f->res.killed);
	assert_true(f->res.pid > 0);
	assert_true(WIFEXITED(f->res.status) && WEXITSTATUS(f->res.status) == 3);
	command_describe(&f->res, what, sizeof(what));
	assert_string_equal(what, "exit 3");
}

/* Keeps the loop busy, without yielding, until the command has exited and its deadline has
 * passed: what a loop starting many workers at once may do. */
static int
hog_task(void *arg)
{
	struct fixture *f = arg;
	siginfo_t info;

	while (f->res.pid <= 0)
		assert_int_equal(task_yield(), 0);
	assert_int_equal(waitid(P_PID, (id_t) f->res.pid, &info, WEXITED | WNOWAIT), 0);
	while (now_usec() <= f->deadline)
		;
	return 0;
}

static void
test_ended_while_loop_busy(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "sh", "-c", "exit 4", NULL };
	char what[64];

	/* The deadline must outlast the spawn itself: under valgrind, which turns CLONE_VFORK into
	 * fork(), a spawn takes about 600 ms here. The hog then spins until the deadline. */
	start(f, argv, getenv("GRACED_UNDER_VALGRIND") ? 3 * USEC_PER_SEC : 300 * USEC_PER_MSEC);
	assert_int_equal(task_spawn(f->g, "hog", hog_task, f, NULL), 0);
	assert_int_equal(task_runtime_run_until(f->rt, f->g, now_usec() + 10 * USEC_PER_SEC), 0);
	assert_int_equal(f->r, 0);
	assert_true(f->res.reaped);
	assert_false(f->res.killed);
	command_describe(&f->res, what, sizeof(what));
	assert_string_equal(what, "exit 4");
}

static void
test_killed_at_deadline(void **state)
{
	struct fixture *f = *state;
	/* The shell's child holds the group: the kill must reach it too, or the wait for the
	 * shell (which waits for it) would outlast the deadline. */
	char *argv[] = { "sh", "-c", "sleep 30; exit 0", NULL };
	char what[64];

	run(f, argv, 200 * USEC_PER_MSEC);
	assert_int_equal(f->r, 0);
	assert_true(f->res.reaped);
	assert_true(f->res.killed);
	assert_false(f->res.cancelled);
	assert_true(WIFSIGNALED(f->res.status) && WTERMSIG(f->res.status) == SIGKILL);
	assert_true(f->took >= 190 * USEC_PER_MSEC);
	assert_true(f->took < 2 * USEC_PER_SEC);
	command_describe(&f->res, what, sizeof(what));
	assert_string_equal(what, "timeout");
}

static void
test_cancelled(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "sleep", "30", NULL };
	char what[64];

	start(f, argv, 30 * USEC_PER_SEC);
	/* Let it start, then cancel: the command is killed and reaped anyway. */
	assert_int_equal(task_runtime_run_until(f->rt, f->g, now_usec() + 100 * USEC_PER_MSEC),
	    -ETIMEDOUT);
	task_group_cancel(f->g);
	assert_int_equal(task_runtime_run_until(f->rt, f->g, now_usec() + 5 * USEC_PER_SEC), 0);
	assert_int_equal(f->r, 0);
	assert_true(f->took < 2 * USEC_PER_SEC);
	assert_true(f->res.killed && f->res.cancelled && f->res.reaped);
	command_describe(&f->res, what, sizeof(what));
	assert_string_equal(what, "cancelled");
}

static void
test_exec_failure(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "/nonexistent/graced-hook", NULL };

	run(f, argv, 5 * USEC_PER_SEC);
	assert_int_equal(f->r, -ENOENT);
	assert_int_equal(f->res.stage, SPAWN_STAGE_EXEC);
	/* The child that failed to exec is reaped all the same. */
	assert_true(f->res.reaped);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exit_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ended_while_loop_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_at_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancelled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_failure, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
