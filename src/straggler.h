/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Stragglers: descendants of graced that no worker stopper will signal — a background job whose
 * main process already exited, a daemon that left its worker's process group with setsid(), an
 * orphan graced adopted as PID 1 or subreaper. Found by walking down graced's process tree
 * through /proc/PID/task/TID/children (as PID 1 that is the whole namespace), they get the [shutdown]
 * default signals in parallel with the first workers, and whatever is still left once every
 * worker is joined gets the kill signal. Each one appears in the report with pid and command.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "graced.h"

struct supervisor;

struct straggler {
	pid_t pid;
	int pidfd;             /* readable once the process is gone (the straggler task waits on
				* it); -1 when it could not be had */
	size_t record;         /* its entry in the report */
	bool gone;
};

/* The stragglers' stopper: runs from the stop step until every worker is joined. arg is the
 * supervisor, which outlives it. */
int straggler_task(void *arg);

/* Closes what straggler_task() opened. */
void straggler_free_all(struct supervisor *sv);
