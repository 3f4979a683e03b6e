/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command.h"
#include "config.h"
#include "intake.h"
#include "listener.h"
#include "log.h"
#include "parse.h"
#include "report.h"
#include "sd-compat.h"
#include "shutdown.h"
#include "spawn.h"
#include "task.h"
#include "util.h"
#include "worker.h"

#define INTAKE_FIELDS(i, ev) LOG_FIELDS({ "intake", (i)->config->name }, { "event", (ev) })

static void
record(struct intake *i, const char *action, const char *result)
{
	char *a = strdup(action), *res = strdup(result);

	if (!a || !res) {
		free(a);
		free(res);
		log_warning_errno(ENOMEM, "Failed to record what intake '%s' did, continuing",
		    i->config->name);
		return;
	}
	free(i->action);
	free(i->result);
	i->action = a;
	i->result = res;
}

int
intake_report(const struct intakes *is, struct report *r)
{
	for (size_t k = 0; k < is->n; k++) {
		const struct intake *i = is->items[k];
		struct report_intake *ri;

		if (!(ri = report_add_intake(r, i->config->name, intake_type_to_string(i->config->type))))
			return -ENOMEM;
		if (i->action && report_intake_set(ri, i->action, i->result) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* A unix: socket file may be left over from an earlier run; anything else at the path is kept. */
static int
remove_stale_socket(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* owner and group of a unix: socket file; either may be unset (left as it is). */
static int
chown_socket(const struct intake_config *c)
{
	uid_t uid = (uid_t) -1, u;
	gid_t gid = (gid_t) -1, g;
	int r;

	if (c->owner) {
		if ((r = spawn_resolve_user(c->owner, NULL, &u, &g)) < 0)
			return r;
		uid = u;
	}
	if (c->group) {
		if ((r = spawn_resolve_user(NULL, c->group, &u, &g)) < 0)
			return r;
		gid = g;
	}
	if ((c->owner || c->group) && chown(c->listen.addr.un.sun_path, uid, gid) < 0)
		return -errno;
	return 0;
}

int
intake_open_socket(const struct intake_config *c, int *ret_fd, bool *ret_created)
{
	const struct listen_address *a = &c->listen;
	bool path = a->kind == LISTEN_UNIX && a->addr.un.sun_path[0] != '\0';
	mode_t mode = c->has_mode ? c->mode : 0666;
	_cleanup_close_ int fd = -1;
	int one = 1, r;

	if (a->kind != LISTEN_TCP && a->kind != LISTEN_UNIX)
		return -EAFNOSUPPORT;
	if ((fd = socket(a->addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (a->kind == LISTEN_TCP) {
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
			return -errno;
		if (c->reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
			return -errno;
	}
	if (path && (r = remove_stale_socket(a->addr.un.sun_path)) < 0)
		return r;

	if (path) {
		/* The file is born with the mode (graced is one thread: the umask is ours alone); the
		 * default is 0666 whatever the umask, as graced.ini(5) says and as systemd's
		 * SocketMode= does: who may connect is the configuration's choice, not the
		 * inherited umask's. */
		mode_t old = umask((mode_t) ~mode & 0777);

		r = bind(fd, &a->addr.sa, a->addr_len) < 0 ? -errno : 0;
		umask(old);
	} else
		r = bind(fd, &a->addr.sa, a->addr_len) < 0 ? -errno : 0;
	if (r < 0)
		return r;
	/* chmod() too: the umask cannot grant the setgid or sticky bits of an explicit mode. */
	if (path && ((chmod(a->addr.un.sun_path, mode) < 0 && (r = -errno)) ||
			(r = chown_socket(c)) < 0)) {
		(void) unlink(a->addr.un.sun_path);
		return r;
	}
	if (listen(fd, (int) c->backlog) < 0) {
		r = -errno;
		if (path)
			(void) unlink(a->addr.un.sun_path);
		return r;
	}
	*ret_created = path;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* The sockets systemd passed (socket activation), by name. Taken once; the ones no intake names
 * are closed. */
struct activated {
	int n;
	char **names;
	bool *used;
};

static void
activated_done(struct activated *act)
{
	for (int k = 0; k < act->n; k++) {
		if (!act->used[k]) {
			log_warning("Socket '%s' passed by systemd is not named by any intake, closing it",
			    act->names && act->names[k] ? act->names[k] : "?");
			(void) close(SD_LISTEN_FDS_START + k);
		}
		if (act->names)
			free(act->names[k]);
	}
	free(act->names);
	free(act->used);
	*act = (struct activated) {};
}

static int
activated_take(struct activated *act)
{
	int n = sd_listen_fds_with_names(1, &act->names);

	if (n < 0)
		return n;
	act->n = n;
	if (n > 0 && !(act->used = calloc((size_t) n, sizeof(bool))))
		return -ENOMEM;
	/* Ours now: close-on-exec like every descriptor graced holds. */
	for (int k = 0; k < n; k++)
		(void) fd_cloexec(SD_LISTEN_FDS_START + k, true);
	return 0;
}

static int
activated_find(struct activated *act, const char *name)
{
	for (int k = 0; k < act->n; k++)
		if (act->names && act->names[k] && streq(act->names[k], name) && !act->used[k]) {
			int fd = SD_LISTEN_FDS_START + k;

			if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0)
				return -ENOTSOCK;
			act->used[k] = true;
			return fd;
		}
	return -ENOENT;
}

static int
open_one(struct intake *i, struct activated *act)
{
	const struct intake_config *c = i->config;
	int r;

	if (c->listen.kind == LISTEN_SYSTEMD) {
		if ((r = activated_find(act, c->listen.name)) < 0)
			return r;
		i->fd = r;
	} else {
		if ((r = intake_open_socket(c, &i->fd, &i->created_path)) < 0)
			return r;
		if (i->created_path) {
			struct stat st;

			if (stat(c->listen.addr.un.sun_path, &st) == 0) {
				i->dev = st.st_dev;
				i->ino = st.st_ino;
			}
		}
	}
	/* A readiness endpoint is served once the task runtime runs (intake_serve_all()). */
	return 0;
}

static void intake_free(struct intake *i);

/* A new intake at the end of the set (not opened yet), or NULL on OOM. */
static struct intake *
push(struct intakes *is, const struct intake_config *c)
{
	struct intake **m = realloc(is->items, (is->n + 1) * sizeof(*m));
	struct intake *i;

	if (!m)
		return NULL;
	is->items = m;
	if (!(i = calloc(1, sizeof(*i))))
		return NULL;
	*i = (struct intake) { .set = is, .config = c, .fd = -1 };
	is->items[is->n++] = i;
	return i;
}

static const char *
open_error(int r)
{
	switch (r) {
	case -ENOENT:
		return "no socket of that name was passed by systemd (FileDescriptorName=)";
	case -ENOTSOCK:
		return "the socket passed by systemd is not a listening stream socket";
	case -EEXIST:
		return "the path exists and is not a socket";
	default:
		return NULL;
	}
}

int
intake_open_all(struct intakes *is, const struct config *c)
{
	struct activated act = {};
	bool systemd = false;
	int r = 0;

	for (size_t k = 0; k < c->n_intakes; k++) {
		if (!push(is, c->intakes[k]))
			return -ENOMEM;
		systemd = systemd || (c->intakes[k]->has_listen &&
		    c->intakes[k]->listen.kind == LISTEN_SYSTEMD &&
		    (c->intakes[k]->type == INTAKE_SOCKET || c->intakes[k]->type == INTAKE_READINESS));
	}
	if (systemd && (r = activated_take(&act)) < 0)
		return log_error_errno(r, "Failed to take the sockets passed by systemd");

	for (size_t k = 0; k < is->n; k++) {
		struct intake *i = is->items[k];
		char a[LISTEN_ADDRESS_MAX];
		const char *why;
		int q;

		if (i->config->type != INTAKE_SOCKET && i->config->type != INTAKE_READINESS)
			continue;
		listen_address_to_string(a, sizeof(a), &i->config->listen);
		if ((q = open_one(i, &act)) < 0) {
			if ((why = open_error(q)))
				log_fields(LOG_ERR, 0, INTAKE_FIELDS(i, "open-failed"),
				    "%s:%u: intake '%s': failed to listen on %s: %s", i->config->at.file,
				    i->config->at.line, i->config->name, a, why);
			else
				log_fields(LOG_ERR, q, INTAKE_FIELDS(i, "open-failed"),
				    "%s:%u: intake '%s': failed to listen on %s", i->config->at.file,
				    i->config->at.line, i->config->name, a);
			r = r < 0 ? r : q;
			continue;
		}
		log_fields(LOG_INFO, 0, INTAKE_FIELDS(i, "listen"), "Intake '%s' listens on %s%s",
		    i->config->name, a,
		    i->config->type == INTAKE_READINESS ? " (readiness endpoint)" : "");
	}
	if (systemd)
		activated_done(&act);
	if (r < 0)
		intake_free_all(is);
	return r;
}

static int
serve_one(struct intake *i, unsigned max)
{
	char label[128];
	int r;

	snprintf(label, sizeof(label), "Intake '%s'", i->config->name);
	r = listener_new(i->set->rt, TAKE_FD(i->fd), label, max, i->config->request_timeout,
	    readiness_serve, i, &i->listener);
	if (r < 0)
		log_fields(LOG_ERR, r, INTAKE_FIELDS(i, "open-failed"),
		    "Intake '%s': failed to serve the readiness endpoint", i->config->name);
	return r;
}

int
intake_serve_all(struct intakes *is)
{
	unsigned long long wanted = 0, instances = workers_instances(is->workers);
	unsigned budget;
	int r = 0;

	is->serving = true;
	for (size_t k = 0; k < is->n; k++)
		if (is->items[k]->config->type == INTAKE_READINESS && is->items[k]->fd >= 0)
			wanted += is->items[k]->config->max_connections;
	if (wanted == 0)
		return 0;
	budget = listener_fd_budget(
	    (unsigned) MIN(INTAKE_FD_RESERVE + INTAKE_FD_PER_INSTANCE * instances, 1ULL << 30));

	for (size_t k = 0; k < is->n; k++) {
		struct intake *i = is->items[k];
		unsigned max = i->config->max_connections;
		int q;

		if (i->config->type != INTAKE_READINESS || i->fd < 0)
			continue;
		/* Clients may never take the descriptors a worker's start needs: where the limit cannot
		 * hold every endpoint's max_connections and the reserve, each gets its share. */
		if (wanted > budget) {
			max = (unsigned) MAX(1ULL, (unsigned long long) max * budget / wanted);
			log_fields(LOG_WARNING, 0, INTAKE_FIELDS(i, "limit-lowered"),
			    "Intake '%s': max_connections %u lowered to %u, so that the descriptor limit "
			    "(RLIMIT_NOFILE) keeps enough free to start the workers",
			    i->config->name, i->config->max_connections, max);
		}
		if ((q = serve_one(i, max)) < 0)
			r = r < 0 ? r : q;
	}
	return r;
}

struct intake *
intake_find(const struct intakes *is, const char *name)
{
	for (size_t k = 0; k < is->n; k++)
		if (streq(is->items[k]->config->name, name))
			return is->items[k];
	return NULL;
}

int
intake_add(struct intakes *is, const struct intake_config *c)
{
	char a[LISTEN_ADDRESS_MAX];
	struct intake *i;
	int r;

	if (intake_find(is, c->name))
		return -EEXIST;
	/* What systemd passed was taken (or closed) at start. */
	if (c->has_listen && c->listen.kind == LISTEN_SYSTEMD)
		return -EOPNOTSUPP;
	if (!(i = push(is, c)))
		return -ENOMEM;
	if (c->type == INTAKE_SOCKET || c->type == INTAKE_READINESS) {
		listen_address_to_string(a, sizeof(a), &c->listen);
		if ((r = open_one(i, NULL)) < 0 ||
		    (c->type == INTAKE_READINESS && is->serving &&
			(r = serve_one(i, c->max_connections)) < 0)) {
			(void) intake_remove(is, c->name);
			return r;
		}
		log_fields(LOG_INFO, 0, INTAKE_FIELDS(i, "listen"), "Intake '%s' listens on %s%s",
		    c->name, a, c->type == INTAKE_READINESS ? " (readiness endpoint)" : "");
	}
	return 0;
}

int
intake_remove(struct intakes *is, const char *name)
{
	for (size_t k = 0; k < is->n; k++) {
		struct intake *i = is->items[k];

		if (!streq(i->config->name, name))
			continue;
		memmove(&is->items[k], &is->items[k + 1], (is->n - k - 1) * sizeof(*is->items));
		is->n--;
		intake_free(i);
		return 0;
	}
	return -ENOENT;
}

int
intake_update(struct intakes *is, const struct intake_config *c)
{
	struct intake *i = intake_find(is, c->name);
	const struct intake_config *old;
	bool path;
	int r = 0;

	if (!i)
		return -ENOENT;
	old = i->config;
	i->config = c;
	path = c->listen.kind == LISTEN_UNIX && c->listen.addr.un.sun_path[0] != '\0' &&
	    i->created_path;
	/* The readiness endpoint's socket is its listener's: its backlog stays. */
	if (c->type == INTAKE_SOCKET && i->fd >= 0 && c->backlog != old->backlog &&
	    listen(i->fd, (int) c->backlog) < 0)
		r = -errno;
	if (path && (c->has_mode != old->has_mode || c->mode != old->mode) &&
	    chmod(c->listen.addr.un.sun_path, c->has_mode ? c->mode : 0666) < 0 && r == 0)
		r = -errno;
	if (path && (!streq_ptr(c->owner, old->owner) || !streq_ptr(c->group, old->group))) {
		int q = chown_socket(c);

		r = r < 0 ? r : q;
	}
	return r;
}

int
intake_replace(struct intakes *is, const struct intake_config *c, struct intake **ret_old)
{
	char a[LISTEN_ADDRESS_MAX];
	struct intake *i = NULL, *old = NULL;
	size_t k, at = is->n;
	int r;

	for (k = 0; k < is->n; k++)
		if (streq(is->items[k]->config->name, c->name)) {
			old = is->items[k];
			at = k;
		}
	if (!old)
		return -ENOENT;
	if (c->has_listen && c->listen.kind == LISTEN_SYSTEMD)
		return -EOPNOTSUPP;
	if (!(i = calloc(1, sizeof(*i))))
		return -ENOMEM;
	*i = (struct intake) { .set = is, .config = c, .fd = -1 };
	if ((c->type == INTAKE_SOCKET || c->type == INTAKE_READINESS) &&
	    ((r = open_one(i, NULL)) < 0 ||
		(c->type == INTAKE_READINESS && is->serving && (r = serve_one(i, c->max_connections)) < 0))) {
		intake_free(i);
		return r;
	}
	is->items[at] = i;
	if (c->type == INTAKE_SOCKET || c->type == INTAKE_READINESS) {
		listen_address_to_string(a, sizeof(a), &c->listen);
		log_fields(LOG_INFO, 0, INTAKE_FIELDS(i, "listen"), "Intake '%s' listens on %s%s",
		    c->name, a, c->type == INTAKE_READINESS ? " (readiness endpoint)" : "");
	}
	*ret_old = old;
	return 0;
}

int
intake_replace_back(struct intakes *is, struct intake *old, struct intake **ret_new)
{
	for (size_t k = 0; k < is->n; k++)
		if (streq(is->items[k]->config->name, old->config->name)) {
			*ret_new = is->items[k];
			is->items[k] = old;
			return 0;
		}
	return -ENOENT;
}

void
intake_free_detached(struct intake *i)
{
	if (i)
		intake_free(i);
}

void
intake_sort(struct intakes *is, const struct config *c)
{
	size_t placed = 0;

	for (size_t n = 0; n < c->n_intakes; n++)
		for (size_t k = placed; k < is->n; k++) {
			struct intake *i = is->items[k];

			if (!streq(i->config->name, c->intakes[n]->name))
				continue;
			memmove(&is->items[placed + 1], &is->items[placed],
			    (k - placed) * sizeof(*is->items));
			is->items[placed++] = i;
			break;
		}
}

int
intake_socket_fd(const struct intakes *is, const char *name)
{
	struct intake *i = intake_find(is, name);

	if (!i)
		return -ENOENT;
	return i->fd >= 0 ? i->fd : -EBADF;
}

/* One exec intake (its struct intake is owned by the set, which outlives the task). */
struct exec_job {
	struct intake *intake;
	usec_t deadline;
};

static int
exec_task(void *arg)
{
	struct exec_job *job = arg; /* owned by intake_announce_all(), which joins this task */
	struct intake *i = job->intake;
	struct command_result res;
	char what[96], pid[16];
	int r;

	r = command_run(i->set->rt, i->set->reaper, i->config->argv, job->deadline, &res);
	snprintf(pid, sizeof(pid), "%ld", (long) res.pid);
	if (r < 0) {
		char failed[160];

		if (res.stage != SPAWN_STAGE_NONE)
			snprintf(failed, sizeof(failed), "failed: %s '%s': %s",
			    spawn_stage_to_string(res.stage), i->config->argv[0], strerror(-r));
		else
			snprintf(failed, sizeof(failed), "failed: %s", strerror(-r));
		log_fields(LOG_ERR, 0, INTAKE_FIELDS(i, "exec-failed"),
		    "Intake '%s': command %s, continuing shutdown", i->config->name, failed);
		record(i, "run", failed);
		return 0;
	}
	command_describe(&res, what, sizeof(what));
	if (res.killed)
		log_fields(LOG_ERR, 0, INTAKE_FIELDS(i, "exec-timeout"),
		    "Intake '%s': command (pid %s) %s, killed it, continuing shutdown", i->config->name,
		    pid, res.cancelled ? "cut short by a second signal" : "still ran at intake_timeout");
	else
		log_fields(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0 ? LOG_INFO : LOG_WARNING,
		    0, INTAKE_FIELDS(i, "exec"), "Intake '%s': command (pid %s) ended: %s%s",
		    i->config->name, pid, what,
		    WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0 ? "" : ", continuing shutdown");
	record(i, "run", what);
	return 0;
}

static void
signal_worker(struct intakes *is, const char *name, int sig)
{
	struct worker *w = worker_find(is->workers, name);

	if (w)
		worker_signal(w, sig, false, PHASE_INTAKE);
}

void
intake_announce_all(struct intakes *is, usec_t deadline)
{
	struct task_group *g = NULL;
	struct exec_job *jobs = NULL;
	struct step_scope scope;
	const char *why = "intake step over";
	int r;

	/* Readiness endpoints answer 503 from the trigger on (the readiness rule sees the
	 * shutdown). */
	for (size_t k = 0; k < is->n; k++) {
		struct intake *i = is->items[k];

		if (i->config->type != INTAKE_READINESS)
			continue;
		record(i, "503", i->listener ? "ok" : "failed: not open");
		log_fields(LOG_INFO, 0, INTAKE_FIELDS(i, "announce"),
		    "Intake '%s': /ready answers 503 from now on", i->config->name);
	}

	/* Exec hooks, all at once. */
	for (size_t k = 0; k < is->n; k++) {
		struct intake *i = is->items[k];

		if (i->config->type != INTAKE_EXEC)
			continue;
		if (!jobs && (!(jobs = calloc(is->n, sizeof(*jobs))) ||
				 (r = task_group_new(is->rt, NULL, "intake", &g)) < 0)) {
			log_error_errno(ENOMEM, "Failed to run the exec intakes, continuing shutdown");
			break;
		}
		jobs[k] = (struct exec_job) { .intake = i, .deadline = deadline };
		if ((r = task_spawn(g, i->config->name, exec_task, &jobs[k], NULL)) < 0) {
			log_error_errno(r, "Failed to run intake '%s', continuing shutdown", i->config->name);
			record(i, "run", "failed: could not start");
		}
	}

	/* Intake signals: each worker's intake_signal, then [intake:*] type = signal. */
	for (size_t k = 0; k < workers_count(is->workers); k++) {
		struct worker *w = workers_at(is->workers, k);
		int sig = worker_config(w)->shutdown.intake_signal;

		if (sig != SIGNAL_NONE)
			worker_signal(w, sig, false, PHASE_INTAKE);
	}
	for (size_t k = 0; k < is->n; k++) {
		struct intake *i = is->items[k];

		if (i->config->type != INTAKE_SIGNAL)
			continue;
		/* Without workers=, the signal goes to every worker. */
		if (i->config->workers)
			for (char **w = i->config->workers; *w; w++)
				signal_worker(is, *w, i->config->signal);
		else
			for (size_t w = 0; w < workers_count(is->workers); w++)
				worker_signal(workers_at(is->workers, w), i->config->signal, false,
				    PHASE_INTAKE);
		record(i, signal_to_string(i->config->signal), "ok");
	}

	/* Wait for the hooks, up to intake_timeout (each kills its own command at the deadline);
	 * a second signal cancels the step scope, which skips the wait and cuts them short. */
	if (g && shutdown_scope_enter(is->shutdown, &scope) == 0) {
		struct task_clause c[] = { { .kind = TASK_CLAUSE_GROUP, .group = g } };

		if (task_wait_any(c, ELEMENTSOF(c), usec_add(deadline, COMMAND_KILL_TIMEOUT)) ==
		    -ECANCELED)
			why = "escalation";
		(void) shutdown_scope_leave(is->shutdown, &scope);
	}
	if (g) {
		/* Whatever still runs (a hook past its kill, one a second signal cut short). */
		task_group_cancel_because(g, why);
		if (task_group_close(g, usec_add(now_usec(), 2 * COMMAND_KILL_TIMEOUT)) < 0)
			log_error("Exec intakes did not end, continuing shutdown");
		else
			g = task_group_free(g) == 0 ? NULL : g; /* a closed group is freed by its holder */
	}
	/* A group that did not close still references the jobs: keep them (reported as pending). */
	if (!g)
		free(jobs);
}

void
intake_shutdown_all(struct intakes *is)
{
	for (size_t k = 0; k < is->n; k++) {
		struct intake *i = is->items[k];
		char a[LISTEN_ADDRESS_MAX], failed[128];

		if (i->config->type != INTAKE_SOCKET)
			continue;
		listen_address_to_string(a, sizeof(a), &i->config->listen);
		if (i->fd < 0) {
			record(i, "shutdown", "failed: not open");
			continue;
		}
		if (shutdown(i->fd, SHUT_RDWR) < 0) {
			int r = -errno;

			snprintf(failed, sizeof(failed), "failed: %s", strerror(-r));
			log_fields(LOG_ERR, r, INTAKE_FIELDS(i, "shutdown-failed"),
			    "Failed to shut down intake '%s' (%s), continuing", i->config->name, a);
			record(i, "shutdown", failed);
			continue;
		}
		i->shut = true;
		log_fields(LOG_INFO, 0, INTAKE_FIELDS(i, "shutdown"),
		    "Intake '%s' (%s) is shut down: new connections are refused", i->config->name, a);
		record(i, "shutdown", "ok");
	}
}

/* Removes the socket file graced bound, unless something else replaced it meanwhile. */
static void
remove_socket_file(struct intake *i)
{
	const char *path = i->config->listen.addr.un.sun_path;
	struct stat st;

	if (!i->created_path)
		return;
	i->created_path = false;
	if (lstat(path, &st) < 0 || st.st_dev != i->dev || st.st_ino != i->ino)
		return;
	if (unlink(path) < 0 && errno != ENOENT)
		log_warning_errno(errno, "Failed to remove '%s' of intake '%s', continuing", path,
		    i->config->name);
}

static void
close_one(struct intake *i)
{
	i->listener = listener_free(i->listener);
	i->fd = safe_close(i->fd);
	remove_socket_file(i);
}

static void
intake_free(struct intake *i)
{
	close_one(i);
	free(i->action);
	free(i->result);
	free(i);
}

void
intake_close_all(struct intakes *is)
{
	/* Reverse order of opening. */
	for (size_t k = is->n; k-- > 0;) {
		struct intake *i = is->items[k];

		if (i->fd < 0 && !i->listener)
			continue;
		close_one(i);
		log_fields(LOG_INFO, 0, LOG_FIELDS({ "intake", i->config->name }, { "step", "close" }),
		    "Closed intake '%s'", i->config->name);
	}
}

void
intake_free_all(struct intakes *is)
{
	for (size_t k = 0; k < is->n; k++)
		intake_free(is->items[k]);
	free(is->items);
	is->items = NULL;
	is->n = 0;
}
