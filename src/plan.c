/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "parse.h"
#include "plan.h"
#include "util.h"

static bool
announces(const struct config *c, const struct worker_config *const *workers, size_t n)
{
	for (size_t i = 0; i < c->n_intakes; i++)
		if (c->intakes[i]->type != INTAKE_SOCKET)
			return true;
	for (size_t i = 0; i < n; i++)
		if (workers[i]->shutdown.intake_signal != SIGNAL_NONE)
			return true;
	return false;
}

void
plan_worker_budget(const struct worker_config *w, struct plan_worker *pw)
{
	const struct shutdown_settings *s = &w->shutdown;

	*pw = (struct plan_worker) { .worker = w };
	pw->stop = s->stop_signal != SIGNAL_NONE || s->stop_fd ? s->stop_timeout : 0;
	pw->join = s->cancel_signal != SIGNAL_NONE ? s->join_timeout : 0;
	pw->kill = s->kill_signal != SIGNAL_NONE ? s->kill_timeout : 0;
	pw->hook = w->on_exit ? w->hook_timeout : 0;
	pw->total = usec_add(usec_add(usec_add(pw->stop, pw->join), pw->kill), pw->hook);
}

/*
 * A worker's level is one more than the highest level of the workers that are after= it, so that
 * it is stopped only once they have been joined: the longest path to it from a worker nobody is
 * after=. One pass in topological order (Kahn's algorithm) over the edges, O(workers + edges):
 * a worker is taken once every worker after= it has been, so its level is final by then. The
 * config is acyclic; were it not, the workers on a cycle would keep level 0.
 */
static int
assign_levels(const struct worker_config *const *workers, size_t n, struct plan_worker *pws)
{
	_cleanup_free_ size_t *pending = NULL, *queue = NULL;
	struct name_index index = {};
	size_t head = 0, tail = 0;
	int r = 0;

	if (n == 0)
		return 0;
	/* pending[i]: edges into i (d after= i) whose d has not been taken yet. An after= naming
	 * a worker not in the set is no edge. */
	pending = calloc(n, sizeof(size_t));
	queue = calloc(n, sizeof(size_t));
	if (!pending || !queue)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (name_index_put(&index, workers[i]->name, i) < 0) {
			name_index_done(&index);
			return -ENOMEM;
		}
	for (size_t d = 0; d < n; d++)
		for (char **a = workers[d]->after; a && *a; a++) {
			ssize_t i = name_index_get(&index, *a);

			if (i >= 0)
				pending[i]++;
		}
	for (size_t i = 0; i < n; i++)
		if (pending[i] == 0)
			queue[tail++] = i;
	while (head < tail) {
		size_t d = queue[head++];

		for (char **a = workers[d]->after; a && *a; a++) {
			ssize_t i = name_index_get(&index, *a);

			if (i < 0)
				continue;
			pws[i].level = MAX(pws[i].level, pws[d].level + 1);
			if (--pending[i] == 0)
				queue[tail++] = (size_t) i;
		}
	}
	name_index_done(&index);
	return r;
}

static int
build_levels(struct plan *p)
{
	unsigned top = 0;
	size_t n_levels;

	for (size_t i = 0; i < p->n_workers; i++)
		top = MAX(top, p->workers[i].level);
	n_levels = p->n_workers ? top + 1 : 0;
	/* n_levels only once there are levels: plan_free() walks them. */
	if (n_levels && !(p->levels = calloc(n_levels, sizeof(struct plan_level))))
		return -ENOMEM;
	p->n_levels = n_levels;

	for (size_t i = 0; i < p->n_workers; i++) {
		struct plan_worker *pw = &p->workers[i];
		struct plan_level *l = &p->levels[pw->level];
		struct plan_worker **m = realloc(l->workers, (l->n_workers + 1) * sizeof(*m));

		if (!m)
			return -ENOMEM;
		l->workers = m;
		l->workers[l->n_workers++] = pw;
		if (!l->longest || pw->total > l->budget) {
			l->longest = pw;
			l->budget = pw->total;
		}
	}
	return 0;
}

int
plan_build(const struct config *c, struct plan **ret)
{
	return plan_build_workers(c, (const struct worker_config *const *) c->workers, c->n_workers,
	    ret);
}

int
plan_build_workers(const struct config *c, const struct worker_config *const *workers, size_t n,
    struct plan **ret)
{
	_cleanup_(plan_freep) struct plan *p = NULL;
	int r;

	if (!(p = calloc(1, sizeof(*p))))
		return -ENOMEM;
	p->config = c;
	p->deadline = USEC_INFINITY;
	p->announces = announces(c, workers, n);
	p->intake = p->announces ? c->shutdown.intake_timeout : 0;
	p->drain = c->shutdown.drain_delay;

	p->n_workers = n;
	if (p->n_workers && !(p->workers = calloc(p->n_workers, sizeof(struct plan_worker))))
		return -ENOMEM;
	for (size_t i = 0; i < p->n_workers; i++)
		plan_worker_budget(workers[i], &p->workers[i]);
	if ((r = assign_levels(workers, n, p->workers)) < 0)
		return r;
	if ((r = build_levels(p)) < 0)
		return r;

	for (size_t i = 0; i < c->n_resources; i++)
		if (c->resources[i]->type == RESOURCE_EXEC)
			p->close = usec_add(p->close, c->resources[i]->close_timeout);

	p->worst_case = usec_add(p->intake, p->drain);
	for (size_t i = 0; i < p->n_levels; i++)
		p->worst_case = usec_add(p->worst_case, p->levels[i].budget);
	p->worst_case = usec_add(p->worst_case, p->close);

	*ret = TAKE_PTR(p);
	return 0;
}

struct plan *
plan_free(struct plan *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_levels; i++)
		free(p->levels[i].workers);
	free(p->levels);
	free(p->workers);
	free(p);
	return NULL;
}

void
plan_resolve_deadline(struct plan *p, bool pid1)
{
	if (p->config->shutdown.deadline_set) {
		p->deadline = p->config->shutdown.deadline;
		p->deadline_source = "[shutdown] deadline";
	} else if (pid1) {
		p->deadline = GRACED_PID1_DEADLINE;
		p->deadline_source = "PID 1 default, docker stop's 10s";
	} else {
		p->deadline = USEC_INFINITY;
		p->deadline_source = NULL;
	}
}

void
plan_set_systemd_deadline(struct plan *p, usec_t timeout_stop)
{
	/* [shutdown] deadline, when written, is the operator's word and wins. */
	if (p->config->shutdown.deadline_set || timeout_stop == 0 || timeout_stop == USEC_INFINITY)
		return;
	p->deadline = timeout_stop;
	p->deadline_source = "the systemd unit's TimeoutStopUSec";
}

bool
plan_exceeds_deadline(const struct plan *p)
{
	return p->deadline != USEC_INFINITY && p->worst_case > p->deadline;
}

/* The largest of a worker's three budgets, named by its key. */
static const char *
worker_biggest_key(const struct plan_worker *pw, usec_t *ret)
{
	const struct shutdown_settings *s = &pw->worker->shutdown;

	if (pw->stop >= pw->join && pw->stop >= pw->kill) {
		*ret = pw->stop;
		return s->stop_fd && s->stop_signal == SIGNAL_NONE ? "stop_timeout (stop_fd)" :
								       "stop_timeout";
	}
	if (pw->join >= pw->kill) {
		*ret = pw->join;
		return "join_timeout";
	}
	*ret = pw->kill;
	return "kill_timeout";
}

void
plan_biggest_step(const struct plan *p, char *buf, size_t n)
{
	char d[DURATION_MAX];
	usec_t best = p->intake;

	snprintf(buf, n, "intake (intake_timeout %s)", format_duration(d, sizeof(d), p->intake));
	if (p->drain > best) {
		best = p->drain;
		snprintf(buf, n, "intake (drain_delay %s)", format_duration(d, sizeof(d), p->drain));
	}
	for (size_t i = 0; i < p->n_levels; i++) {
		const struct plan_level *l = &p->levels[i];
		const char *key;
		usec_t v;

		if (l->budget <= best || !l->longest)
			continue;
		best = l->budget;
		key = worker_biggest_key(l->longest, &v);
		snprintf(buf, n, "level %zu (worker '%s': %s %s)", i + 1, l->longest->worker->name, key,
		    format_duration(d, sizeof(d), v));
	}
	if (p->close > best)
		snprintf(buf, n, "close (close_timeout of the exec resources, %s in all)",
		    format_duration(d, sizeof(d), p->close));
}

static void
print_intake_step(const struct plan *p, FILE *f)
{
	const struct config *c = p->config;
	char d[DURATION_MAX], a[LISTEN_ADDRESS_MAX];
	bool sockets = false;

	fprintf(f, "1. intake: budget %s\n",
	    format_duration(d, sizeof(d), usec_add(p->intake, p->drain)));
	if (!p->announces)
		fprintf(f, "   announce: nothing to announce\n");
	else
		fprintf(f, "   announce, bounded by intake_timeout %s:\n",
		    format_duration(d, sizeof(d), c->shutdown.intake_timeout));
	for (size_t i = 0; i < c->n_intakes; i++) {
		const struct intake_config *in = c->intakes[i];
		_cleanup_free_ char *cmd = NULL;

		switch (in->type) {
		case INTAKE_READINESS:
			fprintf(f, "     - intake '%s': %s/ready answers 503\n", in->name,
			    listen_address_to_string(a, sizeof(a), &in->listen));
			break;
		case INTAKE_EXEC:
			cmd = strv_join_quoted(in->argv);
			fprintf(f, "     - intake '%s': run %s (killed if still running then)\n", in->name,
			    cmd ? cmd : "(out of memory)");
			break;
		case INTAKE_SIGNAL:
			for (char **w = in->workers; w && *w; w++)
				fprintf(f, "     - intake '%s': %s to worker '%s'\n", in->name,
				    signal_to_string(in->signal), *w);
			if (!in->workers)
				fprintf(f, "     - intake '%s': %s to every worker\n", in->name,
				    signal_to_string(in->signal));
			break;
		default:
			sockets = true;
			break;
		}
	}
	for (size_t i = 0; i < c->n_workers; i++)
		if (c->workers[i]->shutdown.intake_signal != SIGNAL_NONE)
			fprintf(f, "     - worker '%s': intake_signal %s\n", c->workers[i]->name,
			    signal_to_string(c->workers[i]->shutdown.intake_signal));
	fprintf(f, "   drain_delay %s while workers still accept\n",
	    format_duration(d, sizeof(d), p->drain));
	if (!sockets)
		return;
	fprintf(f, "   close the door: shutdown() of");
	for (size_t i = 0; i < c->n_intakes; i++)
		if (c->intakes[i]->type == INTAKE_SOCKET)
			fprintf(f, " '%s' (%s)", c->intakes[i]->name,
			    listen_address_to_string(a, sizeof(a), &c->intakes[i]->listen));
	fprintf(f, "\n");
}

static void
print_worker(const struct plan_worker *pw, FILE *f)
{
	const struct worker_config *w = pw->worker;
	const struct shutdown_settings *s = &w->shutdown;
	char d1[DURATION_MAX], d2[DURATION_MAX], d3[DURATION_MAX], d4[DURATION_MAX];

	fprintf(f, "     worker '%s'", w->name);
	if (w->instances > 1)
		fprintf(f, " (%u instances)", w->instances);
	fprintf(f, ": %s\n", format_duration(d4, sizeof(d4), pw->total));
	if (w->type == WORKER_ONESHOT || !w->autostart)
		fprintf(f, "       type %s%s\n", worker_type_to_string(w->type),
		    w->autostart ? "" : ", autostart = no (started by `gracectl start`)");

	if (pw->stop)
		fprintf(f, "       stop:   %s%s%s%s, wait up to %s\n",
		    s->stop_signal != SIGNAL_NONE ? signal_to_string(s->stop_signal) : "",
		    s->stop_signal != SIGNAL_NONE ? " + SIGCONT" : "",
		    s->stop_signal != SIGNAL_NONE && s->signal_target == SIGNAL_TARGET_GROUP ?
			" to the process group" : "",
		    s->stop_fd ? (s->stop_signal != SIGNAL_NONE ? ", stop_fd EOF" : "stop_fd EOF") : "",
		    format_duration(d1, sizeof(d1), pw->stop));
	else
		fprintf(f, "       stop:   none (stop_signal = none)\n");
	if (pw->join)
		fprintf(f, "       cancel: %s%s, join up to %s\n",
		    signal_to_string(s->cancel_signal),
		    s->signal_target == SIGNAL_TARGET_GROUP ? " to the process group" : "",
		    format_duration(d2, sizeof(d2), pw->join));
	else
		fprintf(f, "       cancel: none (cancel_signal = none)\n");
	if (pw->kill)
		fprintf(f, "       kill:   %s to the %s, reap up to %s, else abandoned\n",
		    signal_to_string(s->kill_signal),
		    s->kill_mode == KILL_MODE_GROUP ? "process group" : "main process",
		    format_duration(d3, sizeof(d3), pw->kill));
	else
		fprintf(f, "       kill:   none (kill_signal = none): still alive then means abandoned\n");
	if (pw->hook)
		fprintf(f,
		    "       on_exit: joined once its exit hooks ended, up to %s (hook_timeout)\n",
		    format_duration(d1, sizeof(d1), pw->hook));
}

static void
print_worker_steps(const struct plan *p, FILE *f)
{
	char d[DURATION_MAX];

	fprintf(f, "2-4. stop, cancel, join: by dependency level, first to last\n");
	if (!p->n_levels)
		fprintf(f, "   no workers\n");
	for (size_t i = 0; i < p->n_levels; i++) {
		const struct plan_level *l = &p->levels[i];

		fprintf(f, "   level %zu: budget %s", i + 1, format_duration(d, sizeof(d), l->budget));
		if (i + 1 < p->n_levels)
			fprintf(f, " (the next level starts once these are joined)");
		fprintf(f, "\n");
		for (size_t j = 0; j < l->n_workers; j++)
			print_worker(l->workers[j], f);
	}
}

static void
print_close_step(const struct plan *p, FILE *f)
{
	const struct config *c = p->config;
	char d[DURATION_MAX];

	fprintf(f, "5. close: budget %s, in reverse order of opening\n",
	    format_duration(d, sizeof(d), p->close));
	/* Listening sockets and readiness endpoints first, as intake_close_all() does. */
	for (size_t i = c->n_intakes; i-- > 0;) {
		const struct intake_config *in = c->intakes[i];
		char a[LISTEN_ADDRESS_MAX];

		if (in->type != INTAKE_SOCKET && in->type != INTAKE_READINESS)
			continue;
		listen_address_to_string(a, sizeof(a), &in->listen);
		if (in->listen.kind == LISTEN_UNIX && in->listen.addr.un.sun_path[0])
			fprintf(f, "   - intake '%s': close, remove %s\n", in->name,
			    in->listen.addr.un.sun_path);
		else
			fprintf(f, "   - intake '%s': close %s\n", in->name, a);
	}
	for (size_t i = c->n_resources; i-- > 0;) {
		const struct resource_config *r = c->resources[i];
		_cleanup_free_ char *cmd = NULL;

		if (r->type == RESOURCE_FILE) {
			fprintf(f, "   - resource '%s': remove %s\n", r->name, r->path);
			continue;
		}
		cmd = strv_join_quoted(r->argv);
		fprintf(f, "   - resource '%s': run %s, up to %s\n", r->name, cmd ? cmd : "(out of memory)",
		    format_duration(d, sizeof(d), r->close_timeout));
	}
	if (c->supervisor.pidfile)
		fprintf(f, "   - pidfile %s: remove\n", c->supervisor.pidfile);
	if (c->supervisor.report)
		fprintf(f, "   - report: write %s\n", c->supervisor.report);
}

static void
print_sum(const struct plan *p, FILE *f)
{
	char d[DURATION_MAX];

	fprintf(f, "Worst case: %s (intake) + %s (drain)", format_duration(d, sizeof(d), p->intake),
	    format_duration((char[DURATION_MAX]) { 0 }, DURATION_MAX, p->drain));
	for (size_t i = 0; i < p->n_levels; i++)
		fprintf(f, " + %s (level %zu)",
		    format_duration((char[DURATION_MAX]) { 0 }, DURATION_MAX, p->levels[i].budget), i + 1);
	fprintf(f, " + %s (close) = %s\n", format_duration((char[DURATION_MAX]) { 0 }, DURATION_MAX, p->close),
	    format_duration((char[DURATION_MAX]) { 0 }, DURATION_MAX, p->worst_case));

	if (p->deadline == USEC_INFINITY) {
		fprintf(f, "Deadline: none known (set [shutdown] deadline to the outside killer's)\n");
		return;
	}
	fprintf(f, "Deadline: %s (%s): ", format_duration(d, sizeof(d), p->deadline), p->deadline_source);
	if (plan_exceeds_deadline(p)) {
		char step[256];

		plan_biggest_step(p, step, sizeof(step));
		fprintf(f, "EXCEEDED by %s; shorten %s first\n",
		    p->worst_case == USEC_INFINITY ? "an infinite budget" :
			format_duration((char[DURATION_MAX]) { 0 }, DURATION_MAX, p->worst_case - p->deadline),
		    step);
	} else
		fprintf(f, "fits, %s to spare\n",
		    format_duration((char[DURATION_MAX]) { 0 }, DURATION_MAX, p->deadline - p->worst_case));
}

static void
print_all(const struct plan *p, FILE *f)
{
	const struct config *c = p->config;
	usec_t window = c->shutdown.second_signal_window;

	fprintf(f, "Shutdown plan of '%s' (%s)\n", c->supervisor.name,
	    c->files && c->files[0] ? c->files[0] : "command line");
	/* Single-command mode (no file) ends with its command, whatever when_empty says. */
	fprintf(f, "Trigger: SIGTERM or SIGINT, gracectl stop, %sa critical worker's death%s; "
		   "a second signal %s",
	    c->files && c->supervisor.when_empty == WHEN_EMPTY_SHUTDOWN ? "" : "or ",
	    c->files && c->supervisor.when_empty == WHEN_EMPTY_SHUTDOWN ? ", or nothing left to run" :
									   "",
	    c->shutdown.second_signal == SECOND_SIGNAL_ESCALATE ? "skips the current wait" :
								    "is ignored");
	if (c->shutdown.second_signal != SECOND_SIGNAL_ESCALATE || window == 0)
		; /* every second signal is treated alike */
	else if (window == USEC_INFINITY)
		fprintf(f, " (the same signal again is the same request)");
	else if (window > 0)
		fprintf(f, " (the same signal again within %s is the same request)",
		    format_duration((char[DURATION_MAX]) { 0 }, DURATION_MAX, window));
	fputc('\n', f);
	print_intake_step(p, f);
	print_worker_steps(p, f);
	print_close_step(p, f);
	print_sum(p, f);
}

void
plan_print(const struct plan *p, FILE *f)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *m;

	/* The plan quotes the config (commands, paths): written out escaped (util.h), our own
	 * newlines kept. Never unescaped, not even without memory for the copy. */
	if (!(m = open_memstream(&text, &len))) {
		fputs("(no memory to print the plan)\n", f);
		return;
	}
	print_all(p, m);
	if (fclose(m) != 0 || escape_fputs(text, ESCAPE_KEEP_NEWLINE, f) == -ENOMEM)
		fputs("(no memory to print the plan)\n", f);
}
