/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>

#include "log.h"
#include "task-context.h"
#include "task-internal.h"
#include "task-sanitizer.h"
#include "task-stack.h"
#include "task.h"
#include "util.h"

/*
 * How many tasks one run-queue callback may switch to before it lets the loop poll again, so a
 * chain of tasks waking each other cannot starve descriptors and timers.
 */
#define RUNQ_BUDGET 1024

/* A task handed -ECANCELED more often than this is ignoring its cancellation. */
#define CANCEL_IGNORE_LIMIT 8

/*
 * The task running right now, or NULL on the scheduler's (the loop's) stack. The blocking calls
 * take no runtime argument, like any coroutine API, so they find their task here. One thread.
 */
static _Thread_local struct task *current;

static const char *const task_state_table[_TASK_STATE_MAX] = {
	[TASK_NEW] = "new",
	[TASK_RUNNABLE] = "runnable",
	[TASK_RUNNING] = "running",
	[TASK_WAITING] = "waiting",
	[TASK_DONE] = "done",
};

static const char *const task_outcome_table[_TASK_OUTCOME_MAX] = {
	[TASK_OUTCOME_PENDING] = "pending",
	[TASK_OUTCOME_RETURNED] = "returned",
	[TASK_OUTCOME_CANCELLED] = "cancelled",
	[TASK_OUTCOME_FAILED] = "failed",
};

static const char *const task_report_table[_TASK_REPORT_MAX] = {
	[TASK_REPORT_IGNORES_CANCEL] = "ignores-cancel",
	[TASK_REPORT_FAILED_UNJOINED] = "failed-unjoined",
	[TASK_REPORT_SLOW_STEP] = "slow-step",
	[TASK_REPORT_PENDING_AT_EXIT] = "pending-at-exit",
	[TASK_REPORT_SPAWN_FAILED] = "spawn-failed",
	[TASK_REPORT_OWNER_ENDED] = "owner-ended",
	[TASK_REPORT_SHIELD_OVERRUN] = "shield-overrun",
};

const char *
task_state_to_string(enum task_state s)
{
	return s >= 0 && s < _TASK_STATE_MAX ? task_state_table[s] : NULL;
}

const char *
task_outcome_to_string(enum task_outcome o)
{
	return o >= 0 && o < _TASK_OUTCOME_MAX ? task_outcome_table[o] : NULL;
}

const char *
task_report_to_string(enum task_report k)
{
	return k >= 0 && k < _TASK_REPORT_MAX ? task_report_table[k] : NULL;
}

static int
lookup(const char *const *table, int n, const char *s)
{
	if (s)
		for (int i = 0; i < n; i++)
			if (table[i] && streq(table[i], s))
				return i;
	return -EINVAL;
}

enum task_state
task_state_from_string(const char *s)
{
	return (enum task_state) lookup(task_state_table, _TASK_STATE_MAX, s);
}

enum task_outcome
task_outcome_from_string(const char *s)
{
	return (enum task_outcome) lookup(task_outcome_table, _TASK_OUTCOME_MAX, s);
}

enum task_report
task_report_from_string(const char *s)
{
	return (enum task_report) lookup(task_report_table, _TASK_REPORT_MAX, s);
}

enum task_outcome
task_outcome_from_result(int result)
{
	if (result == -ECANCELED)
		return TASK_OUTCOME_CANCELLED;
	return result < 0 ? TASK_OUTCOME_FAILED : TASK_OUTCOME_RETURNED;
}

static void
default_reporter(enum task_report kind, const char *name, const char *message, void *userdata)
{
	/* The one place the runtime's warnings reach the log; owners may install their own. */
	log_fields(LOG_WARNING, 0,
	    LOG_FIELDS({ "task", name }, { "event", task_report_to_string(kind) }), "%s", message);
}

void
task_report(struct task_runtime *rt, enum task_report kind, const char *name, const char *format,
    ...)
{
	char message[256];
	va_list ap;

	va_start(ap, format);
	(void) vsnprintf(message, sizeof(message), format, ap);
	va_end(ap);
	log_debug("task report %s: %s", task_report_to_string(kind), message);
	rt->reporter(kind, strempty(name), message, rt->reporter_data);
}

static struct event *
task_event(const struct task *t)
{
	return (struct event *) ((char *) t + t->rt->event_offset);
}

static void
copy_name(char dst[static TASK_NAME_MAX], const char *src)
{
	size_t n = strnlen(strempty(src), TASK_NAME_MAX - 1);

	memcpy(dst, strempty(src), n);
	dst[n] = '\0';
}

static int block(struct task *t, enum wait_kind kind, int fd, int events, usec_t deadline,
    int timeout_result);

static void
runq_schedule(struct task_runtime *rt)
{
	if (rt->runq_scheduled || rt->in_runq)
		return;
	rt->runq_scheduled = true;
	event_active(rt->runq_now, EV_TIMEOUT, 0);
}

static void
runq_push(struct task *t)
{
	t->state = TASK_RUNNABLE;
	t->queue = &t->rt->runq;
	TAILQ_INSERT_TAIL(t->queue, t, runq_link);
	runq_schedule(t->rt);
}

/* Undoes what one clause of task_wait_any() registered. */
static void
clause_unregister(struct task_clause *c)
{
	if (!c->waiter.task)
		return;
	switch (c->kind) {
	case TASK_CLAUSE_CHILD:
		((struct child_watch *) c->watch)->waiter = NULL;
		break;
	case TASK_CLAUSE_FD:
		if (c->ev)
			event_free(c->ev);
		c->ev = NULL;
		break;
	case TASK_CLAUSE_EVENT:
		TAILQ_REMOVE(&c->event->waiters, &c->waiter, link);
		break;
	case TASK_CLAUSE_TASK:
		c->task->joiner = NULL;
		break;
	case TASK_CLAUSE_GROUP:
		TAILQ_REMOVE(&c->group->joiners, &c->waiter, link);
		break;
	default:
		break;
	}
	c->waiter.task = NULL;
}

/* Undoes whatever the task registered for its wait. */
static void
wait_unregister(struct task *t)
{
	if (t->wait.armed) {
		(void) event_del(task_event(t));
		t->wait.armed = false;
	}
	switch (t->wait.kind) {
	case WAIT_EVENT:
		TAILQ_REMOVE(&t->wait.event->waiters, &t->waiter, link);
		break;
	case WAIT_JOIN:
		t->wait.target->joiner = NULL;
		break;
	case WAIT_GROUP:
		TAILQ_REMOVE(&t->wait.group->joiners, &t->waiter, link);
		break;
	case WAIT_CHILD:
		t->wait.child->waiter = NULL;
		break;
	case WAIT_ANY:
		for (size_t i = 0; i < t->wait.n_clauses; i++)
			clause_unregister(&t->wait.clauses[i]);
		break;
	default:
		break;
	}
	t->wait.kind = WAIT_NONE;
}

/* Called from libevent callbacks and from other tasks; never switches. */
static void
wake(struct task *t, int result)
{
	if (t->state != TASK_WAITING)
		return;
	wait_unregister(t);
	t->wake_result = result;
	/* Outside the run queue the cached clock may be a whole idle poll old. */
	t->since = t->rt->in_runq ? t->rt->now : now_usec();
	runq_push(t);
}

/* Wakes whoever waits through w: a plain wait gets result, a task_wait_any() its clause. */
static void
wake_waiter(struct task_waiter *w, int result)
{
	wake(w->task, w->index >= 0 ? w->index : result);
}

static struct timeval
timeval_until(usec_t deadline, usec_t now)
{
	usec_t d = deadline > now ? deadline - now : 0;

	return (struct timeval) { .tv_sec = (time_t) (d / USEC_PER_SEC),
		.tv_usec = (suseconds_t) (d % USEC_PER_SEC) };
}

static void
wait_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct task *t = userdata;
	usec_t now;

	/* A non-persistent event is no longer added once it fired. */
	t->wait.armed = false;
	if (what & (EV_READ | EV_WRITE)) {
		wake(t, ((what & EV_READ) ? TASK_FD_READ : 0) |
		    ((what & EV_WRITE) ? TASK_FD_WRITE : 0));
		return;
	}
	/*
	 * libevent measures timeouts from the time it cached at the start of this loop iteration
	 * (and may use a coarse clock), so it can fire a little early: a deadline has passed only
	 * when now_usec() says so.
	 */
	now = now_usec();
	if (now < t->wait.deadline) {
		struct timeval tv = timeval_until(t->wait.deadline, now);

		if (event_add(task_event(t), &tv) == 0) {
			t->wait.armed = true;
			return;
		}
	}
	wake(t, t->wait.timeout_result);
}

/* Runs on the scheduler's stack: switches to t until it waits, yields or ends. */
static void
run_one(struct task_runtime *rt, struct task *t)
{
	usec_t start = rt->now, d;

	t->state = TASK_RUNNING;
	current = t;
	fiber_start_switch(&rt->sched_fake_stack, t->stack->lo, t->stack->size);
	task_context_switch(&rt->sched_ctx, &t->ctx);
	fiber_finish_switch(rt->sched_fake_stack, NULL, NULL);
	current = NULL;

	rt->now = now_usec();
	d = rt->now - start;

	/* Reports are made here, on the loop's stack, not on the task's small one. */
	if (rt->slow_step && d > rt->slow_step)
		task_report(rt, TASK_REPORT_SLOW_STEP, t->name,
		    "task '%s' ran %" PRIu64 ".%03" PRIu64 "ms without yielding", t->name,
		    d / USEC_PER_MSEC, d % USEC_PER_MSEC);
	if (t->ignores_cancel && !t->cancel_reported) {
		t->cancel_reported = true;
		task_report(rt, TASK_REPORT_IGNORES_CANCEL, t->name,
		    "task '%s' ignores cancellation: %u blocking calls returned -ECANCELED", t->name,
		    t->cancel_returns);
	}
	if (t->state != TASK_DONE)
		return;

	/* The stack is free the moment the task switched away for the last time. */
	task_stack_put(rt->stacks, t->stack);
	t->stack = NULL;
	if (!t->has_handle) {
		if (task_outcome_from_result(t->result) == TASK_OUTCOME_FAILED)
			task_report(rt, TASK_REPORT_FAILED_UNJOINED, t->name,
			    "task '%s' failed and nobody joins it: %s", t->name,
			    strerror(-t->result));
		TAILQ_REMOVE(&t->group->tasks, t, group_link);
		TAILQ_REMOVE(&rt->tasks, t, all_link);
		rt->n_tasks--;
		free(t);
	}
}

static void
runq_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct task_runtime *rt = userdata;
	unsigned budget = RUNQ_BUDGET;
	struct task *t;

	rt->runq_scheduled = false;
	rt->in_runq = true;
	rt->now = now_usec();
	while (budget-- > 0 && (t = TAILQ_FIRST(&rt->runq))) {
		TAILQ_REMOVE(&rt->runq, t, runq_link);
		t->queue = NULL;
		run_one(rt, t);
	}
	/* Tasks that yielded run again only after the loop polled once. */
	TAILQ_FOREACH(t, &rt->yieldq, runq_link)
		t->queue = &rt->runq;
	TAILQ_CONCAT(&rt->runq, &rt->yieldq, runq_link);
	rt->in_runq = false;
	if (!TAILQ_EMPTY(&rt->runq)) {
		static const struct timeval zero = { 0, 0 };

		rt->runq_scheduled = true;
		if (event_add(rt->runq_later, &zero) < 0)
			event_active(rt->runq_now, EV_TIMEOUT, 0);
	}
}

/* On the task's stack: back to the scheduler until something wakes us. */
static void
suspend(struct task *t)
{
	struct task_runtime *rt = t->rt;

	fiber_start_switch(&t->fake_stack, rt->sched_stack_bottom, rt->sched_stack_size);
	task_context_switch(&t->ctx, &rt->sched_ctx);
	fiber_finish_switch(t->fake_stack, &rt->sched_stack_bottom, &rt->sched_stack_size);
}

static void
yield_now(struct task *t)
{
	t->state = TASK_RUNNABLE;
	t->wait.kind = WAIT_YIELD;
	t->since = t->rt->now;
	t->queue = &t->rt->yieldq;
	TAILQ_INSERT_TAIL(t->queue, t, runq_link);
	suspend(t);
	t->wait.kind = WAIT_NONE;
}

static void
group_task_ended(struct task_group *g)
{
	for (; g; g = g->parent) {
		assert(g->live > 0);
		if (--g->live > 0)
			continue;
		for (struct task_waiter *w; (w = TAILQ_FIRST(&g->joiners));)
			wake_waiter(w, 0);
	}
}

/*
 * The owner's function returned: no group it owns may keep live tasks. Each one left is named,
 * cancelled and joined (whatever the owner's own cancellation) before the owner ends.
 */
static void
owned_groups_finish(struct task *t)
{
	struct task_group *g;

	TAILQ_FOREACH(g, &t->group->subgroups, link) {
		struct task *c;

		if (g->owner != t)
			continue;
		if (g->live > 0) {
			TAILQ_FOREACH(c, &g->tasks, group_link)
				if (c->state != TASK_DONE)
					task_report(t->rt, TASK_REPORT_OWNER_ENDED, c->name,
					    "task '%s' ended while '%s' still ran in its group '%s': "
					    "cancelling it",
					    t->name, c->name, g->name);
			task_group_cancel_because(g, "owner ended");
		}
		while (g->live > 0) {
			t->waiter.index = -1;
			t->wait.group = g;
			TAILQ_INSERT_TAIL(&g->joiners, &t->waiter, link);
			(void) block(t, WAIT_GROUP, -1, 0, USEC_INFINITY, -ETIMEDOUT);
		}
		g->owner = NULL;
	}
	t->n_owned = 0;
}

static void _noreturn_
task_main(void *userdata)
{
	struct task *t = userdata;
	struct task_runtime *rt = t->rt;

	fiber_finish_switch(NULL, &rt->sched_stack_bottom, &rt->sched_stack_size);
	t->result = t->fn(t->arg);
	/* A scope still entered is gone with the function's frames. */
	t->scope = NULL;
	if (t->n_owned > 0)
		owned_groups_finish(t);
	if (t->spawn_scope) {
		TAILQ_REMOVE(&t->spawn_scope->spawned, t, scope_link);
		t->spawn_scope = NULL;
	}
	t->state = TASK_DONE;
	t->since = rt->now;
	rt->n_live--;
	if (t->joiner)
		wake_waiter(t->joiner, 0);
	if (task_outcome_from_result(t->result) == TASK_OUTCOME_FAILED) {
		if (t->group->first_error == 0)
			t->group->first_error = t->result;
		if (t->group->cancel_on_failure)
			task_group_cancel_because(t->group, "sibling failed");
	}
	group_task_ended(t->group);
	/* NULL: this stack's fake frames die with it. */
	fiber_start_switch(NULL, rt->sched_stack_bottom, rt->sched_stack_size);
	task_context_switch(&t->ctx, &rt->sched_ctx);
	/* Nobody switches back to an ended task. */
	abort();
}

/* The -ECANCELED of a blocking call; a task that keeps asking is flagged and made to yield. */
static int
cancel_return(struct task *t)
{
	if (++t->cancel_returns > CANCEL_IGNORE_LIMIT) {
		/* Reported by the scheduler; the yield keeps a spinning task from freezing the
		 * loop. */
		t->ignores_cancel = true;
		yield_now(t);
	}
	return -ECANCELED;
}

/* What the scopes of t say right now, from the innermost out to the first shield. */
struct scope_state {
	usec_t deadline;
	bool cancelled;
	const struct task_scope *shield; /* the innermost shield, if any */
	const char *reason;
};

static void
scope_state(const struct task *t, struct scope_state *st)
{
	const struct task_scope *s;

	*st = (struct scope_state) { .deadline = USEC_INFINITY };
	for (s = t->scope; s; s = s->outer) {
		st->deadline = MIN(st->deadline, s->deadline);
		if (s->cancelled && !st->cancelled) {
			st->cancelled = true;
			st->reason = s->reason;
		}
		if (s->shield) {
			st->shield = s;
			return;
		}
	}
	st->deadline = MIN(st->deadline, t->deadline);
	if (t->cancelled && !st->cancelled) {
		st->cancelled = true;
		st->reason = t->cancel_reason;
	}
}

bool
task_cancel_applies(const struct task *t, const char **ret_reason)
{
	struct scope_state st;

	if (!t->scope) {
		if (ret_reason)
			*ret_reason = t->cancel_reason;
		return t->cancelled;
	}
	scope_state(t, &st);
	if (ret_reason)
		*ret_reason = st.reason;
	return st.cancelled;
}

/* A cancellation held back by t's innermost shield past that shield's deadline: reported once. */
static void
shield_overrun_check(struct task *t, const struct task_scope *shield)
{
	const struct task_scope *s;
	bool held = t->cancelled;

	if (t->shield_reported || shield->deadline == USEC_INFINITY || now_usec() < shield->deadline)
		return;
	for (s = shield->outer; s && !held; s = s->outer) {
		held = s->cancelled;
		if (s->shield)
			break;
	}
	if (!held)
		return;
	t->shield_reported = true;
	task_report(t->rt, TASK_REPORT_SHIELD_OVERRUN, t->name,
	    "task '%s' is cancelled and still shielded past its shield's deadline", t->name);
}

/* Entry of every blocking call: the current task, or an error to return. */
static int
blocking_begin(struct task **ret)
{
	struct task *t = current;

	if (!t)
		return -EPERM;
	if (t->scope ? task_cancel_applies(t, NULL) : t->cancelled)
		return cancel_return(t);
	*ret = t;
	return 0;
}

/*
 * The deadline a wait really has: the earliest of its own, its scopes' up to the first shield,
 * and the task's inherited one. Inside a shield, none at all is -EDEADLK.
 */
static int
wait_deadline(struct task *t, usec_t deadline, usec_t *ret)
{
	struct scope_state st;

	if (!t->scope) {
		*ret = MIN(deadline, t->deadline);
		return 0;
	}
	scope_state(t, &st);
	*ret = MIN(deadline, st.deadline);
	if (st.shield) {
		if (*ret == USEC_INFINITY)
			return -EDEADLK;
		shield_overrun_check(t, st.shield);
	}
	return 0;
}

/*
 * Blocks t, whose wait target is already registered, until it is woken. fd < 0 waits on
 * nothing but the deadline. Returns what the waker says.
 */
static int
block(struct task *t, enum wait_kind kind, int fd, int events, usec_t deadline, int timeout_result)
{
	struct task_runtime *rt = t->rt;
	int r;

	t->wait.kind = kind;
	t->wait.deadline = deadline;
	t->wait.timeout_result = timeout_result;
	t->wait.fd = fd;
	t->wait.events = events;
	if (fd >= 0 || deadline != USEC_INFINITY) {
		struct timeval tv = { 0, 0 };
		short what = (short) (((events & TASK_FD_READ) ? EV_READ : 0) |
		    ((events & TASK_FD_WRITE) ? EV_WRITE : 0));

		if (deadline != USEC_INFINITY)
			tv = timeval_until(deadline, now_usec());

		if (event_assign(task_event(t), rt->base, fd, what, wait_cb, t) < 0 ||
		    event_add(task_event(t), deadline == USEC_INFINITY ? NULL : &tv) < 0) {
			t->wait.kind = kind;
			wait_unregister(t);
			return fd >= 0 ? -EBADF : -ENOMEM;
		}
		t->wait.armed = true;
	}
	t->state = TASK_WAITING;
	t->since = rt->now;
	suspend(t);
	r = t->wake_result;
	if (r == -ECANCELED)
		t->cancel_returns++;
	return r;
}

struct task *
task_current(void)
{
	return current;
}

bool
task_is_cancelled(void)
{
	return current && current->cancelled;
}

int
task_yield(void)
{
	struct task *t;
	int r = blocking_begin(&t);

	if (r < 0)
		return r;
	yield_now(t);
	return 0;
}

int
task_sleep_until(usec_t deadline)
{
	struct task *t;
	usec_t d;
	int r = blocking_begin(&t);

	if (r < 0)
		return r;
	r = wait_deadline(t, deadline, &d);
	if (r < 0)
		return r;
	if (d != USEC_INFINITY && now_usec() >= d)
		return d < deadline ? -ETIMEDOUT : 0;
	/* Reaching its own deadline is what a sleep is for; a shield's earlier one is a timeout. */
	return block(t, WAIT_SLEEP, -1, 0, d, d < deadline ? -ETIMEDOUT : 0);
}

/* The ready TASK_FD_* mask of fd right now, or -ETIMEDOUT when none is. */
static int
fd_ready_now(int fd, int events)
{
	struct pollfd p = { .fd = fd,
		.events = (short) (((events & TASK_FD_READ) ? POLLIN : 0) |
		    ((events & TASK_FD_WRITE) ? POLLOUT : 0)) };
	int ready = 0;

	if (poll(&p, 1, 0) <= 0)
		return -ETIMEDOUT;
	if ((events & TASK_FD_READ) && (p.revents & (POLLIN | POLLHUP | POLLERR)))
		ready |= TASK_FD_READ;
	if ((events & TASK_FD_WRITE) && (p.revents & (POLLOUT | POLLERR)))
		ready |= TASK_FD_WRITE;
	return ready ? ready : -ETIMEDOUT;
}

int
task_wait_fd(int fd, int events, usec_t deadline)
{
	struct task *t;
	usec_t d;
	int r;

	if (fd < 0 || !(events & (TASK_FD_READ | TASK_FD_WRITE)))
		return -EINVAL;
	r = blocking_begin(&t);
	if (r < 0)
		return r;
	r = wait_deadline(t, deadline, &d);
	if (r < 0)
		return r;
	if (d == USEC_INFINITY || now_usec() < d)
		r = block(t, WAIT_FD, fd, events, d, -ETIMEDOUT);
	else
		r = -ETIMEDOUT;
	/* A loop busy elsewhere may reach the deadline before it polled a descriptor that is
	 * ready by then: that is not a timeout. */
	if (r == -ETIMEDOUT)
		r = fd_ready_now(fd, events);
	return r;
}

void
task_event_init(struct task_event *ev, const char *name)
{
	ev->name = name;
	ev->is_set = false;
	TAILQ_INIT(&ev->waiters);
}

void
task_event_set(struct task_event *ev)
{
	ev->is_set = true;
	for (struct task_waiter *w; (w = TAILQ_FIRST(&ev->waiters));)
		wake_waiter(w, 0);
}

void
task_event_reset(struct task_event *ev)
{
	ev->is_set = false;
}

bool
task_event_is_set(const struct task_event *ev)
{
	return ev->is_set;
}

int
task_event_wait(struct task_event *ev, usec_t deadline)
{
	struct task *t;
	usec_t d;
	int r = blocking_begin(&t);

	if (r < 0)
		return r;
	if (ev->is_set)
		return 0;
	r = wait_deadline(t, deadline, &d);
	if (r < 0)
		return r;
	if (d != USEC_INFINITY && now_usec() >= d)
		return -ETIMEDOUT;
	t->wait.event = ev;
	t->waiter.index = -1;
	TAILQ_INSERT_TAIL(&ev->waiters, &t->waiter, link);
	return block(t, WAIT_EVENT, -1, 0, d, -ETIMEDOUT);
}

static struct child_watch *
child_find(struct task_runtime *rt, pid_t pid)
{
	struct child_watch *c;

	TAILQ_FOREACH(c, &rt->children, link)
		if (c->pid == pid)
			return c;
	return NULL;
}

static int
child_watch(struct task_runtime *rt, pid_t pid, struct child_watch **ret)
{
	struct child_watch *c = child_find(rt, pid);

	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->pid = pid;
		TAILQ_INSERT_TAIL(&rt->children, c, link);
	}
	*ret = c;
	return 0;
}

int
task_runtime_watch_child(struct task_runtime *rt, pid_t pid)
{
	struct child_watch *c;

	if (pid <= 0)
		return -EINVAL;
	return child_watch(rt, pid, &c);
}

int
task_runtime_child_exited(struct task_runtime *rt, pid_t pid, int wait_status)
{
	struct child_watch *c = child_find(rt, pid);

	if (!c)
		return -ESRCH;
	c->exited = true;
	c->status = wait_status;
	if (c->waiter)
		wake_waiter(c->waiter, 0);
	return 0;
}

int
task_wait_child(pid_t pid, usec_t deadline, int *ret_status)
{
	struct child_watch *c;
	struct task *t;
	usec_t d;
	int r;

	if (pid <= 0)
		return -EINVAL;
	r = blocking_begin(&t);
	if (r < 0)
		return r;
	r = child_watch(t->rt, pid, &c);
	if (r < 0)
		return r;
	if (!c->exited) {
		if (c->waiter)
			return -EBUSY;
		r = wait_deadline(t, deadline, &d);
		if (r < 0)
			return r;
		if (d != USEC_INFINITY && now_usec() >= d)
			return -ETIMEDOUT;
		t->waiter.index = -1;
		c->waiter = &t->waiter;
		t->wait.child = c;
		r = block(t, WAIT_CHILD, -1, 0, d, -ETIMEDOUT);
		/* On a timeout or a cancel the interest stays: a later wait still gets the exit. An
		 * exit the reaper reported after the deadline woke the task is not a timeout. */
		if (r < 0 && !(r == -ETIMEDOUT && c->exited))
			return r;
	}
	if (ret_status)
		*ret_status = c->status;
	TAILQ_REMOVE(&t->rt->children, c, link);
	free(c);
	return 0;
}

static int
scope_enter(struct task_scope *s, usec_t deadline, bool shield)
{
	struct task *t = current;

	if (!t)
		return -EPERM;
	*s = (struct task_scope) { .outer = t->scope, .task = t, .deadline = deadline,
		.shield = shield };
	TAILQ_INIT(&s->spawned);
	t->scope = s;
	return 0;
}

int
task_scope_enter(struct task_scope *s, usec_t deadline)
{
	return scope_enter(s, deadline, false);
}

int
task_scope_enter_shielded(struct task_scope *s, usec_t deadline)
{
	return scope_enter(s, deadline, true);
}

void
task_scope_cancel(struct task_scope *s, const char *reason)
{
	struct task *t = s->task, *c;

	if (s->cancelled)
		return;
	s->cancelled = true;
	s->reason = reason ? reason : "scope cancelled";
	TAILQ_FOREACH(c, &s->spawned, scope_link)
		task_cancel_because(c, s->reason);
	if (t && t->state == TASK_WAITING && task_cancel_applies(t, NULL))
		wake(t, -ECANCELED);
}

int
task_scope_leave(struct task_scope *s)
{
	struct task *t = s->task;

	if (t && t->scope == s) {
		t->scope = s->outer;
		/* The tasks spawned inside keep their deadline, no longer the scope's cancel. */
		for (struct task *c; (c = TAILQ_FIRST(&s->spawned));) {
			TAILQ_REMOVE(&s->spawned, c, scope_link);
			c->spawn_scope = NULL;
		}
		/* -ECANCELED returns that the scope caught are not ignored cancellations. */
		if (!task_cancel_applies(t, NULL))
			t->cancel_returns = 0;
	}
	s->task = NULL;
	if (s->cancelled)
		return -ECANCELED;
	if (s->deadline != USEC_INFINITY && now_usec() >= s->deadline)
		return -ETIMEDOUT;
	return 0;
}

int
task_shielded(task_fn fn, void *arg, usec_t deadline)
{
	struct task_scope s;
	int r;

	r = task_scope_enter_shielded(&s, deadline);
	if (r < 0)
		return r;
	r = fn(arg);
	(void) task_scope_leave(&s);
	/* A cancel that came meanwhile is sticky: the next blocking call returns -ECANCELED. */
	return r;
}

void
task_cancel_because(struct task *t, const char *reason)
{
	if (t->state == TASK_DONE || t->cancelled)
		return;
	t->cancelled = true;
	t->cancel_reason = reason ? reason : "cancelled";
	if (t->state == TASK_WAITING && task_cancel_applies(t, NULL))
		wake(t, -ECANCELED);
	/* The groups it owns are inside it. */
	if (t->n_owned > 0) {
		struct task_group *g;

		TAILQ_FOREACH(g, &t->group->subgroups, link)
			if (g->owner == t)
				task_group_cancel_because(g, t->cancel_reason);
	}
}

void
task_cancel(struct task *t)
{
	task_cancel_because(t, NULL);
}

static void
task_destroy(struct task *t)
{
	struct task_runtime *rt = t->rt;

	if (t->queue)
		TAILQ_REMOVE(t->queue, t, runq_link);
	if (t->state == TASK_WAITING)
		wait_unregister(t);
	if (t->spawn_scope)
		TAILQ_REMOVE(&t->spawn_scope->spawned, t, scope_link);
	if (t->n_owned > 0) {
		/* Given up while it owned groups (the runtime is freed): they outlive it. */
		struct task_group *g;

		TAILQ_FOREACH(g, &t->group->subgroups, link)
			if (g->owner == t)
				g->owner = NULL;
		t->n_owned = 0;
	}
	if (t->state != TASK_DONE) {
		rt->n_live--;
		group_task_ended(t->group);
	}
	if (t->joiner)
		wake_waiter(t->joiner, -ESRCH);
	if (t->stack)
		task_stack_put(rt->stacks, t->stack);
	TAILQ_REMOVE(&t->group->tasks, t, group_link);
	TAILQ_REMOVE(&rt->tasks, t, all_link);
	rt->n_tasks--;
	free(t);
}

int
task_join(struct task *t, usec_t deadline, int *ret_result)
{
	struct task *self;
	usec_t d;
	int r;

	if (t == current)
		return -EDEADLK;
	r = blocking_begin(&self);
	if (r < 0)
		return r;
	if (t->state != TASK_DONE) {
		if (t->joiner)
			return -EBUSY;
		r = wait_deadline(self, deadline, &d);
		if (r < 0)
			return r;
		if (d != USEC_INFINITY && now_usec() >= d)
			return -ETIMEDOUT;
		self->waiter.index = -1;
		t->joiner = &self->waiter;
		self->wait.target = t;
		r = block(self, WAIT_JOIN, -1, 0, d, -ETIMEDOUT);
		if (r < 0)
			return r;
	}
	if (ret_result)
		*ret_result = t->result;
	task_destroy(t);
	return 0;
}

const char *
task_get_name(const struct task *t)
{
	return t->name;
}

struct task_group *
task_get_group(const struct task *t)
{
	return t->group;
}

enum task_state
task_get_state(const struct task *t)
{
	return t->state;
}

enum task_outcome
task_get_outcome(const struct task *t)
{
	return t->state == TASK_DONE ? task_outcome_from_result(t->result) : TASK_OUTCOME_PENDING;
}

int
task_spawn(struct task_group *g, const char *name, task_fn fn, void *arg,
    struct task **ret_task)
{
	struct task_runtime *rt = g->rt;
	struct task_stack *stack;
	struct task *t;
	int r;

	if (g->closed)
		return -ESHUTDOWN;
	r = task_stack_get(rt->stacks, &stack);
	if (r < 0) {
		/* Once per episode: a spawn loop hitting the limit must not flood the log. */
		if (!rt->spawn_failed)
			task_report(rt, TASK_REPORT_SPAWN_FAILED, name, "cannot spawn task '%s': %s",
			    strempty(name), task_stack_pool_error(rt->stacks));
		rt->spawn_failed = true;
		return r;
	}
	rt->spawn_failed = false;
	t = malloc(rt->task_size);
	if (!t) {
		task_stack_put(rt->stacks, stack);
		return -ENOMEM;
	}
	memset(t, 0, sizeof(*t));
	t->rt = rt;
	t->group = g;
	t->id = ++rt->last_id;
	t->fn = fn;
	t->arg = arg;
	t->state = TASK_NEW;
	t->cancelled = g->cancelled;
	t->cancel_reason = g->cancel_reason;
	t->deadline = USEC_INFINITY;
	t->waiter.task = t;
	t->waiter.index = -1;
	t->has_handle = ret_task != NULL;
	if (current) {
		/* Spawned inside the spawner's scopes: their deadlines and cancel reach it. */
		struct task *p = current;

		if (!p->scope) {
			t->deadline = p->deadline;
			if (p->cancelled && !t->cancelled) {
				t->cancelled = true;
				t->cancel_reason = p->cancel_reason;
			}
		} else {
			struct scope_state st;

			scope_state(p, &st);
			t->deadline = st.deadline;
			if (st.cancelled && !t->cancelled) {
				t->cancelled = true;
				t->cancel_reason = st.reason;
			}
			t->spawn_scope = p->scope;
			TAILQ_INSERT_TAIL(&p->scope->spawned, t, scope_link);
		}
	}
	t->stack = stack;
	t->since = rt->in_runq ? rt->now : now_usec();
	copy_name(t->name, name);
	/*
	 * Stacks sit at a 68 KiB stride, so every task's first frames would share the same few
	 * cache sets; starting each 128 bytes lower than the last (16 steps) spreads them.
	 */
	task_context_make(&t->ctx, stack->lo, stack->size - (t->id % 16) * 128, task_main, t);

	TAILQ_INSERT_TAIL(&g->tasks, t, group_link);
	TAILQ_INSERT_TAIL(&rt->tasks, t, all_link);
	rt->n_tasks++;
	rt->n_live++;
	for (struct task_group *p = g; p; p = p->parent)
		p->live++;
	t->queue = &rt->runq;
	TAILQ_INSERT_TAIL(t->queue, t, runq_link);
	runq_schedule(rt);
	if (ret_task)
		*ret_task = t;
	return 0;
}

int
task_group_new(struct task_runtime *rt, struct task_group *parent, const char *name,
    struct task_group **ret)
{
	struct task_group *g;

	if (parent && parent->closed)
		return -ESHUTDOWN;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	if (!parent && current) {
		/* A nursery: owned by the task that opens it, inside that task's group. */
		parent = current->group;
		g->owner = current;
		g->nursery = true;
		current->n_owned++;
	}
	g->rt = rt;
	g->parent = parent;
	g->cancelled = parent && parent->cancelled;
	g->cancel_reason = parent ? parent->cancel_reason : NULL;
	copy_name(g->name, name);
	TAILQ_INIT(&g->subgroups);
	TAILQ_INIT(&g->tasks);
	TAILQ_INIT(&g->joiners);
	if (parent)
		TAILQ_INSERT_TAIL(&parent->subgroups, g, link);
	else
		TAILQ_INSERT_TAIL(&rt->groups, g, link);
	*ret = g;
	return 0;
}

size_t
task_group_live(const struct task_group *g)
{
	return g->live;
}

void
task_group_cancel_because(struct task_group *g, const char *reason)
{
	struct task_group *sub;
	struct task *t;

	if (!g->cancelled) {
		g->cancelled = true;
		g->cancel_reason = reason;
	}
	TAILQ_FOREACH(t, &g->tasks, group_link)
		task_cancel_because(t, reason);
	TAILQ_FOREACH(sub, &g->subgroups, link)
		task_group_cancel_because(sub, reason);
}

void
task_group_cancel(struct task_group *g)
{
	task_group_cancel_because(g, "group cancelled");
}

void
task_group_set_cancel_on_failure(struct task_group *g, bool on)
{
	g->cancel_on_failure = on;
}

static bool
group_contains(const struct task_group *g, const struct task_group *inner)
{
	for (; inner; inner = inner->parent)
		if (inner == g)
			return true;
	return false;
}

int
task_group_join(struct task_group *g, usec_t deadline)
{
	struct task *t;
	usec_t d;
	int r;

	if (!current) {
		r = task_runtime_run_until(g->rt, g, deadline);
		return r < 0 ? r : g->first_error;
	}
	if (group_contains(g, current->group))
		return -EDEADLK;
	r = blocking_begin(&t);
	if (r < 0)
		return r;
	if (g->live == 0)
		return g->first_error;
	r = wait_deadline(t, deadline, &d);
	if (r < 0)
		return r;
	if (d != USEC_INFINITY && now_usec() >= d)
		return -ETIMEDOUT;
	t->wait.group = g;
	t->waiter.index = -1;
	TAILQ_INSERT_TAIL(&g->joiners, &t->waiter, link);
	r = block(t, WAIT_GROUP, -1, 0, d, -ETIMEDOUT);
	return r < 0 ? r : g->first_error;
}

/* Frees g, its subgroups and the handles of its ended tasks; nothing in it may be alive. */
static void
group_free_recursive(struct task_group *g)
{
	struct task_runtime *rt = g->rt;

	for (struct task_group *sub; (sub = TAILQ_FIRST(&g->subgroups));)
		group_free_recursive(sub);
	for (struct task *t; (t = TAILQ_FIRST(&g->tasks));) {
		if (t->state == TASK_DONE &&
		    task_outcome_from_result(t->result) == TASK_OUTCOME_FAILED)
			task_report(rt, TASK_REPORT_FAILED_UNJOINED, t->name,
			    "task '%s' failed and was never joined: %s", t->name,
			    strerror(-t->result));
		task_destroy(t);
	}
	/* Joiners of an empty group were woken when it emptied. */
	assert(TAILQ_EMPTY(&g->joiners));
	if (g->owner) {
		g->owner->n_owned--;
		g->owner = NULL;
	}
	if (g->parent)
		TAILQ_REMOVE(&g->parent->subgroups, g, link);
	else
		TAILQ_REMOVE(&rt->groups, g, link);
	free(g);
}

int
task_group_free(struct task_group *g)
{
	struct task_group *sub;

	if (!g)
		return 0;
	if (g->live > 0)
		return -EBUSY;
	/* A subgroup somebody still holds is theirs to free first; the nurseries of ended owners
	 * have nobody else and go with g. */
	TAILQ_FOREACH(sub, &g->subgroups, link)
		if (!sub->nursery || sub->owner)
			return -EBUSY;
	group_free_recursive(g);
	return 0;
}

static void
group_mark_closed(struct task_group *g)
{
	struct task_group *sub;

	g->closed = true;
	TAILQ_FOREACH(sub, &g->subgroups, link)
		group_mark_closed(sub);
}

int
task_group_close(struct task_group *g, usec_t deadline)
{
	struct task_scope shield;
	bool shielded = current && deadline != USEC_INFINITY;
	int r;

	group_mark_closed(g);
	task_group_cancel_because(g, "group closed");
	/* Closing is cleanup: a cancelled owner still waits for its children, up to deadline. */
	if (shielded)
		(void) task_scope_enter_shielded(&shield, deadline);
	r = task_group_join(g, deadline);
	if (shielded)
		(void) task_scope_leave(&shield);
	/* The first failure is for task_group_join(); closing succeeded. */
	return r < 0 && g->live > 0 ? r : 0;
}

struct run_until {
	struct task_runtime *rt;
	struct event *timer;
	usec_t deadline;
};

static void
run_until_timer_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct run_until *u = userdata;
	usec_t now = now_usec();

	/* Early (see wait_cb): wait for the rest, so EVLOOP_ONCE cannot block past the deadline. */
	if (now < u->deadline) {
		struct timeval tv = timeval_until(u->deadline, now);

		(void) event_add(u->timer, &tv);
	}
}

int
task_runtime_run_until(struct task_runtime *rt, struct task_group *g, usec_t deadline)
{
	struct run_until u = { .rt = rt, .deadline = deadline };
	int r = 0;

	if (current || rt->in_runq)
		return -EBUSY;
	if (deadline != USEC_INFINITY) {
		struct timeval tv = timeval_until(deadline, now_usec());

		u.timer = evtimer_new(rt->base, run_until_timer_cb, &u);
		if (!u.timer)
			return -ENOMEM;
		if (event_add(u.timer, &tv) < 0) {
			event_free(u.timer);
			return -ENOMEM;
		}
	}
	for (;;) {
		int n;

		if ((g ? g->live : rt->n_live) == 0)
			break;
		if (deadline != USEC_INFINITY && now_usec() >= deadline) {
			r = -ETIMEDOUT;
			break;
		}
		n = event_base_loop(rt->base, EVLOOP_ONCE);
		if (n < 0) {
			/* A reentrant call from a callback of the running loop. */
			r = -EBUSY;
			break;
		}
		if (n == 1 && (g ? g->live : rt->n_live) > 0) {
			/* No event left that could ever wake the tasks we wait for. */
			r = -EDEADLK;
			break;
		}
	}
	if (u.timer)
		event_free(u.timer);
	return r;
}

int
task_runtime_new(struct event_base *base, struct task_runtime **ret)
{
	struct task_runtime *rt;
	int r;

	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	rt->base = base;
	TAILQ_INIT(&rt->runq);
	TAILQ_INIT(&rt->yieldq);
	TAILQ_INIT(&rt->tasks);
	TAILQ_INIT(&rt->groups);
	TAILQ_INIT(&rt->children);
	rt->slow_step = TASK_SLOW_STEP_DEFAULT;
	rt->reporter = default_reporter;
	/* The event goes right after the task, aligned for anything. */
	rt->event_offset = (sizeof(struct task) + 15) & ~(size_t) 15;
	rt->task_size = rt->event_offset + event_get_struct_event_size();
	r = task_stack_pool_new(TASK_STACK_SIZE_DEFAULT, TASK_STACK_CACHE_DEFAULT, &rt->stacks);
	if (r < 0)
		goto fail;
	rt->runq_now = event_new(base, -1, 0, runq_cb, rt);
	rt->runq_later = evtimer_new(base, runq_cb, rt);
	if (!rt->runq_now || !rt->runq_later) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = rt;
	return 0;

fail:
	(void) task_runtime_close(rt);
	return r;
}

size_t
task_runtime_close(struct task_runtime *rt)
{
	size_t pending = 0;

	if (!rt)
		return 0;
	/*
	 * The exit check: every task not ended is named (unless task_runtime_shutdown() did) and
	 * counted; their frames are abandoned. They go first, so no group is freed while a task
	 * still waits to join it.
	 */
	for (struct task *t = TAILQ_FIRST(&rt->tasks), *next; t; t = next) {
		next = TAILQ_NEXT(t, all_link);
		if (t->state == TASK_DONE)
			continue;
		pending++;
		if (!t->exit_reported)
			task_report(rt, TASK_REPORT_PENDING_AT_EXIT, t->name,
			    "task '%s' (group '%s') is still pending as the runtime is freed", t->name,
			    t->group->name);
		task_destroy(t);
	}
	for (struct task_group *g; (g = TAILQ_FIRST(&rt->groups));)
		group_free_recursive(g);
	for (struct child_watch *c; (c = TAILQ_FIRST(&rt->children));) {
		TAILQ_REMOVE(&rt->children, c, link);
		free(c);
	}
	if (rt->runq_now)
		event_free(rt->runq_now);
	if (rt->runq_later)
		event_free(rt->runq_later);
	task_stack_pool_free(rt->stacks);
	free(rt);
	return pending;
}

struct task_runtime *
task_runtime_free(struct task_runtime *rt)
{
	(void) task_runtime_close(rt);
	return NULL;
}

struct event_base *
task_runtime_get_base(const struct task_runtime *rt)
{
	return rt->base;
}

void
task_runtime_set_reporter(struct task_runtime *rt, task_reporter_fn fn, void *userdata)
{
	rt->reporter = fn ? fn : default_reporter;
	rt->reporter_data = fn ? userdata : NULL;
}

void
task_runtime_set_slow_step(struct task_runtime *rt, usec_t usec)
{
	rt->slow_step = usec == USEC_INFINITY ? 0 : usec;
}

int
task_runtime_set_stack_size(struct task_runtime *rt, size_t size)
{
	struct task_stack_pool *p;
	int r;

	if (rt->last_id > 0)
		return -EBUSY;
	r = task_stack_pool_new(size, TASK_STACK_CACHE_DEFAULT, &p);
	if (r < 0)
		return r;
	task_stack_pool_free(rt->stacks);
	rt->stacks = p;
	return 0;
}

void
task_runtime_set_stack_cache(struct task_runtime *rt, size_t n)
{
	task_stack_pool_set_cache(rt->stacks, n);
}

void
task_runtime_limit_stack_mappings(struct task_runtime *rt, size_t max, bool mprotect_guards)
{
	task_stack_pool_limit(rt->stacks, max, mprotect_guards);
}

int
task_runtime_prefault(struct task_runtime *rt, size_t n)
{
	return task_stack_prefault(rt->stacks, n);
}

size_t
task_runtime_count(const struct task_runtime *rt)
{
	return rt->n_tasks;
}

static void
clause_fd_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct task_clause *c = userdata;

	c->revents = ((what & EV_READ) ? TASK_FD_READ : 0) | ((what & EV_WRITE) ? TASK_FD_WRITE : 0);
	/* Non-persistent: it is no longer added; wake() frees it with the other clauses. */
	wake_waiter(&c->waiter, 0);
}

/* Whether clause c is true right now (and its outputs set). */
static int
clause_ready(struct task_runtime *rt, struct task_clause *c)
{
	switch (c->kind) {
	case TASK_CLAUSE_CHILD: {
		struct child_watch *w;
		int r = child_watch(rt, c->pid, &w);

		if (r < 0)
			return r;
		c->watch = w;
		return w->exited;
	}
	case TASK_CLAUSE_FD: {
		int r = fd_ready_now(c->fd, c->events);

		c->revents = r > 0 ? r : 0;
		return r > 0;
	}
	case TASK_CLAUSE_EVENT:
		return c->event->is_set;
	case TASK_CLAUSE_TASK:
		return c->task->state == TASK_DONE;
	case TASK_CLAUSE_GROUP:
		return c->group->live == 0;
	default:
		return -EINVAL;
	}
}

static int
clause_register(struct task *t, struct task_clause *c, size_t i)
{
	struct child_watch *w;
	short what;

	c->waiter = (struct task_waiter) { .task = t, .index = (int) i };
	switch (c->kind) {
	case TASK_CLAUSE_CHILD:
		w = c->watch;
		if (w->waiter) {
			c->waiter.task = NULL;
			return -EBUSY;
		}
		w->waiter = &c->waiter;
		return 0;
	case TASK_CLAUSE_FD:
		what = (short) (((c->events & TASK_FD_READ) ? EV_READ : 0) |
		    ((c->events & TASK_FD_WRITE) ? EV_WRITE : 0));
		c->ev = event_new(t->rt->base, c->fd, what, clause_fd_cb, c);
		if (!c->ev || event_add(c->ev, NULL) < 0) {
			if (c->ev)
				event_free(c->ev);
			c->ev = NULL;
			c->waiter.task = NULL;
			return -EBADF;
		}
		return 0;
	case TASK_CLAUSE_EVENT:
		TAILQ_INSERT_TAIL(&c->event->waiters, &c->waiter, link);
		return 0;
	case TASK_CLAUSE_TASK:
		if (c->task->joiner || c->task == t) {
			c->waiter.task = NULL;
			return c->task == t ? -EDEADLK : -EBUSY;
		}
		c->task->joiner = &c->waiter;
		return 0;
	case TASK_CLAUSE_GROUP:
		TAILQ_INSERT_TAIL(&c->group->joiners, &c->waiter, link);
		return 0;
	default:
		c->waiter.task = NULL;
		return -EINVAL;
	}
}

/* The clause that fired was child i: hand over the status and drop the interest. */
static void
clause_fired(struct task_runtime *rt, struct task_clause *c)
{
	struct child_watch *w = c->watch;

	if (c->kind != TASK_CLAUSE_CHILD)
		return;
	c->status = w->status;
	TAILQ_REMOVE(&rt->children, w, link);
	free(w);
	c->watch = NULL;
}

int
task_wait_any(struct task_clause *clauses, size_t n, usec_t deadline)
{
	struct task *t;
	usec_t d;
	int r;

	if (!clauses || n == 0 || n > INT32_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		struct task_clause *c = &clauses[i];

		if ((c->kind == TASK_CLAUSE_CHILD && c->pid <= 0) ||
		    (c->kind == TASK_CLAUSE_FD &&
			(c->fd < 0 || !(c->events & (TASK_FD_READ | TASK_FD_WRITE)))) ||
		    (c->kind == TASK_CLAUSE_EVENT && !c->event) ||
		    (c->kind == TASK_CLAUSE_TASK && !c->task) ||
		    (c->kind == TASK_CLAUSE_GROUP && !c->group) || c->kind >= _TASK_CLAUSE_KIND_MAX)
			return -EINVAL;
		c->waiter.task = NULL;
		c->ev = NULL;
		c->watch = NULL;
		c->revents = 0;
	}
	r = blocking_begin(&t);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = clause_ready(t->rt, &clauses[i]);
		if (r < 0)
			return r;
		if (r > 0) {
			clause_fired(t->rt, &clauses[i]);
			return (int) i;
		}
	}
	r = wait_deadline(t, deadline, &d);
	if (r < 0)
		return r;
	if (d != USEC_INFINITY && now_usec() >= d)
		return -ETIMEDOUT;
	for (size_t i = 0; i < n; i++) {
		r = clause_register(t, &clauses[i], i);
		if (r < 0) {
			while (i-- > 0)
				clause_unregister(&clauses[i]);
			return r;
		}
	}
	t->wait.clauses = clauses;
	t->wait.n_clauses = n;
	r = block(t, WAIT_ANY, -1, 0, d, -ETIMEDOUT);
	if (r >= 0)
		clause_fired(t->rt, &clauses[r]);
	return r;
}
