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
	INSTANCE_INACTIVE, /* never started: autostart = no, until `gracectl start` */
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
};

struct supervisor_state {
	const char *name;          /* [supervisor] name */
	bool stopping;
	const char *step;          /* "running", or the shutdown's step ("intake", "stop"...) */
	const char *trigger;       /* what started the shutdown, NULL before */
	usec_t started;            /* when the workers were started (CLOCK_MONOTONIC) */
};

void supervisor_view_state(const struct supervisor *sv, struct supervisor_state *ret);
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
/* Whether supervisor_view_start() would start the worker now: 0, -ENOENT (no such worker),
 * -EBUSY (it runs, starts or waits for its restart), -ESHUTDOWN (during the shutdown), -EAGAIN
 * (graced has not started its workers yet). */
int supervisor_view_can_start(const struct supervisor *sv, const char *worker);
/* Starts a worker that is not running (`gracectl start`: autostart = no, or one that gave up),
 * as worker_start(). 0, or as supervisor_view_can_start(). */
int supervisor_view_start(struct supervisor *sv, const char *worker);
/* Starts the ordered shutdown as SIGTERM does (once; later requests change nothing); why is the
 * report's trigger. Returns false when the shutdown was already on. */
bool supervisor_view_shutdown(struct supervisor *sv, const char *why);
/* The task runtime, for the task table (`gracectl dump`). */
struct task_runtime *supervisor_view_runtime(const struct supervisor *sv);
