/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "outbuf.h"
#include "task.h"
#include "util.h"

/* Per stream: a burst of log lines and several pump buffers (output.c reads 16 KiB at a time). */
#define OUTBUF_CAPACITY (256 * 1024)

enum how {
	HOW_WRITE,  /* write(): a regular file, or our own non-blocking open of the stream */
	HOW_SEND,   /* send(MSG_DONTWAIT): a socket */
	HOW_NOWAIT, /* pwritev2(RWF_NOWAIT): a pipe or terminal we could not open again */
};

struct outbuf {
	int fd;               /* the descriptor written and watched */
	enum how how;
	size_t max_write;     /* PIPE_BUF but for regular files: a line is never split by another
			       * writer of the same pipe (a worker with output = inherit) */
	char *data;           /* data[head, len) is waiting */
	size_t head, len;
	bool broken;          /* the reader is gone for good (EPIPE...): everything is dropped */
	struct event *writable;
	struct task_event room; /* set when a pump may write again */
};

static struct outbuf streams[2];
static struct outbuf *by_fd[3]; /* [1] and [2]: one buffer for both when they are one file */
static bool loop_running;
static bool no_waiting;
static uint64_t dropped;

static size_t
pending(const struct outbuf *b)
{
	return b->len - b->head;
}

static void
drop_all(struct outbuf *b)
{
	dropped += pending(b);
	b->head = b->len = 0;
}

/* One write of whole lines when they fit in max_write: > 0 bytes written, or -errno. */
static ssize_t
write_some(struct outbuf *b)
{
	const char *p = b->data + b->head;
	size_t n = MIN(pending(b), b->max_write);
	struct iovec iov;
	ssize_t k;

	if (n < pending(b)) {
		const char *nl = memrchr(p, '\n', n);

		if (nl)
			n = (size_t) (nl - p) + 1;
	}
	iov = (struct iovec) { .iov_base = (void *) p, .iov_len = n };
	switch (b->how) {
	case HOW_SEND:
		k = send(b->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		break;
	case HOW_NOWAIT:
		k = pwritev2(b->fd, &iov, 1, -1, RWF_NOWAIT);
		if (k < 0 && errno == EOPNOTSUPP) {
			/* An older kernel without RWF_NOWAIT for this file: blocking writes are all
			 * that is left (graced(8), LIMITATIONS). */
			b->how = HOW_WRITE;
			k = write(b->fd, p, n);
		}
		break;
	default:
		k = write(b->fd, p, n);
		break;
	}
	if (k < 0)
		return -errno;
	return k == 0 ? -EAGAIN : k;
}

/* Writes what the descriptor takes now; true when nothing is left waiting. */
static bool
flush(struct outbuf *b)
{
	while (pending(b) > 0) {
		ssize_t k = write_some(b);

		if (k == -EINTR)
			continue;
		if (k == -EAGAIN)
			break;
		if (k < 0) {
			b->broken = true;
			drop_all(b);
			break;
		}
		b->head += (size_t) k;
	}
	if (pending(b) == 0)
		b->head = b->len = 0;
	if (pending(b) <= OUTBUF_CAPACITY / 2)
		task_event_set(&b->room);
	if (b->writable && loop_running) {
		if (pending(b) > 0)
			(void) event_add(b->writable, NULL);
		else
			(void) event_del(b->writable);
	}
	return pending(b) == 0;
}

static void
writable_cb(evutil_socket_t fd, short what, void *arg)
{
	(void) flush(arg);
}

/* How to write fd without blocking and without touching its shared flags. */
static void
open_stream(struct outbuf *b, int fd, const struct stat *st)
{
	char path[32];
	int private;

	b->fd = fd;
	b->how = HOW_WRITE;
	b->max_write = PIPE_BUF;
	if (S_ISREG(st->st_mode) || S_ISBLK(st->st_mode)) {
		b->max_write = SIZE_MAX;
		return;
	}
	if (S_ISSOCK(st->st_mode))
		b->how = HOW_SEND;
	else {
		/* A new open file description of the same pipe or terminal: O_NONBLOCK there is ours
		 * alone, while workers that inherit fd keep their blocking writes. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		private = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (private >= 0)
			b->fd = private;
		else
			b->how = HOW_NOWAIT;
	}
}

int
outbuf_setup(struct event_base *base)
{
	struct outbuf *b = streams;
	struct stat st[3];

	for (int fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++)
		if (fstat(fd, &st[fd]) < 0)
			return -errno;
	outbuf_free();
	for (int fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++, b++) {
		if (fd == STDERR_FILENO && st[1].st_dev == st[2].st_dev && st[1].st_ino == st[2].st_ino)
			break;
		task_event_init(&b->room, "room in graced's output");
		task_event_set(&b->room);
		if (!(b->data = malloc(OUTBUF_CAPACITY)))
			return -ENOMEM;
		open_stream(b, fd, &st[fd]);
		/* Regular files are always writable (and epoll refuses them). */
		if (b->max_write != SIZE_MAX &&
		    !(b->writable = event_new(base, b->fd, EV_WRITE | EV_PERSIST, writable_cb, b)))
			return -ENOMEM;
	}
	/* Only now, whole: until then every line is written the old way. */
	by_fd[STDOUT_FILENO] = &streams[0];
	by_fd[STDERR_FILENO] = streams[1].data ? &streams[1] : &streams[0];
	loop_running = true;
	no_waiting = false;
	return 0;
}

/* Before outbuf_setup(): a plain blocking write, as stdio would do it. */
static void
write_blocking(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t k = writev(fd, iov, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		for (; n > 0 && (size_t) k >= iov->iov_len; iov++, n--)
			k -= (ssize_t) iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *) iov->iov_base + k;
			iov->iov_len -= (size_t) k;
		}
	}
}

int
outbuf_write(int fd, const struct iovec *iov, int n, bool may_wait)
{
	struct outbuf *b = fd == STDOUT_FILENO || fd == STDERR_FILENO ? by_fd[fd] : NULL;
	size_t total = 0, limit;
	bool was_empty;

	if (!b) {
		struct iovec copy[8];

		if (n > (int) ELEMENTSOF(copy))
			return -E2BIG;
		memcpy(copy, iov, sizeof(*iov) * (size_t) n);
		write_blocking(fd, copy, n);
		return 0;
	}
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	may_wait = may_wait && !no_waiting && !b->broken;
	limit = OUTBUF_CAPACITY - (may_wait ? OUTBUF_LOG_RESERVE : 0);
	if (pending(b) + total > limit)
		(void) flush(b);
	if (b->broken || pending(b) + total > limit) {
		if (may_wait)
			return -ENOBUFS;
		dropped += total;
		return 0;
	}
	if (b->len + total > OUTBUF_CAPACITY) {
		memmove(b->data, b->data + b->head, pending(b));
		b->len -= b->head;
		b->head = 0;
	}
	was_empty = pending(b) == 0;
	for (int i = 0; i < n; i++) {
		memcpy(b->data + b->len, iov[i].iov_base, iov[i].iov_len);
		b->len += iov[i].iov_len;
	}
	/* With lines already waiting, the loop writes when the descriptor can take more. */
	if (was_empty || !loop_running)
		(void) flush(b);
	return 0;
}

int
outbuf_wait_room(int fd, usec_t deadline)
{
	struct outbuf *b = fd == STDOUT_FILENO || fd == STDERR_FILENO ? by_fd[fd] : NULL;
	int r;

	while (b && !no_waiting && !b->broken && pending(b) > OUTBUF_CAPACITY / 2) {
		task_event_reset(&b->room);
		if ((r = task_event_wait(&b->room, deadline)) < 0)
			return r;
	}
	return 0;
}

void
outbuf_stop_waiting(void)
{
	no_waiting = true;
	for (size_t i = 0; i < ELEMENTSOF(streams); i++)
		if (streams[i].data)
			task_event_set(&streams[i].room);
}

static bool
is_distinct(size_t i)
{
	return streams[i].data && (i == 0 || by_fd[STDERR_FILENO] == &streams[i]);
}

void
outbuf_drain(usec_t deadline)
{
	for (size_t i = 0; i < ELEMENTSOF(streams); i++) {
		struct outbuf *b = &streams[i];

		if (!is_distinct(i))
			continue;
		while (!flush(b) && b->writable) {
			task_event_reset(&b->room);
			if (task_event_wait(&b->room, deadline) < 0)
				break;
		}
		drop_all(b);
	}
}

uint64_t
outbuf_dropped(void)
{
	return dropped;
}

void
outbuf_free(void)
{
	by_fd[STDOUT_FILENO] = by_fd[STDERR_FILENO] = NULL;
	loop_running = no_waiting = false;
	for (size_t i = 0; i < ELEMENTSOF(streams); i++) {
		struct outbuf *b = &streams[i];

		if (b->writable)
			event_free(b->writable);
		if (b->fd > STDERR_FILENO)
			(void) close(b->fd);
		free(b->data);
		*b = (struct outbuf) { .fd = -1 };
	}
}

void
outbuf_finish(usec_t deadline)
{
	loop_running = false;
	no_waiting = true;
	for (size_t i = 0; i < ELEMENTSOF(streams); i++) {
		struct outbuf *b = &streams[i];

		if (!is_distinct(i))
			continue;
		while (!flush(b)) {
			usec_t now = now_usec();
			struct pollfd pfd = { .fd = b->fd, .events = POLLOUT };

			if (now >= deadline ||
			    poll(&pfd, 1, (int) MIN((deadline - now + 999) / USEC_PER_MSEC, 1000)) < 0)
				break;
		}
		drop_all(b);
		if (b->writable) {
			event_free(b->writable);
			b->writable = NULL;
		}
	}
}
