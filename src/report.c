/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "jsontext.h"
#include "report.h"
#include "util.h"

static const char *const outcome_table[_OUTCOME_MAX] = {
	[OUTCOME_EXITED] = "exited",
	[OUTCOME_CANCELLED] = "cancelled",
	[OUTCOME_KILLED] = "killed",
	[OUTCOME_ABANDONED] = "abandoned",
	[OUTCOME_FAILED] = "failed",
};

static const char *const step_table[_PHASE_MAX] = {
	[PHASE_INTAKE] = "intake",
	[PHASE_STOP] = "stop",
	[PHASE_CANCEL] = "cancel",
	[PHASE_JOIN] = "join",
	[PHASE_CLOSE] = "close",
};

const char *
outcome_to_string(enum outcome o)
{
	return o >= 0 && o < _OUTCOME_MAX ? outcome_table[o] : NULL;
}

enum outcome
outcome_from_string(const char *s)
{
	for (int i = 0; i < _OUTCOME_MAX; i++)
		if (s && streq(s, outcome_table[i]))
			return (enum outcome) i;
	return _OUTCOME_INVALID;
}

struct report *
report_new(const char *supervisor)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (!(r->supervisor = strdup(supervisor)))
		return report_free(r);
	return r;
}

struct report *
report_free(struct report *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n_workers; i++)
		free(r->workers[i].name);
	free(r->workers);
	for (size_t i = 0; i < r->n_stragglers; i++)
		free(r->stragglers[i].command);
	free(r->stragglers);
	for (size_t i = 0; i < r->n_intakes; i++) {
		free(r->intakes[i].name);
		free(r->intakes[i].action);
		free(r->intakes[i].result);
	}
	free(r->intakes);
	free(r->supervisor);
	free(r->trigger);
	free(r);
	return NULL;
}

struct report_worker *
report_add_worker(struct report *r, const char *name, unsigned instance)
{
	struct report_worker *m = realloc(r->workers, (r->n_workers + 1) * sizeof(*m));
	struct report_worker *w;

	if (!m)
		return NULL;
	r->workers = m;
	w = &m[r->n_workers];
	*w = (struct report_worker) {
		.instance = instance,
		.outcome = OUTCOME_EXITED,
		.step = _PHASE_INVALID,
		.exit_code = -1,
	};
	if (!(w->name = strdup(name)))
		return NULL;
	r->n_workers++;
	return w;
}

struct report_straggler *
report_add_straggler(struct report *r, pid_t pid, const char *command)
{
	struct report_straggler *m = realloc(r->stragglers, (r->n_stragglers + 1) * sizeof(*m));
	struct report_straggler *s;

	if (!m)
		return NULL;
	r->stragglers = m;
	s = &m[r->n_stragglers];
	*s = (struct report_straggler) { .pid = pid, .outcome = OUTCOME_ABANDONED };
	if (!(s->command = strdup(command)))
		return NULL;
	r->n_stragglers++;
	return s;
}

struct report_intake *
report_add_intake(struct report *r, const char *name, const char *type)
{
	struct report_intake *m = realloc(r->intakes, (r->n_intakes + 1) * sizeof(*m));
	struct report_intake *i;

	if (!m)
		return NULL;
	r->intakes = m;
	i = &m[r->n_intakes];
	*i = (struct report_intake) { .type = type };
	if (!(i->name = strdup(name)))
		return NULL;
	r->n_intakes++;
	return i;
}

int
report_intake_set(struct report_intake *i, const char *action, const char *result)
{
	char *a = strdup(action), *res = strdup(result);

	if (!a || !res) {
		free(a);
		free(res);
		return -ENOMEM;
	}
	free(i->action);
	free(i->result);
	i->action = a;
	i->result = res;
	return 0;
}

/* Milliseconds since the trigger; times before it (a worker that died earlier) count as 0. */
static json_int_t
ms_since(const struct report *r, usec_t t)
{
	return t > r->triggered ? (json_int_t) ((t - r->triggered) / USEC_PER_MSEC) : 0;
}

/* The members of a JSON object, in order; value NULL (failed to allocate) fails the whole. */
struct member {
	const char *key;
	json_t *value;
};

static json_t *
object(const struct member *m, size_t n)
{
	json_t *o = json_object();
	bool ok = o;

	/* Every value is consumed, also after a failure, so none leaks. */
	for (size_t i = 0; i < n; i++)
		if (!ok || !m[i].value || json_object_set_new(o, m[i].key, m[i].value) < 0) {
			json_decref(m[i].value);
			ok = false;
		}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

#define OBJECT(...) \
	object((const struct member[]) { __VA_ARGS__ }, \
	    sizeof((const struct member[]) { __VA_ARGS__ }) / sizeof(struct member))

/* Appends v to the array a (consuming v); false when either is NULL or on OOM. */
static bool
append(json_t *a, json_t *v)
{
	if (!a || !v) {
		json_decref(v);
		return false;
	}
	return json_array_append_new(a, v) == 0;
}

static json_t *
steps_json(const struct report *r)
{
	json_t *a = json_array();

	for (int i = 0; a && i < _PHASE_MAX; i++) {
		const struct report_step *s = &r->steps[i];

		if (!s->start)
			continue;
		if (!append(a, OBJECT({ "name", json_string(step_table[i]) },
		    { "start_ms", json_integer(ms_since(r, s->start)) },
		    { "end_ms", json_integer(ms_since(r, s->end)) })))
			return json_decref(a), NULL;
	}
	return a;
}

static json_t *
workers_json(const struct report *r)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < r->n_workers; i++) {
		const struct report_worker *w = &r->workers[i];
		bool stepped = w->step >= 0 && w->step < _PHASE_MAX;

		if (!append(a, OBJECT({ "name", jsontext_new(w->name) },
		    { "instance", json_integer(w->instance) },
		    { "pid", json_integer(w->pid) },
		    { "outcome", json_string(outcome_to_string(w->outcome)) },
		    { "step", stepped ? json_string(step_table[w->step]) : json_null() },
		    { "exit_code", w->exit_code >= 0 ? json_integer(w->exit_code) : json_null() },
		    { "term_signal", w->term_signal > 0 ? json_integer(w->term_signal) : json_null() },
		    { "exit_ms", w->exit ? json_integer(ms_since(r, w->exit)) : json_null() },
		    { "signal_ms", w->signalled ? json_integer(ms_since(r, w->signalled)) :
						  json_null() },
		    { "stopped_by", json_string(w->stopped_on_request ? "request" : "shutdown") })))
			return json_decref(a), NULL;
	}
	return a;
}

static json_t *
stragglers_json(const struct report *r)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < r->n_stragglers; i++) {
		const struct report_straggler *s = &r->stragglers[i];

		if (!append(a, OBJECT({ "pid", json_integer(s->pid) },
		    { "command", jsontext_new(s->command) },
		    { "outcome", json_string(outcome_to_string(s->outcome)) },
		    { "exit_ms", s->exit ? json_integer(ms_since(r, s->exit)) : json_null() })))
			return json_decref(a), NULL;
	}
	return a;
}

static json_t *
intakes_json(const struct report *r)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < r->n_intakes; i++) {
		const struct report_intake *in = &r->intakes[i];

		if (!append(a, OBJECT({ "name", jsontext_new(in->name) },
		    { "type", jsontext_new(in->type) },
		    { "action", jsontext_new_or_null(in->action) },
		    { "result", jsontext_new_or_null(in->result) })))
			return json_decref(a), NULL;
	}
	return a;
}

json_t *
report_to_json(const struct report *r)
{
	return OBJECT({ "supervisor", jsontext_new(r->supervisor) },
	    { "exit_code", json_integer(r->exit_code) },
	    { "trigger", jsontext_new(r->trigger) },
	    { "steps", steps_json(r) },
	    { "workers", workers_json(r) },
	    { "stragglers", stragglers_json(r) },
	    { "intakes", intakes_json(r) },
	    { "tasks_pending_at_exit", json_integer((json_int_t) r->tasks_pending_at_exit) },
	    { "output_dropped_bytes", json_integer((json_int_t) r->output_dropped_bytes) },
	    { "budget_ms", json_integer((json_int_t) (r->budget / USEC_PER_MSEC)) });
}

int
report_write_json(const struct report *r, FILE *f)
{
	json_t *j = report_to_json(r);
	int r1;

	if (!j)
		return -ENOMEM;
	r1 = json_dumpf(j, f, REPORT_JSON_FLAGS);
	json_decref(j);
	if (r1 < 0 || fputc('\n', f) == EOF || ferror(f))
		return -EIO;
	return 0;
}

int
report_write_file(const struct report *r, const char *path)
{
	_cleanup_free_ char *text = NULL;
	size_t n = 0;
	FILE *f;
	int r1;

	/* The whole report in memory first: what reaches the disk goes through the one helper
	 * that never writes through a planted file or link. */
	if (!(f = open_memstream(&text, &n)))
		return -ENOMEM;
	r1 = report_write_json(r, f);
	if (fclose(f) != 0 && r1 >= 0)
		r1 = -ENOMEM;
	if (r1 < 0)
		return r1;
	return write_file_atomic(path, text, n, 0644);
}
