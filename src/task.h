/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the task runtime (DESIGN.md "The task runtime").
 *
 * The task runtime: stackful coroutines ("tasks") on one libevent event_base, with structured
 * cancellation.
 *
 * Ownership. Every task is spawned into a group (a nursery). Groups nest: a supervisor group owns
 * worker tasks, a worker owns a group of pump tasks. A group cannot be freed while a task in it
 * (or in a subgroup) lives; task_group_close() cancels and joins what is left. A task spawned
 * with a handle (ret_task != NULL) keeps its result until task_join() collects it; one spawned
 * without a handle is freed when it ends, and a failure (negative result other than -ECANCELED)
 * is reported at that moment. A failed task whose handle is dropped with its group is reported.
 *
 * Blocking. The blocking calls (task_sleep_until, task_wait_fd, task_event_wait, task_join,
 * task_group_join, task_wait_child, task_yield) are valid only inside a task. They take absolute
 * CLOCK_MONOTONIC deadlines (USEC_INFINITY: none) and return -ETIMEDOUT when it passes and
 * -ECANCELED once the task is cancelled, on that call and on every later one. Libevent callbacks
 * never switch stacks: they wake tasks (task_event_set(), task_runtime_child_exited()), which
 * queues them; an internal run-queue event switches to them after the callback returns. Tasks
 * run only while the loop runs (event_base_dispatch(), or task_runtime_run_until()).
 *
 * Cancellation. task_cancel() is a request: it wakes the task wherever it waits. A task that
 * keeps calling blocking operations after it was handed -ECANCELED several times is reported once
 * by name, and from then on each such call also yields, so it cannot freeze the loop.
 * task_shielded() runs a function with cancellation held back (only its own deadline applies),
 * so closing a resource still works after a cancel; the cancellation is seen by the next blocking
 * call after the section.
 *
 * Owned groups (nurseries). A group opened inside a task with parent == NULL belongs to that
 * task: it is made a subgroup of the task's own group (so cancelling that group reaches it) and
 * its owner cannot end while it has live tasks. When the owner's function returns with tasks
 * still alive in a group it owns, the runtime names each through the reporter (owner-ended),
 * cancels them ("owner ended") and joins them before the owner counts as ended. task_cancel() of
 * the owner cancels its groups too. Groups opened outside any task (by main() or the supervisor
 * before the loop) stay top-level and belong to whoever frees them; a group opened with an
 * explicit parent belongs to that parent's tree. (Chosen over refusing, -EPERM, so a task can
 * still open a group for its own work; what it cannot do is leave that work behind.)
 *
 * Closed groups and handles. task_group_close() cancels, joins and closes a group but does not
 * free it: a closed group refuses new tasks (-ESHUTDOWN) and the handles of its ended tasks stay
 * readable (task_get_outcome(), task_join()) until the group's holder lets go with
 * task_group_free(). task_group_free() frees the group, the nurseries of ended owners under it
 * and every handle left in them (it refuses, -EBUSY, while a subgroup somebody else holds is
 * left); only then do those pointers die.
 *
 * Errors travel. task_group_join() returns the first failure (a negative result other than
 * -ECANCELED) of a task spawned directly into the group, once the group has no live task. With
 * task_group_set_cancel_on_failure(), the first failure also cancels the group ("sibling
 * failed"). A cancellation carries a reason (a string literal, not copied: "shutdown step stop",
 * "escalation"; the runtime's own are "owner ended", "sibling failed", "group closed", "group
 * cancelled") that the task table shows (task_info.reason, "(cancelled: why)" in the dump).
 *
 * Cancel scopes. struct task_scope lives on the task's stack between task_scope_enter() and
 * task_scope_leave() (strictly nested). Its deadline bounds every wait inside it (a wait it cuts
 * short returns -ETIMEDOUT, as for the wait's own deadline), and
 * task_scope_cancel() makes every wait inside it return -ECANCELED, without cancelling the task:
 * after task_scope_leave() the task's later waits work again. Tasks spawned inside a scope
 * inherit it: they start with its (and every enclosing) deadline as their own, start cancelled
 * if it already is, and are cancelled by a later task_scope_cancel() until the scope is left. A
 * shielded scope (task_scope_enter_shielded(), task_shielded()) holds back every cancellation
 * and deadline from outside it; its own deadline (the budget) still applies.
 *
 * Shields need a finite budget. Inside a shield, a wait that ends up with no finite deadline
 * (neither its own nor one of the scopes up to the shield) fails at once with -EDEADLK instead of
 * holding cancellation back for good. A task that is cancelled and still inside a shield past
 * that shield's deadline is reported by name (shield-overrun).
 *
 * Waiting on several things. task_wait_any() waits for the first of a set of clauses (child exit,
 * fd readiness, event, task end, group empty) or the deadline, and returns the index of the
 * clause that fired; a child exit reported before the wait (task_runtime_watch_child()) counts.
 *
 * Exit check. task_runtime_close() (and task_runtime_free(), which calls it) names every task
 * still pending through the reporter (pending-at-exit), frees everything and returns how many
 * there were: the real figure after the loop ended. task_runtime_shutdown() gives the same
 * count earlier without freeing.
 *
 * Reports. The runtime never logs above debug. Warnings (cancellation ignored, failed and never
 * joined, slow step, pending at exit, spawn refused, owner ended with live tasks, shield overrun)
 * go to a reporter hook; the default one calls log_warning().
 *
 * Stacks. Each task runs on its own stack (64 KiB by default, fixed size) with a guard page below
 * it, so an overflow is a SIGSEGV, never silent corruption. Budget: frames on a task stack must
 * stay small (no arrays beyond a few hundred bytes, no recursion of unbounded depth). A task
 * blocked in a runtime call uses under 2 KiB for the runtime's frames (they fit the top page
 * with the cache-colouring offset); a report made on a task's stack (task_group_free() from a
 * task, through the default reporter and log.c's 4 KiB line buffer) about 6 KiB; AddressSanitizer
 * makes every frame about 3x larger. That leaves more than 50 KiB for the task's own code.
 * Stacks are carved from chunk mappings of 64 stacks, so one mmap serves many tasks, and freed
 * stacks are kept warm in a LIFO cache (up to 4096 by default), so a warm spawn+join makes no
 * system call.
 *
 * vm.max_map_count. Linux allows 65,530 mappings per process by default, and a guard page made
 * with mprotect() splits a mapping: 2 mappings per stack, so about 32,000 stacks at most. On Linux
 * >= 6.13 guard pages are installed with madvise(MADV_GUARD_INSTALL) instead, which marks page
 * table entries and does not split the mapping: a whole chunk of 64 guarded stacks is one mapping
 * (adjacent chunks even merge), and 100,000 tasks need a few hundred mappings at most. On older
 * kernels the runtime uses mprotect() guards while the stacks stay within half of
 * vm.max_map_count; beyond that, task_spawn() fails with -EAGAIN and the reporter says why and
 * what to raise. It never drops guard pages silently.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "graced.h"
#include "macro.h"

struct event_base;
struct task;
struct task_group;
struct task_runtime;

#define TASK_STACK_SIZE_DEFAULT (64U * 1024U)
#define TASK_SLOW_STEP_DEFAULT (100 * USEC_PER_MSEC)
#define TASK_STACK_CACHE_DEFAULT 16384U
/* Longer names are truncated in the task table. */
#define TASK_NAME_MAX 32

/* The entry point of a task. Its int result is kept until joined: >= 0 success, -ECANCELED
 * cancelled, any other negative errno failed. */
typedef int (*task_fn)(void *arg);

enum task_state {
	TASK_NEW,      /* spawned, has not run yet */
	TASK_RUNNABLE, /* in the run queue */
	TASK_RUNNING,
	TASK_WAITING,
	TASK_DONE, /* ended, result kept until joined */
	_TASK_STATE_MAX,
	_TASK_STATE_INVALID = -EINVAL,
};

enum task_outcome {
	TASK_OUTCOME_PENDING,
	TASK_OUTCOME_RETURNED,
	TASK_OUTCOME_CANCELLED,
	TASK_OUTCOME_FAILED,
	_TASK_OUTCOME_MAX,
	_TASK_OUTCOME_INVALID = -EINVAL,
};

enum task_report {
	TASK_REPORT_IGNORES_CANCEL,
	TASK_REPORT_FAILED_UNJOINED,
	TASK_REPORT_SLOW_STEP,
	TASK_REPORT_PENDING_AT_EXIT,
	TASK_REPORT_SPAWN_FAILED,
	TASK_REPORT_OWNER_ENDED,   /* a task ended with live tasks in a group it owns */
	TASK_REPORT_SHIELD_OVERRUN, /* cancelled, and still shielded past the shield's deadline */
	_TASK_REPORT_MAX,
	_TASK_REPORT_INVALID = -EINVAL,
};

/* task_wait_fd() events. */
enum {
	TASK_FD_READ = 1 << 0,
	TASK_FD_WRITE = 1 << 1,
};

/* A waiter on an event, a group, a task or a child; runtime-private. */
struct task_waiter {
	TAILQ_ENTRY(task_waiter) link;
	struct task *task;
	int index; /* the clause of task_wait_any(), or -1 */
};

/* Receives the runtime's warnings. name is the task's (or "" when none applies). */
typedef void (*task_reporter_fn)(enum task_report kind, const char *name, const char *message,
    void *userdata);

const char *task_state_to_string(enum task_state s);
const char *task_outcome_to_string(enum task_outcome o);
const char *task_report_to_string(enum task_report k);
enum task_state task_state_from_string(const char *s);
enum task_outcome task_outcome_from_string(const char *s);
enum task_report task_report_from_string(const char *s);
enum task_outcome task_outcome_from_result(int result);

/* Runtime. */
int task_runtime_new(struct event_base *base, struct task_runtime **ret);
/* Returns the number of tasks still pending (not ended) and names each through the reporter;
 * they and the stacks stay allocated then (their frames may still reference them). */
size_t task_runtime_shutdown(struct task_runtime *rt);
/* The exit check: names every task not ended through the reporter (pending-at-exit; once per
 * task, also counting those task_runtime_shutdown() named), frees the runtime with its groups,
 * tasks and stacks, and returns how many were pending. */
size_t task_runtime_close(struct task_runtime *rt);
/* task_runtime_close(), dropping the count. Returns NULL. */
struct task_runtime *task_runtime_free(struct task_runtime *rt);
struct event_base *task_runtime_get_base(const struct task_runtime *rt);
void task_runtime_set_reporter(struct task_runtime *rt, task_reporter_fn fn, void *userdata);
/* A task running longer than usec between two switches is reported; 0 or USEC_INFINITY: off. */
void task_runtime_set_slow_step(struct task_runtime *rt, usec_t usec);
/* Stack size of tasks spawned from now on (rounded up to pages); only before the first spawn. */
int task_runtime_set_stack_size(struct task_runtime *rt, size_t size);
/* How many freed stacks stay warm; the rest give their memory back (MADV_DONTNEED). */
void task_runtime_set_stack_cache(struct task_runtime *rt, size_t n);
/* Caps the memory mappings task stacks may take (default: half of vm.max_map_count); with
 * mprotect_guards, guard pages are made the pre-6.13 way, 2 mappings per stack. For tests of
 * the limit, and for a process that needs its mappings for something else. */
void task_runtime_limit_stack_mappings(struct task_runtime *rt, size_t max, bool mprotect_guards);
/* Maps and touches n stacks now, so the first n spawns fault in nothing. */
int task_runtime_prefault(struct task_runtime *rt, size_t n);
/* Runs the loop until group (with its subgroups) has no live task, or the deadline: 0,
 * -ETIMEDOUT, -EDEADLK (nothing left that could wake a task), -EBUSY (called from a task or a
 * callback of the running loop). */
int task_runtime_run_until(struct task_runtime *rt, struct task_group *group, usec_t deadline)
    _warn_unused_result_;
/* The single reaper reports every exited child here. The status is kept for a waiter that comes
 * later. Returns 0 if the pid was watched or waited for, -ESRCH otherwise (an orphan). */
int task_runtime_child_exited(struct task_runtime *rt, pid_t pid, int wait_status);
/* Declares interest in pid right after fork, so an exit reaped before the wait starts is kept. */
int task_runtime_watch_child(struct task_runtime *rt, pid_t pid);

/* Introspection: one row of the task table. */
struct task_info {
	uint64_t id;
	char name[TASK_NAME_MAX];
	char group[TASK_NAME_MAX];
	enum task_state state;
	bool cancelled;
	char awaits[128]; /* "fd 7 readable", "child 4211", "event stop", "until +2.500s" */
	usec_t since;    /* when it entered its state (CLOCK_MONOTONIC) */
	pid_t child;     /* the child it waits for, or 0 */
	char reason[48]; /* why it is cancelled, when cancelled */
};
/* A malloc'ed snapshot of every task, in spawn order. */
int task_runtime_list(struct task_runtime *rt, struct task_info **ret, size_t *ret_n);
/* The task table as text. */
void task_runtime_dump(struct task_runtime *rt, FILE *f);
size_t task_runtime_count(const struct task_runtime *rt);

/* Groups. parent may be NULL: outside a task a top-level group, inside a task a group owned by
 * that task (see "Owned groups"). The name is copied. -ESHUTDOWN when parent is closed. */
int task_group_new(struct task_runtime *rt, struct task_group *parent, const char *name,
    struct task_group **ret);
/* -EBUSY while a task in it (or a subgroup) is alive, or a subgroup other than the nursery of an
 * ended task is left; else 0 and the group is gone (with those nurseries). Handles of ended
 * tasks die with it (a failed one never joined is reported). */
int task_group_free(struct task_group *g);
/* Cancels every task in the group and its subgroups; later spawns into it start cancelled. */
void task_group_cancel(struct task_group *g);
/* The same, with a reason for the task table (a string literal, not copied). */
void task_group_cancel_because(struct task_group *g, const char *reason);
/* The first failure of a task in g cancels g's other tasks ("sibling failed"). */
void task_group_set_cancel_on_failure(struct task_group *g, bool on);
/* Waits until no task in the group or its subgroups is alive: then the first failure of a task
 * spawned into g (negative, not -ECANCELED) or 0; else -ETIMEDOUT, -ECANCELED. Outside a task it
 * runs the loop (task_runtime_run_until()). */
int task_group_join(struct task_group *g, usec_t deadline) _warn_unused_result_;
/* Cancel ("group closed"), join, close: the group refuses new tasks from now on (-ESHUTDOWN),
 * its subgroups too, and stays allocated until task_group_free(). With a finite deadline the join
 * is shielded: a cancelled caller still waits for its children, up to deadline. With
 * USEC_INFINITY it is not (a shield needs a budget): a cancel of the caller ends it, -ECANCELED.
 * 0 (the group's first failure is not returned: join first to see it), or -ETIMEDOUT/-ECANCELED
 * with live tasks left (-EDEADLK from a task inside it, -EBUSY outside a task while the loop
 * runs). */
int task_group_close(struct task_group *g, usec_t deadline) _warn_unused_result_;
size_t task_group_live(const struct task_group *g);

/* Tasks. With ret_task, the caller must task_join() it (or free the group); without, the task
 * is freed when it ends. -ESHUTDOWN for a closed group, -ENOMEM/-EAGAIN when no stack can be had
 * (reported). Spawned from a task, it inherits the spawner's deadlines and scope (see "Cancel
 * scopes"). */
int task_spawn(struct task_group *g, const char *name, task_fn fn, void *arg,
    struct task **ret_task);
void task_cancel(struct task *t);
/* The same, with a reason for the task table (a string literal, not copied). */
void task_cancel_because(struct task *t, const char *reason);
/* Waits for t to end and frees it: 0 with *ret_result set, or -ETIMEDOUT/-ECANCELED with t
 * still alive, -EDEADLK for itself, -EBUSY when another task already joins it. */
int task_join(struct task *t, usec_t deadline, int *ret_result) _warn_unused_result_;
const char *task_get_name(const struct task *t);
struct task_group *task_get_group(const struct task *t);
enum task_state task_get_state(const struct task *t);
enum task_outcome task_get_outcome(const struct task *t);

/* Inside a task. */
struct task *task_current(void);
bool task_is_cancelled(void);
int task_yield(void) _warn_unused_result_;
/* 0 when deadline is reached (USEC_INFINITY: until cancelled), -ETIMEDOUT when a shield's earlier
 * deadline cuts it short, -EDEADLK for an infinite sleep in a shield without a deadline. */
int task_sleep_until(usec_t deadline) _warn_unused_result_;
/* Returns the ready TASK_FD_* mask (> 0); -ETIMEDOUT only when fd is not ready at the deadline
 * either (a loop busy elsewhere may pass the deadline before it polls fd). */
int task_wait_fd(int fd, int events, usec_t deadline) _warn_unused_result_;
/* 0 with *ret_status (a waitpid() status), also past the deadline for an exit already reported
 * to task_runtime_child_exited(). */
int task_wait_child(pid_t pid, usec_t deadline, int *ret_status) _warn_unused_result_;
/* Runs fn(arg) in a shielded scope: cancellation held back, blocking calls inside see only the
 * earlier of their own deadline and this one (USEC_INFINITY: waits inside need their own, else
 * -EDEADLK). Returns fn's result. */
int task_shielded(task_fn fn, void *arg, usec_t deadline) _warn_unused_result_;

/* A cancel scope, on the stack of the task that enters it (see "Cancel scopes"). The fields are
 * the runtime's. */
struct task_scope {
	struct task_scope *outer;
	struct task *task;
	usec_t deadline;
	bool shield;
	bool cancelled;
	const char *reason;
	TAILQ_HEAD(, task) spawned; /* alive tasks spawned inside, until it is left */
};
/* Enters s (deadline USEC_INFINITY: none of its own); -EPERM outside a task. */
int task_scope_enter(struct task_scope *s, usec_t deadline);
/* The same, shielded: nothing from outside cancels or times out what runs inside. */
int task_scope_enter_shielded(struct task_scope *s, usec_t deadline);
/* Cancels what runs inside s (and the tasks spawned inside it), from any task or callback. */
void task_scope_cancel(struct task_scope *s, const char *reason);
/* Leaves s, the innermost scope: -ECANCELED if it was cancelled, -ETIMEDOUT if its deadline
 * passed, else 0. The task's own cancellation, if any, stays. */
int task_scope_leave(struct task_scope *s);

/* task_wait_any() clauses. */
enum task_clause_kind {
	TASK_CLAUSE_CHILD, /* pid exited: status set (the exit is consumed, as task_wait_child) */
	TASK_CLAUSE_FD,	   /* fd ready for events (TASK_FD_*): revents set */
	TASK_CLAUSE_EVENT, /* event set */
	TASK_CLAUSE_TASK,  /* task ended (join it afterwards to collect it) */
	TASK_CLAUSE_GROUP, /* group has no live task */
	_TASK_CLAUSE_KIND_MAX,
};
struct task_clause {
	enum task_clause_kind kind;
	pid_t pid;
	int status;
	int fd;
	int events;
	int revents;
	struct task_event *event;
	struct task *task;
	struct task_group *group;
	/* The runtime's. */
	struct task_waiter waiter;
	struct event *ev;
	void *watch;
};
/* Waits for the first clause to fire: its index, or -ETIMEDOUT, -ECANCELED, -EDEADLK (in a
 * shield with no finite deadline), -EINVAL, -EBUSY (another task waits for that child/task). A
 * clause already true when called fires at once (the lowest index wins). */
int task_wait_any(struct task_clause *clauses, size_t n, usec_t deadline) _warn_unused_result_;

/* A level-triggered event, embeddable: setting it wakes every waiter; waiting on a set event
 * returns at once. name (not copied) is shown in the task table. */
struct task_event {
	const char *name;
	bool is_set;
	TAILQ_HEAD(, task_waiter) waiters;
};
void task_event_init(struct task_event *ev, const char *name);
void task_event_set(struct task_event *ev);
void task_event_reset(struct task_event *ev);
bool task_event_is_set(const struct task_event *ev);
int task_event_wait(struct task_event *ev, usec_t deadline) _warn_unused_result_;
