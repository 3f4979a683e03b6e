/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the supervisor (above the worker, intake and straggler objects; below main.c).
 *
 * The supervisor: starts the workers in dependency order, watches them, and on a trigger runs
 * the ordered shutdown (intake, stop, cancel, join, close). It owns the parts and is the only one
 * that calls down into all of them; they report back through events it waits on (the workers'
 * changed event, the shutdown's step_changed) and their tasks' results, never by calling it.
 * DESIGN.md behaviour held here: what starts the shutdown (signals, a critical worker, nothing
 * left to run), the second signal (escalation), the order of the steps and the close step, what
 * systemd is told (READY=1, STATUS=, STOPPING=1, EXTEND_TIMEOUT_USEC=), single-command mode's
 * signal forwarding and job control, the one reaper, and the report, rendered once at the end.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "command.h"
#include "graced.h"
#include "intake.h"
#include "notify.h"
#include "policy.h"
#include "resource.h"
#include "shutdown.h"
#include "status.h"
#include "straggler.h"
#include "task.h"
#include "worker.h"

struct control;
struct event_base;
struct report;
struct signals;
struct single_forwarding;

struct supervisor {
	struct event_base *base;
	struct task_runtime *rt;
	struct task_group *group;    /* the supervisor's own task */
	const struct config *config; /* the one running: main()'s, or own_config after a reload */
	struct config *own_config;   /* the last reload's configuration (NULL: main()'s runs) */
	struct config **retained;    /* older configurations something still points into (a worker
				      * whose rolling restart failed), freed at the end */
	size_t n_retained;
	struct reload *reload;       /* the reload being applied (reload.h), NULL when none */
	struct task_group *reloads;  /* its task */
	bool log_level_fixed;        /* -v/-q on the command line: a reload keeps the log level */
	bool workers_started;
	struct plan *plan;
	bool single;                 /* single-command mode: exit with the child's status */

	struct shutdown shutdown;    /* where the shutdown is (shutdown.h) */
	struct worker_context wctx;  /* what the workers get from here */
	struct workers *workers;     /* by name (worker.h) */
	struct intakes intakes;      /* one per [intake:*], in config order (intake.h) */
	struct resources resources;  /* [resource:*] by name, the last opened first (resource.h) */
	struct stragglers stragglers;
	struct status_source status; /* the live state /status, /metrics and gracectl read */
	struct notify notify;        /* what systemd was told */
	struct signals *signals;
	struct control *control;     /* control.c: the control socket, NULL without one */

	struct task_event wake;      /* the supervisor's own waits: a worker's state changed */
	struct task_group *workers_group;  /* instance tasks; each instance has a subgroup */
	struct task_group *stoppers; /* one stopper per worker during the shutdown */
	usec_t started;
	int last_signal;             /* the last SIGTERM/SIGINT acted on, 0 before the first */
	usec_t last_signal_at;       /* and when it came */
	struct run_facts facts;      /* what the run came to (policy.h): empty, forced, ... */
	/* Single-command mode: how signals reach the command (-g, -r, -w...), NULL in config mode. */
	const struct single_forwarding *forwarding;
	usec_t signal_logged[72];    /* config mode: when each ignored signal was last logged */
	uint64_t output_dropped;     /* bytes of graced's own output dropped, as of the close step */
	struct command_reaper reaper; /* supervisor_reap(), for command_run()'s look at a deadline */
};

int supervisor_new(struct event_base *base, const struct config *c, bool single,
    struct supervisor **ret);
/* Runs the configuration to the end of its shutdown: -errno when it could not start (nothing
 * ran), else 0 with what the run came to in *ret (main.c maps it to the exit status). */
int supervisor_run(struct supervisor *sv, struct run_facts *ret);
struct supervisor *supervisor_free(struct supervisor *sv);
/*
 * Once the loop has ended: the runtime's exit check (task_runtime_shutdown()), then, if the close
 * step ran, the report, rendered from the final state with the number of tasks that check found
 * still pending (facts.report_failed when it cannot be written). Returns that number; while it
 * is not 0 the runtime must stay allocated.
 */
size_t supervisor_finish(struct supervisor *sv);

/*
 * Adds a worker while graced runs (and at start, for each [worker:*]): it joins the set by name,
 * its instances start at once when the workers have started, and the plan is recomputed from the
 * current set. c must outlive the worker. -EEXIST for a name taken, -ESHUTDOWN once stopping.
 */
int supervisor_add_worker(struct supervisor *sv, const struct worker_config *c);
/* The shutdown plan again, from the workers there are now and the running configuration. */
int supervisor_replan(struct supervisor *sv);
/* Removes a worker whose processes and tasks have ended (-EBUSY while any runs: stop it first),
 * and recomputes the plan. -ENOENT for an unknown name. */
int supervisor_remove_worker(struct supervisor *sv, const char *name);

/* Starts the ordered shutdown as SIGTERM does (once); why is the report's trigger. Returns false
 * when it was already on (for the control plane). */
bool supervisor_shutdown(struct supervisor *sv, const char *why);

/* What a signal means (called from the loop's signal events, signals.h). */
void supervisor_on_signal(struct supervisor *sv, int sig);
/* Reaps every exited child and hands each status to the task runtime. */
void supervisor_reap(struct supervisor *sv);
