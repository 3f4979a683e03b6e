/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the one stopper, used by the worker objects and the straggler stopper (below both).
 *
 * DESIGN.md "The ordered shutdown", steps 2 to 4 for any set of processes (a worker's instances,
 * the stragglers, one instance being replaced): the stop signal and SIGCONT, stop_timeout; the
 * cancel signal and the in-process cancel, join_timeout; the kill signal and kill_timeout; what
 * is still alive then is abandoned. A step that tells the processes nothing does not wait for
 * them (its budget is 0). Every wait runs in a step scope (a second signal cuts it short) and
 * every step is recorded in the shutdown (shutdown.h). The set is reached through struct
 * stopper_ops: how to signal it, whether any of it is alive, how to wait for that to change.
 */

#include <stdbool.h>

#include "graced.h"

struct shutdown;

struct stop_settings {
	int stop_signal;              /* SIGNAL_NONE: no stop signal (nor SIGCONT) */
	int cancel_signal;            /* SIGNAL_NONE: no cancel step, and no join_timeout */
	int kill_signal;              /* SIGNAL_NONE: no kill, what is left is abandoned */
	bool kill_group;              /* the kill signal goes to each process group */
	bool signal_group;            /* so do the stop signal, SIGCONT and the cancel signal */
	usec_t stop;                  /* the budgets; 0: the step does not wait */
	usec_t join;
	usec_t kill;
	bool alone;                   /* a worker's own stop (gracectl stop), not the shutdown: its
				      * steps are not recorded in the shutdown (its waits are still
				      * step waits, which a second signal cuts short) */
};

struct stopper_ops {
	/* Sends sig to every process still alive (to its group when group is true), in step. */
	void (*signal)(void *target, int sig, bool group, enum phase step);
	bool (*alive)(void *target);
	/* Waits until nothing is alive or the deadline (the stopper's step scope around it);
	 * extendable: an EXTEND_TIMEOUT_USEC= of the target may move the deadline. */
	void (*wait)(void *target, usec_t deadline, bool extendable);
	/* The target enters step p (optional). */
	void (*step)(void *target, enum phase p);
	/* After the stop signal: the stop pipes reach EOF (optional). */
	void (*stopped)(void *target);
	/* The cancel step's in-process part (optional). */
	void (*cancel)(void *target);
	/* The kill signal is about to be sent (optional). */
	void (*killing)(void *target);
	/* What is still alive after the last wait is abandoned: record and log it. */
	void (*abandon)(void *target);
};

/* Stop, cancel and join the target (nothing when nothing of it is alive). */
void stopper_run(struct shutdown *sd, const struct stop_settings *s, const struct stopper_ops *ops,
    void *target);
/* The kill signal at once, kill_timeout, then abandon (the budget of the other steps is spent). */
void stopper_kill(struct shutdown *sd, const struct stop_settings *s,
    const struct stopper_ops *ops, void *target);
