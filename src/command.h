/* SPDX-License-Identifier: MIT */
#pragma once

/*
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
 * Runs argv in its own process group from inside a task. Returns 0 once it ran and was reaped
 * (result->status; result->killed when the deadline or a cancellation cut it), or -errno: it could
 * not be forked or exec'ed (result->stage says where; the child is still reaped), or it was not
 * reaped even after SIGKILL. Never logs.
 */
int command_run(struct task_runtime *rt, char *const *argv, usec_t deadline,
    struct command_result *result);

/* "exit 0", "exit 3", "killed by SIGTERM", "timeout", ... for logs and the report. */
void command_describe(const struct command_result *result, char *buf, size_t n);
