/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "log.h"
#include "output.h"
#include "task.h"
#include "util.h"

#define PUMP_BUFFER (16 * 1024)

struct pump {
	int fd;
	int out_fd;
	size_t len;
	char prefix[88]; /* "web.0| " */
	size_t prefix_len;
	char buf[PUMP_BUFFER]; /* on the heap, never on the task's stack */
};

static void
write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t k = writev(fd, iov, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return; /* graced's own output is gone; nothing better to do with the line */
		}
		while (n > 0 && (size_t) k >= iov->iov_len) {
			k -= (ssize_t) iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *) iov->iov_base + k;
			iov->iov_len -= (size_t) k;
		}
	}
}

static void
emit(struct pump *p, const char *line, size_t len)
{
	struct iovec iov[3] = {
		{ .iov_base = p->prefix, .iov_len = p->prefix_len },
		{ .iov_base = (void *) line, .iov_len = len },
		{ .iov_base = (void *) "\n", .iov_len = 1 },
	};

	write_all(p->out_fd, iov, 3);
}

/* Prints every complete line; a full buffer without a newline is printed as one line. */
static void
emit_lines(struct pump *p, bool flush)
{
	size_t start = 0;

	for (size_t i = 0; i < p->len; i++)
		if (p->buf[i] == '\n') {
			emit(p, p->buf + start, i - start);
			start = i + 1;
		}
	if ((flush || (start == 0 && p->len == sizeof(p->buf))) && start < p->len) {
		emit(p, p->buf + start, p->len - start);
		start = p->len;
	}
	memmove(p->buf, p->buf + start, p->len - start);
	p->len -= start;
}

/* Reads what is there: > 0 bytes read, 0 at EOF, -EAGAIN when empty, or -errno. */
static ssize_t
fill(struct pump *p)
{
	ssize_t n;

	do
		n = read(p->fd, p->buf + p->len, sizeof(p->buf) - p->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	p->len += (size_t) n;
	return n;
}

static int
pump_task(void *arg)
{
	struct pump *p = arg; /* handed over: the task frees it */
	int r = 0;

	for (;;) {
		ssize_t n = fill(p);

		if (n > 0) {
			emit_lines(p, false);
			continue;
		}
		if (n == 0)
			break;
		if (n != -EAGAIN) {
			r = (int) n;
			break;
		}
		r = task_wait_fd(p->fd, TASK_FD_READ, USEC_INFINITY);
		if (r == -ECANCELED) {
			/* Cut off: keep what already arrived, without waiting for more. */
			while (fill(p) > 0)
				emit_lines(p, false);
			break;
		}
		if (r < 0)
			break;
		r = 0;
	}
	emit_lines(p, true);
	safe_close(p->fd);
	free(p);
	return r == -ECANCELED ? 0 : r;
}

int
output_pump_start(struct task_group *group, const char *prefix, int fd, int out_fd)
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
	p->len = 0;
	snprintf(p->prefix, sizeof(p->prefix), "%s| ", prefix);
	p->prefix_len = strlen(p->prefix);
	snprintf(name, sizeof(name), "%s:%s", prefix, out_fd == STDERR_FILENO ? "stderr" : "stdout");
	if ((r = task_spawn(group, name, pump_task, p, NULL)) < 0) {
		safe_close(fd);
		free(p);
	}
	return r;
}

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
