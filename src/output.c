/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#if HAVE_LIBSYSTEMD
#include <systemd/sd-journal.h>
#endif

#include "log.h"
#include "logfile.h"
#include "outbuf.h"
#include "output.h"
#include "task.h"
#include "util.h"

#define PUMP_BUFFER (16 * 1024)

struct pump {
	int fd;
	int out_fd;
	struct logfile *file; /* output = file: its lines go there, unprefixed (logfile.c) */
	size_t len;
	char prefix[88]; /* "web.0| " */
	size_t prefix_len;
	char buf[PUMP_BUFFER]; /* on the heap, never on the task's stack */
};

/* -ENOBUFS while graced's output has no room and the pump may wait for it (outbuf.h). */
static int
emit(struct pump *p, const char *line, size_t len, bool may_wait)
{
	struct iovec iov[3] = {
		{ .iov_base = p->prefix, .iov_len = p->prefix_len },
		{ .iov_base = (void *) line, .iov_len = len },
		{ .iov_base = (void *) "\n", .iov_len = 1 },
	};

	return outbuf_write(p->out_fd, iov, 3, may_wait);
}

/*
 * Emits every complete line; a full buffer without a newline is emitted as one line, and so is
 * the rest when flushing. Stops at the first line graced's output has no room for (-ENOBUFS):
 * the lines from there on stay in the buffer.
 */
static int
emit_lines(struct pump *p, bool flush, bool may_wait)
{
	size_t start = 0;
	int r = 0;

	if (p->file) {
		start = logfile_put(p->file, p->buf, p->len, flush || (p->len == sizeof(p->buf) &&
		    !memchr(p->buf, '\n', p->len)));
		memmove(p->buf, p->buf + start, p->len - start);
		p->len -= start;
		return 0;
	}
	for (size_t i = 0; i < p->len && r == 0; i++)
		if (p->buf[i] == '\n' && (r = emit(p, p->buf + start, i - start, may_wait)) == 0)
			start = i + 1;
	if (r == 0 && (flush || (start == 0 && p->len == sizeof(p->buf))) && start < p->len &&
	    (r = emit(p, p->buf + start, p->len - start, may_wait)) == 0)
		start = p->len;
	memmove(p->buf, p->buf + start, p->len - start);
	p->len -= start;
	return r;
}

/*
 * Emits the buffer's lines, waiting for room while graced's output has none: back-pressure, the
 * worker's pipe is not read meanwhile and the worker waits on it, nothing is lost. Once
 * cancelled, or once the shutdown began, nothing waits: what does not fit is dropped and counted.
 */
static int
put_lines(struct pump *p, bool flush)
{
	int r = 0;

	while (emit_lines(p, flush, r == 0) == -ENOBUFS)
		r = outbuf_wait_room(p->out_fd, USEC_INFINITY);
	return r;
}

/* Reads at most max bytes of what is there: > 0 bytes read, 0 at EOF, -EAGAIN when empty, or
 * -errno. */
static ssize_t
fill(struct pump *p, size_t max)
{
	ssize_t n;

	do
		n = read(p->fd, p->buf + p->len, MIN(sizeof(p->buf) - p->len, max));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	p->len += (size_t) n;
	return n;
}

/* Cut off: takes what had already arrived in the pipe and no more (a descendant may still be
 * writing to it), without waiting. */
static void
take_arrived(struct pump *p)
{
	int avail = 0;
	ssize_t n;

	if (ioctl(p->fd, FIONREAD, &avail) < 0)
		return;
	while (avail > 0) {
		(void) emit_lines(p, false, false);
		if ((n = fill(p, (size_t) avail)) <= 0)
			break;
		avail -= (int) n;
	}
}

static int
pump_task(void *arg)
{
	struct pump *p = arg; /* handed over: the task frees it */
	int r;

	for (;;) {
		ssize_t n;

		if ((r = put_lines(p, false)) < 0)
			break;
		/* A worker that writes as fast as the pump reads must not keep the loop to itself. */
		if ((n = fill(p, SIZE_MAX)) > 0) {
			if ((r = task_yield()) < 0)
				break;
			continue;
		}
		if (n == 0)
			break;
		if (n != -EAGAIN) {
			r = (int) n;
			break;
		}
		if ((r = task_wait_fd(p->fd, TASK_FD_READ, USEC_INFINITY)) < 0)
			break;
	}
	if (r == -ECANCELED)
		take_arrived(p);
	(void) put_lines(p, true);
	safe_close(p->fd);
	logfile_unref(p->file);
	free(p);
	return r == -ECANCELED ? 0 : r;
}

static int
pump_start(struct task_group *group, const char *prefix, int fd, int out_fd,
    struct logfile *file, bool is_stderr)
{
	struct pump *p = malloc(sizeof(*p));
	char name[TASK_NAME_MAX];
	int r;

	if (!p) {
		safe_close(fd);
		return -ENOMEM;
	}
	p->fd = fd;
	p->out_fd = out_fd;
	p->file = file ? logfile_ref(file) : NULL;
	p->len = 0;
	snprintf(p->prefix, sizeof(p->prefix), "%s| ", prefix);
	p->prefix_len = strlen(p->prefix);
	snprintf(name, sizeof(name), "%s:%s", prefix, is_stderr ? "stderr" : "stdout");
	if ((r = task_spawn(group, name, pump_task, p, NULL)) < 0) {
		safe_close(fd);
		logfile_unref(p->file);
		free(p);
	}
	return r;
}

int
output_pump_start(struct task_group *group, const char *prefix, int fd, int out_fd)
{
	return pump_start(group, prefix, fd, out_fd, NULL, out_fd == STDERR_FILENO);
}

int
output_pump_start_file(struct task_group *group, const char *name, int fd, struct logfile *file,
    bool is_stderr)
{
	return pump_start(group, name, fd, -1, file, is_stderr);
}

#if HAVE_LIBSYSTEMD
void
output_journal_streams(const char *name, int *ret_out, int *ret_err)
{
	int out = sd_journal_stream_fd(name, LOG_INFO, 0), err;

	if (out < 0) {
		log_warning_errno(out, "Worker '%s': cannot reach the journal for output = journal, "
				       "inheriting graced's output instead",
		    name);
		*ret_out = *ret_err = -1;
		return;
	}
	err = sd_journal_stream_fd(name, LOG_WARNING, 0);
	if (err < 0) {
		log_warning_errno(err, "Worker '%s': cannot reach the journal for stderr, sending it "
				       "with stdout",
		    name);
		err = fcntl(out, F_DUPFD_CLOEXEC, 3);
	}
	*ret_out = out;
	*ret_err = err;
}
#else
void
output_journal_streams(const char *name, int *ret_out, int *ret_err)
{
	/* journald's stdout stream protocol is not a documented interface: only libsystemd speaks it. */
	log_warning("Worker '%s': cannot reach the journal for output = journal, inheriting "
		    "graced's output instead (the static build has no journal streams)",
	    name);
	*ret_out = *ret_err = -1;
}
#endif
