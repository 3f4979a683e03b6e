/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "log.h"
#include "parse.h"
#include "shutdown.h"
#include "util.h"

void
shutdown_init(struct shutdown *s)
{
	*s = (struct shutdown) { .phase = _PHASE_INVALID };
	task_event_init(&s->trigger, "shutdown trigger");
	task_event_init(&s->stop, "stop");
	task_event_init(&s->step_changed, "step changed");
	LIST_INIT(&s->scopes);
}

bool
shutdown_trigger(struct shutdown *s, const char *why, usec_t now)
{
	if (s->stopping)
		return false;
	s->stopping = true;
	s->triggered = now;
	snprintf(s->why, sizeof(s->why), "%s", why);
	task_event_set(&s->trigger);
	return true;
}

void
shutdown_step_begin(struct shutdown *s, enum phase p)
{
	struct shutdown_step *st = &s->steps[p];
	usec_t now = now_usec();

	if (st->start)
		return;
	st->start = now;
	st->end = now;
	if (s->phase < p)
		s->phase = p;
	log_fields(LOG_INFO, 0, LOG_FIELDS({ "step", phase_to_string(p) }, { "event", "step-begin" }),
	    "Step %s begins", phase_to_string(p));
	if (s->phase == p)
		task_event_set(&s->step_changed);
}

void
shutdown_step_end(struct shutdown *s, enum phase p)
{
	struct shutdown_step *st = &s->steps[p];

	st->end = MAX(st->end, now_usec());
}

const char *
shutdown_step_name(const struct shutdown *s)
{
	if (!s->stopping)
		return "running";
	return s->phase >= 0 ? phase_to_string(s->phase) : "intake";
}

int
shutdown_stop_signal(const struct shutdown *s, int configured)
{
	return s->stop_signal_replaced ? s->stop_signal : configured;
}

int
shutdown_scope_enter(struct shutdown *s, struct step_scope *scope)
{
	int r;

	if ((r = task_scope_enter(&scope->scope, USEC_INFINITY)) < 0)
		return r;
	LIST_INSERT_HEAD(&s->scopes, scope, link);
	return 0;
}

int
shutdown_scope_leave(struct shutdown *s, struct step_scope *scope)
{
	(void) s;
	LIST_REMOVE(scope, link);
	return task_scope_leave(&scope->scope);
}

void
shutdown_escalate(struct shutdown *s)
{
	struct step_scope *scope;

	LIST_FOREACH(scope, &s->scopes, link)
		task_scope_cancel(&scope->scope, "escalation");
}
