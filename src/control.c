/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "control-protocol.h"
#include "control.h"
#include "http.h"
#include "listener.h"
#include "log-ratelimit.h"
#include "log.h"
#include "logfile.h"
#include "parse.h"
#include "reload.h"
#include "status-json.h"
#include "supervisor-view.h"
#include "task.h"
#include "userdb.h"
#include "util.h"

/*
 * The control socket's server. Each connection runs serve() in its own task (listener.c) and may
 * send several requests, one per line, within its deadline. A peer is checked once, at its
 * first byte's turn: its uid (SO_PEERCRED) must be graced's or root's, or the peer must be in
 * control_group (its primary group, or SO_PEERGROUPS).
 *
 * `shutdown --wait` turns its connection into a watcher: it stays open past the request deadline
 * (the shutdown is bounded by its own plan, and control_close() ends every watcher), gets a line
 * for each step and one with the exit status. Each of those writes has its own deadline, so a
 * client that stops reading loses its connection, never holds up a step.
 */

/* A `shutdown --wait` connection, waiting for news. */
struct watcher {
	struct task_event news;
	LIST_ENTRY(watcher) link;
};

struct control {
	struct supervisor *sv;
	struct listener *listener;
	char *path;
	dev_t dev;                   /* the socket file graced made: removed only if still it */
	ino_t ino;
	bool has_group;
	gid_t group;                 /* control_group */
	LIST_HEAD(, watcher) watchers;
	unsigned n_watchers;
	struct task_event watchers_gone;
	bool closing;
	int exit_status;
	struct log_ratelimit refused;
};

/* A connection's buffered input: what was read beyond the current line stays for the next. */
struct conn {
	struct control *ctl;
	int fd;
	usec_t deadline;
	char buf[CONTROL_LINE_MAX + 1];
	size_t len;
};

/* Sends o (taken over) as one line. */
static int
send_json(int fd, json_t *o, usec_t deadline)
{
	char *s;
	int r;

	if (!o)
		return -ENOMEM;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	r = listener_write_all(fd,
	    (struct iovec[]) { { .iov_base = s, .iov_len = strlen(s) },
		{ .iov_base = (char *) "\n", .iov_len = 1 } },
	    2, deadline);
	free(s);
	return r;
}

static int
send_error(int fd, usec_t deadline, const char *fmt, ...) _printf_(3, 4);

static int
send_error(int fd, usec_t deadline, const char *fmt, ...)
{
	char message[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return send_json(fd, json_pack("{s:b, s:s}", "ok", 0, "error", message), deadline);
}

/* Reads the next line into c->buf (NUL-terminated, without its newline): its length; -ENODATA
 * at the end of the input; -EMSGSIZE for a line longer than CONTROL_LINE_MAX. A last line
 * without a newline counts. Consumed lines are shifted out at the next call. */
static ssize_t
read_line(struct conn *c, size_t *consumed)
{
	char *nl;
	ssize_t n;
	int r;

	if (*consumed > 0) {
		memmove(c->buf, c->buf + *consumed, c->len - *consumed);
		c->len -= *consumed;
		*consumed = 0;
	}
	for (;;) {
		if ((nl = memchr(c->buf, '\n', c->len))) {
			*nl = '\0';
			*consumed = (size_t) (nl - c->buf) + 1;
			return nl - c->buf;
		}
		if (c->len > CONTROL_LINE_MAX)
			return -EMSGSIZE;
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			if ((r = task_wait_fd(c->fd, TASK_FD_READ, c->deadline)) < 0)
				return r;
			continue;
		}
		if (n == 0) {
			if (c->len == 0)
				return -ENODATA;
			/* The last line, without a newline. */
			if (c->len >= sizeof(c->buf))
				return -EMSGSIZE;
			c->buf[c->len] = '\0';
			*consumed = c->len;
			return (ssize_t) c->len;
		}
		c->len += (size_t) n;
	}
}

/* One instance, as /status shows it too (status-json.h). */
static void
add_instance(const struct instance_view *v, void *userdata)
{
	json_t *list = userdata, *o = status_json_instance(v, now_usec());

	if (o)
		json_array_append_new(list, o);
}

static json_t *
state_json(struct control *ctl)
{
	struct supervisor_state st;
	json_t *o, *sup;
	int r;

	status_state(supervisor_view_status(ctl->sv), &st);
	if (!(sup = status_json_supervisor(&st, now_usec())))
		return NULL;
	/* "ok" first, then what /status shows too, then graced's pid. */
	o = json_pack("{s:b}", "ok", 1);
	r = o ? json_object_update(o, sup) : -1;
	json_decref(sup);
	if (r < 0 || json_object_set_new(o, "pid", json_integer((json_int_t) getpid())) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
answer_status(struct control *ctl, int fd, usec_t deadline, const struct control_request *req)
{
	json_t *o, *list;

	for (size_t i = 0; i < req->n_workers; i++)
		if (!status_has_worker(supervisor_view_status(ctl->sv), req->workers[i]))
			return send_error(fd, deadline, "no worker '%s'", req->workers[i]);
	if (!(o = state_json(ctl)) || !(list = json_array())) {
		json_decref(o);
		return send_error(fd, deadline, "out of memory");
	}
	if (req->n_workers == 0)
		status_instances(supervisor_view_status(ctl->sv), NULL, add_instance, list);
	for (size_t i = 0; i < req->n_workers; i++)
		status_instances(supervisor_view_status(ctl->sv), req->workers[i], add_instance, list);
	json_object_set_new(o, "instances", list);
	return send_json(fd, o, deadline);
}

/* The workers' log files (output = file:, stderr = file:) are opened again by path, as after
 * logrotate moved them away. One that cannot be opened keeps its old file and fails the request. */
static int
answer_reopen_logs(int fd, usec_t deadline)
{
	int r;

	if ((r = logfile_reopen_all()) < 0)
		return send_error(fd, deadline, "cannot reopen every log file: %s", strerror(-r));
	return send_json(fd, json_pack("{s:b}", "ok", 1), deadline);
}

static int
answer_dump(struct control *ctl, int fd, usec_t deadline)
{
	_cleanup_free_ struct task_info *tasks = NULL;
	usec_t now = now_usec();
	json_t *o, *list;
	size_t n;
	int r;

	if ((r = task_runtime_list(supervisor_view_runtime(ctl->sv), &tasks, &n)) < 0)
		return send_error(fd, deadline, "cannot list the tasks: %s", strerror(-r));
	if (!(list = json_array()))
		return send_error(fd, deadline, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct task_info *t = &tasks[i];
		json_t *row = json_pack("{s:I, s:s, s:s, s:s, s:b, s:I}", "id", (json_int_t) t->id,
		    "name", t->name, "group", t->group, "state", task_state_to_string(t->state),
		    "cancelled", t->cancelled, "for_ms",
		    (json_int_t) (now > t->since ? (now - t->since) / USEC_PER_MSEC : 0));

		if (!row)
			continue;
		if (t->awaits[0])
			json_object_set_new(row, "awaits", json_string(t->awaits));
		if (t->child > 0)
			json_object_set_new(row, "child", json_integer(t->child));
		if (t->cancelled && t->reason[0])
			json_object_set_new(row, "reason", json_string(t->reason));
		json_array_append_new(list, row);
	}
	if (!(o = json_pack("{s:b, s:o}", "ok", 1, "tasks", list)))
		return send_error(fd, deadline, "out of memory");
	return send_json(fd, o, deadline);
}

static int
answer_signal(struct control *ctl, int fd, usec_t deadline, const struct control_request *req)
{
	const char *name = req->workers[0];
	int n = supervisor_view_signal(ctl->sv, name, req->signal);

	if (n == -ENOENT)
		return send_error(fd, deadline, "no worker '%s'", name);
	if (n < 0)
		return send_error(fd, deadline, "failed to send %s to worker '%s': %s",
		    signal_to_string(req->signal), name, strerror(-n));
	if (n == 0)
		return send_error(fd, deadline, "worker '%s' has no running instance", name);
	return send_json(fd,
	    json_pack("{s:b, s:s, s:s, s:i}", "ok", 1, "worker", name, "signal",
		signal_to_string(req->signal), "signalled", n),
	    deadline);
}

/* Why a request about a worker was refused, for what every such request shares. */
static const char *
worker_refusal(int r)
{
	switch (r) {
	case -ENOENT:
		return "no such worker";
	case -ESHUTDOWN:
		return "the shutdown is under way";
	case -EAGAIN:
		return "graced has not started its workers yet";
	default:
		return strerror(-r);
	}
}

/* Why a worker cannot be started, for the error reply. */
static const char *
start_refusal(int r)
{
	return r == -EBUSY ? "already running (or starting, or waiting for its restart)" :
			     worker_refusal(r);
}

/* start WORKER...: every name is checked first, so that a refusal starts none of them. */
static int
answer_start(struct control *ctl, int fd, usec_t deadline, const struct control_request *req)
{
	json_t *started;
	int r;

	for (size_t i = 0; i < req->n_workers; i++)
		if ((r = supervisor_view_can_start(ctl->sv, req->workers[i])) < 0)
			return send_error(fd, deadline, "cannot start worker '%s': %s",
			    req->workers[i], start_refusal(r));
	if (!(started = json_array()))
		return send_error(fd, deadline, "out of memory");
	for (size_t i = 0; i < req->n_workers; i++) {
		/* The same name twice: started once. */
		if (supervisor_view_can_start(ctl->sv, req->workers[i]) == -EBUSY)
			continue;
		if ((r = supervisor_view_start(ctl->sv, req->workers[i])) < 0) {
			json_decref(started);
			return send_error(fd, deadline, "cannot start worker '%s': %s",
			    req->workers[i], start_refusal(r));
		}
		json_array_append_new(started, json_string(req->workers[i]));
	}
	return send_json(fd, json_pack("{s:b, s:o}", "ok", 1, "started", started), deadline);
}

/* Why graced did not reload, for the error reply. */
static const char *
reload_refusal(int r)
{
	switch (r) {
	case -EINVAL:
		return "the configuration is not valid, nothing changed";
	case -ESHUTDOWN:
		return "the shutdown is under way: not reloading";
	case -EALREADY:
		return "a reload is being applied: try again once it has ended";
	case -EAGAIN:
		return "graced is starting its workers: try again";
	case -EOPNOTSUPP:
		return "single-command mode has no configuration file to reload";
	default:
		return NULL;
	}
}

/*
 * reload: the file is read and checked at once; a refusal replies with every FILE:LINE
 * ("errors") and "rejected" when the file is to blame. Else the reply comes once the difference
 * is applied (rolling restarts, stops of removed workers, added workers started): each of those
 * is bounded by the worker's own timeouts, and a shutdown ends the reload, so this waits without
 * a deadline of its own, counted as answering.
 */
static int
answer_reload(struct control *ctl, struct listener_conn *lc, int fd, usec_t deadline)
{
	struct config_errors errors = {};
	struct reload *rl = NULL;
	json_t *reply;
	int r;

	r = supervisor_view_reload(ctl->sv, &errors, &rl);
	if (r < 0) {
		json_t *list = json_array();
		const char *why = reload_refusal(r);
		/* The file is to blame when graced names its lines. */
		bool rejected = errors.n > 0;
		char other[160];

		for (size_t i = 0; list && i < errors.n; i++) {
			const struct config_error *e = &errors.items[i];
			char *line = NULL;
			int n;

			/* As config_errors_print() says it: FILE:LINE: ..., FILE: ..., or bare. */
			if (e->file && e->line)
				n = asprintf(&line, "%s:%u: %s", e->file, e->line, e->message);
			else if (e->file)
				n = asprintf(&line, "%s: %s", e->file, e->message);
			else
				n = asprintf(&line, "%s", e->message);
			if (n >= 0)
				json_array_append_new(list, json_string(line));
			free(line);
		}
		config_errors_clear(&errors);
		if (!why) {
			snprintf(other, sizeof(other), "not reloaded, nothing changed: %s",
			    strerror(-r));
			why = other;
		}
		if (!list)
			return send_error(fd, deadline, "%s", why);
		return send_json(fd,
		    json_pack("{s:b, s:s, s:b, s:o}", "ok", 0, "error", why, "rejected", rejected,
			"errors", list),
		    deadline);
	}
	config_errors_clear(&errors);
	listener_conn_set_answering(lc, true);
	r = reload_wait(rl, USEC_INFINITY);
	if (r < 0) {
		reload_unref(rl);
		return r;
	}
	reply = reload_to_json(rl);
	if (reply)
		json_object_set_new(reply, "ok", json_boolean(!reload_failed(rl)));
	reload_unref(rl);
	if (!reply)
		return send_error(fd, deadline, "out of memory");
	return send_json(fd, reply, usec_add(now_usec(), CONTROL_REQUEST_TIMEOUT));
}

/* Why a worker cannot be stopped, for the error reply. */
static const char *
stop_refusal(int r)
{
	switch (r) {
	case -ESRCH:
		return "not running (already stopped, never started, or gave up)";
	case -EALREADY:
		return "its stop is already in progress";
	case -EINPROGRESS:
		return "its rolling restart is in progress";
	case -EBUSY:
		return "a worker after= it still runs: stop that one first, or both at once";
	default:
		return worker_refusal(r);
	}
}

/* The name appears earlier in the request. */
static bool
named_before(const struct control_request *req, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (streq(req->workers[j], req->workers[i]))
			return true;
	return false;
}

/*
 * stop WORKER...: every name is checked first, so that a refusal stops none of them; then each
 * worker's own stop begins (those after= another named one first) and the reply comes once all
 * are down. That may take longer than the request deadline: each stop is bounded by its
 * worker's budget (plan.c), so the deadline of this request is moved to the sum of those (plus
 * CONTROL_REQUEST_TIMEOUT to reply). While it waits the connection counts as answering.
 */
static int
answer_stop(struct control *ctl, struct listener_conn *lc, int fd, usec_t deadline,
    const struct control_request *req)
{
	json_t *stopped;
	usec_t budget = 0, until;
	int r;

	for (size_t i = 0; i < req->n_workers; i++)
		if ((r = supervisor_view_can_stop(ctl->sv, req->workers[i], req->workers,
			 req->n_workers)) < 0 && !(r == -EALREADY && named_before(req, i)))
			return send_error(fd, deadline, "cannot stop worker '%s': %s",
			    req->workers[i], stop_refusal(r));
	for (size_t i = 0; i < req->n_workers; i++) {
		if (named_before(req, i))
			continue; /* the same name twice: stopped once */
		if ((r = supervisor_view_stop(ctl->sv, req->workers[i], req->workers,
			 req->n_workers)) < 0)
			return send_error(fd, deadline, "cannot stop worker '%s': %s",
			    req->workers[i], stop_refusal(r));
		budget = usec_add(budget, supervisor_view_stop_budget(ctl->sv, req->workers[i]));
	}
	listener_conn_set_answering(lc, true);
	until = MAX(deadline, usec_add(now_usec(), usec_add(budget, CONTROL_REQUEST_TIMEOUT)));
	if (!(stopped = json_array()))
		return send_error(fd, until, "out of memory");
	for (size_t i = 0; i < req->n_workers; i++) {
		if (named_before(req, i))
			continue;
		r = supervisor_view_wait_stopped(ctl->sv, req->workers[i], until);
		if (r <= 0) {
			json_decref(stopped);
			return send_error(fd, until, "worker '%s': %s", req->workers[i],
			    r == 0 ? "the shutdown began and stops it" : strerror(-r));
		}
		json_array_append_new(stopped, json_string(req->workers[i]));
	}
	return send_json(fd, json_pack("{s:b, s:o}", "ok", 1, "stopped", stopped), until);
}

/* Why a worker cannot be restarted, for the error reply. */
static const char *
restart_refusal(int r)
{
	switch (r) {
	case -ESRCH:
		return "not running (stopped, never started, gave up, or a finished one-shot)";
	case -EBUSY:
		return "its stop or a rolling restart is already in progress";
	default:
		return worker_refusal(r);
	}
}

/*
 * restart WORKER...: every name is checked first, so that a refusal restarts none of them; then
 * each worker's rolling restart begins (they run side by side, each one instance at a time) and
 * the reply comes once all ended: {"ok": true, "restarted": [...]}, or {"ok": false, "error":
 * ..., "restarted": [...], "failed": [{"worker": ..., "error": ...}]} when a replacement did not
 * get ready (its old instance kept). The deadline is moved as for stop.
 */
static int
answer_restart(struct control *ctl, struct listener_conn *lc, int fd, usec_t deadline,
    const struct control_request *req)
{
	json_t *restarted, *failed, *reply;
	usec_t budget = 0, until;
	char first[512] = "";
	int r;

	for (size_t i = 0; i < req->n_workers; i++)
		if ((r = supervisor_view_can_restart(ctl->sv, req->workers[i])) < 0 &&
		    !(r == -EBUSY && named_before(req, i)))
			return send_error(fd, deadline, "cannot restart worker '%s': %s",
			    req->workers[i], restart_refusal(r));
	for (size_t i = 0; i < req->n_workers; i++) {
		if (named_before(req, i))
			continue; /* the same name twice: restarted once */
		if ((r = supervisor_view_restart(ctl->sv, req->workers[i])) < 0)
			return send_error(fd, deadline, "cannot restart worker '%s': %s",
			    req->workers[i], restart_refusal(r));
		budget = MAX(budget, supervisor_view_restart_budget(ctl->sv, req->workers[i]));
	}
	listener_conn_set_answering(lc, true);
	until = MAX(deadline, usec_add(now_usec(), usec_add(budget, CONTROL_REQUEST_TIMEOUT)));
	restarted = json_array();
	failed = json_array();
	if (!restarted || !failed) {
		json_decref(restarted);
		json_decref(failed);
		return send_error(fd, until, "out of memory");
	}
	for (size_t i = 0; i < req->n_workers; i++) {
		const char *why = NULL;
		char msg[400];

		if (named_before(req, i))
			continue;
		r = supervisor_view_wait_restarted(ctl->sv, req->workers[i], until, &why);
		if (r == 0) {
			json_array_append_new(restarted, json_string(req->workers[i]));
			continue;
		}
		snprintf(msg, sizeof(msg), "%s",
		    r == -EPROTO && why ? why :
		    r == -ECANCELED     ? "the shutdown began and cut its restart short" :
					  strerror(-r));
		json_array_append_new(failed,
		    json_pack("{s:s, s:s}", "worker", req->workers[i], "error", msg));
		if (!first[0])
			snprintf(first, sizeof(first), "worker '%s': %s", req->workers[i], msg);
	}
	if (!first[0]) {
		json_decref(failed);
		return send_json(fd, json_pack("{s:b, s:o}", "ok", 1, "restarted", restarted), until);
	}
	reply = json_pack("{s:b, s:s, s:o, s:o}", "ok", 0, "error", first, "restarted", restarted,
	    "failed", failed);
	return send_json(fd, reply, until);
}

/* Sends a step line for each step after *sent up to the current one (a fast shutdown may pass
 * several between two wake-ups: each still gets its line, in order). */
static int
send_steps(struct control *ctl, int fd, int *sent, bool closing)
{
	struct supervisor_state st;
	int now, r;

	status_state(supervisor_view_status(ctl->sv), &st);
	now = closing ? PHASE_CLOSE : st.stopping ? (int) phase_from_string(st.step) : -1;
	for (; *sent < now; ) {
		r = send_json(fd,
		    json_pack("{s:s, s:s}", "event", "step", "step", phase_to_string(*sent + 1)),
		    usec_add(now_usec(), closing ? CONTROL_CLOSE_TIMEOUT : CONTROL_REQUEST_TIMEOUT));
		if (r < 0)
			return r;
		(*sent)++;
	}
	return 0;
}

/* A `shutdown --wait` client: a line per step, then the exit status (see the top). */
static int
watch(struct control *ctl, struct listener_conn *lc, int fd)
{
	struct watcher w = {};
	int sent = -1, r = 0;

	task_event_init(&w.news, "shutdown progress");
	LIST_INSERT_HEAD(&ctl->watchers, &w, link);
	ctl->n_watchers++;
	task_event_set(&w.news);
	for (;;) {
		/* Until control_close() or the connection's eviction (the task's cancellation). */
		if ((r = task_event_wait(&w.news, USEC_INFINITY)) < 0)
			break;
		task_event_reset(&w.news);
		listener_conn_set_answering(lc, true);
		if ((r = send_steps(ctl, fd, &sent, ctl->closing)) < 0)
			break;
		if (ctl->closing) {
			r = send_json(fd,
			    json_pack("{s:s, s:i}", "event", "exit", "exit_status", ctl->exit_status),
			    usec_add(now_usec(), CONTROL_CLOSE_TIMEOUT));
			break;
		}
		listener_conn_set_answering(lc, false);
	}
	LIST_REMOVE(&w, link);
	if (--ctl->n_watchers == 0)
		task_event_set(&ctl->watchers_gone);
	return r;
}

static int
answer_shutdown(struct control *ctl, struct listener_conn *lc, int fd, usec_t deadline,
    const struct control_request *req)
{
	bool started;
	int r;

	if (ctl->closing)
		return send_error(fd, deadline, "graced is exiting");
	started = supervisor_view_shutdown(ctl->sv, "gracectl shutdown");
	r = send_json(fd, json_pack("{s:b, s:b}", "ok", 1, "started", started), deadline);
	if (r < 0 || !req->wait)
		return r;
	return watch(ctl, lc, fd);
}

static bool
peer_allowed(struct control *ctl, int fd, struct ucred *ret)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	_cleanup_free_ gid_t *groups = NULL;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*ret = cred;
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	if (!ctl->has_group)
		return false;
	if (cred.gid == ctl->group)
		return true;
	/* The peer's supplementary groups, as they were when it connected. */
	len = 64 * sizeof(gid_t);
	for (int tries = 0; tries < 2; tries++) {
		gid_t *g = realloc(groups, len);

		if (!g)
			return false;
		groups = g;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
			for (size_t i = 0; i < len / sizeof(gid_t); i++)
				if (groups[i] == ctl->group)
					return true;
			return false;
		}
		if (errno != ERANGE)
			return false;
	}
	return false;
}

static int
serve(struct listener_conn *lc, int fd, usec_t deadline, void *userdata)
{
	struct control *ctl = userdata; /* outlives the listener */
	_cleanup_free_ struct conn *c = NULL;
	struct ucred cred = {};
	size_t consumed = 0;
	int r;

	if (!peer_allowed(ctl, fd, &cred)) {
		char who[64];

		snprintf(who, sizeof(who), "Control socket peer uid %lu", (unsigned long) cred.uid);
		if (log_ratelimit(&ctl->refused, "Control socket", "refused peers"))
			log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "event", "control-refused" }),
			    "%s (pid %ld): not graced's user, root, or in control_group, refused", who,
			    (long) cred.pid);
		listener_conn_set_answering(lc, true);
		/* The request it sent is not read, only drained, so that the reply is not lost. */
		if ((r = send_error(fd, deadline, "permission denied")) < 0)
			return r;
		return http_linger(fd, deadline);
	}
	if (!(c = calloc(1, sizeof(*c))))
		return -ENOMEM;
	*c = (struct conn) { .ctl = ctl, .fd = fd, .deadline = deadline };
	for (;;) {
		struct control_request req;
		const char *error = NULL;
		ssize_t n = read_line(c, &consumed);

		if (n == -EMSGSIZE) {
			/* Refused unread: there is no telling where the next request would start. */
			listener_conn_set_answering(lc, true);
			if ((r = send_error(fd, deadline, "request longer than %u bytes",
				 CONTROL_LINE_MAX)) < 0)
				return r;
			return http_linger(fd, deadline);
		}
		if (n < 0)
			return n == -ENODATA ? 0 : (int) n;
		if (n == 0 || (n == 1 && c->buf[0] == '\r'))
			continue; /* blank lines are allowed between requests */
		listener_conn_set_answering(lc, true);
		if ((r = control_request_parse(c->buf, (size_t) n, &req, &error)) < 0)
			r = send_error(fd, deadline, "%s", r == -ENOMEM ? "out of memory" : error);
		else {
			log_debug("Control socket: %s from uid %lu (pid %ld)",
			    control_command_to_string(req.command), (unsigned long) cred.uid,
			    (long) cred.pid);
			switch (req.command) {
			case CONTROL_STATUS:
				r = answer_status(ctl, fd, deadline, &req);
				break;
			case CONTROL_DUMP:
				r = answer_dump(ctl, fd, deadline);
				break;
			case CONTROL_SIGNAL:
				r = answer_signal(ctl, fd, deadline, &req);
				break;
			case CONTROL_REOPEN_LOGS:
				r = answer_reopen_logs(fd, deadline);
				break;
			case CONTROL_START:
				r = answer_start(ctl, fd, deadline, &req);
				break;
			case CONTROL_STOP:
				r = answer_stop(ctl, lc, fd, deadline, &req);
				break;
			case CONTROL_RELOAD:
				r = answer_reload(ctl, lc, fd, deadline);
				break;
			case CONTROL_RESTART:
				r = answer_restart(ctl, lc, fd, deadline, &req);
				break;
			case CONTROL_SHUTDOWN:
				r = answer_shutdown(ctl, lc, fd, deadline, &req);
				control_request_done(&req);
				return r; /* a shutdown ends the conversation */
			default:
				r = -EINVAL;
				break;
			}
			control_request_done(&req);
		}
		if (r < 0)
			return r;
		listener_conn_set_answering(lc, false);
	}
}

/* mkdir -p of path's directory, each missing level with mode. */
static int
make_parents(const char *path, mode_t mode, gid_t group, bool has_group)
{
	_cleanup_free_ char *dir = strdup(path);
	char *p;

	if (!dir)
		return -ENOMEM;
	for (p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(dir, mode) == 0) {
			/* Made by graced: its group may pass through it to the socket. */
			if (has_group && chown(dir, (uid_t) -1, group) < 0)
				return -errno;
		} else if (errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* Is somebody listening on path? A socket file nobody listens on is stale. */
static bool
someone_listens(const struct sockaddr_un *sa)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return true; /* cannot tell: do not touch it */
	if (connect(fd, (const struct sockaddr *) sa, sizeof(*sa)) == 0)
		return true;
	/* EAGAIN: its backlog is full, so it does listen. */
	return errno != ECONNREFUSED && errno != ENOENT;
}

static int
open_socket(struct control *ctl, int *ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	struct stat st;
	mode_t old;
	int r;

	if (strlen(ctl->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, ctl->path, strlen(ctl->path));
	if ((r = make_parents(ctl->path, ctl->has_group ? 0750 : 0700, ctl->group, ctl->has_group)) <
	    0)
		return r;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -errno;
	/* Born 0600: never a moment when others could connect. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ? -errno : 0;
	if (r == -EADDRINUSE) {
		if (lstat(ctl->path, &st) < 0 || !S_ISSOCK(st.st_mode))
			r = -EEXIST; /* not a socket: not ours to remove */
		else if (someone_listens(&sa))
			r = -EADDRINUSE;
		else if (unlink(ctl->path) < 0)
			r = -errno;
		else
			r = bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ? -errno : 0;
	}
	umask(old);
	if (r < 0)
		return r;
	if (ctl->has_group &&
	    (chown(ctl->path, (uid_t) -1, ctl->group) < 0 || chmod(ctl->path, 0660) < 0)) {
		r = -errno;
		(void) unlink(ctl->path);
		return r;
	}
	if (stat(ctl->path, &st) < 0 || listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		(void) unlink(ctl->path);
		return r;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	*ret = TAKE_FD(fd);
	return 0;
}

static int
resolve_group(const char *name, gid_t *ret)
{
	struct group *g;
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(name, &end, 10);
	if (*name && !*end && errno == 0 && n < (gid_t) -1) {
		*ret = (gid_t) n;
		return 0;
	}
	if (!(g = userdb_group_by_name(name)))
		return -ESRCH;
	*ret = g->gr_gid;
	return 0;
}

int
control_new(struct supervisor *sv, struct task_runtime *rt, const struct supervisor_config *c,
    struct control **ret)
{
	struct control *ctl;
	bool is_default;
	char *path = NULL;
	int fd, r;

	*ret = NULL;
	if ((r = control_socket_path(c, &path, &is_default)) < 0) {
		if (r == -ENOMEM)
			return log_error_errno(r, "Failed to set up the control socket");
		log_warning_errno(r, "No default control socket for name '%s' (set control_socket), "
				     "continuing without one",
		    c->name);
		return 0;
	}
	if (!path) {
		log_debug("No control socket");
		return 0;
	}
	if (!(ctl = calloc(1, sizeof(*ctl)))) {
		free(path);
		return log_error_errno(ENOMEM, "Failed to set up the control socket");
	}
	*ctl = (struct control) { .sv = sv, .path = path };
	LIST_INIT(&ctl->watchers);
	task_event_init(&ctl->watchers_gone, "shutdown --wait clients gone");
	if (c->control_group && (r = resolve_group(c->control_group, &ctl->group)) < 0) {
		log_error_errno(r, "control_group '%s': no such group", c->control_group);
		control_close(ctl, 0);
		return r;
	}
	ctl->has_group = !!c->control_group;
	if ((r = open_socket(ctl, &fd)) < 0) {
		ctl->ino = 0; /* nothing of ours to remove */
		if (is_default) {
			log_warning_errno(r, "Failed to open the control socket '%s'%s, continuing "
					     "without one",
			    path, r == -EADDRINUSE ? " (another graced of this name serves it)" : "");
			control_close(ctl, 0);
			return 0;
		}
		log_error_errno(r, "Failed to open the control socket '%s'%s", path,
		    r == -EADDRINUSE ? " (another graced serves it)" : "");
		control_close(ctl, 0);
		return r;
	}
	if ((r = listener_new(rt, fd, "control socket", CONTROL_MAX_CONNECTIONS,
		 CONTROL_REQUEST_TIMEOUT, serve, ctl, &ctl->listener)) < 0) {
		log_error_errno(r, "Failed to serve the control socket '%s'", path);
		control_close(ctl, 0);
		return r;
	}
	log_info("Control socket on '%s'", path);
	*ret = ctl;
	return 0;
}

int
control_set_group(struct control *ctl, const char *group)
{
	gid_t gid = 0;
	int r;

	if (!ctl)
		return 0;
	if (group && (r = resolve_group(group, &gid)) < 0)
		return r;
	ctl->group = gid;
	ctl->has_group = group != NULL;
	return 0;
}

void
control_step_changed(struct control *ctl)
{
	struct watcher *w;

	if (!ctl)
		return;
	LIST_FOREACH(w, &ctl->watchers, link)
		task_event_set(&w->news);
}

struct control *
control_close(struct control *ctl, int exit_status)
{
	struct stat st;

	if (!ctl)
		return NULL;
	ctl->closing = true;
	ctl->exit_status = exit_status;
	if (ctl->n_watchers > 0 && task_current()) {
		task_event_reset(&ctl->watchers_gone);
		control_step_changed(ctl);
		/* Bounded; a cancelled caller just moves on. */
		(void) !task_event_wait(&ctl->watchers_gone,
		    usec_add(now_usec(), CONTROL_CLOSE_TIMEOUT));
	}
	ctl->listener = listener_free(ctl->listener);
	/* The file only if it is still the socket graced made (not a successor's). */
	if (ctl->ino != 0 && stat(ctl->path, &st) == 0 && st.st_dev == ctl->dev &&
	    st.st_ino == ctl->ino)
		(void) unlink(ctl->path);
	free(ctl->path);
	free(ctl);
	return NULL;
}
