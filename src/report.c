/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The length of the valid UTF-8 sequence at s, or 0. */
static size_t
utf8_length(const unsigned char *s)
{
	size_t n;
	unsigned cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	cp = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A JSON string; invalid UTF-8 becomes U+FFFD so the report always parses. */
static void
json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *) strempty(s);

	fputc('"', f);
	while (*p) {
		size_t n;

		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p++);
		else if (*p == '\n')
			fputs("\\n", f), p++;
		else if (*p == '\t')
			fputs("\\t", f), p++;
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p++);
		else if (*p < 0x80)
			fputc(*p++, f);
		else if ((n = utf8_length(p)) == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			fprintf(f, "\\u%04x", p[1]), p += 2; /* a C1 control, like the C0 ones */
		else if (n > 0)
			fwrite(p, 1, n, f), p += n;
		else
			fputs("\\ufffd", f), p++;
	}
	fputc('"', f);
}

/* Milliseconds since the trigger; times before it (a worker that died earlier) count as 0. */
static unsigned long long
ms_since(const struct report *r, usec_t t)
{
	return t > r->triggered ? (unsigned long long) ((t - r->triggered) / USEC_PER_MSEC) : 0;
}

int
report_write_json(const struct report *r, FILE *f)
{
	bool first = true;

	fprintf(f, "{\"supervisor\": ");
	json_string(f, r->supervisor);
	fprintf(f, ", \"exit_code\": %d, \"trigger\": ", r->exit_code);
	json_string(f, r->trigger);
	fprintf(f, ",\n \"steps\": [");
	for (int i = 0; i < _PHASE_MAX; i++) {
		const struct report_step *s = &r->steps[i];

		if (!s->start)
			continue;
		fprintf(f, "%s\n  {\"name\": \"%s\", \"start_ms\": %llu, \"end_ms\": %llu}",
		    first ? "" : ",", step_table[i], ms_since(r, s->start), ms_since(r, s->end));
		first = false;
	}
	fprintf(f, "],\n \"workers\": [");
	for (size_t i = 0; i < r->n_workers; i++) {
		const struct report_worker *w = &r->workers[i];

		fprintf(f, "%s\n  {\"name\": ", i ? "," : "");
		json_string(f, w->name);
		fprintf(f, ", \"instance\": %u, \"pid\": %ld, \"outcome\": \"%s\", \"step\": ",
		    w->instance, (long) w->pid, outcome_to_string(w->outcome));
		if (w->step >= 0 && w->step < _PHASE_MAX)
			fprintf(f, "\"%s\"", step_table[w->step]);
		else
			fprintf(f, "null");
		fprintf(f, ", \"exit_code\": ");
		if (w->exit_code >= 0)
			fprintf(f, "%d", w->exit_code);
		else
			fprintf(f, "null");
		fprintf(f, ", \"term_signal\": ");
		if (w->term_signal > 0)
			fprintf(f, "%d", w->term_signal);
		else
			fprintf(f, "null");
		fprintf(f, ", \"exit_ms\": ");
		if (w->exit)
			fprintf(f, "%llu}", ms_since(r, w->exit));
		else
			fprintf(f, "null}");
	}
	fprintf(f, "],\n \"stragglers\": [");
	for (size_t i = 0; i < r->n_stragglers; i++) {
		const struct report_straggler *s = &r->stragglers[i];

		fprintf(f, "%s\n  {\"pid\": %ld, \"command\": ", i ? "," : "", (long) s->pid);
		json_string(f, s->command);
		fprintf(f, ", \"outcome\": \"%s\", \"exit_ms\": ", outcome_to_string(s->outcome));
		if (s->exit)
			fprintf(f, "%llu}", ms_since(r, s->exit));
		else
			fprintf(f, "null}");
	}
	fprintf(f, "],\n \"intakes\": [");
	for (size_t i = 0; i < r->n_intakes; i++) {
		const struct report_intake *in = &r->intakes[i];

		fprintf(f, "%s\n  {\"name\": ", i ? "," : "");
		json_string(f, in->name);
		fprintf(f, ", \"type\": ");
		json_string(f, in->type);
		fprintf(f, ", \"action\": ");
		if (in->action)
			json_string(f, in->action);
		else
			fprintf(f, "null");
		fprintf(f, ", \"result\": ");
		if (in->result)
			json_string(f, in->result);
		else
			fprintf(f, "null");
		fprintf(f, "}");
	}
	fprintf(f, "],\n \"tasks_pending_at_exit\": %zu,\n \"output_dropped_bytes\": %llu}\n",
	    r->tasks_pending_at_exit, (unsigned long long) r->output_dropped_bytes);
	return ferror(f) ? -EIO : 0;
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
