/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: process plumbing. A command run to its end under a deadline (exec intakes, close
 * commands).
 *
 * Runs a short command (a close command of a [resource:*], an exec [intake:*]) from a task, to its
 * end or to a deadline: at the deadline, or when the task is cancelled, its whole process group
 * gets SIGKILL and is reaped within COMMAND_KILL_TIMEOUT. The loop never blocks meanwhile.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "graced.h"
#include "spawn.h"

struct task_runtime;

/* After the deadline, the killed command gets this long to be reaped. */
#define COMMAND_KILL_TIMEOUT (1 * USEC_PER_SEC)

struct command_result {
	pid_t pid;              /* 0 when it was never forked */
	int status;             /* waitpid() status, when reaped */
	bool reaped;
	bool killed;            /* still ran at the deadline (or on cancel) and got SIGKILL */
	bool cancelled;         /* the task was cancelled while the command ran */
	enum spawn_stage stage; /* where a failure before exec happened */
};

/*
 * The process's one reaper (supervisor_reap()): it collects every exited child with
 * waitpid(-1, WNOHANG) and reports each to the runtime (task_runtime_child_exited()). command_run()
 * never waits for a child itself: it waits for the runtime to have the exit, and at a deadline it
 * runs the reaper once, so an exit whose SIGCHLD the loop has not handled yet is not a timeout.
 */
struct command_reaper {
	void (*fn)(void *userdata);
	void *userdata;
};

/*
 * Runs argv in its own process group from inside a task. Returns 0 once it ran and was reaped
 * (result->status; result->killed when the deadline or a cancellation cut it), or -errno: it could
 * not be forked or exec'ed (result->stage says where; the child is still reaped), or it was not
 * reaped even after SIGKILL. Never logs.
 */
int command_run(struct task_runtime *rt, const struct command_reaper *reaper, char *const *argv,
    usec_t deadline, struct command_result *result);
/* The same with environment (NAME=VALUE, NULL-terminated, or NULL) set on top of graced's. */
int command_run_env(struct task_runtime *rt, const struct command_reaper *reaper,
    char *const *argv, char *const *environment, usec_t deadline, struct command_result *result);

/* "exit 0", "exit 3", "killed by SIGTERM", "timeout", ... for logs and the report. */
void command_describe(const struct command_result *result, char *buf, size_t n);
