/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The supervisor: starts the workers in dependency order, watches them, and on a trigger runs
 * the ordered shutdown (intake, stop, cancel, join, close). Everything hangs off struct
 * supervisor and runs as tasks on one event loop: one task per worker instance (spawn, ready,
 * watch, restart), one stopper per worker (stop, cancel, join in reverse dependency order), and
 * the supervisor's own task that runs the steps in order.
 *
 * How the tasks learn about the shutdown: they wait on its events, each as one clause of a
 * task_wait_any() next to what they wait for anyway, never by polling a flag. The trigger event
 * ends the supervisor's watch, the instances' start phase (readiness, dependencies) and their
 * restarts; the stop event (set at the stop step) ends a restart_delay; at a worker's cancel step
 * its stopper cancels the instances' watches of their processes ("shutdown step cancel": they
 * are still reaped, outside that scope); the close step cancels what still serves the workers
 * ("shutdown step close"). Every wait of a step runs in a struct step_scope that a second signal
 * cancels ("escalation"). sv->stopping stays as state (status, readiness answers, outcomes).
 */

#include <stdbool.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "command.h"
#include "graced.h"
#include "task.h"

struct event;
struct control;
struct event_base;
struct intake;
struct notify_worker;
struct report;
struct single_forwarding;

/* One running copy of a worker ("web.0"). */
struct instance {
	struct worker *worker;
	unsigned index;
	char name[80];               /* "web.0", or "web" for a single instance */
	size_t record;               /* its entry in the report */
	pid_t pid;                   /* the current process, 0 when none */
	bool running;                /* spawned and not yet reaped */
	bool ready;
	int status;                  /* the last waitpid() status */
	usec_t exited_at;
	usec_t started_at;           /* when the current process was spawned (for status uptime) */
	int stop_fd;                 /* write end of the stop pipe, -1 */
	struct task_event wake;      /* the process exited, or something it waits for changed */
	struct task_group *group;    /* its own task and the tasks that serve it */
	usec_t *starts;              /* ring of the last start_limit_burst start times */
	unsigned n_starts;
	bool failed;                 /* gave up: exec failure, start limit, not ready in time */
	bool finished;               /* exited before the shutdown and will not be restarted */
	struct notify_worker *notify; /* notify-worker.c: its NOTIFY_SOCKET, NULL without one */
	bool notified_ready;         /* the current process said READY=1 */
	usec_t extended;             /* EXTEND_TIMEOUT_USEC=: the current wait ends no earlier */
	struct task_scope *watch;    /* the watch of its process, cancelled at the cancel step */
};

/* One [worker:*] section. */
struct worker {
	struct supervisor *sv;
	const struct worker_config *config;
	struct instance *instances;
	unsigned n_instances;
	unsigned n_ready;
	bool start_failed;           /* an instance failed to start: dependents are not started */
	enum phase step;             /* the step its stopper is in; _PHASE_INVALID before */
	bool killed;                 /* the kill signal was sent */
	bool joined;                 /* its stop, cancel and join are over */
	struct task_event wake;      /* an instance exited, or a dependent was joined */
};

/* A wait of a shutdown step that a second signal (second_signal = escalate) cuts short: a cancel
 * scope on the waiting task's stack, registered with the supervisor while it is entered. */
struct step_scope {
	struct task_scope scope;
	LIST_ENTRY(step_scope) link;
};

struct supervisor {
	struct event_base *base;
	struct task_runtime *rt;
	struct task_group *group;    /* the supervisor's own task */
	const struct config *config;
	struct plan *plan;
	struct report *report;
	struct worker *workers;
	size_t n_workers;
	struct intake *intakes;      /* one per [intake:*], in config order (intake.c) */
	struct control *control;     /* control.c: the control socket, NULL without one */
	size_t n_intakes;
	bool single;                 /* single-command mode: exit with the child's status */

	struct task_event trigger;   /* set once: the shutdown begins (waited on, see above) */
	struct task_event stop;      /* the stop event: set at the stop step (see above) */
	struct task_event wake;      /* the supervisor's own waits: something changed */
	struct task_group *workers_group;  /* instance tasks; each instance has a subgroup */
	struct task_group *stoppers; /* one stopper per worker during the shutdown */
	usec_t started;
	bool stopping;
	enum phase phase;
	LIST_HEAD(, step_scope) step_scopes; /* the step waits in progress (escalation cancels them) */
	int last_signal;             /* the last SIGTERM/SIGINT acted on, 0 before the first */
	usec_t last_signal_at;       /* and when it came */
	bool empty;                  /* the shutdown began because nothing was left to run */
	bool forced;                 /* something was killed or abandoned, or a run-time failure */
	struct event *signals[72];   /* signals.c: by signal number, one per signal graced catches */
	struct event *sigpipe;       /* signals.c: SIGPIPE, read from a signalfd */
	/* Single-command mode: how signals reach the command (-g, -r, -w...), NULL in config mode. */
	const struct single_forwarding *forwarding;
	/* Single-command mode without --stop-signal: what the stop step sends instead of the
	 * configured signal (the SIGTERM or SIGINT received, after -r; SIGNAL_NONE when dropped). */
	bool stop_signal_replaced;
	int stop_signal_received;
	usec_t signal_logged[72];    /* config mode: when each ignored signal was last logged */
	struct straggler *stragglers;
	size_t n_stragglers;
	int exit_status;
	bool closed;                 /* the close step ran: the report is due */
	struct command_reaper reaper; /* supervisor_reap(), for command_run()'s look at a deadline */
	struct event *watchdog;      /* notify.c: WATCHDOG=1 to systemd; NULL when it is off */
	bool notified_ready;         /* notify.c: READY=1 was sent */
	char status[600];            /* notify.c: the last STATUS= sent */
};

int supervisor_new(struct event_base *base, const struct config *c, bool single,
    struct supervisor **ret);
/* Runs the configuration to the end of its shutdown; returns graced's exit status. */
int supervisor_run(struct supervisor *sv);
struct supervisor *supervisor_free(struct supervisor *sv);
/*
 * Once the loop has ended: the runtime's exit check (task_runtime_shutdown()), then, if the close
 * step ran, the report with the number of tasks that check found still pending, and the exit
 * status (1 if the report cannot be written, unless a status is passed on). Returns that number;
 * while it is not 0 the runtime must stay allocated.
 */
size_t supervisor_finish(struct supervisor *sv);

/* Called from the loop's signal callbacks. */
void supervisor_on_signal(struct supervisor *sv, int sig);
/* The signal the stop step sends: the configured one, or in single-command mode without
 * --stop-signal the one graced received. */
int supervisor_stop_signal(const struct supervisor *sv, int configured);
/* Single-command mode: the command is stopped by job control (signals.c saw it): graced stops
 * itself, so the shell sees its job stopped. */
void supervisor_job_stopped(struct supervisor *sv);
/* Starts the shutdown (once); why is the report's "trigger". */
void supervisor_trigger(struct supervisor *sv, const char *why);
/* Wakes every task that waits for a change in the supervisor's state. */
void supervisor_poke(struct supervisor *sv);
/*
 * Runs a wait of a shutdown step in s: a second signal cancels every step scope entered at that
 * moment ("escalation"), so the wait inside returns -ECANCELED and the step moves on, while the
 * task itself is not cancelled. Leave returns what task_scope_leave() does.
 */
int supervisor_step_scope_enter(struct supervisor *sv, struct step_scope *s);
int supervisor_step_scope_leave(struct supervisor *sv, struct step_scope *s);
/* Records the start or end of a step in the report (the earliest start, the latest end). */
void supervisor_step_begin(struct supervisor *sv, enum phase p);
void supervisor_step_end(struct supervisor *sv, enum phase p);
/* Reaps every exited child and hands each status to the task runtime. */
void supervisor_reap(struct supervisor *sv);
struct worker *supervisor_find_worker(struct supervisor *sv, const char *name);

/* signals.c: the loop's signal events (TERM INT HUP USR1 CHLD). */
int signals_setup(struct supervisor *sv);
void signals_free(struct supervisor *sv);

/* resource.c: the pidfile and [resource:*], closed in reverse order in the close step. */
int resource_write_pidfile(const char *path);
void resource_close_all(struct supervisor *sv);

/* worker.c */
int worker_init(struct worker *w, struct supervisor *sv, const struct worker_config *c);
void worker_done(struct worker *w);
/* The instance task: spawn, readiness, watch, restart, until the shutdown or giving up. */
int worker_instance_task(void *arg);
/* The stopper: once its dependents are joined, stop, cancel and join every instance. */
int worker_stop_task(void *arg);
/* Sends sig to the instance (its process group when group is true); ESRCH is not an error. */
int worker_signal(struct instance *in, int sig, bool group, enum phase step);
