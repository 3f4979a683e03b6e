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
	const struct command_reaper *reaper;
	pid_t pid;
	int status;
};

/*
 * Waits for the command's exit as the reaper reports it. At the deadline, one more look: a command
 * that ended while the loop was busy elsewhere, its SIGCHLD not handled yet, gets its own status,
 * not "timeout". The reaper itself runs once (graced has one waitpid() caller, and its pid lookup
 * keeps a reused pid from being taken for ours), and the wait, whose deadline has passed, returns
 * an exit the runtime has by then at once.
 */
static int
wait_exit(struct reap *k, usec_t deadline)
{
	int r;

	r = task_wait_child(k->pid, deadline, &k->status);
	if (r != -ETIMEDOUT)
		return r;
	k->reaper->fn(k->reaper->userdata);
	if (task_wait_child(k->pid, 1, &k->status) == 0)
		return 0;
	return -ETIMEDOUT;
}

/* Shielded: a cancelled task still reaps what it killed, bounded by COMMAND_KILL_TIMEOUT. */
static int
reap_killed(void *arg)
{
	struct reap *k = arg;

	(void) kill(-k->pid, SIGKILL);
	return wait_exit(k, usec_add(now_usec(), COMMAND_KILL_TIMEOUT));
}

int
command_run(struct task_runtime *rt, const struct command_reaper *reaper, char *const *argv,
    usec_t deadline, struct command_result *result)
{
	return command_run_env(rt, reaper, argv, NULL, deadline, result);
}

int
command_run_env(struct task_runtime *rt, const struct command_reaper *reaper, char *const *argv,
    char *const *environment, usec_t deadline, struct command_result *result)
{
	struct spawn_params p = {
		.argv = argv,
		.environment = environment,
		.stdin_fd = -1,
		.stdout_fd = -1,
		.stderr_fd = -1,
		.stop_fd_index = -1,
	};
	struct reap k = { .reaper = reaper };
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
		r = wait_exit(&k, deadline);
	if (r == -ETIMEDOUT || r == -ECANCELED) {
		result->killed = true;
		result->cancelled = r == -ECANCELED;
		/* The shield's budget is the reap's own: no wait inside it is unbounded. */
		r = task_shielded(reap_killed, &k, usec_add(now_usec(), COMMAND_KILL_TIMEOUT));
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
