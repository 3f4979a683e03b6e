/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "task.h"
#include "util.h"

/* How long closing a listener waits for its cancelled tasks (they unwind at once). */
#define LISTENER_CLOSE_TIMEOUT (1 * USEC_PER_SEC)

struct listener_conn {
	struct listener *listener;
	struct task *task;     /* set once the task runs */
	int fd;
	usec_t deadline;       /* accept + request_timeout */
	bool answering;
	bool evicted;          /* cancelled to make room; still counted until its task ends */
	TAILQ_ENTRY(listener_conn) link;
};

struct listener {
	struct task_group *group;
	int fd;
	char *label;
	unsigned max;
	usec_t timeout;
	listener_serve_fn serve;
	void *userdata;
	TAILQ_HEAD(, listener_conn) conns; /* oldest first */
	unsigned n;
	struct task_event slot;            /* set when a connection ends */
	unsigned pauses;                   /* accept pauses in the current episode */
	bool warned;                       /* the episode's warning was logged */
	usec_t warned_at;
};

/* Takes the oldest connection that is not answering, else the oldest of all, out of the way:
 * its task is cancelled and closes it. Not logged (an attack would make thousands a second).
 * Returns false when every connection is on its way out already. */
static bool
evict_one(struct listener *l)
{
	struct listener_conn *c, *victim = NULL;

	TAILQ_FOREACH(c, &l->conns, link) {
		if (c->evicted)
			continue;
		if (!c->answering) {
			victim = c;
			break;
		}
		if (!victim)
			victim = c;
	}
	if (!victim)
		return false;
	victim->evicted = true;
	if (victim->task)
		task_cancel_because(victim->task, "evicted: too many clients");
	return true;
}

/* Serves one client (arg: its struct listener_conn, handed over: freed here). */
static int
conn_task(void *arg)
{
	struct listener_conn *c = arg;
	struct listener *l = c->listener;

	c->task = task_current();
	/* A client's failure is not the listener's, and not logged: under attack there would be
	 * thousands per second. */
	if (!c->evicted && !task_is_cancelled())
		(void) l->serve(c, c->fd, c->deadline, l->userdata);
	TAILQ_REMOVE(&l->conns, c, link);
	l->n--;
	safe_close(c->fd);
	free(c);
	task_event_set(&l->slot);
	return 0;
}

/* accept() found no descriptor or memory (or failed unexpectedly): the clients wait in the
 * kernel's queue while the loop does other things. One warning per episode, at most one per
 * interval. */
static int
pause_accepting(struct listener *l, int error)
{
	usec_t now = now_usec();

	l->pauses++;
	if (!l->warned && (l->warned_at == 0 || now - l->warned_at >= LISTENER_WARN_INTERVAL)) {
		log_warning_errno(error, "%s: cannot accept a client, pausing accepting for %llu ms "
					 "at a time until it can", l->label,
		    (unsigned long long) (LISTENER_PAUSE / USEC_PER_MSEC));
		l->warned = true;
		l->warned_at = now;
	}
	return task_sleep_until(usec_add(now, LISTENER_PAUSE));
}

static int
spawn_conn(struct listener *l, int fd)
{
	struct listener_conn *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		safe_close(fd);
		return -ENOMEM;
	}
	*c = (struct listener_conn) {
		.listener = l,
		.fd = fd,
		.deadline = usec_add(now_usec(), l->timeout),
	};
	TAILQ_INSERT_TAIL(&l->conns, c, link);
	l->n++;
	if ((r = task_spawn(l->group, l->label, conn_task, c, NULL)) < 0) {
		TAILQ_REMOVE(&l->conns, c, link);
		l->n--;
		safe_close(c->fd);
		free(c);
		return r;
	}
	return 0;
}

/* Accepts clients until cancelled (arg: the listener, which outlives its group). */
static int
accept_task(void *arg)
{
	struct listener *l = arg;
	int fd, r;

	for (;;) {
		if ((r = task_wait_fd(l->fd, TASK_FD_READ, USEC_INFINITY)) < 0)
			return r;
		/* A client waits: make room for it first, so it is never stuck behind slow ones. */
		while (l->n >= l->max) {
			task_event_reset(&l->slot);
			(void) evict_one(l);
			r = task_event_wait(&l->slot, usec_add(now_usec(), l->timeout));
			if (r == -ECANCELED)
				return r;
		}
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			switch (errno) {
			case EAGAIN:
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
			case EPERM:
				/* The client went away or was refused: nothing to do. */
				continue;
			default:
				if ((r = pause_accepting(l, errno)) == -ECANCELED)
					return r;
				continue;
			}
		}
		if (l->pauses > 0) {
			log_debug("%s: accepting again after %u pause%s", l->label, l->pauses,
			    l->pauses == 1 ? "" : "s");
			l->pauses = 0;
			l->warned = false;
		}
		if ((r = spawn_conn(l, fd)) < 0 && (r = pause_accepting(l, -r)) == -ECANCELED)
			return r;
	}
}

int
listener_new(struct task_runtime *rt, int fd, const char *label, unsigned max_connections,
    usec_t request_timeout, listener_serve_fn serve, void *userdata, struct listener **ret)
{
	struct listener *l;
	int r;

	assert(max_connections > 0 && request_timeout != USEC_INFINITY);
	if (!(l = calloc(1, sizeof(*l)))) {
		safe_close(fd);
		return -ENOMEM;
	}
	*l = (struct listener) {
		.fd = fd,
		.max = max_connections,
		.timeout = request_timeout,
		.serve = serve,
		.userdata = userdata,
	};
	TAILQ_INIT(&l->conns);
	task_event_init(&l->slot, "a free connection slot");
	if (!(l->label = strdup(label))) {
		listener_free(l);
		return -ENOMEM;
	}
	if ((r = fd_nonblock(fd, true)) < 0 ||
	    (r = task_group_new(rt, NULL, label, &l->group)) < 0 ||
	    (r = task_spawn(l->group, label, accept_task, l, NULL)) < 0) {
		listener_free(l);
		return r;
	}
	*ret = l;
	return 0;
}

struct listener *
listener_free(struct listener *l)
{
	int r;

	if (!l)
		return NULL;
	if (l->group) {
		if ((r = task_group_close(l->group, usec_add(now_usec(), LISTENER_CLOSE_TIMEOUT))) < 0) {
			/* Its tasks still reference it: keep it (they are reported as pending). */
			log_error_errno(r, "%s: connections did not end, continuing", l->label);
			return NULL;
		}
		/* Closed, now let go of it. */
		(void) task_group_free(l->group);
		l->group = NULL;
	}
	safe_close(l->fd);
	free(l->label);
	free(l);
	return NULL;
}

int
listener_fd(const struct listener *l)
{
	return l ? l->fd : -1;
}

unsigned
listener_count(const struct listener *l)
{
	return l ? l->n : 0;
}

void
listener_conn_set_answering(struct listener_conn *conn, bool answering)
{
	conn->answering = answering;
}

static unsigned
count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	/* The directory's own descriptor. */
	closedir(d);
	return n > 0 ? n - 1 : 0;
}

unsigned
listener_fd_budget(unsigned reserve)
{
	struct rlimit rl;
	unsigned long long limit, used = count_open_fds();

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return UINT32_MAX;
	limit = rl.rlim_cur;
	if (limit <= used + reserve)
		return 0;
	return (unsigned) MIN(limit - used - reserve, (unsigned long long) UINT32_MAX);
}

int
listener_write_all(int fd, struct iovec *iov, int n_iov, usec_t deadline)
{
	while (n_iov > 0) {
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t) n_iov };
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			if ((r = task_wait_fd(fd, TASK_FD_WRITE, deadline)) < 0)
				return r;
			continue;
		}
		while (n_iov > 0 && (size_t) n >= iov->iov_len) {
			n -= (ssize_t) iov->iov_len;
			iov++;
			n_iov--;
		}
		if (n_iov > 0) {
			iov->iov_base = (char *) iov->iov_base + n;
			iov->iov_len -= (size_t) n;
		}
	}
	return 0;
}
