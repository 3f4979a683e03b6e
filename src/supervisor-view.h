/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the control plane (above the supervisor).
 *
 * What the control plane (control.c) may ask of and tell the supervisor: the whole interface
 * between them, and the only file of the control plane that knows struct supervisor's fields
 * (supervisor-view.c). What it reads is the live state of status.h, the same the readiness
 * endpoint answers from; what it tells goes to the processes (a signal) or is a request to the
 * supervisor (the shutdown).
 *
 * Everything here runs in the loop's thread (a control connection's task) and never blocks.
 */

#include <stdbool.h>
#include <stddef.h>

#include "graced.h"

struct config_errors;
struct reload;
struct status_source;
struct supervisor;
struct task_runtime;

/* The live state (status.h). */
const struct status_source *supervisor_view_status(const struct supervisor *sv);
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
/* Whether supervisor_view_stop() would stop the worker now: 0, -ENOENT (no such worker), or as
 * worker_can_halt() (also: the other names of the same request, stopped with it). */
int supervisor_view_can_stop(const struct supervisor *sv, const char *worker, char *const *also,
    size_t n_also);
/* Begins the worker's own stop (`gracectl stop`, worker_halt()): 0, or as
 * supervisor_view_can_stop(). */
int supervisor_view_stop(struct supervisor *sv, const char *worker, char *const *also,
    size_t n_also);
/* Waits until the worker's own stop is over (deadline: -ETIMEDOUT); returns 1 when it stopped
 * the worker, 0 when the shutdown took over, -ENOENT without such a worker. */
int supervisor_view_wait_stopped(struct supervisor *sv, const char *worker, usec_t deadline);
/* The longest the worker's own stop may take (worker_halt_budget()); 0 without such a worker. */
usec_t supervisor_view_stop_budget(const struct supervisor *sv, const char *worker);
/* Begins a reload of the configuration file (reload.h): 0 with *ret to follow it, or as
 * reload_begin() (errors: every FILE:LINE of a refusal). */
int supervisor_view_reload(struct supervisor *sv, struct config_errors *errors,
    struct reload **ret);
/* Whether supervisor_view_restart() would restart the worker now: 0, -ENOENT (no such worker), or
 * as worker_can_restart(). */
int supervisor_view_can_restart(const struct supervisor *sv, const char *worker);
/* Begins the worker's rolling restart with its own config (`gracectl restart`, worker_restart()):
 * 0, or as supervisor_view_can_restart(). */
int supervisor_view_restart(struct supervisor *sv, const char *worker);
/* Waits until the worker's rolling restart ended (deadline: -ETIMEDOUT): 0 every instance
 * replaced; -EPROTO a replacement did not get ready (*ret_why says which and why); -ECANCELED
 * the shutdown cut it short; -ENOENT without such a worker. */
int supervisor_view_wait_restarted(struct supervisor *sv, const char *worker, usec_t deadline,
    const char **ret_why);
/* The longest the worker's rolling restart may take: per instance its start_timeout and the
 * budget of its own stop; 0 without such a worker. */
usec_t supervisor_view_restart_budget(const struct supervisor *sv, const char *worker);
/* Starts the ordered shutdown as SIGTERM does (once; later requests change nothing); why is the
 * report's trigger. Returns false when the shutdown was already on. */
bool supervisor_view_shutdown(struct supervisor *sv, const char *why);
/* The task runtime, for the task table (`gracectl dump`). */
struct task_runtime *supervisor_view_runtime(const struct supervisor *sv);
