/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the objects (next to the intakes, which serve it).
 *
 * Live state as its readers see it: the readiness endpoint's /ready, /status and /metrics
 * (readiness.c, metrics.c) and `gracectl status` (control.c), one shape for all of them
 * (status-json.c). It asks the worker objects (worker_instance_info()), the shutdown and the
 * stragglers, and writes nothing of theirs. The supervisor fills one struct status_source and
 * hands it to the intakes and to the control plane. Each instance's state comes from the one
 * readiness rule (policy.h); gracectl(1) and graced.ini(5) define the states.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "graced.h"

struct shutdown;
struct stragglers;
struct workers;

/* What the status is read from; owned by the supervisor, which outlives every reader. */
struct status_source {
	const char *name;                  /* [supervisor] name */
	const struct workers *workers;
	const struct shutdown *shutdown;
	const struct stragglers *stragglers;
	const usec_t *started;             /* when the workers were started; 0 before */
};

/* An instance's state as `gracectl status`, /status and /metrics show it. */
enum instance_state {
	INSTANCE_STARTING, /* not ready yet: starting, or waiting for its after= */
	INSTANCE_READY,
	INSTANCE_STOPPING, /* running while the shutdown is on */
	INSTANCE_EXITED,   /* ended and will not be started again (a clean exit, or the shutdown) */
	INSTANCE_FAILED,   /* gave up: exec failure, start limit, not ready in time, failed exit */
	INSTANCE_BACKOFF,  /* ended, waiting for its restart */
	INSTANCE_INACTIVE, /* never started: autostart = no, until `gracectl start` */
	INSTANCE_STOPPED,  /* stopped by `gracectl stop`, until `gracectl start` */
	_INSTANCE_STATE_MAX,
	_INSTANCE_STATE_INVALID = -22,
};

const char *instance_state_to_string(enum instance_state s);

struct worker_config;

struct instance_view {
	const char *worker;        /* the [worker:NAME] */
	const struct worker_config *config; /* its settings (type, log files) */
	const char *name;          /* "web.0", or "web" for a single instance */
	unsigned index;
	enum instance_state state;
	pid_t pid;                 /* the running process, 0 when none */
	unsigned restarts;         /* starts after the first */
	bool exited;               /* a process of it ended: last_status is valid */
	int last_status;           /* its waitpid() status */
	const char *step;          /* during the shutdown: its worker's step ("stop"...), else NULL */
	usec_t started;            /* when the running process was started (CLOCK_MONOTONIC), 0 when
				    * none: its uptime */
};

struct supervisor_state {
	const char *name;          /* [supervisor] name */
	bool stopping;
	const char *step;          /* "running", or the shutdown's step ("intake", "stop"...) */
	const char *trigger;       /* what started the shutdown, NULL before */
	usec_t started;            /* when the workers were started (CLOCK_MONOTONIC) */
};

void status_state(const struct status_source *src, struct supervisor_state *ret);

/* The readiness rule behind /ready and /status's "ready" (policy_service_ready()): not stopping,
 * and every instance serves. An instance that gave up keeps it unready for good. */
bool status_service_ready(const struct status_source *src);
/* Whether an instance gave up (state failed): then /ready says which. */
static inline bool
instance_view_failed(const struct instance_view *v)
{
	return v->state == INSTANCE_FAILED;
}

/* One step of the shutdown (graced runs one shutdown, so it is also the last). */
struct step_view {
	const char *name;          /* "intake", "stop", "cancel", "join", "close" */
	bool begun;
	bool done;                 /* a later step began: its duration is final */
	usec_t duration;           /* from its first start to its last end so far */
};
/* The steps in order (_PHASE_MAX of them into ret). */
void status_steps(const struct status_source *src, struct step_view *ret);
/* Descendants no worker accounted for that the shutdown found so far (straggler.h). */
size_t status_stragglers(const struct status_source *src);
/* Output bytes dropped so far: to graced's own stdout and stderr (log lines, prefixed worker
 * output; outbuf.h), and on write errors to the workers' log files (logfile.h). */
uint64_t status_dropped_stdio(void);
uint64_t status_dropped_logfiles(void);
/* Whether a worker of that name exists. */
bool status_has_worker(const struct status_source *src, const char *name);
/* Calls fn for each instance of worker (every worker when NULL), in config order. */
void status_instances(const struct status_source *src, const char *worker,
    void (*fn)(const struct instance_view *v, void *userdata), void *userdata);
