/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "log-ratelimit.h"
#include "log.h"
#include "notify.h"
#include "parse.h"
#include "policy.h"
#include "shutdown.h"
#include "task.h"
#include "util.h"
#include "worker-internal.h"

/*
 * Layer: the worker objects (an instance's NOTIFY_SOCKET is part of the instance: worker-
 * internal.h).
 *
 * graced as a service manager for its own workers: each instance of a worker with ready = notify
 * or a watchdog gets an abstract datagram socket of its own (autobound by the kernel, so names
 * never collide and nothing is left on disk), announced as NOTIFY_SOCKET=@NAME. SO_PASSCRED makes
 * the kernel attach the sender's pid to every datagram. A message counts when it comes from the
 * instance's process, from a pid it announced with MAINPID=, or from any process in its process
 * group (every worker is a group leader), so `systemd-notify --ready` run by a worker's shell
 * script is accepted. Anything else is logged and dropped.
 */

/* Descriptors a message may carry before the kernel drops the rest (closed either way). */
#define NOTIFY_FDS_MAX 16
/* Datagrams read in one go before yielding to the loop. */
#define NOTIFY_BATCH 32
/* At most this many warnings about bad notifications per worker instance and interval: a
 * worker (or a stranger) sending garbage in a loop must not flood the log. */
struct notify_worker {
	struct instance *in;
	int fd;
	char environment[64];        /* "NOTIFY_SOCKET=@xxxxx" */
	struct task *reader;
	struct event *watchdog;      /* fires when the worker missed its WATCHDOG=1 */
	pid_t main_pid;              /* MAINPID= of the current process, 0 when none */
	bool has_status;
	struct log_ratelimit warnings; /* about its bad notifications */
	char status[NOTIFY_STATUS_MAX];
	char buf[NOTIFY_MESSAGE_MAX];
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * NOTIFY_FDS_MAX)];
	} control;
};

#define NOTIFY_FIELDS(in, ev) LOG_FIELDS({ "worker", (in)->name }, { "event", (ev) })

bool
notify_worker_wanted(const struct instance *in)
{
	const struct worker_config *c = in->worker->config;

	return c->ready.kind == READY_NOTIFY || c->watchdog != USEC_INFINITY;
}

const char *
notify_worker_environment(const struct instance *in)
{
	return in->notify ? in->notify->environment : NULL;
}

const char *
notify_worker_status(const struct instance *in)
{
	return in->notify && in->notify->has_status ? in->notify->status : NULL;
}

static void
arm_watchdog(struct notify_worker *nw)
{
	usec_t usec = nw->in->worker->config->watchdog;
	struct timeval tv = {
		.tv_sec = (time_t) (usec / USEC_PER_SEC),
		.tv_usec = (suseconds_t) (usec % USEC_PER_SEC),
	};

	if (nw->watchdog && usec != USEC_INFINITY && !nw->in->worker->set->ctx->shutdown->stopping)
		(void) event_add(nw->watchdog, &tv);
}

void
notify_worker_disarm(struct instance *in)
{
	if (in->notify && in->notify->watchdog)
		(void) event_del(in->notify->watchdog);
}

/* The watchdog ran out: the worker is hung. Kill it; its restart policy decides what follows. */
static void
watchdog_fired(struct instance *in, const char *why)
{
	const struct worker_config *c = in->worker->config;
	int sig = policy_give_up_signal(c);
	char pid[16];

	if (!in->running || in->worker->set->ctx->shutdown->stopping)
		return;
	snprintf(pid, sizeof(pid), "%ld", (long) in->pid);
	log_fields(LOG_WARNING, 0,
	    LOG_FIELDS({ "worker", in->name }, { "event", "watchdog" }, { "pid", pid }),
	    "Worker '%s' (pid %s) %s, killing it with %s", in->name, pid, why,
	    signal_to_string(sig));
	(void) instance_signal(in, sig, c->shutdown.kill_mode == KILL_MODE_GROUP, PHASE_INTAKE);
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *userdata)
{
	struct instance *in = userdata;
	char d[DURATION_MAX], why[64];

	snprintf(why, sizeof(why), "sent no WATCHDOG=1 within %s",
	    format_duration(d, sizeof(d), in->worker->config->watchdog));
	watchdog_fired(in, why);
}

void
notify_worker_started(struct instance *in)
{
	struct notify_worker *nw = in->notify;

	in->notified_ready = false;
	in->extended = 0;
	if (!nw)
		return;
	nw->main_pid = 0;
	nw->has_status = false;
	/* As with systemd's WatchdogSec=, the watchdog runs once the start-up is complete: at once
	 * without ready = notify, else from READY=1 (or from a first WATCHDOG=1). start_timeout
	 * covers the time before. */
	if (in->worker->config->ready.kind != READY_NOTIFY)
		arm_watchdog(nw);
}

/* Whether the sender pid speaks for the instance's current process. */
static bool
sender_is_worker(const struct notify_worker *nw, pid_t pid)
{
	const struct instance *in = nw->in;
	pid_t pgid;

	if (!in->running || in->pid <= 0 || pid <= 0)
		return false;
	if (pid == in->pid || pid == nw->main_pid)
		return true;
	pgid = getpgid(pid);
	return pgid >= 0 && pgid == in->pid;
}

static void
apply(struct notify_worker *nw, const struct notify_message *m, pid_t sender)
{
	struct instance *in = nw->in;
	char d[DURATION_MAX], pid[16];

	snprintf(pid, sizeof(pid), "%ld", (long) sender);
	if (m->unknown)
		log_debug("Worker '%s' (pid %s): %u assignment%s not acted on (%.*s=...), ignoring",
		    in->name, pid, m->unknown, m->unknown == 1 ? "" : "s", (int) m->first_unknown_len,
		    m->first_unknown);
	if (m->main_pid && m->main_pid != nw->main_pid) {
		nw->main_pid = m->main_pid;
		log_info("Worker '%s' announced MAINPID=%ld; signals still go to pid %ld", in->name,
		    (long) m->main_pid, (long) in->pid);
	}
	if (m->status) {
		size_t n = MIN(m->status_len, sizeof(nw->status) - 1);

		memcpy(nw->status, m->status, n);
		nw->status[n] = '\0';
		nw->has_status = true;
		log_fields(LOG_DEBUG, 0,
		    LOG_FIELDS({ "worker", in->name }, { "event", "status" }, { "status", nw->status }),
		    "Worker '%s' status: %s", in->name, nw->status);
	}
	if (m->stopping)
		log_fields(LOG_INFO, 0, NOTIFY_FIELDS(in, "stopping"), "Worker '%s' is stopping",
		    in->name);
	if (m->extend_timeout != USEC_INFINITY) {
		in->extended = usec_add(now_usec(), m->extend_timeout);
		log_fields(LOG_INFO, 0, NOTIFY_FIELDS(in, "extend-timeout"),
		    "Worker '%s' extends its current budget to %s from now", in->name,
		    format_duration(d, sizeof(d), m->extend_timeout));
		task_event_set(&in->worker->wake);
	}
	if (m->watchdog || (m->ready && !in->notified_ready))
		arm_watchdog(nw);
	if (m->ready && !in->notified_ready) {
		in->notified_ready = true;
		log_fields(LOG_DEBUG, 0, NOTIFY_FIELDS(in, "notify-ready"), "Worker '%s' sent READY=1",
		    in->name);
	}
	task_event_set(&in->wake);
	if (m->watchdog_trigger)
		watchdog_fired(in, "sent WATCHDOG=trigger");
}

/* Bad notifications are logged at a limited rate (log-ratelimit.h). */
static bool
may_warn(struct notify_worker *nw)
{
	char who[sizeof(nw->in->name) + 16];

	snprintf(who, sizeof(who), "Worker '%s'", nw->in->name);
	return log_ratelimit(&nw->warnings, who, "bad notifications");
}

/* Reads one datagram: 0 handled (or dropped), -EAGAIN when none is left, other -errno. */
static int
receive_one(struct notify_worker *nw)
{
	struct instance *in = nw->in;
	struct iovec iov = { .iov_base = nw->buf, .iov_len = sizeof(nw->buf) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = &nw->control,
		.msg_controllen = sizeof(nw->control),
	};
	struct notify_message m;
	struct cmsghdr *cmsg;
	unsigned n_fds = 0;
	pid_t sender = 0;
	ssize_t n;
	int r;

	n = recvmsg(nw->fd, &msg, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET)
			continue;
		if (cmsg->cmsg_type == SCM_CREDENTIALS &&
		    cmsg->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(cmsg), sizeof(uc));
			sender = uc.pid;
		} else if (cmsg->cmsg_type == SCM_RIGHTS) {
			size_t k = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			/* graced keeps no descriptors for its workers (no FDSTORE=): close them, which
			 * also releases a sender waiting on BARRIER=1. */
			for (size_t i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
				safe_close(fd);
				n_fds++;
			}
		}
	}
	if (n_fds)
		log_debug("Worker '%s': closed %u descriptor%s passed with a notification", in->name,
		    n_fds, n_fds == 1 ? "" : "s");
	if (msg.msg_flags & MSG_CTRUNC)
		log_debug("Worker '%s': a notification carried more than %d descriptors, the kernel "
			  "dropped the rest", in->name, NOTIFY_FDS_MAX);
	if (msg.msg_flags & MSG_TRUNC || (size_t) n > sizeof(nw->buf)) {
		if (may_warn(nw))
			log_warning("Worker '%s': notification from pid %ld longer than %d bytes, "
				    "ignoring", in->name, (long) sender, NOTIFY_MESSAGE_MAX);
		return 0;
	}
	if (!sender_is_worker(nw, sender)) {
		if (may_warn(nw))
			log_warning("Worker '%s': notification from pid %ld, which is not the "
				    "worker's, ignoring", in->name, (long) sender);
		return 0;
	}
	if ((r = notify_message_parse(nw->buf, (size_t) n, &m)) < 0) {
		if (may_warn(nw))
			log_warning_errno(r, "Worker '%s': invalid notification from pid %ld, ignoring",
			    in->name, (long) sender);
		return 0;
	}
	apply(nw, &m, sender);
	return 0;
}

/* The reader of an instance's socket. nw is owned by the instance, which outlives the task. */
static int
reader_task(void *arg)
{
	struct notify_worker *nw = arg;

	for (;;) {
		int r = task_wait_fd(nw->fd, TASK_FD_READ, USEC_INFINITY);

		if (r < 0)
			return r;
		for (unsigned i = 0; i < NOTIFY_BATCH; i++) {
			r = receive_one(nw);
			if (r == -EAGAIN)
				break;
			if (r < 0) {
				log_warning_errno(r, "Worker '%s': failed to read a notification, continuing",
				    nw->in->name);
				break;
			}
		}
	}
}

/* An autobound abstract datagram socket that receives its senders' credentials. */
static int
open_socket(char *ret_name, size_t n)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(sa_family_t);
	int one = 1;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
		return -errno;
	/* Binding only the family makes the kernel pick a unique abstract name. */
	if (bind(fd, (struct sockaddr *) &sa, len) < 0)
		return -errno;
	len = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
		return -errno;
	if (len <= offsetof(struct sockaddr_un, sun_path) + 1 || sa.sun_path[0] != '\0')
		return -EPROTO;
	len -= (socklen_t) offsetof(struct sockaddr_un, sun_path);
	if ((size_t) len + 1 > n)
		return -ENAMETOOLONG;
	/* An abstract name starts with NUL; NOTIFY_SOCKET writes it as '@'. */
	ret_name[0] = '@';
	memcpy(ret_name + 1, sa.sun_path + 1, len - 1);
	ret_name[len] = '\0';
	return TAKE_FD(fd);
}

int
notify_worker_open(struct instance *in)
{
	struct worker_context *ctx = in->worker->set->ctx;
	struct notify_worker *nw;
	char name[32];
	int r;

	if (in->notify)
		return 0;
	if (!(nw = calloc(1, sizeof(*nw))))
		return -ENOMEM;
	nw->in = in;
	if ((nw->fd = open_socket(name, sizeof(name))) < 0) {
		r = nw->fd;
		free(nw);
		return r;
	}
	snprintf(nw->environment, sizeof(nw->environment), "NOTIFY_SOCKET=%s", name);
	if (in->worker->config->watchdog != USEC_INFINITY &&
	    !(nw->watchdog = event_new(ctx->base, -1, 0, watchdog_cb, in))) {
		safe_close(nw->fd);
		free(nw);
		return -ENOMEM;
	}
	if ((r = task_spawn(in->group, "notify", reader_task, nw, &nw->reader)) < 0) {
		if (nw->watchdog)
			event_free(nw->watchdog);
		safe_close(nw->fd);
		free(nw);
		return r;
	}
	in->notify = nw;
	log_debug("Worker '%s': NOTIFY_SOCKET=%s", in->name, name);
	return 0;
}

void
notify_worker_close(struct instance *in)
{
	struct notify_worker *nw = in->notify;

	if (!nw || !nw->reader)
		return;
	notify_worker_disarm(in);
	task_cancel_because(nw->reader, "process ended");
	/* It ends at its next switch; if this task is cancelled itself, the reader's handle goes
	 * with the instance's group instead. */
	if (task_join(nw->reader, USEC_INFINITY, NULL) == 0)
		nw->reader = NULL;
}

void
notify_worker_free(struct instance *in)
{
	struct notify_worker *nw = in->notify;

	if (!nw)
		return;
	if (nw->watchdog)
		event_free(nw->watchdog);
	safe_close(nw->fd);
	free(nw);
	in->notify = NULL;
}
