/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>

#include "config.h"
#include "log.h"
#include "parse.h"
#include "report.h"
#include "supervisor-view.h"
#include "supervisor.h"
#include "util.h"
#include "worker.h"

/*
 * Layer: the control plane (above the supervisor).
 *
 * The control plane's view of the supervisor (see supervisor-view.h): it asks the worker objects
 * (worker_instance_info()) and the shutdown (shutdown.h), writes nothing of theirs: a shutdown is
 * asked for through supervisor_shutdown(), signals go straight to the processes.
 */

static const char *const state_table[_INSTANCE_STATE_MAX] = {
	[INSTANCE_STARTING] = "starting",
	[INSTANCE_READY] = "ready",
	[INSTANCE_STOPPING] = "stopping",
	[INSTANCE_EXITED] = "exited",
	[INSTANCE_FAILED] = "failed",
	[INSTANCE_BACKOFF] = "backoff",
	[INSTANCE_INACTIVE] = "inactive",
};

const char *
instance_state_to_string(enum instance_state s)
{
	return s >= 0 && s < _INSTANCE_STATE_MAX ? state_table[s] : NULL;
}

static enum instance_state
state_of(const struct supervisor *sv, const struct worker_instance_info *in)
{
	bool stopping = sv->shutdown.stopping;

	if (in->readiness == READINESS_INACTIVE)
		return INSTANCE_INACTIVE;
	if (in->running)
		return stopping ? INSTANCE_STOPPING : in->ready ? INSTANCE_READY : INSTANCE_STARTING;
	if (in->failed)
		return INSTANCE_FAILED;
	/* Not started yet: waiting for its dependencies. */
	if (in->last_pid == 0 && !stopping)
		return INSTANCE_STARTING;
	if (in->finished || stopping || in->last_pid == 0)
		return INSTANCE_EXITED;
	/* Ended, not given up, not done for good: waiting for its restart. */
	return INSTANCE_BACKOFF;
}

void
supervisor_view_state(const struct supervisor *sv, struct supervisor_state *ret)
{
	*ret = (struct supervisor_state) {
		.name = sv->config->supervisor.name,
		.stopping = sv->shutdown.stopping,
		.step = shutdown_step_name(&sv->shutdown),
		.trigger = sv->shutdown.stopping ? sv->shutdown.why : NULL,
		.started = sv->started,
	};
}

bool
supervisor_view_has_worker(const struct supervisor *sv, const char *name)
{
	return worker_find(sv->workers, name) != NULL;
}

void
supervisor_view_instances(const struct supervisor *sv, const char *worker,
    void (*fn)(const struct instance_view *v, void *userdata), void *userdata)
{
	for (size_t i = 0; i < workers_count(sv->workers); i++) {
		const struct worker *w = workers_at(sv->workers, i);

		if (worker && !streq(worker_name(w), worker))
			continue;
		for (unsigned j = 0; j < worker_n_instances(w); j++) {
			struct worker_instance_info in;
			struct instance_view v;

			worker_instance_info(w, j, &in);
			v = (struct instance_view) {
				.worker = worker_name(w),
				.name = in.name,
				.index = j,
				.state = state_of(sv, &in),
				.pid = in.pid,
				.restarts = in.restarts,
				.exited = in.ended,
				.last_status = in.status,
				.step = sv->shutdown.stopping && in.worker_step >= 0 ?
				    phase_to_string(in.worker_step) : NULL,
			};
			fn(&v, userdata);
		}
	}
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
