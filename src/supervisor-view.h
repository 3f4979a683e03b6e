/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the control plane (control.c) may ask of and tell the supervisor: the whole interface
 * between them, and the only file of the control plane that knows struct supervisor's fields
 * (supervisor-view.c). It reads today's one-shot supervisor; when workers become live objects
 * (issue 12) only supervisor-view.c changes, and the fields marked "not yet" can be filled in.
 *
 * Everything here runs in the loop's thread (a control connection's task) and never blocks.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "graced.h"

struct supervisor;
struct task_runtime;

/* An instance's state as `gracectl status` shows it (gracectl(1) defines each). */
enum instance_state {
	INSTANCE_STARTING, /* running, not ready yet */
	INSTANCE_READY,
	INSTANCE_STOPPING, /* running while the shutdown is on */
	INSTANCE_EXITED,   /* ended and will not be started again (a clean exit, or the shutdown) */
	INSTANCE_FAILED,   /* gave up: exec failure, start limit, not ready in time, failed exit */
	INSTANCE_BACKOFF,  /* ended, waiting for its restart */
	_INSTANCE_STATE_MAX,
	_INSTANCE_STATE_INVALID = -22,
};

const char *instance_state_to_string(enum instance_state s);

struct instance_view {
	const char *worker;        /* the [worker:NAME] */
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

void supervisor_view_state(const struct supervisor *sv, struct supervisor_state *ret);

/*
 * The readiness rule behind /ready and /status's "ready": the service is ready while graced is
 * not stopping and every instance serves (ready, or exited before the shutdown and done for good,
 * as a one-shot). An instance in state failed (it gave up) keeps it unready for good.
 */
bool supervisor_view_service_ready(const struct supervisor *sv);
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
void supervisor_view_steps(const struct supervisor *sv, struct step_view *ret);
/* Descendants no worker accounted for that the shutdown found so far (straggler.h). */
size_t supervisor_view_stragglers(const struct supervisor *sv);
/* Output bytes dropped so far: to graced's own stdout and stderr (log lines, prefixed worker
 * output; outbuf.h), and on write errors to the workers' log files (logfile.h). */
uint64_t supervisor_view_dropped_stdio(const struct supervisor *sv);
uint64_t supervisor_view_dropped_logfiles(const struct supervisor *sv);
/* Whether a worker of that name exists. */
bool supervisor_view_has_worker(const struct supervisor *sv, const char *name);
/* Calls fn for each instance of worker (every worker when NULL), in config order. */
void supervisor_view_instances(const struct supervisor *sv, const char *worker,
    void (*fn)(const struct instance_view *v, void *userdata), void *userdata);
/*
 * Sends sig to the main process of every running instance of worker (as `kill PID`; not to its
 * process group). Returns how many instances were signalled, -ENOENT when there is no such
 * worker, or the first kill() error (the others are still signalled).
 */
int supervisor_view_signal(struct supervisor *sv, const char *worker, int sig);
/* Starts the ordered shutdown as SIGTERM does (once; later requests change nothing); why is the
 * report's trigger. Returns false when the shutdown was already on. */
bool supervisor_view_shutdown(struct supervisor *sv, const char *why);
/* The task runtime, for the task table (`gracectl dump`). */
struct task_runtime *supervisor_view_runtime(const struct supervisor *sv);
