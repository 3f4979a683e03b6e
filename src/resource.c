/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command.h"
#include "config.h"
#include "log.h"
#include "parse.h"
#include "resource.h"
#include "spawn.h"
#include "task.h"
#include "util.h"

/* Layer: process plumbing. See resource.h. */

int
resource_write_pidfile(const char *path)
{
	char line[24];
	int n;

	n = snprintf(line, sizeof(line), "%ld\n", (long) getpid());
	return write_file_atomic(path, line, (size_t) n, 0644);
}

/* Runs a close command to its end, or kills it after close_timeout. */
struct closing {
	const struct config *config;
	struct task_runtime *rt;
	const struct command_reaper *reaper;
};

static void
run_close_command(const struct closing *cl, const struct resource_config *rc)
{
	struct command_result res;
	char what[64];
	int r;

	r = command_run(cl->rt, cl->reaper, rc->argv, usec_add(now_usec(), rc->close_timeout), &res);
	if (r < 0 && res.stage != SPAWN_STAGE_NONE)
		log_error_errno(r, "Failed to run the close command of resource '%s' (%s '%s'), continuing",
		    rc->name, spawn_stage_to_string(res.stage), rc->argv[0]);
	else if (r < 0 && !res.pid)
		log_error_errno(r, "Failed to run the close command of resource '%s', continuing",
		    rc->name);
	else if (r < 0)
		log_error_errno(r, "Close command of resource '%s' (pid %ld) was not reaped, continuing",
		    rc->name, (long) res.pid);
	if (r < 0)
		return;
	if (res.killed) {
		log_error("Close command of resource '%s' (pid %ld) still ran after close_timeout, "
			  "killed it, continuing",
		    rc->name, (long) res.pid);
		return;
	}
	if (WIFEXITED(res.status))
		snprintf(what, sizeof(what), "exited with status %d", WEXITSTATUS(res.status));
	else
		snprintf(what, sizeof(what), "killed by %s", signal_to_string(WTERMSIG(res.status)));
	log_fields(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0 ? LOG_INFO : LOG_WARNING, 0,
	    LOG_FIELDS({ "resource", rc->name }, { "step", "close" }),
	    "Closed resource '%s': close command %s", rc->name, what);
}

static int
close_all(void *arg)
{
	const struct closing *cl = arg;
	const struct config *c = cl->config;

	/* Reverse order of opening: the last resource opened is the first closed. */
	for (size_t i = c->n_resources; i-- > 0;) {
		const struct resource_config *rc = c->resources[i];

		if (rc->type == RESOURCE_EXEC) {
			run_close_command(cl, rc);
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
resource_close_all(const struct config *c, struct task_runtime *rt,
    const struct command_reaper *reaper)
{
	struct closing cl = { c, rt, reaper };

	/* Shielded: the close step runs to its end even if the supervisor's task was cancelled;
	 * each command is bounded by its own close_timeout. */
	(void) !task_shielded(close_all, &cl, USEC_INFINITY);
}
