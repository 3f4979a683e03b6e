/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * output = prefix: a task per pipe copies a worker's output line by line to graced's own stdout
 * or stderr as "web.0| line", through outbuf.c. It reads until EOF, so nothing the worker wrote is
 * lost; a last line without a newline is still printed. While graced's output has no room, the
 * pump stops reading (the worker waits on its pipe) until the shutdown begins; from then on what
 * does not fit is dropped and counted. Cancelled (when the output never reaches EOF because a
 * descendant holds the pipe), it takes what had already arrived without waiting and stops.
 */

#include <stdbool.h>

struct logfile;
struct task_group;

/* Spawns the pump of fd (non-blocking, taken over and closed by the task) into group. */
int output_pump_start(struct task_group *group, const char *prefix, int fd, int out_fd);
/* The same for output = file: (and stderr = file:): the lines go to file (the pump takes its own
 * reference), unprefixed, with no back-pressure; a line longer than the pump's 16 KiB buffer is
 * written in pieces of 16 KiB, each ending in a newline. */
int output_pump_start_file(struct task_group *group, const char *name, int fd, struct logfile *file,
    bool is_stderr);

/*
 * output = journal: stream descriptors to journald for the child's stdout (priority info) and
 * stderr (warning), tagged with the instance's name. When journald cannot be reached, both stay
 * -1 (the child inherits graced's) and a warning says so.
 */
void output_journal_streams(const char *name, int *ret_out, int *ret_err);
