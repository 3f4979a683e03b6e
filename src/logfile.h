/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * output = file:PATH and stderr = file:PATH: log files graced writes for its workers, with
 * size-based rotation. The output pumps (output.c) hand over whole lines; a line is written to
 * one file whole, never split between two. One object per path: every instance of a worker and
 * both its streams share it, so their lines interleave whole.
 *
 * The file is opened O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC with mode 0640 (less graced's umask).
 * Before a line that would take the file past max_size it is rotated: PATH.N-1 becomes PATH.N
 * (the oldest, PATH.N, is overwritten), ..., PATH becomes PATH.1, and a new PATH is opened; with
 * no backups the file is emptied instead. So no file is ever larger than max_size, except one
 * that holds a single line longer than max_size on its own. max_size 0 never rotates.
 *
 * Writes are plain write()s and may block the loop on a slow disk: the same choice as outbuf.c
 * makes for a regular file. A failed write drops the line and is counted (and said once); a
 * failed rotation is said and the file keeps growing until the next attempt, max_size bytes
 * later.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct logfile;

/* The open log file of path, shared when one is open already (its max_size and backups are the
 * first opener's), else opened now. -errno when it cannot be opened. */
int logfile_open(const char *path, uint64_t max_size, unsigned backups, struct logfile **ret);
struct logfile *logfile_ref(struct logfile *f);
/* The last reference closes the file. Returns NULL. */
struct logfile *logfile_unref(struct logfile *f);

/*
 * Writes the complete lines at the start of buf (up to its last '\n'); with rest, what follows
 * them is written as one more line, with a '\n' added. Returns how many bytes of buf were taken
 * (written, or dropped after a write error): the pump keeps the rest for later.
 */
size_t logfile_put(struct logfile *f, const char *buf, size_t len, bool rest);

/*
 * Opens every open log file's path again and writes there from now on (after an external tool
 * such as logrotate moved the file away). A file that cannot be opened again keeps its current
 * descriptor; the first error is returned, after all were tried. To be called by
 * `gracectl reopen-logs`.
 */
int logfile_reopen_all(void);

/* Bytes dropped so far on write errors, over every log file. */
uint64_t logfile_dropped(void);

/* Whether a line of len bytes must go to a fresh file, the current one holding size bytes: it
 * would take a non-empty file past max_size (0: no limit). */
bool logfile_must_rotate(uint64_t size, uint64_t len, uint64_t max_size);
