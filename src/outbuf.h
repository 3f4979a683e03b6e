/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the base (graced's own stdout and stderr, never blocking: DESIGN.md "Reliability rules").
 *
 * graced's own stdout and stderr, written without ever blocking the loop (DESIGN.md, "Reliability
 * rules"): a stuck reader (a stopped pager, a full container log pipe, a hung journald stream)
 * costs output, never a deadline.
 *
 * Each stream has a bounded buffer. A line goes in whole or not at all, and the buffer is written
 * out, whole lines at a time, whenever the descriptor takes it: at once when it can, else when
 * the loop sees it writable. Two kinds of writers:
 *   - graced's log lines never wait: a line that does not fit is dropped and counted;
 *   - the pumps of output = prefix may wait for room (back-pressure: the worker blocks on its
 *     pipe, nothing is lost), but only until the shutdown begins; from then on no writer waits
 *     and what does not fit is dropped and counted.
 * The pumps can fill a buffer only up to a reserve kept for the log lines.
 *
 * The descriptor is written without changing its flags, which are shared with workers that
 * inherit it: a socket with MSG_DONTWAIT, a pipe, FIFO or terminal through a private
 * non-blocking open of /proc/self/fd/N (else pwritev2(RWF_NOWAIT)), a regular file as it is.
 * When stdout and stderr are the same file, they share one buffer, so their lines keep their
 * order and never split each other.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "graced.h"

struct event_base;

/* The room kept in each buffer for graced's own log lines; pumps stop short of it. */
#define OUTBUF_LOG_RESERVE (32 * 1024)

/* From now on lines for stdout and stderr go through the buffers, flushed by base's loop. Before
 * it (--check, --plan, before the loop) and after outbuf_free(), lines are written as they come,
 * blocking as stdio would. */
int outbuf_setup(struct event_base *base);
/* Forgets the buffers (what waits in them is lost, uncounted): for tests and outbuf_setup(). */
void outbuf_free(void);

/*
 * Queues one line (the iovecs joined) for fd, STDOUT_FILENO or STDERR_FILENO, and writes what the
 * descriptor takes now. With may_wait, before the shutdown, a line that does not fit is refused
 * with -ENOBUFS (wait with outbuf_wait_room() and try again); otherwise it is dropped and counted
 * (0).
 */
int outbuf_write(int fd, const struct iovec *iov, int n, bool may_wait);

/* In a task: waits until fd's buffer has room for a pump's lines again (or no writer may wait
 * any more). 0, or -ECANCELED / -ETIMEDOUT. */
int outbuf_wait_room(int fd, usec_t deadline);

/* The shutdown began: no writer waits from now on (waiting pumps are woken to drop). */
void outbuf_stop_waiting(void);

/* In a task: writes until every buffer is empty or deadline passes, then drops and counts what is
 * left. */
void outbuf_drain(usec_t deadline);

/* Every byte dropped so far, on both streams. */
uint64_t outbuf_dropped(void);

/*
 * After the loop: a last flush bounded by deadline (poll(): the loop is gone), then what is left
 * is dropped. Later lines are still queued, but written only if the descriptor takes them at once.
 */
void outbuf_finish(usec_t deadline);
