/* SPDX-License-Identifier: MIT */
#include "logfile.h"
#include "outbuf.h"
#include "parse.h"
#include "policy.h"
#include "shutdown.h"
#include "status.h"
#include "straggler.h"
#include "util.h"
#include "worker.h"

/* Layer: the objects. See status.h. */

static const char *const state_table[_INSTANCE_STATE_MAX] = {
	[INSTANCE_STARTING] = "starting",
	[INSTANCE_READY] = "ready",
	[INSTANCE_STOPPING] = "stopping",
	[INSTANCE_EXITED] = "exited",
	[INSTANCE_FAILED] = "failed",
	[INSTANCE_BACKOFF] = "backoff",
	[INSTANCE_INACTIVE] = "inactive",
	[INSTANCE_STOPPED] = "stopped",
};

const char *
instance_state_to_string(enum instance_state s)
{
	return s >= 0 && s < _INSTANCE_STATE_MAX ? state_table[s] : NULL;
}

/* The state shown, from the readiness rule's view of the instance (policy.h) and where its
 * process is. */
static enum instance_state
state_of(bool stopping, const struct worker_instance_info *in)
{
	if (in->running && (stopping || in->stopping))
		return INSTANCE_STOPPING;
	/* Stopped by its own stop (gracectl stop), or on its way there: not the shutdown's. */
	if (!in->running && (in->stopped || in->stopping))
		return INSTANCE_STOPPED;
	switch (in->readiness) {
	case READINESS_INACTIVE:
		return INSTANCE_INACTIVE;
	case READINESS_SERVING:
		return INSTANCE_READY;
	case READINESS_FAILED:
		return INSTANCE_FAILED;
	case READINESS_DONE:
		return INSTANCE_EXITED;
	default:
		break; /* starting, or was ready and its process ended */
	}
	/* Running and not ready yet, or not started yet (waiting for its after=). */
	if (in->running || (in->last_pid == 0 && !stopping))
		return INSTANCE_STARTING;
	/* Ended and not done for good: its restart, unless the shutdown came. */
	return stopping ? INSTANCE_EXITED : INSTANCE_BACKOFF;
}

void
status_state(const struct status_source *src, struct supervisor_state *ret)
{
	*ret = (struct supervisor_state) {
		.name = src->name,
		.stopping = src->shutdown->stopping,
		.step = shutdown_step_name(src->shutdown),
		.trigger = src->shutdown->stopping ? src->shutdown->why : NULL,
		.started = *src->started,
	};
}

bool
status_service_ready(const struct status_source *src)
{
	bool serving = true;

	for (size_t i = 0; serving && i < workers_count(src->workers); i++)
		serving = worker_serving(workers_at(src->workers, i));
	return policy_service_ready(src->shutdown->stopping, serving);
}

void
status_steps(const struct status_source *src, struct step_view *ret)
{
	const struct shutdown *sd = src->shutdown;

	for (enum phase p = 0; p < _PHASE_MAX; p++) {
		const struct shutdown_step *s = &sd->steps[p];
		bool begun = sd->stopping && s->start != 0;

		ret[p] = (struct step_view) {
			.name = phase_to_string(p),
			.begun = begun,
			.done = begun && sd->phase > p,
			.duration = begun && s->end > s->start ? s->end - s->start : 0,
		};
	}
}

size_t
status_stragglers(const struct status_source *src)
{
	return src->stragglers->n;
}

uint64_t
status_dropped_stdio(void)
{
	return outbuf_dropped();
}

uint64_t
status_dropped_logfiles(void)
{
	return logfile_dropped();
}

bool
status_has_worker(const struct status_source *src, const char *name)
{
	return worker_find(src->workers, name) != NULL;
}

void
status_instances(const struct status_source *src, const char *worker,
    void (*fn)(const struct instance_view *v, void *userdata), void *userdata)
{
	bool stopping = src->shutdown->stopping;

	for (size_t i = 0; i < workers_count(src->workers); i++) {
		const struct worker *w = workers_at(src->workers, i);

		if (worker && !streq(worker_name(w), worker))
			continue;
		for (unsigned j = 0; j < worker_n_instances(w); j++) {
			struct worker_instance_info in;
			struct instance_view v;

			worker_instance_info(w, j, &in);
			v = (struct instance_view) {
				.worker = worker_name(w),
				.config = worker_config(w),
				.name = in.name,
				.index = j,
				.state = state_of(stopping, &in),
				.pid = in.pid,
				.restarts = in.restarts,
				.exited = in.ended,
				.last_status = in.status,
				.step = stopping && in.worker_step >= 0 ? phase_to_string(in.worker_step)
									: NULL,
				.started = in.started_at,
			};
			fn(&v, userdata);
		}
	}
}
