/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: a stopper beside the worker objects (below the supervisor).
 *
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

struct report;
struct shutdown;
struct shutdown_settings;
struct task_event;
struct workers;

struct straggler {
	pid_t pid;
	int pidfd;             /* readable once the process is gone (the straggler task waits on
				* it); -1 when it could not be had */
	char *command;
	enum outcome outcome;  /* abandoned until it is seen gone */
	usec_t exit;           /* when it was seen gone; 0: never */
	bool gone;
};

struct stragglers {
	struct straggler *items;
	size_t n;
	/* What they need from around them, set by the supervisor, which outlives them. */
	struct shutdown *shutdown;
	const struct shutdown_settings *settings; /* [shutdown]'s defaults */
	struct workers *workers;
	struct task_event *wake;   /* set when a worker's state changes (its stopper is done) */
	enum outcome marking;      /* the outcome of those seen gone from now on */
};

/* The stragglers' stopper: runs from the stop step until every worker is joined. arg is the
 * struct stragglers, which outlives it. */
int straggler_task(void *arg);

/* Adds every straggler to the report (at the end). -ENOMEM. */
int straggler_report(const struct stragglers *s, struct report *r);
/* Closes what straggler_task() opened. */
void straggler_free_all(struct stragglers *s);
