/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "command.h"
#include "parse.h"
#include "task.h"
#include "util.h"

struct reap {
	pid_t pid;
	int status;
};

/* Shielded: a cancelled task still reaps what it killed, bounded by COMMAND_KILL_TIMEOUT. */
static int
reap_killed(void *arg)
{
	struct reap *k = arg;

	(void) kill(-k->pid, SIGKILL);
	return task_wait_child(k->pid, usec_add(now_usec(), COMMAND_KILL_TIMEOUT), &k->status);
}

/*
 * At the deadline, one more look: a command that ended while the loop was busy elsewhere, its
 * SIGCHLD not handled yet, gets its own status, not "timeout". The runtime does not have its
 * exit (task_wait_child() would have returned it), so the pid is still ours to reap; the
 * runtime is told, and the wait, whose deadline has passed, returns it at once.
 */
static bool
ended_meanwhile(struct task_runtime *rt, struct reap *k)
{
	int status;

	if (waitpid(k->pid, &status, WNOHANG) != k->pid)
		return false;
	(void) task_runtime_child_exited(rt, k->pid, status);
	return task_wait_child(k->pid, 1, &k->status) == 0;
}

int
command_run(struct task_runtime *rt, char *const *argv, usec_t deadline,
    struct command_result *result)
{
	struct spawn_params p = {
		.argv = argv,
		.stdin_fd = -1,
		.stdout_fd = -1,
		.stderr_fd = -1,
		.stop_fd_index = -1,
	};
	struct reap k = {};
	int errfd, exec_error = 0, r;

	*result = (struct command_result) { .stage = SPAWN_STAGE_NONE };
	if ((r = spawn_process(&p, &k.pid, &errfd)) < 0)
		return r;
	result->pid = k.pid;
	(void) task_runtime_watch_child(rt, k.pid);

	/* The exec outcome first: a missing binary is an error with its errno, not "exit 127". */
	while ((r = spawn_read_error(errfd, &result->stage)) == -EAGAIN)
		if ((r = task_wait_fd(errfd, TASK_FD_READ, deadline)) < 0)
			break;
	safe_close(errfd);
	if (r < 0 && r != -ETIMEDOUT && r != -ECANCELED)
		exec_error = r;

	if (r != -ETIMEDOUT && r != -ECANCELED)
		r = task_wait_child(k.pid, deadline, &k.status);
	if (r == -ETIMEDOUT && ended_meanwhile(rt, &k))
		r = 0;
	if (r == -ETIMEDOUT || r == -ECANCELED) {
		result->killed = true;
		result->cancelled = r == -ECANCELED;
		r = task_shielded(reap_killed, &k, USEC_INFINITY);
	}
	if (r < 0)
		return r;
	result->reaped = true;
	result->status = k.status;
	return exec_error;
}

void
command_describe(const struct command_result *result, char *buf, size_t n)
{
	if (!result->reaped)
		snprintf(buf, n, "not reaped");
	else if (result->killed)
		snprintf(buf, n, "%s", result->cancelled ? "cancelled" : "timeout");
	else if (WIFEXITED(result->status))
		snprintf(buf, n, "exit %d", WEXITSTATUS(result->status));
	else if (WIFSIGNALED(result->status))
		snprintf(buf, n, "killed by %s", signal_to_string(WTERMSIG(result->status)));
	else
		snprintf(buf, n, "wait status 0x%x", (unsigned) result->status);
}
