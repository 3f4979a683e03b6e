/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: rules (pure functions, no state, no I/O, no clock: time is passed in).
 *
 * The decisions of DESIGN.md that the worker objects and the supervisor take, each in one place
 * with its unit test (tests/unit/test_policy.c): how an exit is judged (success_status,
 * success_signal, the outcome by step), the restart backoff and start limit, the readiness rule
 * (/ready, READY=1 and status), and what a SIGTERM or SIGINT means (trigger, the same request
 * again, escalation).
 */

#include <stdbool.h>

#include "graced.h"

struct worker_config;

/* The exit was a success: 0, a success_status code, or a success_signal. */
bool policy_exit_is_clean(const struct worker_config *c, int status);

/*
 * How an exit is reported. Before the shutdown a clean exit is "exited", any other "failed".
 * During it, what matters is the step: an exit during stop is "exited", during cancel and join
 * "cancelled" — unless it failed on its own terms (a non-zero code, or a signal graced did not
 * send) — and after the kill signal "killed". stop_signal is the signal the stop step sends.
 */
enum outcome policy_exit_outcome(const struct worker_config *c, int status, bool stopping,
    enum phase step, bool killed, int stop_signal);

/* The signal for a process given up on outside the shutdown (hung: the watchdog; not ready, or
 * not exec'ed, in time): the kill signal, SIGKILL when that is none (it must end either way). */
int policy_give_up_signal(const struct worker_config *c);

/* restart_delay, doubled for every failure in a row after the first, up to restart_delay_max. */
usec_t policy_restart_backoff(const struct worker_config *c, unsigned failures);

/* A start at `at` would exceed start_limit: start_limit_burst starts within start_limit_interval.
 * starts is the ring of the last burst start times, n_starts the starts so far. Burst 0: none. */
bool policy_start_limit_hit(const struct worker_config *c, const usec_t *starts, unsigned n_starts,
    usec_t at);

/*
 * The readiness rule, the one behind /ready, READY=1 and the status (STATUS=, /status): where
 * an instance is. It serves while its process runs and is ready, or once it is done for good (a
 * one-shot that exited cleanly); it is starting until it is ready, done or has given up.
 */
enum instance_readiness {
	READINESS_STARTING, /* not ready yet: starting, waiting for after=, or for its restart */
	READINESS_SERVING,  /* running and ready */
	READINESS_GONE,     /* was ready, its process ended (restarting, or the shutdown) */
	READINESS_DONE,     /* exited cleanly and will not be restarted */
	READINESS_FAILED,   /* gave up: start failure, start limit, failure without restart */
	READINESS_INACTIVE, /* never started: autostart = no, until `gracectl start` */
	_READINESS_MAX,
	_READINESS_INVALID = -EINVAL,
};
enum instance_readiness policy_instance_readiness(bool running, bool ready, bool failed,
    bool finished);
/* The instance does its part of the service (counts towards /ready). */
bool policy_instance_serving(enum instance_readiness s);
/* Nothing of it runs and nothing will start it again on its own: done, failed, or never started
 * (autostart = no). when_empty = shutdown begins once every instance is over. */
bool policy_instance_over(enum instance_readiness s, bool running);
/* An instance of a worker that others are after= lets them start: a longrun one once it is ready
 * (or done for good), a one-shot only once it exited successfully. */
bool policy_dependency_met(enum worker_type type, enum instance_readiness s);
/* The service is ready (/ready 200, /status "ready": true) while not stopping and every instance
 * serves. */
bool policy_service_ready(bool stopping, bool every_instance_serving);
/* The start is complete (READY=1 to systemd) once no instance is starting: a failed non-critical
 * worker does not hold the service back (it fails /ready instead). */
bool policy_instance_starting(enum instance_readiness s);

/* What a run of the supervisor came to (supervisor_run()); main.c maps it to the exit status. */
struct run_facts {
	bool completed;          /* the shutdown ran to its close step */
	bool forced;             /* something was killed, abandoned or failed, or graced failed at
				  * run time */
	bool empty;              /* the shutdown began because nothing was left to run */
	bool status_from_worker; /* exit_code_from = (single-command mode: the command) */
	bool worker_ended;       /* that worker's first instance ended: worker_status is set */
	int worker_status;       /* its waitpid() status */
	bool report_failed;      /* the report could not be written */
};
/*
 * graced's exit status (DESIGN.md "Command line"): with exit_code_from (single-command mode),
 * the worker's own code, 128+N when it died of signal N, 1 when it never ended; else 0 after a
 * clean shutdown, 1 when it was forced. A run that did not reach the close step, or a report that
 * could not be written, is a run-time failure: 1, unless a worker's status is passed on.
 */
int policy_exit_status(const struct run_facts *f);

/* What a SIGTERM or SIGINT means. */
enum signal_action {
	SIGNAL_ACTION_TRIGGER,  /* the shutdown begins */
	SIGNAL_ACTION_REPEAT,   /* the same request again (within second_signal_window): nothing */
	SIGNAL_ACTION_IGNORE,   /* a second request, second_signal = ignore */
	SIGNAL_ACTION_ESCALATE, /* a second request: the current step's waits end now */
};
/*
 * GNU timeout (and other killers) send their signal to graced's pid and then to its process
 * group, microseconds apart: the same signal again within window of the last one acted on is that
 * same request. Another signal (SIGINT right after SIGTERM) is a new request.
 */
enum signal_action policy_shutdown_signal(bool stopping, int sig, int last_sig, usec_t last_at,
    usec_t now, usec_t window, enum second_signal second);
