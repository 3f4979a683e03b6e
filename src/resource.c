/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

struct resource {
	const struct resource_config *config;
	TAILQ_ENTRY(resource) link;
};

int
resources_add(struct resources *rs, const struct resource_config *c)
{
	struct resource *r;

	if (resources_find(rs, c->name))
		return -EEXIST;
	if (!(r = calloc(1, sizeof(*r))))
		return -ENOMEM;
	r->config = c;
	/* At the head: the close step walks from the last opened to the first. */
	TAILQ_INSERT_HEAD(&rs->list, r, link);
	return 0;
}

const struct resource_config *
resources_find(const struct resources *rs, const char *name)
{
	struct resource *r;

	TAILQ_FOREACH(r, &rs->list, link)
		if (streq(r->config->name, name))
			return r->config;
	return NULL;
}

int
resources_remove(struct resources *rs, const char *name)
{
	struct resource *r;

	TAILQ_FOREACH(r, &rs->list, link)
		if (streq(r->config->name, name)) {
			TAILQ_REMOVE(&rs->list, r, link);
			free(r);
			return 0;
		}
	return -ENOENT;
}

void
resources_free(struct resources *rs)
{
	struct resource *r;

	while ((r = TAILQ_FIRST(&rs->list))) {
		TAILQ_REMOVE(&rs->list, r, link);
		free(r);
	}
}

int
resource_write_pidfile(const char *path)
{
	char line[24];
	int n;

	n = snprintf(line, sizeof(line), "%ld\n", (long) getpid());
	return write_file_atomic(path, line, (size_t) n, 0644);
}

struct closing {
	const struct resources *resources;
	const char *pidfile;
	struct task_runtime *rt;
	const struct command_reaper *reaper;
};

/* Runs a close command to its end, or kills it after close_timeout. */
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
	struct resource *res;

	/* Reverse order of opening: the last resource opened is the first closed (the head). */
	TAILQ_FOREACH(res, &cl->resources->list, link) {
		const struct resource_config *rc = res->config;

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
	if (cl->pidfile && unlink(cl->pidfile) < 0 && errno != ENOENT)
		log_warning_errno(errno, "Failed to remove the pidfile '%s', continuing", cl->pidfile);
	return 0;
}

void
resource_close_all(const struct resources *rs, const char *pidfile, struct task_runtime *rt,
    const struct command_reaper *reaper)
{
	struct closing cl = { rs, pidfile, rt, reaper };

	/* Shielded: the close step runs to its end even if the supervisor's task was cancelled;
	 * each command is bounded by its own close_timeout. */
	(void) !task_shielded(close_all, &cl, USEC_INFINITY);
}
