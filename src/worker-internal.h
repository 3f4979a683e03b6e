/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the worker objects (private to worker.c and notify-worker.c).
 *
 * The worker objects' private state, shared by worker.c and notify-worker.c (an instance's
 * NOTIFY_SOCKET is part of the instance). Nobody else includes this.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "graced.h"
#include "task.h"
#include "util.h"
#include "worker.h"

struct notify_worker;

/* One running copy of a worker ("web.0"). */
struct instance {
	struct worker *worker;
	unsigned index;
	char name[80];               /* "web.0", or "web" for a single instance */
	pid_t pid;                   /* the current process, 0 when none */
	pid_t last_pid;
	usec_t started_at;           /* when the current process was spawned (its uptime) */
	bool running;                /* spawned and not yet reaped */
	bool ready;
	bool ended;                  /* a process ended: status, outcome, step, exited_at are set */
	int status;                  /* the last waitpid() status */
	enum outcome outcome;
	enum phase step;
	usec_t exited_at;
	int stop_fd;                 /* write end of the stop pipe, -1 */
	struct task_event wake;      /* the process exited, or something it waits for changed */
	struct task_group *group;    /* the tasks that serve it (output pumps, notify reader) */
	bool task_alive;             /* its own task (in the context's group) has not ended */
	usec_t *starts;              /* ring of the last start_limit_burst start times */
	unsigned n_starts;
	bool failed;                 /* gave up: exec failure, start limit, not ready in time */
	bool finished;               /* exited before the shutdown and will not be restarted */
	struct notify_worker *notify; /* notify-worker.c: its NOTIFY_SOCKET, NULL without one */
	bool notified_ready;         /* the current process said READY=1 */
	usec_t extended;             /* EXTEND_TIMEOUT_USEC=: the current wait ends no earlier */
	struct task_scope *watch;    /* the watch of its process, cancelled at the cancel step */
	pid_t pgid;                  /* its process group, while the worker's stopper stops what its
				      * process left there (it ended during the shutdown); else 0 */
	int group_signal;            /* the last stop or cancel signal that group got; 0: none */
	unsigned exits;              /* processes ended (record_exit()) */
	unsigned hooked;             /* of those, how many had their on_exit run to its end */
	/* The rolling restart (worker_restart()): */
	bool replacement;            /* a replacement not yet in its slot: it takes the slot once
				      * ready; if it fails to get ready it is stopped, not failed */
	bool replace_failed;         /* that replacement did not get ready; why says why */
	char why[96];
	bool retired;                /* out of its slot (replaced, or surplus): its process goes
				      * through the steps, its exit is not judged nor restarted */
	struct task_event retire;    /* set when it is retired: ends its waits (backoff, start) */
	enum phase retire_step;      /* the step its retirement is in; _PHASE_INVALID before */
	bool retire_killed;          /* its retirement sent the kill signal */
	bool retire_stopping;        /* its retirement's steps run (retire_stop()): the worker's
				      * stopper leaves it to them (stopper_owns()) */
};

/* One [worker:*] section. */
struct worker {
	struct workers *set;
	char *name;                  /* its own copy: the index keys on it while configs come and go */
	const struct worker_config *config;
	struct instance **instances; /* the slots: instance i is "NAME.i" */
	unsigned n_instances;
	struct instance **extra;     /* out of a slot: a rolling restart's replacement until it is
				      * ready, retired ones until their task ended (then freed) */
	unsigned n_extra;
	unsigned n_ready;
	bool start_failed;           /* an instance failed to start: dependents are not started */
	bool started;                /* its instance tasks were started (autostart = no: not yet) */
	bool on_demand;              /* started by worker_start() (gracectl start), not at start-up */
	bool halting;                /* its own stop (worker_halt(), gracectl stop) runs */
	bool halted;                 /* stopped by its own stop and not started since */
	struct task_event halt;      /* set when its own stop begins: the instances stop restarting,
				      * as at the shutdown's trigger */
	struct task_event halt_done; /* set when its own stop ended */
	enum phase step;             /* the step its stopper is in; _PHASE_INVALID before */
	bool killed;                 /* the kill signal was sent */
	usec_t signalled_at;         /* its stopper's first signal; 0: never */
	bool joined;                 /* its stop, cancel and join are over */
	char trigger[160];           /* why it asks for the shutdown (critical), "" when it does not */
	struct task_event wake;      /* an instance exited, or a dependent was joined */
	int step_signal;             /* the signal of its stopper's step (stop or cancel), which a
				      * group left behind gets at once; 0: none yet */
	bool restarting;             /* its rolling restart (worker_restart()) runs */
	int restart_result;          /* how the last one ended (worker_wait_restarted()) */
	char restart_error[320];     /* why it failed, "" */
	struct task_event restart_done; /* set when the rolling restart ended */
	const struct worker_config *prev_config; /* during the rolling restart: the config the
				      * old instances run with (their stop settings) */
};

struct workers {
	struct worker_context *ctx;
	struct worker **items;       /* in the order added */
	size_t n;
	struct name_index index;     /* name -> position in items */
	bool started;
};

/* Every instance of the worker, its slots then the extra ones (n_all()). */
static inline unsigned
n_all(const struct worker *w)
{
	return w->n_instances + w->n_extra;
}

static inline struct instance *
instance_at(const struct worker *w, unsigned i)
{
	return i < w->n_instances ? w->instances[i] : w->extra[i - w->n_instances];
}

/* Sends sig to one instance (its process group when group is true); ESRCH is not an error. */
int instance_signal(struct instance *in, int sig, bool group, enum phase step);
