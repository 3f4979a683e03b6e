/* SPDX-License-Identifier: MIT */
/*
 * command_run(): a command run from a task on a real loop, reaped by a SIGCHLD reaper like
 * graced's: its exit status, the kill at the deadline (the whole process group), a cancelled
 * task, and an exec failure with its errno. waitpid(), waitid() and wait4() are wrapped: only the
 * reaper may call them (through __real_*), and every test checks that the command's exit came
 * through the reaper and that nothing else waited for a child.
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

/* Calls of waitpid(), waitid() or wait4() from outside the reaper (command.c, spawn.c, ...). */
static unsigned waits_outside_reaper;

pid_t __real_waitpid(pid_t pid, int *status, int options);
int __real_waitid(idtype_t idtype, id_t id, siginfo_t *info, int options);

pid_t __wrap_waitpid(pid_t pid, int *status, int options);
int __wrap_waitid(idtype_t idtype, id_t id, siginfo_t *info, int options);
pid_t __wrap_wait4(pid_t pid, int *status, int options, struct rusage *rusage);

pid_t
__wrap_waitpid(pid_t pid, int *status, int options)
{
	waits_outside_reaper++;
	return __real_waitpid(pid, status, options);
}

int
__wrap_waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	waits_outside_reaper++;
	return __real_waitid(idtype, id, info, options);
}

pid_t
__wrap_wait4(pid_t pid, int *status, int options, struct rusage *rusage)
{
	(void) pid, (void) status, (void) options, (void) rusage;
	waits_outside_reaper++;
	errno = ECHILD;
	return -1;
}

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
	struct command_reaper reaper;
	pid_t reaped[16]; /* every pid the reaper collected */
	size_t n_reaped;
	unsigned reaper_runs_in_task; /* command_run() ran the reaper itself */
};

/* The test's one reaper, like supervisor_reap(): the only caller of waitpid(). */
static void
reap(void *userdata)
{
	struct fixture *f = userdata;
	int status;
	pid_t pid;

	if (task_current())
		f->reaper_runs_in_task++;
	while ((pid = __real_waitpid(-1, &status, WNOHANG)) > 0) {
		if (f->n_reaped < sizeof(f->reaped) / sizeof(f->reaped[0]))
			f->reaped[f->n_reaped++] = pid;
		(void) task_runtime_child_exited(f->rt, pid, status);
	}
}

static void
sigchld_cb(evutil_socket_t sig, short what, void *userdata)
{
	reap(userdata);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->reaper = (struct command_reaper) { reap, f };
	waits_outside_reaper = 0;
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
	bool seen = false;

	/* Whatever happened to the command, its exit came through the reaper, and nothing else
	 * waited for a child. */
	for (size_t i = 0; i < f->n_reaped; i++)
		seen = seen || f->reaped[i] == f->res.pid;
	assert_true(f->res.pid <= 0 || seen);
	assert_int_equal(waits_outside_reaper, 0);
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

	f->r = command_run(f->rt, &f->reaper, f->argv, f->deadline, &f->res);
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
	assert_int_equal(__real_waitid(P_PID, (id_t) f->res.pid, &info, WEXITED | WNOWAIT), 0);
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
	/* Not before the deadline; and killed, not waited for (sleep 30): no tighter upper bound,
	 * a loaded machine makes the kill late, never early. */
	assert_true(f->took >= 190 * USEC_PER_MSEC);
	assert_true(f->took < 20 * USEC_PER_SEC);
	/* At the deadline command_run() asked the reaper, not waitpid(). */
	assert_true(f->reaper_runs_in_task >= 1);
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
	assert_true(f->took < 20 * USEC_PER_SEC); /* killed, not waited for (sleep 30) */
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
