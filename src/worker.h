/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the worker objects (above process plumbing and the task runtime, below the supervisor).
 *
 * The [worker:*] objects: each worker and its instances ("web.0") are owned by worker.c, held in a
 * set by name (struct workers), and others ask them questions; nobody else writes their state.
 * DESIGN.md behaviour held here: the start order (after=, readiness: ready = none | notify | tcp: |
 * delay:), the restart policy (restart=, backoff, start_limit), how an exit is judged (exited,
 * cancelled, killed, failed, abandoned), and each worker's part of the stop, cancel and join
 * steps (its stopper, in reverse dependency order), and the rolling restart (worker_restart():
 * its instances replaced one at a time, each old one through the steps once its replacement is
 * ready). A worker tells the supervisor what changed
 * through the context's changed event (the supervisor waits on it and asks: worker_trigger_reason()
 * for a critical worker's end), never by calling it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "graced.h"
#include "policy.h"

struct command_reaper;
struct event_base;
struct intakes;
struct shutdown;
struct task_event;
struct task_group;
struct task_runtime;
struct worker;
struct workers;

/* What the workers need from around them; owned by the supervisor, which outlives the set. */
struct worker_context {
	struct event_base *base;
	struct task_runtime *rt;      /* set before workers_start() */
	struct task_group *group;     /* the instances' tasks; each instance has a subgroup */
	struct shutdown *shutdown;
	struct intakes *intakes;      /* the sockets= of a worker */
	struct task_event *changed;   /* set whenever a worker's state changes */
	const struct command_reaper *reaper; /* the one reaper, for the exit hooks (command.h) */
	bool foreground;              /* single-command mode: the command gets the terminal */
};

/* What an instance is and how it ended, as of now. */
struct worker_instance_info {
	const char *name;             /* "web.0", or "web" for a single instance */
	unsigned index;
	pid_t pid;                    /* the current process, 0 when none */
	pid_t last_pid;               /* the last process started, 0 if none */
	usec_t started_at;            /* when the running process was started; 0 when none */
	usec_t signalled_at;          /* when its worker's stopper first signalled it; 0: never */
	bool running, ready, failed, finished;
	enum instance_readiness readiness; /* the readiness rule's view of it (policy.h) */
	bool ended;                   /* a process of it ended: status and outcome are set */
	int status;                   /* the last waitpid() status */
	enum outcome outcome;         /* as the report says it */
	enum phase step;              /* the step it ended in; _PHASE_INVALID: before the shutdown */
	usec_t exited_at;             /* when it ended; 0: never */
	unsigned restarts;            /* starts after the first */
	enum phase worker_step;       /* the step its worker's stopper is in; _PHASE_INVALID before */
	bool stopping;                /* its worker's own stop (gracectl stop) runs */
	bool stopped;                 /* its worker was stopped by its own stop and not started since */
};

int workers_new(struct worker_context *ctx, struct workers **ret);
struct workers *workers_free(struct workers *ws);
/* Adds a worker (its instances are started by workers_start(), or at once when the set has
 * started). -EEXIST for a name already there. */
int workers_add(struct workers *ws, const struct worker_config *c, struct worker **ret);
/* Removes a worker whose tasks have ended (never started, or stopped and joined): -EBUSY else. */
int workers_remove(struct workers *ws, const char *name);
size_t workers_count(const struct workers *ws);
/* The i-th worker in the order they were added. */
struct worker *workers_at(const struct workers *ws, size_t i);
struct worker *worker_find(const struct workers *ws, const char *name);
size_t workers_instances(const struct workers *ws);
/* Starts every instance task (once the runtime runs). */
int workers_start(struct workers *ws);
/* Once the instances' tasks have ended (the close step joined them): frees their groups. */
void workers_free_groups(struct workers *ws);
/* Every worker's stopper is done. */
bool workers_all_joined(const struct workers *ws);
/* The process belongs to a running instance (its pid, or its process group). */
bool workers_own_process(const struct workers *ws, pid_t pid, pid_t pgid);
/* graced reaped a process nobody waited for: a process group left behind may be empty now. */
void workers_orphan_reaped(struct workers *ws);
/* The latest EXTEND_TIMEOUT_USEC= instant of any instance, 0 when none. */
usec_t workers_extended(const struct workers *ws);
/* Why a worker asks for the shutdown (a critical worker ended or failed), or NULL. */
const char *workers_trigger_reason(const struct workers *ws);

const char *worker_name(const struct worker *w);
const struct worker_config *worker_config(const struct worker *w);
unsigned worker_n_instances(const struct worker *w);
void worker_instance_info(const struct worker *w, unsigned i, struct worker_instance_info *ret);
/* The last STATUS= the instance's process sent (ready = notify), or NULL. */
const char *worker_instance_status(const struct worker *w, unsigned i);
/* Every instance serves: it runs and is ready, or it is done for good (a one-shot that exited). */
bool worker_serving(const struct worker *w);
/* Sends sig to every running instance (the main process, or its group when group is true), as
 * part of step; ESRCH is not an error. The intake step's signals skip a replaced instance whose
 * own steps run (a rolling restart's: it got its intake signal from them). */
void worker_signal(struct worker *w, int sig, bool group, enum phase step);
/* Whether worker_start() would start it now: 0; -ESHUTDOWN during the shutdown (or once it was
 * triggered); -EAGAIN before the set started; -EBUSY while an instance runs, starts or waits for
 * its restart, or its own stop runs. */
int worker_can_start(const struct worker *w);
/* Starts a worker that is not running (autostart = no, one that gave up, a finished one-shot):
 * its instances as tasks in the workers' group, each after its after= as at start-up. A one-shot
 * started so that fails does not stop graced. 0, or as worker_can_start(), or -ENOMEM. */
int worker_start(struct worker *w);
/*
 * Whether worker_halt() would stop it now: 0; -ESHUTDOWN during the shutdown (or once it was
 * triggered); -EAGAIN before the set started; -EALREADY while its own stop runs; -EINPROGRESS
 * while its rolling restart runs (worker_restart(): it is not taken over); -ESRCH when
 * nothing of it runs or waits for its restart (already stopped, never started, gave up, a
 * finished one-shot); -EBUSY when a worker that is after= it has a task (runs, starts, or waits
 * for its restart) and is not in also (the n_also names stopped with it).
 */
int worker_can_halt(const struct worker *w, char *const *also, size_t n_also);
/*
 * Its own stop (gracectl stop): once every worker after= it has no task left (those stopped with
 * it in the same request), the instances stop restarting, the intake_signal (if any) goes out,
 * and the one stopper runs the stop, cancel and join steps with its own budgets (plan.c), as the
 * shutdown would; the steps are the worker's, not the shutdown's (not recorded in it). It then
 * stays down ("stopped"; inactive for the readiness rule: /ready does not wait for it) until
 * worker_start(). A shutdown that comes meanwhile lets it finish (the worker's stopper waits for
 * it, and a second signal cuts its waits short); one that comes while it waits for its
 * dependents takes over. 0, or as worker_can_halt(), or -ENOMEM.
 */
int worker_halt(struct worker *w, char *const *also, size_t n_also);
/* Waits until no own stop of the worker runs (or deadline): 0, -ETIMEDOUT, -ECANCELED. */
int worker_wait_halted(struct worker *w, usec_t deadline);
/* The worst case of its own stop: its plan budget (plan.c) and the output drain. */
usec_t worker_halt_budget(const struct worker *w);
/*
 * Whether worker_restart() would start a rolling restart now: 0; -ESHUTDOWN during the shutdown
 * (or once it was triggered); -EAGAIN before the set started; -EBUSY while its own stop or a
 * rolling restart runs; -ESRCH when nothing of it runs (never started, stopped, gave up, a
 * finished one-shot).
 */
int worker_can_restart(const struct worker *w);
/*
 * The rolling restart (gracectl restart, a reload's changed worker), as its own task in the
 * workers' group; returns at once: 0, or as worker_can_restart(), -EINVAL (c has another name,
 * or no instance), -ENOMEM. c is the config the replacements start with (the worker's own, or a
 * new one of the same name); the worker points at c from now on, success or not. The config it
 * pointed at is still read (the replaced instances' stop settings) until worker_wait_restarted()
 * returned: only then may the caller free it.
 *
 * For each slot in turn: its replacement starts (same instance number, name, sockets=,
 * NOTIFY_SOCKET handling; its restarts: the old one's + 1) and gets ready by its ready = rule
 * within start_timeout; only then it takes the slot (status, /ready, the restart policy and the
 * shutdown see it from then on; the slot counts as ready throughout when the old one was) and
 * the old process goes through the steps alone: intake_signal, stop signal and SIGCONT, cancel,
 * join, kill, with the worker's budgets (as worker_halt(); the old config's signals, each budget
 * no longer than c's, the plan's); its exit is judged as at a stop, never restarted nor
 * critical, its on_exit runs. Then the next slot. A replacement that does not get ready
 * (start_timeout, an exit, a failed spawn) gets the give-up signal and is reaped, the old one is
 * kept (same pid), and the restart ends there: failed. c->instances more than now: the extra
 * slots then start (each counts once ready); fewer: the surplus ones then go through their
 * steps, the last first.
 *
 * The shutdown's trigger ends it where it is, and the worker's stopper (worker_stop_task())
 * takes the slots and a replacement not yet ready through the shutdown's steps at once. A
 * replaced one whose own steps run is left to them (not signalled twice, its step state its
 * own), concurrently; the worker is joined once both ended. Those steps began before the
 * trigger with budgets no longer than the plan's, so the worker still ends within its plan
 * budget from the trigger. worker_halt() refuses meanwhile (-EINPROGRESS).
 */
int worker_restart(struct worker *w, const struct worker_config *c);
/* Waits for the end of the running rolling restart (none: the last one's result): 0 every slot
 * replaced; -EPROTO a replacement did not get ready (worker_restart_error() says which and why;
 * the old one kept); -ECANCELED the shutdown cut it short; -ETIMEDOUT the deadline passed. */
int worker_wait_restarted(struct worker *w, usec_t deadline);
bool worker_restarting(const struct worker *w);
/* Why the last rolling restart failed ("web.0: the replacement (pid 12) not ready within
 * start_timeout; ..."), or NULL. */
const char *worker_restart_error(const struct worker *w);
/*
 * Repoints the worker at c (same name) without touching a process (a reload's UNCHANGED or
 * UPDATED worker: only keys graced alone reads differ, config-diff.h): its next start, restart,
 * exit and stop use c; the start-limit rings are resized to c's start_limit_burst (the latest
 * starts kept). A different instances = only when nothing of it runs (idle: stopped, never
 * started, gave up): its instances are rebuilt then. The old config is not read once this
 * returned 0. 0; -EINVAL another name or no instance; -EBUSY its own stop or a rolling restart
 * runs, or instances = differs and something runs; -ENOMEM (nothing changed).
 */
int worker_set_config(struct worker *w, const struct worker_config *c);
/* The stopper failed to start: kill every instance and count the worker as joined. */
void worker_kill_now(struct worker *w);
/* The stopper (arg: the worker): once its dependents are joined, stop, cancel and join every
 * instance. */
int worker_stop_task(void *arg);
