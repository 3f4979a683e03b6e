/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the task runtime.
 *
 * The task runtime's own structures, shared by task.c (scheduling, waits, groups) and
 * task-dump.c (the task table). Nothing outside the task module includes this.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "graced.h"
#include "macro.h"
#include "task-context.h"
#include "task.h"

enum wait_kind {
	WAIT_NONE,
	WAIT_YIELD,
	WAIT_SLEEP,
	WAIT_FD,
	WAIT_EVENT,
	WAIT_JOIN,
	WAIT_GROUP,
	WAIT_CHILD,
	WAIT_ANY,
};

/* A child some task waits for or will wait for; keeps an exit that arrives first. */
struct child_watch {
	TAILQ_ENTRY(child_watch) link;
	pid_t pid;
	bool exited;
	int status;
	struct task_waiter *waiter;
};

struct task_group {
	struct task_runtime *rt;
	struct task_group *parent;
	TAILQ_ENTRY(task_group) link; /* in parent->subgroups or rt->groups */
	TAILQ_HEAD(, task_group) subgroups;
	TAILQ_HEAD(, task) tasks;   /* alive, and ended ones still held by a handle */
	TAILQ_HEAD(, task_waiter) joiners; /* tasks in task_group_join() */
	size_t live;		    /* tasks not ended, here and in subgroups */
	struct task *owner;	    /* the task that opened it, while alive (nursery) */
	const char *cancel_reason;
	int first_error;
	bool cancelled;
	bool closed;
	bool nursery; /* opened by a task with no parent: owned by it */
	bool cancel_on_failure;
	char name[TASK_NAME_MAX];
};

TAILQ_HEAD(task_queue, task);

struct task {
	struct task_runtime *rt;
	struct task_group *group;
	TAILQ_ENTRY(task) group_link;
	TAILQ_ENTRY(task) all_link;
	TAILQ_ENTRY(task) runq_link;
	struct task_queue *queue; /* the run queue or yield queue it is on */
	struct task_waiter waiter;   /* in an event's or a group's waiters */
	struct task_waiter *joiner;
	struct task_scope *scope;       /* innermost scope entered, or NULL */
	usec_t deadline;		/* inherited at spawn: bounds every wait */
	uint64_t id;
	task_fn fn;
	void *arg;
	enum task_state state;
	bool has_handle;
	bool cancelled;
	bool ignores_cancel;  /* over CANCEL_IGNORE_LIMIT, to be reported */
	bool cancel_reported;
	bool shield_reported;
	bool exit_reported;
	unsigned cancel_returns;
	int result;
	int wake_result;
	usec_t since;
	struct {
		enum wait_kind kind;
		bool armed; /* the libevent event is added */
		int fd;
		int events;
		usec_t deadline;
		int timeout_result;
		struct task_event *event;
		struct task *target;
		struct task_group *group;
		struct child_watch *child;
		struct task_clause *clauses;
		size_t n_clauses;
	} wait;
	struct task_stack *stack;
	void *fake_stack; /* ASan's, while switched out */
	struct task_context ctx;
	/* Colder: away from what every switch and wait touches. */
	struct task_scope *spawn_scope; /* the spawner's scope it was spawned inside */
	TAILQ_ENTRY(task) scope_link;   /* in spawn_scope->spawned */
	const char *cancel_reason;
	unsigned n_owned; /* groups it owns */
	char name[TASK_NAME_MAX];
	/* Followed by event_get_struct_event_size() bytes: the task's own timer/fd event. */
};

struct task_runtime {
	struct event_base *base;
	struct event *runq_now;	  /* event_active()d: runs after the current callbacks */
	struct event *runq_later; /* zero timeout: runs after the next poll */
	bool runq_scheduled;
	bool in_runq;
	struct task_queue runq;
	struct task_queue yieldq;
	TAILQ_HEAD(, task) tasks;
	TAILQ_HEAD(, task_group) groups;
	TAILQ_HEAD(, child_watch) children;
	struct task_stack_pool *stacks;
	size_t task_size;
	size_t event_offset;
	size_t n_tasks;
	size_t n_live;
	uint64_t last_id;
	usec_t slow_step;
	/*
	 * The clock as of the last switch: one clock_gettime() per task step serves the slow-step
	 * check and the "since" stamps of the task table. Deadlines always read the real clock.
	 */
	usec_t now;
	bool spawn_failed;
	task_reporter_fn reporter;
	void *reporter_data;
	struct task_context sched_ctx;
	void *sched_fake_stack;
	const void *sched_stack_bottom;
	size_t sched_stack_size;
};

/* Whether a cancellation reaches t's waits now, and why. */
bool task_cancel_applies(const struct task *t, const char **ret_reason);

/* Hands a warning to the runtime's reporter (and logs it at debug). */
void task_report(struct task_runtime *rt, enum task_report kind, const char *name,
    const char *format, ...) _printf_(4, 5);
