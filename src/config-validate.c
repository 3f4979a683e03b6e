/* SPDX-License-Identifier: MIT */
/*
 * Checks that need the whole configuration: required keys, names that refer to other sections,
 * the dependency graph of after=, and listen addresses that cannot all be bound.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config-internal.h"
#include "parse.h"
#include "util.h"

int
config_errors_add(struct config_errors *errors, const char *file, unsigned line,
    const char *fmt, ...)
{
	struct config_error *n;
	char *msg, *f = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	if (file && !(f = strdup(file)))
		goto oom;
	n = reallocarray(errors->items, errors->n + 1, sizeof(*n));
	if (!n)
		goto oom;
	errors->items = n;
	errors->items[errors->n++] = (struct config_error) {
		.file = f,
		.line = line,
		.message = msg,
	};
	return 0;
oom:
	free(f);
	free(msg);
	return -ENOMEM;
}

const char *
section_missing_key(enum section_kind kind, const void *obj)
{
	const struct intake_config *i = obj;
	const struct worker_config *w = obj;
	const struct resource_config *r = obj;

	switch (kind) {
	case SECTION_WORKER:
		return w->argv ? NULL : "command";
	case SECTION_INTAKE:
		switch (i->type) {
		case INTAKE_SOCKET:
		case INTAKE_READINESS:
			return i->has_listen ? NULL : "listen";
		case INTAKE_EXEC:
			return i->argv ? NULL : "command";
		case INTAKE_SIGNAL:
			return i->signal != SIGNAL_NONE ? NULL : "signal";
		default:
			return NULL;
		}
	case SECTION_RESOURCE:
		switch (r->type) {
		case RESOURCE_FILE:
			return r->path ? NULL : "path";
		case RESOURCE_EXEC:
			return r->argv ? NULL : "command";
		default:
			return NULL;
		}
	default:
		return NULL;
	}
}

/*
 * Guesses for unknown worker names compare the name with every worker (an edit distance each).
 * For a file with thousands of workers and thousands of unknown names that would be quadratic,
 * so the comparisons have a budget: past it, the message goes without a guess. No config a
 * person writes comes near it.
 */
#define SUGGEST_BUDGET 100000

struct suggest {
	const char **names; /* every worker's name, made at the first guess */
	size_t budget;      /* comparisons left */
};

static void
suggest_done(struct suggest *sg)
{
	free(sg->names);
}

/* "unknown worker 'dbb' in after= of [worker:web]; did you mean 'db'?" */
static int
unknown_worker(const struct config *c, struct config_errors *errors, struct suggest *sg,
    const struct config_location *at, const char *name, const char *where)
{
	const char *s = NULL;

	if (sg->budget >= c->n_workers) {
		if (!sg->names) {
			sg->names = calloc(c->n_workers + 1, sizeof(char *));
			if (!sg->names)
				return -ENOMEM;
			for (size_t i = 0; i < c->n_workers; i++)
				sg->names[i] = c->workers[i]->name;
		}
		sg->budget -= c->n_workers;
		s = suggest_closest(name, sg->names, c->n_workers);
	}
	if (s)
		return config_errors_add(errors, at->file, at->line,
		    "unknown worker '%s' in %s; did you mean '%s'?", name, where, s);
	return config_errors_add(errors, at->file, at->line, "unknown worker '%s' in %s", name,
	    where);
}

static int
check_after(const struct config *c, const struct worker_config *w, struct config_errors *errors,
    struct suggest *sg)
{
	_cleanup_free_ char *where = NULL;
	int r;

	if (asprintf(&where, "after= of [worker:%s]", w->name) < 0)
		return -ENOMEM;
	for (char **a = w->after; a && *a; a++) {
		if (streq(*a, w->name))
			r = config_errors_add(errors, w->after_at.file, w->after_at.line,
			    "worker '%s' cannot be started after itself", w->name);
		else if (config_worker_index(c, *a) < 0)
			r = unknown_worker(c, errors, sg, &w->after_at, *a, where);
		else
			r = 0;
		if (r < 0)
			return r;
	}
	return 0;
}

/* Where key was set in the worker's section, else the section itself. */
static const struct config_location *
key_location(const struct config *c, const struct worker_config *w, const char *key)
{
	for (size_t i = c->n_key_locations; i-- > 0;) {
		const struct config_key_location *l = &c->key_locations[i];

		if (l->obj == w && streq(l->key, key))
			return &l->at;
	}
	return &w->at;
}

/*
 * type = oneshot: it runs once to completion, so restart= other than no and a ready= rule (its
 * readiness is its successful exit) are errors. A worker started at start-up cannot be after= one
 * with autostart = no: it would wait for a start that may never come.
 */
static int
check_start_rules(const struct config *c, const struct worker_config *w,
    struct config_errors *errors)
{
	const struct config_location *at;
	int r;

	if (w->type == WORKER_ONESHOT && w->restart != RESTART_NO) {
		at = key_location(c, w, "restart");
		if ((r = config_errors_add(errors, at->file, at->line,
			 "restart = %s in [worker:%s]: a one-shot (type = oneshot) is never restarted",
			 restart_policy_to_string(w->restart), w->name)) < 0)
			return r;
	}
	if (w->type == WORKER_ONESHOT && w->ready.kind != READY_NONE) {
		at = key_location(c, w, "ready");
		if ((r = config_errors_add(errors, at->file, at->line,
			 "ready = %s in [worker:%s]: a one-shot (type = oneshot) takes no ready= rule, "
			 "it is ready once it exited successfully", ready_kind_to_string(w->ready.kind),
			 w->name)) < 0)
			return r;
	}
	if (!w->autostart)
		return 0;
	for (char **a = w->after; a && *a; a++) {
		const struct worker_config *d = config_find_worker(c, *a);

		if (d && !d->autostart &&
		    (r = config_errors_add(errors, w->after_at.file, w->after_at.line,
			 "[worker:%s] is after= '%s', which has autostart = no: it would wait for "
			 "`gracectl start %s`; set autostart = no on it too, or drop '%s' from after=",
			 w->name, *a, *a, *a)) < 0)
			return r;
	}
	return 0;
}

static int
check_sockets(const struct config *c, const struct worker_config *w, struct config_errors *errors)
{
	const struct config_location *at = &w->sockets_at;
	int r = 0;

	for (char **s = w->sockets; s && *s; s++) {
		const struct intake_config *in = config_find_intake(c, *s);

		if (!in) {
			_cleanup_free_ const char **names = NULL;
			size_t n = 0;
			const char *guess;

			names = calloc(c->n_intakes + 1, sizeof(char *));
			if (!names)
				return -ENOMEM;
			for (size_t i = 0; i < c->n_intakes; i++)
				if (c->intakes[i]->type == INTAKE_SOCKET)
					names[n++] = c->intakes[i]->name;
			guess = suggest_closest(*s, names, n);
			if (guess)
				r = config_errors_add(errors, at->file, at->line,
				    "unknown intake '%s' in sockets= of [worker:%s]; did you mean "
				    "'%s'?", *s, w->name, guess);
			else
				r = config_errors_add(errors, at->file, at->line,
				    "unknown intake '%s' in sockets= of [worker:%s]", *s, w->name);
		} else if (in->type != INTAKE_SOCKET)
			r = config_errors_add(errors, at->file, at->line,
			    "intake '%s' in sockets= of [worker:%s] is type = %s, not a socket", *s,
			    w->name, intake_type_to_string(in->type));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Reports the cycle stack[from..top] closed by an edge back to stack[from]. */
static int
report_cycle(const struct config *c, struct config_errors *errors, const size_t *stack,
    size_t from, size_t top)
{
	const struct worker_config *first = c->workers[stack[from]];
	_cleanup_free_ char *path = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	f = open_memstream(&path, &len);
	if (!f)
		return -ENOMEM;
	for (size_t i = from; i <= top; i++)
		fprintf(f, "%s -> ", c->workers[stack[i]]->name);
	fputs(first->name, f);
	if (fclose(f) != 0)
		return -ENOMEM;
	r = config_errors_add(errors, first->after_at.file, first->after_at.line,
	    "dependency cycle: %s", path);
	return r;
}

/* Each cycle is reported with every name on it; a file with many cycles through a long chain
 * would make that quadratic (10,000 back edges to the root of a 10,000-deep chain: 400 MB), so
 * only the first few are spelled out and the rest counted. */
#define CYCLES_SHOWN 10

/* Depth-first search over after=, without recursion; each back edge is one cycle. Every worker
 * is pushed once and every edge looked at once, with O(1) name lookups: O(workers + edges). */
static int
check_cycles(const struct config *c, struct config_errors *errors)
{
	_cleanup_free_ unsigned char *state = NULL; /* 0 new, 1 on the stack, 2 done */
	_cleanup_free_ size_t *stack = NULL, *edge = NULL, *pos = NULL;
	size_t n = c->n_workers, found = 0;
	int r;

	if (n == 0)
		return 0;
	state = calloc(n, 1);
	stack = calloc(n, sizeof(size_t));
	edge = calloc(n, sizeof(size_t));
	pos = calloc(n, sizeof(size_t)); /* where a worker on the stack is */
	if (!state || !stack || !edge || !pos)
		return -ENOMEM;

	for (size_t root = 0; root < n; root++) {
		size_t top = 0;

		if (state[root])
			continue;
		stack[0] = root;
		edge[0] = 0;
		pos[root] = 0;
		state[root] = 1;
		for (;;) {
			const struct worker_config *w = c->workers[stack[top]];
			ssize_t v;

			if (!w->after || !w->after[edge[top]]) {
				state[stack[top]] = 2;
				if (top == 0)
					break;
				top--;
				continue;
			}
			v = config_worker_index(c, w->after[edge[top]++]);
			if (v < 0 || (size_t) v == stack[top] || state[v] == 2)
				continue;
			if (state[v] == 1) {
				if (found++ >= CYCLES_SHOWN)
					continue;
				r = report_cycle(c, errors, stack, pos[v], top);
				if (r < 0)
					return r;
				continue;
			}
			state[v] = 1;
			top++;
			stack[top] = (size_t) v;
			edge[top] = 0;
			pos[v] = top;
		}
	}
	if (found > CYCLES_SHOWN)
		return config_errors_add(errors, c->files ? c->files[0] : NULL, 0,
		    "%zu more dependency cycles not shown", found - CYCLES_SHOWN);
	return 0;
}

static int
check_intakes(const struct config *c, struct config_errors *errors, struct suggest *sg)
{
	int r;

	for (size_t i = 0; i < c->n_intakes; i++) {
		const struct intake_config *in = c->intakes[i];

		if (in->type == INTAKE_SIGNAL) {
			_cleanup_free_ char *where = NULL;

			if (asprintf(&where, "workers= of [intake:%s]", in->name) < 0)
				return -ENOMEM;
			for (char **w = in->workers; w && *w; w++)
				if (config_worker_index(c, *w) < 0) {
					r = unknown_worker(c, errors, sg, &in->workers_at, *w, where);
					if (r < 0)
						return r;
				}
		}
		if (!in->has_listen || (in->type != INTAKE_SOCKET && in->type != INTAKE_READINESS))
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct intake_config *o = c->intakes[j];
			char a[LISTEN_ADDRESS_MAX], b[LISTEN_ADDRESS_MAX];

			if (!o->has_listen ||
			    (o->type != INTAKE_SOCKET && o->type != INTAKE_READINESS) ||
			    !listen_address_conflicts(&in->listen, &o->listen))
				continue;
			listen_address_to_string(a, sizeof(a), &in->listen);
			listen_address_to_string(b, sizeof(b), &o->listen);
			r = config_errors_add(errors, in->listen_at.file, in->listen_at.line,
			    "intake '%s' listens on %s, which conflicts with %s of intake '%s' "
			    "(%s:%u)", in->name, a, b, o->name, strempty(o->listen_at.file),
			    o->listen_at.line);
			if (r < 0)
				return r;
			break;
		}
	}
	return 0;
}

/* A log file's directory must exist: graced creates the file, never its directories. */
static int
check_log_dir(const char *key, const char *path, const struct config_location *at,
    struct config_errors *errors)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash;
	struct stat st;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0';
	if (stat(dir, &st) < 0)
		return config_errors_add(errors, at->file, at->line,
		    "%s: cannot use the directory '%s' of log file '%s': %s", key, dir, path,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return config_errors_add(errors, at->file, at->line,
		    "%s: '%s' (of log file '%s') is not a directory", key, dir, path);
	return 0;
}

static int
check_log_files(const struct worker_config *w, struct config_errors *errors)
{
	int r = 0;

	if (w->output == OUTPUT_FILE)
		r = check_log_dir("output", w->output_file, &w->output_at, errors);
	if (r >= 0 && w->stderr_mode == STDERR_FILE)
		r = check_log_dir("stderr", w->stderr_file, &w->stderr_at, errors);
	return r;
}

int
config_validate_references(const struct config *c, struct config_errors *errors)
{
	_cleanup_(suggest_done) struct suggest sg = { .budget = SUGGEST_BUDGET };
	int r;

	for (size_t i = 0; i < c->n_workers; i++) {
		r = check_after(c, c->workers[i], errors, &sg);
		if (r < 0)
			return r;
		r = check_sockets(c, c->workers[i], errors);
		if (r < 0)
			return r;
		r = check_start_rules(c, c->workers[i], errors);
		if (r < 0)
			return r;
		r = check_log_files(c->workers[i], errors);
		if (r < 0)
			return r;
	}
	r = check_cycles(c, errors);
	if (r < 0)
		return r;
	r = check_intakes(c, errors, &sg);
	if (r < 0)
		return r;
	if (c->supervisor.exit_code_from && config_worker_index(c, c->supervisor.exit_code_from) < 0) {
		r = unknown_worker(c, errors, &sg, &c->supervisor.exit_code_from_at,
		    c->supervisor.exit_code_from, "exit_code_from");
		if (r < 0)
			return r;
	}
	if (c->n_workers == 0) {
		r = config_errors_add(errors, c->files ? c->files[0] : NULL, 0,
		    "no [worker:*] section: nothing to supervise");
		if (r < 0)
			return r;
	}
	return 0;
}
