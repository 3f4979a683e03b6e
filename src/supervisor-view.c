/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>

#include "config.h"
#include "log.h"
#include "logfile.h"
#include "outbuf.h"
#include "parse.h"
#include "report.h"
#include "supervisor-view.h"
#include "supervisor.h"
#include "util.h"

/*
 * The control plane's view of today's supervisor (see supervisor-view.h). Reads struct
 * supervisor, struct worker and struct instance; writes nothing of theirs: a shutdown is asked
 * for through supervisor_trigger(), signals go straight to the processes.
 */

static const char *const state_table[_INSTANCE_STATE_MAX] = {
	[INSTANCE_STARTING] = "starting",
	[INSTANCE_READY] = "ready",
	[INSTANCE_STOPPING] = "stopping",
	[INSTANCE_EXITED] = "exited",
	[INSTANCE_FAILED] = "failed",
	[INSTANCE_BACKOFF] = "backoff",
};

const char *
instance_state_to_string(enum instance_state s)
{
	return s >= 0 && s < _INSTANCE_STATE_MAX ? state_table[s] : NULL;
}

static enum instance_state
state_of(const struct supervisor *sv, const struct instance *in)
{
	if (in->running)
		return sv->stopping ? INSTANCE_STOPPING : in->ready ? INSTANCE_READY : INSTANCE_STARTING;
	if (in->failed)
		return INSTANCE_FAILED;
	/* Not started yet: waiting for its dependencies. */
	if (in->n_starts == 0 && !sv->stopping)
		return INSTANCE_STARTING;
	if (in->finished || sv->stopping || in->n_starts == 0)
		return INSTANCE_EXITED;
	/* Ended, not given up, not done for good: waiting for its restart. */
	return INSTANCE_BACKOFF;
}

void
supervisor_view_state(const struct supervisor *sv, struct supervisor_state *ret)
{
	*ret = (struct supervisor_state) {
		.name = sv->config->supervisor.name,
		.stopping = sv->stopping,
		.step = !sv->stopping ? "running"
		    : sv->phase >= 0  ? phase_to_string(sv->phase)
				      : "intake",
		.trigger = sv->stopping ? sv->report->trigger : NULL,
		.started = sv->started,
	};
}

bool
supervisor_view_service_ready(const struct supervisor *sv)
{
	if (sv->stopping)
		return false;
	for (size_t i = 0; i < sv->n_workers; i++)
		for (unsigned j = 0; j < sv->workers[i].n_instances; j++) {
			enum instance_state s = state_of(sv, &sv->workers[i].instances[j]);

			/* Before the shutdown, exited means done for good (see state_of()). */
			if (s != INSTANCE_READY && s != INSTANCE_EXITED)
				return false;
		}
	return true;
}

void
supervisor_view_steps(const struct supervisor *sv, struct step_view *ret)
{
	for (enum phase p = 0; p < _PHASE_MAX; p++) {
		const struct report_step *s = sv->report ? &sv->report->steps[p] : NULL;
		bool begun = sv->stopping && s && s->start != 0;

		ret[p] = (struct step_view) {
			.name = phase_to_string(p),
			.begun = begun,
			.done = begun && sv->phase > p,
			.duration = begun && s->end > s->start ? s->end - s->start : 0,
		};
	}
}

size_t
supervisor_view_stragglers(const struct supervisor *sv)
{
	return sv->n_stragglers;
}

uint64_t
supervisor_view_dropped_stdio(const struct supervisor *sv)
{
	(void) sv; /* graced's own streams: one pair per process */
	return outbuf_dropped();
}

uint64_t
supervisor_view_dropped_logfiles(const struct supervisor *sv)
{
	(void) sv;
	return logfile_dropped();
}

bool
supervisor_view_has_worker(const struct supervisor *sv, const char *name)
{
	return config_worker_index(sv->config, name) >= 0;
}

void
supervisor_view_instances(const struct supervisor *sv, const char *worker,
    void (*fn)(const struct instance_view *v, void *userdata), void *userdata)
{
	for (size_t i = 0; i < sv->n_workers; i++) {
		const struct worker *w = &sv->workers[i];

		if (worker && !streq(w->config->name, worker))
			continue;
		for (unsigned j = 0; j < w->n_instances; j++) {
			const struct instance *in = &w->instances[j];
			struct instance_view v = {
				.worker = w->config->name,
				.name = in->name,
				.index = j,
				.state = state_of(sv, in),
				.pid = in->running ? in->pid : 0,
				.restarts = in->n_starts > 0 ? in->n_starts - 1 : 0,
				.exited = in->exited_at != 0,
				.last_status = in->status,
				.step = sv->stopping && w->step >= 0 ? phase_to_string(w->step) : NULL,
				.started = in->running ? in->started_at : 0,
			};

			fn(&v, userdata);
		}
	}
}

int
supervisor_view_signal(struct supervisor *sv, const char *worker, int sig)
{
	struct worker *w = supervisor_find_worker(sv, worker);
	int n = 0, r = 0;

	if (!w)
		return -ENOENT;
	for (unsigned j = 0; j < w->n_instances; j++) {
		struct instance *in = &w->instances[j];
		char pid[16];

		if (!in->running || in->pid <= 0)
			continue;
		snprintf(pid, sizeof(pid), "%ld", (long) in->pid);
		log_fields(LOG_NOTICE, 0,
		    LOG_FIELDS({ "worker", in->name }, { "signal", signal_to_string(sig) },
			{ "pid", pid }, { "event", "control-signal" }),
		    "Sending %s to worker '%s' (pid %s), asked on the control socket",
		    signal_to_string(sig), in->name, pid);
		if (kill(in->pid, sig) < 0) {
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
	if (sv->stopping)
		return false;
	supervisor_trigger(sv, why);
	return true;
}

struct task_runtime *
supervisor_view_runtime(const struct supervisor *sv)
{
	return sv->rt;
}
