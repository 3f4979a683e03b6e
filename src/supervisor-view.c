/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>

#include "config.h"
#include "log.h"
#include "parse.h"
#include "report.h"
#include "supervisor-view.h"
#include "reload.h"
#include "supervisor.h"
#include "util.h"
#include "worker.h"

/*
 * Layer: the control plane (above the supervisor).
 *
 * The control plane's view of the supervisor (see supervisor-view.h): the live state is status.h's,
 * a shutdown is asked for through supervisor_shutdown(), signals go straight to the processes.
 */

const struct status_source *
supervisor_view_status(const struct supervisor *sv)
{
	return &sv->status;
}

int
supervisor_view_signal(struct supervisor *sv, const char *worker, int sig)
{
	struct worker *w = worker_find(sv->workers, worker);
	int n = 0, r = 0;

	if (!w)
		return -ENOENT;
	for (unsigned j = 0; j < worker_n_instances(w); j++) {
		struct worker_instance_info in;
		char pid[16];

		worker_instance_info(w, j, &in);
		if (!in.running || in.pid <= 0)
			continue;
		snprintf(pid, sizeof(pid), "%ld", (long) in.pid);
		log_fields(LOG_NOTICE, 0,
		    LOG_FIELDS({ "worker", in.name }, { "signal", signal_to_string(sig) },
			{ "pid", pid }, { "event", "control-signal" }),
		    "Sending %s to worker '%s' (pid %s), asked on the control socket",
		    signal_to_string(sig), in.name, pid);
		if (kill(in.pid, sig) < 0) {
			if (errno == ESRCH)
				continue; /* gone meanwhile: not an error */
			if (r == 0)
				r = -errno;
			continue;
		}
		n++;
	}
	return r < 0 ? r : n;
}

bool
supervisor_view_shutdown(struct supervisor *sv, const char *why)
{
	return supervisor_shutdown(sv, why);
}

struct task_runtime *
supervisor_view_runtime(const struct supervisor *sv)
{
	return sv->rt;
}

int
supervisor_view_can_start(const struct supervisor *sv, const char *worker)
{
	struct worker *w = worker_find(sv->workers, worker);

	return w ? worker_can_start(w) : -ENOENT;
}

int
supervisor_view_start(struct supervisor *sv, const char *worker)
{
	struct worker *w = worker_find(sv->workers, worker);

	return w ? worker_start(w) : -ENOENT;
}

int
supervisor_view_can_stop(const struct supervisor *sv, const char *worker, char *const *also,
    size_t n_also)
{
	struct worker *w = worker_find(sv->workers, worker);

	return w ? worker_can_halt(w, also, n_also) : -ENOENT;
}

int
supervisor_view_stop(struct supervisor *sv, const char *worker, char *const *also, size_t n_also)
{
	struct worker *w = worker_find(sv->workers, worker);

	return w ? worker_halt(w, also, n_also) : -ENOENT;
}

int
supervisor_view_wait_stopped(struct supervisor *sv, const char *worker, usec_t deadline)
{
	struct worker *w = worker_find(sv->workers, worker);
	struct worker_instance_info in;
	int r;

	if (!w)
		return -ENOENT;
	if ((r = worker_wait_halted(w, deadline)) < 0)
		return r;
	if (worker_n_instances(w) == 0)
		return 1;
	worker_instance_info(w, 0, &in);
	return in.stopped ? 1 : 0;
}

usec_t
supervisor_view_stop_budget(const struct supervisor *sv, const char *worker)
{
	struct worker *w = worker_find(sv->workers, worker);

	return w ? worker_halt_budget(w) : 0;
}

int
supervisor_view_can_restart(const struct supervisor *sv, const char *worker)
{
	struct worker *w = worker_find(sv->workers, worker);

	return w ? worker_can_restart(w) : -ENOENT;
}

int
supervisor_view_restart(struct supervisor *sv, const char *worker)
{
	struct worker *w = worker_find(sv->workers, worker);

	return w ? worker_restart(w, worker_config(w)) : -ENOENT;
}

int
supervisor_view_wait_restarted(struct supervisor *sv, const char *worker, usec_t deadline,
    const char **ret_why)
{
	struct worker *w = worker_find(sv->workers, worker);
	int r;

	if (!w)
		return -ENOENT;
	r = worker_wait_restarted(w, deadline);
	*ret_why = worker_restart_error(w);
	return r;
}

usec_t
supervisor_view_restart_budget(const struct supervisor *sv, const char *worker)
{
	struct worker *w = worker_find(sv->workers, worker);

	if (!w)
		return 0;
	return (usec_t) worker_config(w)->instances *
	    usec_add(worker_config(w)->start_timeout, worker_halt_budget(w));
}

int
supervisor_view_reload(struct supervisor *sv, struct config_errors *errors, struct reload **ret)
{
	return reload_begin(sv, errors, ret);
}
