/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "parse.h"
#include "spawn.h"
#include "supervisor.h"
#include "util.h"

/* After close_timeout, a close command gets SIGKILL and this long to be reaped. */
#define CLOSE_KILL_TIMEOUT (1 * USEC_PER_SEC)

int
resource_write_pidfile(const char *path)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	char line[24];
	int n;

	if (asprintf(&tmp, "%s.tmp.%ld", path, (long) getpid()) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0)
		return -errno;
	n = snprintf(line, sizeof(line), "%ld\n", (long) getpid());
	if (write(fd, line, (size_t) n) != n || rename(tmp, path) < 0) {
		int r = errno ? -errno : -EIO;

		(void) unlink(tmp);
		return r;
	}
	return 0;
}

/* Runs a close command to its end, or kills it after close_timeout. */
static void
run_close_command(struct supervisor *sv, const struct resource_config *rc)
{
	struct spawn_params p = {
		.argv = rc->argv,
		.stdin_fd = -1,
		.stdout_fd = -1,
		.stderr_fd = -1,
		.stop_fd_index = -1,
	};
	usec_t deadline = usec_add(now_usec(), rc->close_timeout);
	enum spawn_stage stage = SPAWN_STAGE_NONE;
	char what[64];
	int errfd, status, r;
	pid_t pid;

	if ((r = spawn_process(&p, &pid, &errfd)) < 0) {
		log_error_errno(r, "Failed to run the close command of resource '%s', continuing",
		    rc->name);
		return;
	}
	(void) task_runtime_watch_child(sv->rt, pid);
	while ((r = spawn_read_error(errfd, &stage)) == -EAGAIN)
		if ((r = task_wait_fd(errfd, TASK_FD_READ, deadline)) < 0)
			break;
	safe_close(errfd);
	if (r < 0 && r != -ETIMEDOUT)
		log_error_errno(r, "Failed to run the close command of resource '%s' (%s '%s'), continuing",
		    rc->name, spawn_stage_to_string(stage), rc->argv[0]);

	r = task_wait_child(pid, deadline, &status);
	if (r == -ETIMEDOUT) {
		log_error("Close command of resource '%s' (pid %ld) still runs after close_timeout, "
			  "killing it, continuing",
		    rc->name, (long) pid);
		(void) kill(-pid, SIGKILL);
		r = task_wait_child(pid, usec_add(now_usec(), CLOSE_KILL_TIMEOUT), &status);
	}
	if (r < 0) {
		log_error_errno(r, "Close command of resource '%s' (pid %ld) was not reaped, continuing",
		    rc->name, (long) pid);
		return;
	}
	if (WIFEXITED(status))
		snprintf(what, sizeof(what), "exited with status %d", WEXITSTATUS(status));
	else
		snprintf(what, sizeof(what), "killed by %s", signal_to_string(WTERMSIG(status)));
	log_fields(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? LOG_INFO : LOG_WARNING, 0,
	    LOG_FIELDS({ "resource", rc->name }, { "step", "close" }),
	    "Closed resource '%s': close command %s", rc->name, what);
}

static int
close_all(void *arg)
{
	struct supervisor *sv = arg;
	const struct config *c = sv->config;

	/* Reverse order of opening: the last resource opened is the first closed. */
	for (size_t i = c->n_resources; i-- > 0;) {
		const struct resource_config *rc = c->resources[i];

		if (rc->type == RESOURCE_EXEC) {
			run_close_command(sv, rc);
			continue;
		}
		if (unlink(rc->path) < 0 && errno != ENOENT)
			log_warning_errno(errno, "Failed to remove '%s' of resource '%s', continuing",
			    rc->path, rc->name);
		else
			log_fields(LOG_INFO, 0, LOG_FIELDS({ "resource", rc->name }, { "step", "close" }),
			    "Closed resource '%s': removed %s", rc->name, rc->path);
	}
	if (c->supervisor.pidfile && unlink(c->supervisor.pidfile) < 0 && errno != ENOENT)
		log_warning_errno(errno, "Failed to remove the pidfile '%s', continuing",
		    c->supervisor.pidfile);
	return 0;
}

void
resource_close_all(struct supervisor *sv)
{
	/* Shielded: the close step runs to its end even if the supervisor's task was cancelled;
	 * each command is bounded by its own close_timeout. */
	(void) task_shielded(close_all, sv, USEC_INFINITY);
}
