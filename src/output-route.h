/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Where a worker's stdout and stderr go, from output = and stderr =: the descriptors its child
 * gets, and the pumps (output.c) started once it runs.
 *
 *   output    stderr = separate               stderr = stdout            stderr = file:P
 *   inherit   graced's stderr                 graced's stdout            P
 *   prefix    graced's stderr, prefixed       graced's stdout, prefixed  P
 *   journal   own stream, priority warning    stdout's stream (info)     P
 *   file:F    graced's stderr, as inherit     F (the default)            P
 *
 * With output = file:F and stderr = stdout, each stream has its own pipe and pump, both writing
 * whole lines to F: the two streams interleave line by line, never inside a line.
 */

#include "config.h"

struct task_group;
struct logfile;

struct output_route {
	int child_out, child_err;  /* the child's stdout and stderr; -1: graced's own */
	int read_out, read_err;    /* our read ends of the pipes, -1 when none */
	int err_to;                /* prefix: STDOUT_FILENO or STDERR_FILENO for stderr's lines */
	struct logfile *out_file, *err_file;
};

/* Opens the pipes, log files and streams c asks for; on failure (a log file that cannot be
 * opened: said, naming the worker) nothing is left open. */
int output_route_open(const struct worker_config *c, const char *name, struct output_route *r);
/* Once the child runs: closes its ends in graced and starts the pumps into group. */
void output_route_start(struct output_route *r, struct task_group *group, const char *name);
/* Closes whatever is still open (after start, or when the spawn failed). */
void output_route_close(struct output_route *r);
