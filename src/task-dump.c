/* SPDX-License-Identifier: MIT */

/* The task table: what every task is doing, as text and as data, and the exit check. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task-internal.h"
#include "task.h"
#include "util.h"

static void
format_duration(char *buf, size_t size, usec_t d)
{
	(void) snprintf(buf, size, "%" PRIu64 ".%03" PRIu64 "s", d / USEC_PER_SEC,
	    (d % USEC_PER_SEC) / USEC_PER_MSEC);
}

/* task_wait_any()'s clauses, "event stop | child 4211 | fd 7": the snprintf() count. */
static int
format_clauses(const struct task_clause *c, size_t n_clauses, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s", "");

	for (size_t i = 0; i < n_clauses && n >= 0 && (size_t) n < size; i++) {
		const char *sep = i > 0 ? " | " : "";
		char *p = buf + n;
		size_t left = size - (size_t) n;
		int k;

		switch (c[i].kind) {
		case TASK_CLAUSE_CHILD:
			k = snprintf(p, left, "%schild %d", sep, (int) c[i].pid);
			break;
		case TASK_CLAUSE_FD:
			k = snprintf(p, left, "%sfd %d", sep, c[i].fd);
			break;
		case TASK_CLAUSE_EVENT:
			k = snprintf(p, left, "%sevent %s", sep, strempty(c[i].event->name));
			break;
		case TASK_CLAUSE_TASK:
			k = snprintf(p, left, "%stask '%s'", sep, c[i].task->name);
			break;
		case TASK_CLAUSE_GROUP:
			k = snprintf(p, left, "%sgroup '%s'", sep, c[i].group->name);
			break;
		default:
			k = snprintf(p, left, "%s?", sep);
			break;
		}
		if (k < 0)
			return k;
		n += k;
	}
	return n;
}

/* "fd 7 readable", "child 4211", "event stop", "until +2.500s": what t waits for, from now. */
static void
format_awaits(const struct task *t, usec_t now, char *buf, size_t size)
{
	char left[32] = "";
	int n = 0;

	if (t->state != TASK_WAITING) {
		(void) snprintf(buf, size, "%s", t->wait.kind == WAIT_YIELD ? "yield" : "");
		return;
	}
	if (t->wait.deadline != USEC_INFINITY)
		format_duration(left, sizeof(left),
		    t->wait.deadline > now ? t->wait.deadline - now : 0);
	switch (t->wait.kind) {
	case WAIT_SLEEP:
		(void) snprintf(buf, size, "until +%s", left[0] ? left : "infinity");
		return;
	case WAIT_FD:
		n = snprintf(buf, size, "fd %d %s", t->wait.fd,
		    t->wait.events == (TASK_FD_READ | TASK_FD_WRITE) ? "readable|writable" :
		    t->wait.events == TASK_FD_READ		     ? "readable" :
								       "writable");
		break;
	case WAIT_EVENT:
		n = snprintf(buf, size, "event %s", strempty(t->wait.event->name));
		break;
	case WAIT_JOIN:
		n = snprintf(buf, size, "task '%s'", t->wait.target->name);
		break;
	case WAIT_GROUP:
		n = snprintf(buf, size, "group '%s'", t->wait.group->name);
		break;
	case WAIT_CHILD:
		n = snprintf(buf, size, "child %d", (int) t->wait.child->pid);
		break;
	case WAIT_ANY:
		n = format_clauses(t->wait.clauses, t->wait.n_clauses, buf, size);
		break;
	default:
		n = snprintf(buf, size, "?");
		break;
	}
	if (left[0] && n >= 0 && (size_t) n < size)
		(void) snprintf(buf + n, size - (size_t) n, ", until +%s", left);
}

static void
fill_info(const struct task *t, usec_t now, struct task_info *i)
{
	memset(i, 0, sizeof(*i));
	i->id = t->id;
	memcpy(i->name, t->name, sizeof(i->name));
	memcpy(i->group, t->group->name, sizeof(i->group));
	i->state = t->state;
	const char *reason = NULL;
	/* A scope's cancel, or the task's own (also while a shield holds it back). */
	bool applies = t->state != TASK_DONE && task_cancel_applies(t, &reason);

	i->cancelled = applies || t->cancelled;
	if (!applies || !reason)
		reason = t->cancel_reason;
	if (i->cancelled)
		(void) snprintf(i->reason, sizeof(i->reason), "%s", reason ? reason : "cancelled");
	format_awaits(t, now, i->awaits, sizeof(i->awaits));
	i->since = t->since;
	if (t->state == TASK_WAITING && t->wait.kind == WAIT_CHILD)
		i->child = t->wait.child->pid;
}

int
task_runtime_list(struct task_runtime *rt, struct task_info **ret, size_t *ret_n)
{
	usec_t now = now_usec();
	struct task_info *a;
	struct task *t;
	size_t n = 0;

	a = calloc(rt->n_tasks ? rt->n_tasks : 1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	TAILQ_FOREACH(t, &rt->tasks, all_link)
		fill_info(t, now, &a[n++]);
	*ret = a;
	*ret_n = n;
	return 0;
}

void
task_runtime_dump(struct task_runtime *rt, FILE *f)
{
	usec_t now = now_usec();
	struct task *t;

	fprintf(f, "%-6s %-20s %-16s %-8s %10s %-6s %s\n", "ID", "NAME", "GROUP", "STATE", "FOR",
	    "CHILD", "AWAITS");
	TAILQ_FOREACH(t, &rt->tasks, all_link) {
		struct task_info i;
		char since[32], child[16] = "-";

		fill_info(t, now, &i);
		format_duration(since, sizeof(since), now > i.since ? now - i.since : 0);
		if (i.child > 0)
			(void) snprintf(child, sizeof(child), "%d", (int) i.child);
		fprintf(f, "%-6" PRIu64 " %-20s %-16s %-8s %10s %-6s %s%s%s%s\n", i.id, i.name,
		    i.group, task_state_to_string(i.state), since, child, i.awaits,
		    i.cancelled && i.state != TASK_DONE ? " (cancelled: " : "",
		    i.cancelled && i.state != TASK_DONE ? i.reason : "",
		    i.cancelled && i.state != TASK_DONE ? ")" : "");
	}
	fprintf(f, "%zu tasks, %zu alive\n", rt->n_tasks, rt->n_live);
}

size_t
task_runtime_shutdown(struct task_runtime *rt)
{
	usec_t now = now_usec();
	struct task *t;
	size_t n = 0;

	TAILQ_FOREACH(t, &rt->tasks, all_link) {
		char awaits[128];

		if (t->state == TASK_DONE)
			continue;
		n++;
		t->exit_reported = true;
		format_awaits(t, now, awaits, sizeof(awaits));
		task_report(rt, TASK_REPORT_PENDING_AT_EXIT, t->name,
		    "task '%s' in group '%s' is still %s%s%s at exit", t->name, t->group->name,
		    task_state_to_string(t->state), awaits[0] ? ", awaiting " : "", awaits);
	}
	return n;
}
