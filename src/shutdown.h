/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the supervisor domain's shared state (below the worker, intake and straggler objects).
 *
 * Where the ordered shutdown is (DESIGN.md "The ordered shutdown"), kept once: whether it was
 * triggered, why and when, the furthest step begun, when each step ran, and the step waits in
 * progress that a second signal cuts short (escalation). The supervisor owns one; the parts that
 * run steps (worker stoppers, the straggler stopper, the intake step) record their steps here and
 * wait on its events, and the report copies the step times once, at the end.
 *
 * How tasks learn about the shutdown: they wait on its events, each as one clause of a
 * task_wait_any() next to what they wait for anyway, never by polling a flag. The trigger event
 * ends the supervisor's watch, the instances' start phase and their restarts; the stop event (set
 * at the stop step) ends a restart_delay; step_changed tells the supervisor that a step began
 * (STATUS= and EXTEND_TIMEOUT_USEC= for systemd).
 */

#include <stdbool.h>
#include <sys/queue.h>

#include "graced.h"
#include "task.h"

/* A wait of a shutdown step that a second signal (second_signal = escalate) cuts short: a cancel
 * scope on the waiting task's stack, registered while it is entered. */
struct step_scope {
	struct task_scope scope;
	LIST_ENTRY(step_scope) link;
};

struct shutdown_step {
	usec_t start; /* 0: the step did not run */
	usec_t end;
};

struct shutdown {
	struct task_event trigger;      /* set once: the shutdown begins */
	struct task_event stop;         /* set at the stop step */
	struct task_event step_changed; /* a step became the current one */
	bool stopping;                  /* triggered */
	usec_t triggered;               /* when */
	char why[160];                  /* what triggered it: "SIGTERM", "critical worker 'db' exited" */
	enum phase phase;               /* the furthest step begun; _PHASE_INVALID before */
	struct shutdown_step steps[_PHASE_MAX];
	LIST_HEAD(, step_scope) scopes; /* the step waits in progress */
	/* Single-command mode without --stop-signal: what the stop step sends instead of the
	 * configured signal (the SIGTERM or SIGINT received, after -r; SIGNAL_NONE when dropped). */
	bool stop_signal_replaced;
	int stop_signal;
};

void shutdown_init(struct shutdown *s);
/* Begins the shutdown at now: false when it had already begun. */
bool shutdown_trigger(struct shutdown *s, const char *why, usec_t now);
/* Records the start of a step (the earliest one counts) and makes it the current step if it is
 * further than the current one; logged. */
void shutdown_step_begin(struct shutdown *s, enum phase p);
/* Records the end of a step (the latest one counts). */
void shutdown_step_end(struct shutdown *s, enum phase p);
/* "running" before the trigger, then the current step's name ("intake" until one began). */
const char *shutdown_step_name(const struct shutdown *s);
/* The signal the stop step sends: the configured one, or the replacement. */
int shutdown_stop_signal(const struct shutdown *s, int configured);
/*
 * Runs a wait of a shutdown step in scope: shutdown_escalate() cancels every step scope entered
 * at that moment ("escalation"), so the wait inside returns -ECANCELED and the step moves on,
 * while the task itself is not cancelled. Leave returns what task_scope_leave() does.
 */
int shutdown_scope_enter(struct shutdown *s, struct step_scope *scope);
int shutdown_scope_leave(struct shutdown *s, struct step_scope *scope);
void shutdown_escalate(struct shutdown *s);
