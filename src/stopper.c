/* SPDX-License-Identifier: MIT */
#include <signal.h>

#include "shutdown.h"
#include "stopper.h"
#include "util.h"

/* Layer: the one stopper. See stopper.h. */

/* A step's wait, in a step scope: a second signal (escalation) cancels it and the step moves
 * on. */
static void
wait_step(struct shutdown *sd, const struct stopper_ops *ops, void *target, usec_t budget,
    bool extendable)
{
	struct step_scope scope;

	if (shutdown_scope_enter(sd, &scope) < 0)
		return;
	ops->wait(target, usec_add(now_usec(), budget), extendable);
	(void) shutdown_scope_leave(sd, &scope);
}

static void
enter(const struct stopper_ops *ops, void *target, enum phase p)
{
	if (ops->step)
		ops->step(target, p);
}

/* The shutdown's record of its steps, unless this is a worker's own stop. */
static void
step_begin(struct shutdown *sd, const struct stop_settings *s, enum phase p)
{
	if (!s->alone)
		shutdown_step_begin(sd, p);
}

static void
step_end(struct shutdown *sd, const struct stop_settings *s, enum phase p)
{
	if (!s->alone)
		shutdown_step_end(sd, p);
}

void
stopper_kill(struct shutdown *sd, const struct stop_settings *s, const struct stopper_ops *ops,
    void *target)
{
	if (ops->alive(target) && s->kill_signal != SIGNAL_NONE) {
		if (ops->killing)
			ops->killing(target);
		ops->signal(target, s->kill_signal, s->kill_group, PHASE_JOIN);
		wait_step(sd, ops, target, s->kill, false);
	}
	if (ops->alive(target))
		ops->abandon(target);
}

void
stopper_run(struct shutdown *sd, const struct stop_settings *s, const struct stopper_ops *ops,
    void *target)
{
	if (!ops->alive(target))
		return;

	enter(ops, target, PHASE_STOP);
	step_begin(sd, s, PHASE_STOP);
	if (s->stop_signal != SIGNAL_NONE) {
		ops->signal(target, s->stop_signal, s->signal_group, PHASE_STOP);
		/* One stopped by job control or a quiet signal must wake up to act on it. */
		ops->signal(target, SIGCONT, s->signal_group, PHASE_STOP);
	}
	if (ops->stopped)
		ops->stopped(target);
	if (s->stop > 0)
		wait_step(sd, ops, target, s->stop, true);
	step_end(sd, s, PHASE_STOP);
	if (!ops->alive(target))
		return;

	if (s->cancel_signal != SIGNAL_NONE) {
		enter(ops, target, PHASE_CANCEL);
		step_begin(sd, s, PHASE_CANCEL);
		ops->signal(target, s->cancel_signal, s->signal_group, PHASE_CANCEL);
		if (ops->cancel)
			ops->cancel(target);
		step_end(sd, s, PHASE_CANCEL);
	}
	enter(ops, target, PHASE_JOIN);
	step_begin(sd, s, PHASE_JOIN);
	if (s->cancel_signal != SIGNAL_NONE && s->join > 0)
		wait_step(sd, ops, target, s->join, true);
	stopper_kill(sd, s, ops, target);
	step_end(sd, s, PHASE_JOIN);
}
