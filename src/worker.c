/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command.h"
#include "config.h"
#include "intake.h"
#include "log.h"
#include "notify.h"
#include "output-route.h"
#include "parse.h"
#include "plan.h"
#include "policy.h"
#include "report.h"
#include "shutdown.h"
#include "spawn.h"
#include "stopper.h"
#include "task.h"
#include "util.h"
#include "worker-internal.h"
#include "worker-params.h"

/*
 * Layer: the worker objects. See worker.h for what this file holds of DESIGN.md.
 */

/* How often a tcp: readiness probe is repeated while the worker starts (a probe interval: an
 * exit or the shutdown trigger ends the wait between two probes at once). */
#define READY_TCP_INTERVAL (50 * USEC_PER_MSEC)
/* How long the output of an exited process may take to reach EOF before its pumps are cut. */
#define OUTPUT_DRAIN_TIMEOUT (2 * USEC_PER_SEC)
/* How often the stopper looks again whether a process group left behind is empty, besides when
 * graced reaps an orphan: its last process may be reaped by someone else (its parent outside the
 * group, or init with subreaper = no), and no event tells of an empty process group. */
#define GROUP_LEFT_INTERVAL (100 * USEC_PER_MSEC)

#define INSTANCE_FIELDS(in, ev)                                                                    \
	LOG_FIELDS({ "worker", (in)->name }, { "event", (ev) })

static struct worker_context *
ctx_of(const struct worker *w)
{
	return w->set->ctx;
}

static struct shutdown *
shutdown_of(const struct worker *w)
{
	return w->set->ctx->shutdown;
}

/* Wakes the waits of one worker and its instances. */
static void
poke_worker(struct worker *w)
{
	task_event_set(&w->wake);
	for (unsigned j = 0; j < n_all(w); j++)
		task_event_set(&instance_at(w, j)->wake);
}

/* Something changed that another worker or the supervisor may wait for: wake them all. */
static void
poke(struct workers *ws)
{
	task_event_set(ws->ctx->changed);
	for (size_t i = 0; i < ws->n; i++)
		poke_worker(ws->items[i]);
}

static struct instance *
instance_free(struct instance *in)
{
	if (!in)
		return NULL;
	safe_close(in->stop_fd);
	notify_worker_free(in);
	free(in->starts);
	free(in);
	return NULL;
}

/* The object of instance index of n, named after c ("web.0", or "web" when n is 1). */
static int
instance_new(struct worker *w, const struct worker_config *c, unsigned index, unsigned n,
    struct instance **ret)
{
	struct instance *in = calloc(1, sizeof(*in));

	if (!in)
		return -ENOMEM;
	in->worker = w;
	in->index = index;
	in->stop_fd = -1;
	in->outcome = OUTCOME_EXITED;
	in->step = _PHASE_INVALID;
	in->retire_step = _PHASE_INVALID;
	if (n > 1)
		snprintf(in->name, sizeof(in->name), "%s.%u", c->name, index);
	else
		snprintf(in->name, sizeof(in->name), "%s", c->name);
	task_event_init(&in->wake, "instance changed");
	task_event_init(&in->retire, "instance retired");
	if (!(in->starts = calloc(MAX(c->start_limit_burst, 1U), sizeof(usec_t)))) {
		free(in);
		return -ENOMEM;
	}
	*ret = in;
	return 0;
}

static struct worker *
worker_free(struct worker *w)
{
	if (!w)
		return NULL;
	for (unsigned i = 0; i < n_all(w); i++)
		instance_free(instance_at(w, i));
	free(w->instances);
	free(w->extra);
	free(w->name);
	free(w);
	return NULL;
}

static int
worker_new(struct workers *ws, const struct worker_config *c, struct worker **ret)
{
	struct worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	*w = (struct worker) {
		.set = ws,
		.config = c,
		.step = _PHASE_INVALID,
	};
	if (!(w->name = strdup(c->name))) {
		free(w);
		return -ENOMEM;
	}
	task_event_init(&w->wake, "worker changed");
	task_event_init(&w->halt, "worker stop");
	task_event_init(&w->halt_done, "worker stopped");
	task_event_init(&w->restart_done, "worker restarted");
	if (!(w->instances = calloc(c->instances, sizeof(struct instance *)))) {
		worker_free(w);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < c->instances; i++) {
		if ((r = instance_new(w, c, i, c->instances, &w->instances[i])) < 0) {
			worker_free(w);
			return r;
		}
		w->n_instances++;
	}
	*ret = w;
	return 0;
}

int
workers_new(struct worker_context *ctx, struct workers **ret)
{
	struct workers *ws = calloc(1, sizeof(*ws));

	if (!ws)
		return -ENOMEM;
	ws->ctx = ctx;
	*ret = ws;
	return 0;
}

struct workers *
workers_free(struct workers *ws)
{
	if (!ws)
		return NULL;
	for (size_t i = 0; i < ws->n; i++)
		worker_free(ws->items[i]);
	free(ws->items);
	name_index_done(&ws->index);
	free(ws);
	return NULL;
}

static int
reindex(struct workers *ws)
{
	name_index_done(&ws->index);
	for (size_t i = 0; i < ws->n; i++)
		if (name_index_put(&ws->index, ws->items[i]->name, i) < 0)
			return -ENOMEM;
	return 0;
}

static int start_instances(struct worker *w);
static void prune_extra(struct worker *w);

int
workers_add(struct workers *ws, const struct worker_config *c, struct worker **ret)
{
	struct worker **m, *w;
	int r;

	if (worker_find(ws, c->name))
		return -EEXIST;
	if (!(m = realloc(ws->items, (ws->n + 1) * sizeof(*m))))
		return -ENOMEM;
	ws->items = m;
	if ((r = worker_new(ws, c, &w)) < 0)
		return r;
	if (name_index_put(&ws->index, w->name, ws->n) < 0) {
		worker_free(w);
		return -ENOMEM;
	}
	ws->items[ws->n++] = w;
	if (ws->started && c->autostart && (r = start_instances(w)) < 0)
		return r;
	poke(ws);
	if (ret)
		*ret = w;
	return 0;
}

/* The worker has no task left: never started, or its instance tasks ended. */
static bool
idle(const struct worker *w)
{
	for (unsigned i = 0; i < n_all(w); i++) {
		const struct instance *in = instance_at(w, i);

		if (in->running || in->task_alive || (in->group && task_group_live(in->group) > 0))
			return false;
	}
	return true;
}

int
workers_remove(struct workers *ws, const char *name)
{
	ssize_t k = name_index_get(&ws->index, name);
	struct worker *w;

	if (k < 0)
		return -ENOENT;
	w = ws->items[k];
	if (!idle(w) || w->halting || w->restarting)
		return -EBUSY;
	for (unsigned i = 0; i < n_all(w); i++)
		if (instance_at(w, i)->group && task_group_free(instance_at(w, i)->group) < 0)
			return -EBUSY;
	memmove(&ws->items[k], &ws->items[k + 1], (ws->n - (size_t) k - 1) * sizeof(*ws->items));
	ws->n--;
	worker_free(w);
	/* Positions moved: the index is rebuilt (names are unique, so this cannot fail but on OOM,
	 * and then lookups fall back to nothing; the next add retries). */
	(void) reindex(ws);
	poke(ws);
	return 0;
}

size_t
workers_count(const struct workers *ws)
{
	return ws->n;
}

struct worker *
workers_at(const struct workers *ws, size_t i)
{
	return i < ws->n ? ws->items[i] : NULL;
}

struct worker *
worker_find(const struct workers *ws, const char *name)
{
	ssize_t k = name_index_get(&ws->index, name);

	return k >= 0 ? ws->items[k] : NULL;
}

size_t
workers_instances(const struct workers *ws)
{
	size_t n = 0;

	for (size_t i = 0; i < ws->n; i++)
		n += ws->items[i]->n_instances;
	return n;
}

bool
workers_all_joined(const struct workers *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		if (!ws->items[i]->joined)
			return false;
	return true;
}

bool
workers_own_process(const struct workers *ws, pid_t pid, pid_t pgid)
{
	for (size_t i = 0; i < ws->n; i++)
		for (unsigned j = 0; j < n_all(ws->items[i]); j++) {
			const struct instance *in = instance_at(ws->items[i], j);

			if (in->running && (pid == in->pid || pgid == in->pid))
				return true;
			/* What its process left in its group, which its stopper stops. */
			if (!in->running && in->pgid > 0 && pgid == in->pgid)
				return true;
		}
	return false;
}

usec_t
workers_extended(const struct workers *ws)
{
	usec_t extended = 0;

	for (size_t i = 0; i < ws->n; i++)
		for (unsigned j = 0; j < n_all(ws->items[i]); j++)
			extended = MAX(extended, instance_at(ws->items[i], j)->extended);
	return extended;
}

const char *
workers_trigger_reason(const struct workers *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		if (ws->items[i]->trigger[0])
			return ws->items[i]->trigger;
	return NULL;
}

const char *
worker_name(const struct worker *w)
{
	return w->name;
}

const struct worker_config *
worker_config(const struct worker *w)
{
	return w->config;
}

unsigned
worker_n_instances(const struct worker *w)
{
	return w->n_instances;
}

/* The readiness rule's view of the instance; one of autostart = no never started is inactive. */
static enum instance_readiness
instance_readiness(const struct instance *in)
{
	if (!in->worker->config->autostart && !in->worker->started && !in->running)
		return READINESS_INACTIVE;
	/* Stopped on request (gracectl stop), or on its way there: the operator took it out of
	 * the service, which does not wait for it (/ready), as for one never started. */
	if ((in->worker->halted || in->worker->halting) && !in->running)
		return READINESS_INACTIVE;
	return policy_instance_readiness(in->running, in->ready, in->failed, in->finished);
}

void
worker_instance_info(const struct worker *w, unsigned i, struct worker_instance_info *ret)
{
	const struct instance *in = w->instances[i];

	*ret = (struct worker_instance_info) {
		.name = in->name,
		.index = in->index,
		.pid = in->running ? in->pid : 0,
		.last_pid = in->last_pid,
		.signalled_at = w->signalled_at,
		.started_at = in->running ? in->started_at : 0,
		.running = in->running,
		.ready = in->ready,
		.failed = in->failed,
		.finished = in->finished,
		.readiness = instance_readiness(in),
		.ended = in->ended,
		.status = in->status,
		.outcome = in->outcome,
		.step = in->step,
		.exited_at = in->exited_at,
		.restarts = in->n_starts > 0 ? in->n_starts - 1 : 0,
		.worker_step = w->step,
		.stopping = w->halting,
		.stopped = w->halted,
	};
}

const char *
worker_instance_status(const struct worker *w, unsigned i)
{
	return notify_worker_status(w->instances[i]);
}

void
workers_free_groups(struct workers *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		for (unsigned j = 0; j < n_all(ws->items[i]); j++) {
			struct instance *in = instance_at(ws->items[i], j);

			if (in->group && task_group_free(in->group) == 0)
				in->group = NULL;
		}
}

bool
worker_serving(const struct worker *w)
{
	for (unsigned i = 0; i < w->n_instances; i++) {
		const struct instance *in = w->instances[i];

		if (!policy_instance_serving(instance_readiness(in)))
			return false;
	}
	return true;
}

int
instance_signal(struct instance *in, int sig, bool group, enum phase step)
{
	char pid[16];
	pid_t target;

	if (sig == SIGNAL_NONE || !in->running || in->pid <= 0)
		return 0;
	target = group ? -in->pid : in->pid;
	snprintf(pid, sizeof(pid), "%ld", (long) in->pid);
	log_fields(LOG_INFO, 0,
	    LOG_FIELDS({ "worker", in->name }, { "step", phase_to_string(step) },
		{ "signal", signal_to_string(sig) }, { "pid", pid },
		{ "target", group ? "group" : "main" }),
	    "Sending %s to worker '%s' (pid %s%s)", signal_to_string(sig), in->name, pid,
	    group ? ", whole process group" : "");
	if (kill(target, sig) < 0 && errno != ESRCH)
		return log_warning_errno(errno, "Failed to send %s to worker '%s' (pid %s), continuing",
		    signal_to_string(sig), in->name, pid);
	return 0;
}

static bool stopper_owns(const struct instance *in);

void
worker_signal(struct worker *w, int sig, bool group, enum phase step)
{
	for (unsigned i = 0; i < n_all(w); i++) {
		/* A replaced instance whose own steps run got its intake signal from them. */
		if (step == PHASE_INTAKE && !stopper_owns(instance_at(w, i)))
			continue;
		(void) instance_signal(instance_at(w, i), sig, group, step);
	}
}

void
worker_kill_now(struct worker *w)
{
	worker_signal(w, SIGKILL, true, PHASE_JOIN);
	w->joined = true;
	poke(w->set);
}

static void
describe_status(int status, char *buf, size_t n)
{
	if (WIFEXITED(status))
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, n, "killed by %s%s", signal_to_string(WTERMSIG(status)),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(buf, n, "ended with wait status 0x%x", (unsigned) status);
}

/* Records how the process ended, and wakes its stopper. */
static void
record_exit(struct instance *in, int status)
{
	struct worker *w = in->worker;
	struct shutdown *sd = shutdown_of(w);
	pid_t pid = in->pid;
	/* Its own stop (gracectl stop), and the retirement of a replaced instance (a rolling
	 * restart), judge the exit as the shutdown would. */
	bool stopping = sd->stopping || w->halting || in->retired;
	/* A retired one's steps are its own (retire_stop()); it runs with the old config. */
	const struct worker_config *c = in->retired && w->prev_config ? w->prev_config : w->config;
	enum phase step = in->retired && in->retire_step >= 0 ? in->retire_step :
	    w->step >= 0 ? w->step : sd->phase;
	bool killed = in->retired ? in->retire_killed : w->killed;
	char what[96], pidbuf[16];

	in->running = false;
	in->ended = true;
	in->exits++;
	in->status = status;
	in->exited_at = now_usec();
	in->step = !stopping ? _PHASE_INVALID : step;
	in->outcome = policy_exit_outcome(c, status, stopping, in->step, killed,
	    shutdown_stop_signal(sd, c->shutdown.stop_signal));
	/* What it leaves in its process group during the shutdown is still the worker's: its
	 * stopper signals the group and waits until it is empty (group_left()). Before the
	 * shutdown, or once the kill signal went to the main process only (kill_mode = main), it is
	 * a straggler's. */
	in->pgid = stopping &&
		!(killed && c->shutdown.kill_mode == KILL_MODE_MAIN) ? pid : 0;
	notify_worker_disarm(in);

	describe_status(status, what, sizeof(what));
	snprintf(pidbuf, sizeof(pidbuf), "%ld", (long) pid);
	log_fields(in->outcome == OUTCOME_FAILED ? LOG_WARNING : LOG_INFO, 0,
	    LOG_FIELDS({ "worker", in->name }, { "event", "exit" }, { "pid", pidbuf },
		{ "outcome", outcome_to_string(in->outcome) }),
	    "Worker '%s' (pid %s) %s", in->name, pidbuf, what);

	task_event_set(&in->wake);
	task_event_set(&w->wake);
	/* The supervisor counts what is left (an instance that gave up is over once reaped). */
	task_event_set(ctx_of(w)->changed);
}

/*
 * Waits until the process has ended (and records it), or the deadline: 0, -ETIMEDOUT or
 * -ECANCELED. The instance task is the process's only waiter; the runtime keeps an exit that
 * comes while the task is busy elsewhere (probing readiness, reading the exec report).
 */
static int
wait_exit(struct instance *in, usec_t deadline)
{
	int status, r;

	if (!in->running)
		return 0;
	if ((r = task_wait_child(in->pid, deadline, &status)) < 0)
		return r;
	record_exit(in, status);
	return 0;
}

/*
 * The watch of a running process: wait_exit() inside a scope of its own, which the worker's
 * stopper cancels at the cancel step ("shutdown step cancel"). Only the watch is cancelled:
 * worker_instance_task() reaps the process afterwards, outside it.
 */
static int
watch_exit(struct instance *in)
{
	struct task_scope watch;
	int r;

	if ((r = task_scope_enter(&watch, USEC_INFINITY)) < 0)
		return r;
	in->watch = &watch;
	r = wait_exit(in, USEC_INFINITY);
	in->watch = NULL;
	(void) task_scope_leave(&watch);
	return r;
}

/* Waits for the exec outcome on the error pipe: 0 once the exec succeeded. */
static int
wait_exec(struct instance *in, const struct worker_params *wp, int errfd, usec_t deadline)
{
	enum spawn_stage stage = SPAWN_STAGE_NONE;
	int r;

	while ((r = spawn_read_error(errfd, &stage)) == -EAGAIN)
		if ((r = task_wait_fd(errfd, TASK_FD_READ, deadline)) < 0)
			break;
	if (r == -ETIMEDOUT)
		return log_fields(LOG_ERR, r, INSTANCE_FIELDS(in, "exec-failed"),
		    "Worker '%s' (pid %ld) did not exec within start_timeout", in->name, (long) in->pid);
	if (r == -EPROTO)
		return log_error_errno(r, "Worker '%s': garbled report from the child", in->name);
	if (r < 0 && stage != SPAWN_STAGE_NONE)
		log_fields(LOG_ERR, r, INSTANCE_FIELDS(in, "exec-failed"),
		    "Failed to start worker '%s' (%s '%s')", in->name, spawn_stage_to_string(stage),
		    stage == SPAWN_STAGE_DIRECTORY ? strempty(wp->directory) :
		    stage == SPAWN_STAGE_USER      ? strempty(in->worker->config->user) :
						       wp->argv[0]);
	else if (r < 0)
		log_fields(LOG_ERR, r, INSTANCE_FIELDS(in, "exec-failed"),
		    "Failed to learn whether worker '%s' started", in->name);
	return r;
}

/* Forks the process with its pipes, and starts the tasks that serve it. */
static int
start_process(struct instance *in)
{
	struct worker *w = in->worker;
	struct worker_context *ctx = ctx_of(w);
	const struct worker_config *c = w->config;
	int stop[2] = { -1, -1 };
	struct output_route route;
	_cleanup_free_ char *fdnames = NULL;
	_cleanup_free_ int *fds = NULL;
	int errfd = -1, r;
	_cleanup_(worker_params_done) struct worker_params wp = {};
	struct spawn_params p = {
		.user = c->user,
		.group = c->group,
		.umask = c->umask,
		.set_umask = c->has_umask,
		.stdin_fd = -1,
		.stdout_fd = -1,
		.stderr_fd = -1,
		.stop_fd_index = -1,
		.foreground = ctx->foreground,
		.limits = &c->limits,
	};
	_cleanup_free_ char **env = NULL;
	char pid[16];
	pid_t child;

	/* ${INSTANCE} expanded, GRACED_WORKER and GRACED_INSTANCE, environment_file read now. */
	if ((r = worker_params_build(c, in->index, &wp)) < 0)
		return r;
	p.argv = wp.argv;
	p.environment = wp.environment;
	p.directory = wp.directory;
	/* The sockets= intakes first, from fd 3 in sockets= order (LISTEN_FDS), then the stop pipe. */
	if (!(fds = calloc(strv_length(c->sockets) + 1, sizeof(int))))
		return -ENOMEM;
	p.fds = fds;
	for (char **s = c->sockets; s && *s; s++) {
		if ((r = intake_socket_fd(ctx->intakes, *s)) < 0)
			return log_error_errno(r, "Worker '%s': no socket of intake '%s'", in->name, *s);
		fds[p.n_fds++] = r;
	}
	if ((p.listen_fds = p.n_fds) > 0) {
		if (!(fdnames = strv_join(c->sockets, ":")))
			return -ENOMEM;
		p.listen_fdnames = fdnames;
	}
	if (notify_worker_wanted(in)) {
		size_t n = strv_length(wp.environment);

		if ((r = notify_worker_open(in)) < 0)
			return log_error_errno(r, "Failed to create the NOTIFY_SOCKET of worker '%s'",
			    in->name);
		/* Its own NOTIFY_SOCKET, set after graced's own is removed from the environment. */
		if (!(env = calloc(n + 2, sizeof(char *))))
			return -ENOMEM;
		if (n > 0)
			memcpy(env, wp.environment, n * sizeof(char *));
		env[n] = (char *) notify_worker_environment(in);
		p.environment = env;
	}
	if ((r = output_route_open(c, in->name, &route)) < 0)
		return r;
	p.stdout_fd = route.child_out;
	p.stderr_fd = route.child_err;
	if (c->shutdown.stop_fd) {
		if (pipe2(stop, O_CLOEXEC) < 0) {
			r = -errno;
			goto fail;
		}
		fds[p.n_fds] = stop[0];
		p.stop_fd_index = (int) p.n_fds++;
	}

	r = spawn_process(&p, &child, &errfd);
	if (r == -ESRCH) {
		log_fields(LOG_ERR, 0, INSTANCE_FIELDS(in, "spawn-failed"),
		    "Failed to start worker '%s': unknown user '%s' or group '%s'", in->name,
		    strempty(c->user), strempty(c->group));
		goto fail;
	}
	if (r < 0) {
		log_fields(LOG_ERR, r, INSTANCE_FIELDS(in, "spawn-failed"),
		    "Failed to start worker '%s'", in->name);
		goto fail;
	}
	in->pid = child;
	in->running = true;
	in->last_pid = child;
	in->started_at = now_usec();
	notify_worker_started(in);
	safe_close(stop[0]);
	safe_close(in->stop_fd);
	in->stop_fd = stop[1];

	/* Interest in the pid at once: an exit reaped before the task waits for it is kept. */
	(void) task_runtime_watch_child(ctx->rt, child);
	snprintf(pid, sizeof(pid), "%ld", (long) child);
	output_route_start(&route, in->group, in->name);
	output_route_close(&route);

	log_fields(LOG_INFO, 0, LOG_FIELDS({ "worker", in->name }, { "event", "start" }, { "pid", pid }),
	    "Started worker '%s' (pid %s): %s", in->name, pid, c->command ? c->command : c->argv[0]);
	r = wait_exec(in, &wp, errfd, usec_add(now_usec(), c->start_timeout));
	safe_close(errfd);
	return r;

fail:
	output_route_close(&route);
	safe_close(stop[0]), safe_close(stop[1]);
	return r;
}

/*
 * Waits on the instance's wake event until done(in) holds, the deadline passes, or the event end
 * is set (the shutdown trigger, the stop event), or the worker's own stop began: 0, -ETIMEDOUT,
 * or -ECANCELED.
 */
static int
wait_until(struct instance *in, bool (*done)(const struct instance *), struct task_event *end,
    usec_t deadline)
{
	for (;;) {
		struct task_clause c[] = {
			{ .kind = TASK_CLAUSE_EVENT, .event = end },
			{ .kind = TASK_CLAUSE_EVENT, .event = &in->worker->halt },
			{ .kind = TASK_CLAUSE_EVENT, .event = &in->retire },
			{ .kind = TASK_CLAUSE_EVENT, .event = &in->wake },
		};
		int r;

		task_event_reset(&in->wake);
		if (done(in))
			return 0;
		if ((r = task_wait_any(c, ELEMENTSOF(c), deadline)) >= 0 && r <= 2)
			return -ECANCELED;
		if (r < 0)
			return r;
	}
}

/*
 * The clauses every wait of the start (readiness) phase ends on besides its own: the shutdown
 * trigger (clause 0: the phase is over, -ECANCELED), the process's exit (clause 1), the
 * worker's own stop (clause 2, as the trigger) and the instance's retirement (clause 3: a
 * rolling restart replaced it, as the trigger).
 */
#define START_CLAUSES(in)                                                                          \
	{ .kind = TASK_CLAUSE_EVENT, .event = &shutdown_of((in)->worker)->trigger },               \
	    { .kind = TASK_CLAUSE_CHILD, .pid = (in)->pid },                                       \
	    { .kind = TASK_CLAUSE_EVENT, .event = &(in)->worker->halt },                           \
	    { .kind = TASK_CLAUSE_EVENT, .event = &(in)->retire }

/* What task_wait_any() returned for START_CLAUSES(): -ECANCELED at the trigger, the worker's
 * own stop or the retirement, -ECHILD (the exit recorded) when the process ended, else r (its
 * own clause's index, or an error). */
static int
start_clause_result(struct instance *in, const struct task_clause *c, int r)
{
	if (r == 0 || r == 2 || r == 3)
		return -ECANCELED;
	if (r == 1) {
		record_exit(in, c[1].status);
		return -ECHILD;
	}
	return r;
}

/* Until the deadline (-ETIMEDOUT), the trigger or the process's exit. */
static int
wait_start_phase(struct instance *in, usec_t deadline)
{
	struct task_clause c[] = { START_CLAUSES(in) };

	return start_clause_result(in, c, task_wait_any(c, ELEMENTSOF(c), deadline));
}

/* A non-blocking connect to 127.0.0.1:port: 0 once something accepts; -ECANCELED, -ECHILD as
 * wait_start_phase(). */
static int
probe_tcp(struct instance *in, uint16_t port, usec_t deadline)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct task_clause c[] = {
		START_CLAUSES(in),
		{ .kind = TASK_CLAUSE_FD, .fd = fd, .events = TASK_FD_WRITE },
	};
	socklen_t len = sizeof(int);
	int r, error = 0;

	if (fd < 0)
		return -errno;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	if ((r = start_clause_result(in, c, task_wait_any(c, ELEMENTSOF(c), deadline))) < 0)
		return r;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
		return -errno;
	return -error;
}

/*
 * ready = notify: until the process (or one of its process group) sends READY=1, which wakes
 * this through the instance's wake event, as its exit and the trigger do. Its
 * EXTEND_TIMEOUT_USEC= moves the deadline past start_timeout.
 */
static int
wait_notified(struct instance *in, usec_t deadline)
{
	for (;;) {
		usec_t d = MAX(deadline, in->extended);
		struct task_clause c[] = {
			START_CLAUSES(in),
			{ .kind = TASK_CLAUSE_EVENT, .event = &in->wake },
		};
		int r;

		task_event_reset(&in->wake);
		if (in->notified_ready)
			return 0;
		r = start_clause_result(in, c, task_wait_any(c, ELEMENTSOF(c), d));
		/* An EXTEND_TIMEOUT_USEC= that came with the deadline still counts. */
		if (r == -ETIMEDOUT && (in->notified_ready || MAX(deadline, in->extended) > d))
			continue;
		if (r < 0)
			return r;
	}
}

/* ready = none | notify | delay:DUR | tcp:PORT, within start_timeout; the process may die
 * meanwhile. */
static int
wait_ready(struct instance *in)
{
	const struct worker_config *c = in->worker->config;
	usec_t deadline = usec_add(now_usec(), c->start_timeout);
	int r;

	switch (c->ready.kind) {
	case READY_NONE:
		return 0;
	case READY_DELAY:
		if (c->ready.delay >= c->start_timeout)
			return -ETIMEDOUT;
		r = wait_start_phase(in, usec_add(now_usec(), c->ready.delay));
		return r == -ETIMEDOUT ? 0 : r;
	case READY_TCP:
		for (;;) {
			usec_t next = MIN(usec_add(now_usec(), READY_TCP_INTERVAL), deadline);

			/* The worker's config is read afresh: a rolling restart may repoint it. */
			r = probe_tcp(in, worker_params_ready_port(in->worker->config, in->index), next);
			if (r == 0 || r == -ECANCELED || r == -ECHILD)
				return r;
			if (now_usec() >= deadline)
				return -ETIMEDOUT;
			/* The rest of the interval, if the probe was refused at once. */
			if ((r = wait_start_phase(in, next)) != -ETIMEDOUT)
				return r;
		}
	case READY_NOTIFY:
		return wait_notified(in, deadline);
	default:
		/* parse_ready() produces no other kind. */
		return -EINVAL;
	}
}

/* Gives up on the instance; a critical worker asks for the shutdown (the supervisor waits on
 * the changed event and asks workers_trigger_reason()). */
static void
mark_failed(struct instance *in, const char *why)
{
	struct worker *w = in->worker;

	in->failed = true;
	in->outcome = OUTCOME_FAILED;
	w->start_failed = true;
	log_fields(LOG_ERR, 0, INSTANCE_FIELDS(in, "failed"), "Worker '%s' failed: %s", in->name, why);
	if (w->config->critical && !w->trigger[0])
		snprintf(w->trigger, sizeof(w->trigger), "critical worker '%s' failed", in->name);
	/* A one-shot's failure stops the start-up (not one started by gracectl start). */
	if (w->config->type == WORKER_ONESHOT && !w->on_demand && !w->trigger[0])
		snprintf(w->trigger, sizeof(w->trigger), "one-shot worker '%s' failed", in->name);
	poke(w->set);
}

/* Where in is among the worker's extra instances, or -1. */
static int
extra_index(const struct worker *w, const struct instance *in)
{
	for (unsigned i = 0; i < w->n_extra; i++)
		if (w->extra[i] == in)
			return (int) i;
	return -1;
}

/* Puts in among the extra instances (not in a slot). */
static int
extra_add(struct worker *w, struct instance *in)
{
	struct instance **m = realloc(w->extra, (w->n_extra + 1) * sizeof(*m));

	if (!m)
		return -ENOMEM;
	w->extra = m;
	w->extra[w->n_extra++] = in;
	return 0;
}

/* Out of a slot for good (replaced, or surplus): its waits end, it is neither ready nor
 * restarted, and its exit is judged as at a stop (record_exit()). */
static void
retire(struct instance *in)
{
	struct worker *w = in->worker;

	if (in->ready && w->n_ready > 0)
		w->n_ready--;
	in->ready = false;
	in->retired = true;
	task_event_set(&in->retire);
	poke(w->set);
}

/*
 * A rolling restart's replacement is ready (or, a one-shot, started): it takes its slot, and the
 * instance it replaces goes among the extra ones, retired (the restart task stops it). A
 * replacement for a slot past the last (instances = grew) is appended. The slot counts as ready
 * all along when the old one was: n_ready does not move then.
 */
static void
take_slot(struct instance *in)
{
	struct worker *w = in->worker;
	int k = extra_index(w, in);
	struct instance *old;
	bool was_ready;

	assert(k >= 0 && in->index <= w->n_instances);
	in->replacement = false;
	if (in->index == w->n_instances) {
		/* A new slot: the array was made large enough when the restart began. */
		memmove(&w->extra[k], &w->extra[k + 1], (w->n_extra - (unsigned) k - 1) * sizeof(*w->extra));
		w->n_extra--;
		w->instances[w->n_instances++] = in;
		old = NULL;
	} else {
		old = w->instances[in->index];
		w->instances[in->index] = in;
		w->extra[k] = old;
	}
	was_ready = old && old->ready;
	if (in->ready)
		w->n_ready++;
	if (old)
		retire(old);
	log_fields(LOG_NOTICE, 0, INSTANCE_FIELDS(in, "replaced"),
	    "Worker '%s' (pid %ld) is ready and takes over%s", in->name, (long) in->pid,
	    old && old->running ? ", stopping the one it replaces" : "");
	/* A slot that was not ready (backoff, starting) makes the worker ready now; an added one
	 * does not: the worker was ready before. */
	if (w->n_ready == w->n_instances && old && !was_ready)
		log_fields(LOG_INFO, 0, LOG_FIELDS({ "worker", w->config->name }, { "event", "ready" }),
		    "Worker '%s' is ready", w->config->name);
	poke(w->set);
}

/* A rolling restart's replacement did not get ready: it is stopped (the caller sent it the
 * give-up signal), the instance it would replace is kept. Not a failure of the worker. */
static void
replace_failed(struct instance *in, const char *why)
{
	in->replace_failed = true;
	snprintf(in->why, sizeof(in->why), "%s", why);
	log_fields(LOG_WARNING, 0, INSTANCE_FIELDS(in, "replace-failed"),
	    "Replacement of worker '%s' (pid %ld) %s, keeping the running one", in->name,
	    (long) in->last_pid, why);
	poke(in->worker->set);
}

/* A worker this one is after= that failed to start, or NULL. */
static const char *
failed_dependency(const struct instance *in)
{
	for (char **a = in->worker->config->after; a && *a; a++) {
		struct worker *d = worker_find(in->worker->set, *a);

		if (d && d->start_failed)
			return *a;
	}
	return NULL;
}

static bool
dependencies_settled(const struct instance *in)
{
	if (failed_dependency(in))
		return true;
	for (char **a = in->worker->config->after; a && *a; a++) {
		struct worker *d = worker_find(in->worker->set, *a);

		for (unsigned i = 0; d && i < d->n_instances; i++)
			if (!policy_dependency_met(d->config->type, instance_readiness(d->instances[i])))
				return false;
	}
	return true;
}

static void
record_start(struct instance *in)
{
	unsigned burst = in->worker->config->start_limit_burst;

	if (burst > 0)
		in->starts[in->n_starts % burst] = now_usec();
	in->n_starts++;
}

/*
 * on_exit, after an exit of the instance (s6's finish script): run from the instance's task, so
 * a restart waits for it, bounded by hook_timeout, at which its process group is killed (and
 * worker_stop_task() waits for the hooks of the final exits). Its environment says which exit:
 * GRACED_WORKER, GRACED_INSTANCE, GRACED_EXIT_STATUS (the code, empty after a signal),
 * GRACED_TERM_SIGNAL (e.g. SIGTERM, or empty) and GRACED_OUTCOME. A hook that fails is logged,
 * nothing more.
 */
static void
run_exit_hook(struct instance *in)
{
	struct worker *w = in->worker;
	const struct worker_config *c = w->config;
	char worker[sizeof("GRACED_WORKER=") + 160], index[48], status[48], sig[64], outcome[64];
	char *env[] = { worker, index, status, sig, outcome, NULL };
	char what[64], d[DURATION_MAX];
	struct command_result res;
	unsigned exits = in->exits;
	int r;

	if (in->hooked == exits)
		return;
	if (!c->on_exit) {
		in->hooked = exits;
		return;
	}
	snprintf(worker, sizeof(worker), "GRACED_WORKER=%s", c->name);
	snprintf(index, sizeof(index), "GRACED_INSTANCE=%u", in->index);
	if (WIFEXITED(in->status))
		snprintf(status, sizeof(status), "GRACED_EXIT_STATUS=%d", WEXITSTATUS(in->status));
	else
		snprintf(status, sizeof(status), "GRACED_EXIT_STATUS=");
	snprintf(sig, sizeof(sig), "GRACED_TERM_SIGNAL=%s",
	    WIFSIGNALED(in->status) ? signal_to_string(WTERMSIG(in->status)) : "");
	snprintf(outcome, sizeof(outcome), "GRACED_OUTCOME=%s", outcome_to_string(in->outcome));

	r = command_run_env(ctx_of(w)->rt, ctx_of(w)->reaper, c->on_exit, env,
	    usec_add(now_usec(), c->hook_timeout), &res);
	command_describe(&res, what, sizeof(what));
	if (r < 0)
		log_fields(LOG_WARNING, r, INSTANCE_FIELDS(in, "hook-failed"),
		    "Exit hook of worker '%s' could not run (%s '%s'), continuing", in->name,
		    spawn_stage_to_string(res.stage), c->on_exit[0]);
	else if (res.killed && !res.cancelled)
		log_fields(LOG_WARNING, 0, INSTANCE_FIELDS(in, "hook-timeout"),
		    "Exit hook of worker '%s' did not end within hook_timeout %s, killed, "
		    "continuing", in->name, format_duration(d, sizeof(d), c->hook_timeout));
	else if (!res.killed && WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0)
		log_fields(LOG_INFO, 0, INSTANCE_FIELDS(in, "hook"), "Exit hook of worker '%s': %s",
		    in->name, what);
	else
		log_fields(LOG_WARNING, 0, INSTANCE_FIELDS(in, "hook-failed"),
		    "Exit hook of worker '%s' failed: %s, continuing", in->name, what);
	in->hooked = exits;
	/* The stopper may wait for it (worker_stop_task()). */
	task_event_set(&w->wake);
}

/* The shutdown was triggered, or the worker's own stop began, or a rolling restart replaced
 * the instance: no more starts or restarts. */
static bool
ending(const struct instance *in)
{
	return task_event_is_set(&shutdown_of(in->worker)->trigger) ||
	    task_event_is_set(&in->worker->halt) || in->retired;
}

/*
 * A one-shot's process, started: until it exits, never restarted. A successful exit (success_status)
 * finishes it, which lets its dependents start; any other gives up on it, which stops the start-up
 * (mark_failed()). The shutdown ends the wait: the stopper runs its five steps on the process.
 */
static void
run_oneshot(struct instance *in)
{
	char what[96], why[160];

	if (watch_exit(in) < 0 || ending(in))
		return;
	/* Read now: a rolling restart may have repointed the worker meanwhile. */
	if (policy_exit_is_clean(in->worker->config, in->status)) {
		in->finished = true;
		log_fields(LOG_INFO, 0, INSTANCE_FIELDS(in, "completed"),
		    "One-shot worker '%s' completed", in->name);
		poke(in->worker->set);
		return;
	}
	describe_status(in->status, what, sizeof(what));
	snprintf(why, sizeof(why), "one-shot %s", what);
	mark_failed(in, why);
}

/* Runs the instance until the shutdown or until it gives up; returns when its process is gone. */
static void
run_instance(struct instance *in)
{
	struct worker *w = in->worker;
	struct shutdown *sd = shutdown_of(w);
	const struct worker_config *c = w->config;
	unsigned failures = 0;
	char why[160], d[DURATION_MAX];
	const char *dep;
	int r;

	/* Until every worker it is after= is ready, or the shutdown makes that moot (a rolling
	 * restart's replacement starts at once: its worker runs). */
	if (!in->replacement &&
	    wait_until(in, dependencies_settled, &sd->trigger, USEC_INFINITY) < 0)
		return;
	if (!in->replacement && (dep = failed_dependency(in))) {
		snprintf(why, sizeof(why), "not started, worker '%s' it is after= failed", dep);
		mark_failed(in, why);
		return;
	}

	/* Restarted until the shutdown begins, or the worker's own stop. */
	while (!ending(in)) {
		usec_t delay;

		/* Read afresh each time: a rolling restart or a reload may have repointed the
		 * worker (worker_restart(), worker_set_config()). */
		c = w->config;
		record_start(in);
		if ((r = start_process(in)) < 0) {
			/* A child that reported its failure exits at once (126, 127): let that status
			 * arrive. One that did not exec in time gets the kill signal first (spawn.c's
			 * CLONE_VFORK returns only after the exec, but valgrind makes it a fork()). */
			if (in->running && r == -ETIMEDOUT)
				(void) instance_signal(in, policy_give_up_signal(c), true, PHASE_INTAKE);
			(void) wait_exit(in, usec_add(now_usec(), c->start_timeout));
			if (in->replacement)
				replace_failed(in, "could not be started");
			else
				mark_failed(in, "could not be started");
			return;
		}
		if (c->type == WORKER_ONESHOT) {
			if (in->replacement)
				take_slot(in);
			run_oneshot(in);
			return;
		}
		if (!in->ready) {
			/* The shutdown trigger ends the start phase: -ECANCELED. */
			r = wait_ready(in);
			if (r == -ECANCELED)
				return;
			if (r < 0) {
				snprintf(why, sizeof(why), "%s",
				    r == -ECHILD ? "exited before it was ready" :
				    r == -ETIMEDOUT ? "not ready within start_timeout" :
						      "readiness check failed");
				(void) instance_signal(in, policy_give_up_signal(c), true, PHASE_INTAKE);
				if (in->replacement)
					replace_failed(in, why);
				else
					mark_failed(in, why);
				return;
			}
			in->ready = true;
			if (in->replacement)
				take_slot(in);
			else if (++w->n_ready == w->n_instances)
				log_fields(LOG_INFO, 0, LOG_FIELDS({ "worker", c->name }, { "event", "ready" }),
				    "Worker '%s' is ready", c->name);
			poke(w->set);
		}

		/* Until it ends: on its own, or because the shutdown's stopper told it to (then this
		 * watch is cancelled at its cancel step; worker_instance_task() still reaps it), or
		 * a rolling restart's (it was replaced: retired, its exit is not judged). */
		if (watch_exit(in) < 0 || ending(in))
			return;
		c = w->config;
		/* Gone, so not ready: a restarted process is checked again like the first. */
		in->ready = false;
		w->n_ready--;

		if (c->critical) {
			if (!w->trigger[0])
				snprintf(w->trigger, sizeof(w->trigger), "critical worker '%s' exited",
				    in->name);
			poke(w->set);
			return;
		}
		if (c->restart == RESTART_NO ||
		    (c->restart == RESTART_ON_FAILURE && policy_exit_is_clean(c, in->status))) {
			/* Done for good. A clean one-shot is not missing from the service (/ready);
			 * a worker that died of a failure with nothing to restart it is. */
			if (policy_exit_is_clean(c, in->status))
				in->finished = true;
			else
				in->failed = true;
			poke(w->set);
			return;
		}
		/* A restart waits for the exit hook (bounded by hook_timeout). */
		run_exit_hook(in);
		failures = policy_exit_is_clean(c, in->status) ? 0 : failures + 1;
		delay = policy_restart_backoff(c, failures);
		if (policy_start_limit_hit(c, in->starts, in->n_starts, usec_add(now_usec(), delay))) {
			snprintf(why, sizeof(why), "started %u times within %s (start_limit), giving up",
			    c->start_limit_burst, format_duration(d, sizeof(d), c->start_limit_interval));
			mark_failed(in, why);
			return;
		}
		log_fields(LOG_INFO, 0, INSTANCE_FIELDS(in, "restart"), "Restarting worker '%s' in %s",
		    in->name, format_duration(d, sizeof(d), delay));
		/* No restart once the shutdown began (the loop's condition); an instance with no
		 * process has nothing to stop, and the stop step ends its wait, as does the
		 * worker's own stop. */
		{
			struct task_clause wake[] = {
				{ .kind = TASK_CLAUSE_EVENT, .event = &sd->stop },
				{ .kind = TASK_CLAUSE_EVENT, .event = &w->halt },
				{ .kind = TASK_CLAUSE_EVENT, .event = &in->retire },
			};

			if (task_wait_any(wake, ELEMENTSOF(wake), usec_add(now_usec(), delay)) !=
			    -ETIMEDOUT)
				return;
		}
	}
}

static int
instance_run(struct instance *in)
{
	int r;

	run_instance(in);

	/* Whatever process is left is the stopper's to signal; this task still reaps it. */
	r = wait_exit(in, USEC_INFINITY);
	notify_worker_close(in);
	if (r < 0)
		return r;
	/* The last exit's hook (a restart's ran before it). */
	run_exit_hook(in);
	/* Then let its output reach EOF, so no line is lost, but not forever: a descendant may
	 * still hold the pipe. */
	if (task_group_join(in->group, usec_add(now_usec(), OUTPUT_DRAIN_TIMEOUT)) == -ETIMEDOUT)
		task_group_cancel_because(in->group, "output not at EOF in time");
	return 0;
}

static int
instance_task(void *arg)
{
	struct instance *in = arg; /* owned by its worker, which outlives the task */
	int r = instance_run(in);

	/* The last touch of in: from here on the worker may be removed (idle()). Its own stop
	 * waits for this. */
	in->task_alive = false;
	task_event_set(&in->worker->wake);
	return r;
}

/*
 * Whether the worker's stopper (its own stop, or the shutdown's) acts on the instance: every one
 * but a retired one whose own steps run (retire_stop(), a rolling restart's). Those began before
 * and are bounded by their own budgets; a second stopper would signal it again and mix its step,
 * extension and kill state into the other's. The shutdown's stopper waits for them afterwards.
 */
static bool
stopper_owns(const struct instance *in)
{
	return !in->retire_stopping;
}

/* The worker's stopper's instances (stopper_owns()) that run. */
static bool
any_running(const struct worker *w)
{
	for (unsigned i = 0; i < n_all(w); i++)
		if (stopper_owns(instance_at(w, i)) && instance_at(w, i)->running)
			return true;
	return false;
}

/* Every worker that is after= this one has been joined. */
static bool
dependents_joined(const struct worker *w)
{
	for (size_t i = 0; i < w->set->n; i++) {
		const struct worker *d = w->set->items[i];

		if (!d->joined && strv_contains(d->config->after, w->config->name))
			return false;
	}
	return true;
}

/* The later of deadline and the latest EXTEND_TIMEOUT_USEC= of its stopper's instances. */
static usec_t
extended_deadline(const struct worker *w, usec_t deadline)
{
	for (unsigned i = 0; i < n_all(w); i++)
		if (stopper_owns(instance_at(w, i)))
			deadline = MAX(deadline, instance_at(w, i)->extended);
	return deadline;
}

static void
reset_extensions(struct worker *w)
{
	for (unsigned i = 0; i < n_all(w); i++)
		if (stopper_owns(instance_at(w, i)))
			instance_at(w, i)->extended = 0;
}

/*
 * Waits on the worker's wake event until done(w) holds or the deadline: 0, -ETIMEDOUT, or
 * -ECANCELED. With extendable, an instance's EXTEND_TIMEOUT_USEC= moves the deadline (stop and
 * join budgets).
 */
static int
wait_worker(struct worker *w, bool (*done)(const struct worker *), usec_t deadline,
    bool extendable)
{
	for (;;) {
		usec_t d = extendable ? extended_deadline(w, deadline) : deadline;
		int r;

		task_event_reset(&w->wake);
		if (done(w))
			return 0;
		if ((r = task_event_wait(&w->wake, d)) < 0) {
			if (r == -ETIMEDOUT && extendable && extended_deadline(w, deadline) > d)
				continue;
			return r;
		}
	}
}

/* Processes are left in the process group of the instance's ended process, which its stopper
 * stops (record_exit()): false once the group is empty. */
static bool
group_left(struct instance *in)
{
	if (in->running || in->pgid <= 0)
		return false;
	if (kill(-in->pgid, 0) < 0 && errno == ESRCH) {
		in->pgid = 0;
		return false;
	}
	return true;
}

static bool
any_group_left(struct worker *w)
{
	bool left = false;

	for (unsigned i = 0; i < n_all(w); i++)
		if (stopper_owns(instance_at(w, i)))
			left = group_left(instance_at(w, i)) || left;
	return left;
}

static void
signal_group_left(struct instance *in, int sig, enum phase step)
{
	char pgid[16];

	snprintf(pgid, sizeof(pgid), "%ld", (long) in->pgid);
	log_fields(LOG_INFO, 0,
	    LOG_FIELDS({ "worker", in->name }, { "step", phase_to_string(step) },
		{ "signal", signal_to_string(sig) }, { "pid", pgid }, { "target", "group-left" }),
	    "Sending %s to what worker '%s' left in its process group %s", signal_to_string(sig),
	    in->name, pgid);
	if (kill(-in->pgid, sig) < 0 && errno != ESRCH)
		log_warning_errno(errno, "Failed to send %s to process group %s of worker '%s', "
		    "continuing", signal_to_string(sig), pgid, in->name);
}

/* A group left behind gets the signal of the step at once (and SIGCONT, so a stopped process
 * acts on it): whatever the main process got, and whenever it ended. */
static void
catch_up_groups(struct worker *w)
{
	for (unsigned i = 0; i < n_all(w); i++) {
		struct instance *in = instance_at(w, i);

		if (!stopper_owns(in) || w->step_signal == 0 || in->group_signal == w->step_signal ||
		    !group_left(in))
			continue;
		in->group_signal = w->step_signal;
		signal_group_left(in, w->step_signal, w->step);
		signal_group_left(in, SIGCONT, w->step);
	}
}

/* The worker's instances as the stopper's target (stopper.h): their processes, and what each
 * left in its process group when it ended during the shutdown. */
static void
op_signal(void *target, int sig, bool group, enum phase step)
{
	struct worker *w = target;
	bool step_signal = sig != SIGCONT && (step == PHASE_STOP || step == PHASE_CANCEL);

	/* The start of its part of the shutdown, as the report and --timeline show it. */
	if (!w->signalled_at)
		w->signalled_at = now_usec();
	if (step_signal)
		w->step_signal = sig;
	for (unsigned i = 0; i < n_all(w); i++) {
		struct instance *in = instance_at(w, i);

		if (!stopper_owns(in))
			continue;
		if (in->running) {
			(void) instance_signal(in, sig, group, step);
			if (step_signal && group)
				in->group_signal = sig;
		} else if (group_left(in)) {
			signal_group_left(in, sig, step);
			if (step_signal)
				in->group_signal = sig;
		}
	}
}

static bool
op_alive(void *target)
{
	return any_running(target) || any_group_left(target);
}

/* Until no process and no group left behind is alive, or the deadline (an EXTEND_TIMEOUT_USEC=
 * may move it when extendable). An exit wakes it (the instance's record_exit(), or an orphan
 * reaped: workers_orphan_reaped()); a group left behind is also looked at every
 * GROUP_LEFT_INTERVAL. */
static void
op_wait(void *target, usec_t deadline, bool extendable)
{
	struct worker *w = target;

	for (;;) {
		usec_t d = extendable ? extended_deadline(w, deadline) : deadline;
		bool left;
		int r;

		task_event_reset(&w->wake);
		catch_up_groups(w);
		left = any_group_left(w);
		if (!left && !any_running(w))
			return;
		if (left)
			d = MIN(d, usec_add(now_usec(), GROUP_LEFT_INTERVAL));
		r = task_event_wait(&w->wake, d);
		if (r == -ETIMEDOUT) {
			if (now_usec() < (extendable ? extended_deadline(w, deadline) : deadline))
				continue;
			return;
		}
		if (r < 0)
			return;
	}
}

static void
op_step(void *target, enum phase p)
{
	struct worker *w = target;

	w->step = p;
	/* An EXTEND_TIMEOUT_USEC= counts for the step it was sent in (the cancel step's join
	 * wait is part of the join step). */
	if (p != PHASE_CANCEL)
		reset_extensions(w);
}

static void
op_stopped(void *target)
{
	struct worker *w = target;

	for (unsigned i = 0; i < n_all(w); i++)
		if (stopper_owns(instance_at(w, i)))
			instance_at(w, i)->stop_fd = safe_close(instance_at(w, i)->stop_fd);
}

/* The cancel step's in-process part: the instances' watches of their processes (not the output
 * pumps, which drain to EOF, nor the notify readers, whose EXTEND_TIMEOUT_USEC= still moves
 * join_timeout). */
static void
op_cancel(void *target)
{
	struct worker *w = target;

	for (unsigned i = 0; i < n_all(w); i++)
		if (stopper_owns(instance_at(w, i)) && instance_at(w, i)->watch)
			task_scope_cancel(instance_at(w, i)->watch, "shutdown step cancel");
}

/* What is left in a group behind an ended process gets the kill signal with kill_mode = group
 * (the instance counts as killed); with kill_mode = main it is left to the straggler stopper. */
static void
op_killing(void *target)
{
	struct worker *w = target;

	w->killed = true;
	for (unsigned i = 0; i < n_all(w); i++) {
		struct instance *in = instance_at(w, i);

		if (!stopper_owns(in) || !group_left(in))
			continue;
		if (w->config->shutdown.kill_mode == KILL_MODE_MAIN) {
			in->pgid = 0;
			continue;
		}
		in->outcome = OUTCOME_KILLED;
		in->step = PHASE_JOIN;
	}
}

static void
op_abandon(void *target)
{
	struct worker *w = target;

	for (unsigned i = 0; i < n_all(w); i++) {
		struct instance *in = instance_at(w, i);
		char pid[16];

		if (!stopper_owns(in))
			continue;
		if (group_left(in)) {
			snprintf(pid, sizeof(pid), "%ld", (long) in->pgid);
			in->outcome = OUTCOME_ABANDONED;
			in->step = PHASE_JOIN;
			log_fields(LOG_ERR, 0,
			    LOG_FIELDS({ "worker", in->name }, { "event", "abandoned" },
				{ "pid", pid }),
			    "What worker '%s' left in its process group %s is still alive "
			    "after %s, abandoning it", in->name, pid,
			    w->config->shutdown.kill_signal != SIGNAL_NONE ? "the kill signal" :
										  "join_timeout");
			continue;
		}
		if (!in->running)
			continue;
		snprintf(pid, sizeof(pid), "%ld", (long) in->pid);
		in->outcome = OUTCOME_ABANDONED;
		in->step = PHASE_JOIN;
		log_fields(LOG_ERR, 0,
		    LOG_FIELDS({ "worker", in->name }, { "event", "abandoned" }, { "pid", pid }),
		    "Worker '%s' (pid %s) is still alive after %s, abandoning it", in->name, pid,
		    w->config->shutdown.kill_signal != SIGNAL_NONE ? "the kill signal" :
									  "join_timeout");
	}
}

static const struct stopper_ops worker_stopper = {
	.signal = op_signal,
	.alive = op_alive,
	.wait = op_wait,
	.step = op_step,
	.stopped = op_stopped,
	.cancel = op_cancel,
	.killing = op_killing,
	.abandon = op_abandon,
};

static bool
hooks_done(const struct worker *w)
{
	for (unsigned i = 0; i < n_all(w); i++)
		if (instance_at(w, i)->hooked != instance_at(w, i)->exits)
			return false;
	return true;
}

/*
 * The worker is joined once the exit hooks of its instances have ended: each is killed at its
 * hook_timeout, which began at or before now, so this waits budget (hook_timeout) at most, after
 * the join step's budget (plan.c counts it). A step wait: a second signal cuts it short, and what
 * then still runs is cancelled in the close step.
 */
static void
wait_hooks(struct worker *w, usec_t budget)
{
	struct step_scope scope;

	if (budget == 0 || hooks_done(w) || shutdown_scope_enter(shutdown_of(w), &scope) < 0)
		return;
	(void) wait_worker(w, hooks_done, usec_add(now_usec(), budget), false);
	(void) shutdown_scope_leave(shutdown_of(w), &scope);
}

/* The stopper's settings for the worker (with config c), with its budgets from the plan. */
static void
stop_settings_for(const struct worker *w, const struct worker_config *c,
    struct plan_worker *budget, struct stop_settings *ret)
{
	const struct shutdown_settings *s = &c->shutdown;

	plan_worker_budget(c, budget);
	*ret = (struct stop_settings) {
		.stop_signal = shutdown_stop_signal(shutdown_of(w), s->stop_signal),
		.cancel_signal = s->cancel_signal,
		.kill_signal = s->kill_signal,
		.kill_group = s->kill_mode == KILL_MODE_GROUP,
		.signal_group = s->signal_target == SIGNAL_TARGET_GROUP,
		.stop = budget->stop,
		.join = budget->join,
		.kill = budget->kill,
	};
}

static void
stop_settings_of(const struct worker *w, struct plan_worker *budget, struct stop_settings *ret)
{
	stop_settings_for(w, w->config, budget, ret);
}

/* Its own stop does not run. */
static bool
not_halting(const struct worker *w)
{
	return !w->halting;
}

/* Its rolling restart does not run. */
static bool
not_restarting(const struct worker *w)
{
	return !w->restarting;
}

int
worker_stop_task(void *arg)
{
	struct worker *w = arg; /* owned by the set, which outlives the task */
	struct plan_worker budget;
	struct stop_settings settings;
	int r;

	/* Reverse dependency order: only once everything after= this worker is joined (not a step
	 * wait: a second signal does not skip it). */
	if ((r = wait_worker(w, dependents_joined, USEC_INFINITY, false)) < 0)
		return r;
	/* Its own stop (gracectl stop) began earlier and is bounded by the same budgets: it is
	 * not run twice. Its step waits are step waits: a second signal cuts them short too. */
	if ((r = wait_worker(w, not_halting, USEC_INFINITY, false)) < 0)
		return r;

	/* A rolling restart ends at the trigger where it is: its slots and a replacement not yet
	 * ready go through the steps here at once. A replaced instance whose own steps run
	 * (retire_stop()) is left to them (stopper_owns()); they began before the trigger with
	 * their own budgets and are step waits too, so waiting for their end here adds nothing
	 * to the worker's budget from the trigger. */
	stop_settings_of(w, &budget, &settings);
	stopper_run(shutdown_of(w), &settings, &worker_stopper, w);
	if ((r = wait_worker(w, not_restarting, USEC_INFINITY, false)) < 0)
		return r;
	wait_hooks(w, budget.hook);

	w->joined = true;
	poke(w->set);
	return 0;
}

static int
start_instances(struct worker *w)
{
	struct worker_context *ctx = ctx_of(w);
	int r;

	for (unsigned j = 0; j < w->n_instances; j++) {
		struct instance *in = w->instances[j];

		if ((r = task_group_new(ctx->rt, ctx->group, in->name, &in->group)) < 0 ||
		    (r = task_spawn(ctx->group, in->name, instance_task, in, NULL)) < 0)
			return log_error_errno(r, "Failed to start the task of worker '%s'", in->name);
		in->task_alive = true;
	}
	w->started = true;
	return 0;
}

void
workers_orphan_reaped(struct workers *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		for (unsigned j = 0; j < n_all(ws->items[i]); j++) {
			const struct instance *in = instance_at(ws->items[i], j);

			if (in->pgid > 0 && !in->running)
				task_event_set(&ws->items[i]->wake);
		}
}

int
workers_start(struct workers *ws)
{
	int r;

	ws->started = true;
	for (size_t i = 0; i < ws->n; i++)
		if (ws->items[i]->config->autostart && (r = start_instances(ws->items[i])) < 0)
			return r;
	return 0;
}

int
worker_can_start(const struct worker *w)
{
	const struct shutdown *sd = shutdown_of(w);

	if (sd->stopping || task_event_is_set(&sd->trigger))
		return -ESHUTDOWN;
	if (!w->set->started)
		return -EAGAIN;
	if (!idle(w) || w->halting)
		return -EBUSY;
	return 0;
}

int
worker_start(struct worker *w)
{
	int r;

	if ((r = worker_can_start(w)) < 0)
		return r;
	prune_extra(w);
	/* Its last run's tasks have ended (idle()): their groups go, the state starts afresh. */
	for (unsigned i = 0; i < w->n_instances; i++) {
		struct instance *in = w->instances[i];

		if (in->group && task_group_free(in->group) < 0)
			return -EBUSY;
		in->group = NULL;
		in->ready = in->failed = in->finished = in->notified_ready = false;
		in->n_starts = 0;
		in->extended = 0;
		in->group_signal = 0;
		in->pgid = 0;
	}
	w->n_ready = 0;
	w->start_failed = false;
	w->on_demand = true;
	/* A worker stopped on request (gracectl stop) comes back as a new run. */
	w->halted = false;
	task_event_reset(&w->halt);
	w->step = _PHASE_INVALID;
	w->killed = false;
	w->signalled_at = 0;
	w->step_signal = 0;
	log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "worker", w->config->name }, { "event", "start-request" }),
	    "Starting worker '%s' on request", w->config->name);
	if ((r = start_instances(w)) < 0)
		return r;
	poke(w->set);
	return 0;
}

/* Nothing of it runs, starts or waits for its restart. */
static bool
nothing_runs(const struct worker *w)
{
	return idle(w);
}

static bool
named(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (streq(names[i], name))
			return true;
	return false;
}

/* A worker after= it that still has a task and is not stopped with it (also), or NULL. */
static const struct worker *
running_dependent(const struct worker *w, char *const *also, size_t n_also)
{
	for (size_t i = 0; i < w->set->n; i++) {
		const struct worker *d = w->set->items[i];

		if (d == w || !strv_contains(d->config->after, w->config->name) || idle(d))
			continue;
		if (named(also, n_also, d->config->name))
			continue;
		return d;
	}
	return NULL;
}

int
worker_can_halt(const struct worker *w, char *const *also, size_t n_also)
{
	const struct shutdown *sd = shutdown_of(w);

	if (sd->stopping || task_event_is_set(&sd->trigger))
		return -ESHUTDOWN;
	if (!w->set->started)
		return -EAGAIN;
	if (w->halting)
		return -EALREADY;
	if (w->restarting)
		return -EINPROGRESS;
	if (idle(w))
		return -ESRCH;
	if (running_dependent(w, also, n_also))
		return -EBUSY;
	return 0;
}

/* Its dependents (those stopped with it) have no task left: its own stop may begin. */
static bool
dependents_down(const struct worker *w)
{
	return !running_dependent(w, NULL, 0);
}

usec_t
worker_halt_budget(const struct worker *w)
{
	struct plan_worker budget;

	plan_worker_budget(w->config, &budget);
	return usec_add(budget.total, OUTPUT_DRAIN_TIMEOUT);
}

static int
worker_halt_task(void *arg)
{
	struct worker *w = arg; /* owned by the set, which outlives the task */
	struct shutdown *sd = shutdown_of(w);
	const struct shutdown_settings *s = &w->config->shutdown;
	struct plan_worker budget;
	struct stop_settings settings;
	struct step_scope scope;
	int r = 0;

	/* Reverse dependency order within the request: its dependents stop first (their own
	 * stops). A shutdown meanwhile takes over (its stoppers wait for this to end). */
	for (;;) {
		struct task_clause c[] = {
			{ .kind = TASK_CLAUSE_EVENT, .event = &sd->trigger },
			{ .kind = TASK_CLAUSE_EVENT, .event = &w->wake },
		};

		task_event_reset(&w->wake);
		if (task_event_is_set(&sd->trigger)) {
			r = -ECANCELED;
			goto done;
		}
		if (dependents_down(w))
			break;
		if ((r = task_wait_any(c, ELEMENTSOF(c), USEC_INFINITY)) < 0)
			goto done;
	}

	log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "worker", w->config->name }, { "event", "stop-request" }),
	    "Stopping worker '%s' on request", w->config->name);
	w->step = _PHASE_INVALID;
	w->killed = false;
	w->signalled_at = 0;
	w->step_signal = 0;
	/* Its instances stop restarting (and waiting to start) at once. */
	task_event_set(&w->halt);
	poke(w->set);
	/* The quiet signal first, as the shutdown's intake step does; the drain is the service's
	 * (its sockets stay open for the others), so nothing is waited for here. */
	if (s->intake_signal != SIGNAL_NONE) {
		w->signalled_at = now_usec();
		worker_signal(w, s->intake_signal, s->signal_target == SIGNAL_TARGET_GROUP,
		    PHASE_INTAKE);
	}
	stop_settings_of(w, &budget, &settings);
	settings.alone = true;
	stopper_run(sd, &settings, &worker_stopper, w);
	wait_hooks(w, budget.hook);
	/* Then its instance tasks end (their output drained, bounded by OUTPUT_DRAIN_TIMEOUT), so
	 * that it can be started again at once. */
	if (shutdown_scope_enter(sd, &scope) >= 0) {
		(void) wait_worker(w, nothing_runs, usec_add(now_usec(), OUTPUT_DRAIN_TIMEOUT +
		    USEC_PER_SEC), false);
		(void) shutdown_scope_leave(sd, &scope);
	}
	w->halted = true;
	log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "worker", w->config->name }, { "event", "stopped" }),
	    "Worker '%s' stopped on request", w->config->name);
	r = 0;
done:
	w->halting = false;
	task_event_set(&w->halt_done);
	poke(w->set);
	return r;
}

int
worker_halt(struct worker *w, char *const *also, size_t n_also)
{
	struct worker_context *ctx = ctx_of(w);
	int r;

	if ((r = worker_can_halt(w, also, n_also)) < 0)
		return r;
	task_event_reset(&w->halt_done);
	w->halting = true;
	if ((r = task_spawn(ctx->group, w->config->name, worker_halt_task, w, NULL)) < 0) {
		w->halting = false;
		task_event_set(&w->halt_done);
		return r;
	}
	poke(w->set);
	return 0;
}

int
worker_wait_halted(struct worker *w, usec_t deadline)
{
	while (w->halting) {
		int r = task_event_wait(&w->halt_done, deadline);

		if (r < 0)
			return r;
	}
	return 0;
}

/* Frees the extra instances whose task has ended and whose process (and group) is gone. */
static void
prune_extra(struct worker *w)
{
	for (unsigned i = 0; i < w->n_extra;) {
		struct instance *in = w->extra[i];

		if (in->task_alive || in->running || group_left(in) ||
		    (in->group && task_group_free(in->group) < 0)) {
			i++;
			continue;
		}
		in->group = NULL;
		instance_free(in);
		memmove(&w->extra[i], &w->extra[i + 1], (w->n_extra - i - 1) * sizeof(*w->extra));
		w->n_extra--;
	}
}

/* Rebuilds the ring of the last start times for burst nb (it was ob), keeping the latest. */
static void
ring_move(const usec_t *from, unsigned ob, usec_t *to, unsigned nb, unsigned n_starts)
{
	unsigned k = MIN(MIN(n_starts, ob), nb);

	for (unsigned s = n_starts - k; s < n_starts; s++)
		to[s % nb] = from[s % ob];
}

/* The slots' start rings, sized for start_limit_burst nb (it was ob): all or nothing. */
static int
resize_rings(struct worker *w, unsigned ob, unsigned nb)
{
	_cleanup_free_ usec_t **rings = NULL;

	if (ob == nb || w->n_instances == 0)
		return 0;
	if (!(rings = calloc(w->n_instances, sizeof(*rings))))
		return -ENOMEM;
	for (unsigned i = 0; i < w->n_instances; i++)
		if (!(rings[i] = calloc(MAX(nb, 1U), sizeof(usec_t)))) {
			for (unsigned j = 0; j < i; j++)
				free(rings[j]);
			return -ENOMEM;
		}
	for (unsigned i = 0; i < w->n_instances; i++) {
		struct instance *in = w->instances[i];

		if (ob > 0 && nb > 0)
			ring_move(in->starts, ob, rings[i], nb, in->n_starts);
		free(in->starts);
		in->starts = rings[i];
	}
	return 0;
}

bool
worker_restarting(const struct worker *w)
{
	return w->restarting;
}

const char *
worker_restart_error(const struct worker *w)
{
	return w->restart_error[0] ? w->restart_error : NULL;
}

int
worker_can_restart(const struct worker *w)
{
	const struct shutdown *sd = shutdown_of(w);

	if (sd->stopping || task_event_is_set(&sd->trigger))
		return -ESHUTDOWN;
	if (!w->set->started)
		return -EAGAIN;
	if (w->halting || w->restarting)
		return -EBUSY;
	if (idle(w))
		return -ESRCH;
	return 0;
}

/* The shutdown was triggered: the rolling restart stops where it is. */
static bool
restart_cancelled(const struct worker *w)
{
	return task_event_is_set(&shutdown_of(w)->trigger);
}

/* Waits on the worker's wake event until done(in) or the trigger: 0 or -ECANCELED. */
static int
wait_instance(struct instance *in, bool (*done)(const struct instance *), usec_t deadline)
{
	struct worker *w = in->worker;

	for (;;) {
		struct task_clause c[] = {
			{ .kind = TASK_CLAUSE_EVENT, .event = &shutdown_of(w)->trigger },
			{ .kind = TASK_CLAUSE_EVENT, .event = &w->wake },
		};
		int r;

		task_event_reset(&w->wake);
		if (done(in))
			return 0;
		if (restart_cancelled(w))
			return -ECANCELED;
		if ((r = task_wait_any(c, ELEMENTSOF(c), deadline)) < 0)
			return r;
	}
}

static bool
replacement_settled(const struct instance *in)
{
	return !in->replacement || in->replace_failed || !in->task_alive;
}

static bool
task_ended(const struct instance *in)
{
	return !in->task_alive;
}

/* A retired instance as the stopper's target (stopper.h): its process, and what it left in its
 * process group. */
static void
retire_signal(void *target, int sig, bool group, enum phase step)
{
	struct instance *in = target;

	if (in->running)
		(void) instance_signal(in, sig, group, step);
	else if (group_left(in))
		signal_group_left(in, sig, step);
}

static bool
retire_alive(void *target)
{
	struct instance *in = target;

	return in->running || group_left(in);
}

static void
retire_wait(void *target, usec_t deadline, bool extendable)
{
	struct instance *in = target;
	struct worker *w = in->worker;

	for (;;) {
		usec_t d = extendable ? MAX(deadline, in->extended) : deadline;
		int r;

		task_event_reset(&w->wake);
		if (!retire_alive(in))
			return;
		if (group_left(in))
			d = MIN(d, usec_add(now_usec(), GROUP_LEFT_INTERVAL));
		r = task_event_wait(&w->wake, d);
		if (r == -ETIMEDOUT) {
			if (now_usec() < (extendable ? MAX(deadline, in->extended) : deadline))
				continue;
			return;
		}
		if (r < 0)
			return;
	}
}

static void
retire_step(void *target, enum phase p)
{
	struct instance *in = target;

	in->retire_step = p;
	if (p != PHASE_CANCEL)
		in->extended = 0;
}

static void
retire_stopped(void *target)
{
	struct instance *in = target;

	in->stop_fd = safe_close(in->stop_fd);
}

static void
retire_cancel(void *target)
{
	struct instance *in = target;

	if (in->watch)
		task_scope_cancel(in->watch, "restart step cancel");
}

static void
retire_killing(void *target)
{
	struct instance *in = target;
	const struct worker_config *c = in->worker->prev_config ? in->worker->prev_config :
								  in->worker->config;

	in->retire_killed = true;
	if (!group_left(in))
		return;
	if (c->shutdown.kill_mode == KILL_MODE_MAIN) {
		in->pgid = 0;
		return;
	}
	in->outcome = OUTCOME_KILLED;
	in->step = PHASE_JOIN;
}

static void
retire_abandon(void *target)
{
	struct instance *in = target;
	char pid[16];

	snprintf(pid, sizeof(pid), "%ld", (long) (in->running ? in->pid : in->pgid));
	in->outcome = OUTCOME_ABANDONED;
	in->step = PHASE_JOIN;
	log_fields(LOG_ERR, 0, LOG_FIELDS({ "worker", in->name }, { "event", "abandoned" }, { "pid", pid }),
	    "Replaced worker '%s' (pid %s) is still alive after its steps, abandoning it", in->name,
	    pid);
}

static const struct stopper_ops retire_stopper = {
	.signal = retire_signal,
	.alive = retire_alive,
	.wait = retire_wait,
	.step = retire_step,
	.stopped = retire_stopped,
	.cancel = retire_cancel,
	.killing = retire_killing,
	.abandon = retire_abandon,
};

/*
 * The retired instance through the five steps, as its worker's own stop would (the intake signal,
 * then the stop, cancel, join and kill steps with the worker's budgets, from the config it was
 * started with), then until its task ended (its exit hook ran, its output drained): then it is
 * freed.
 */
static void
retire_stop(struct worker *w, struct instance *old)
{
	struct shutdown *sd = shutdown_of(w);
	const struct worker_config *c = w->prev_config ? w->prev_config : w->config;
	struct plan_worker budget;
	struct stop_settings settings;
	struct step_scope scope;

	if (old->running && c->shutdown.intake_signal != SIGNAL_NONE)
		(void) instance_signal(old, c->shutdown.intake_signal,
		    c->shutdown.signal_target == SIGNAL_TARGET_GROUP, PHASE_INTAKE);
	stop_settings_for(w, c, &budget, &settings);
	settings.alone = true;
	/* Each step waits no longer than the current config's budget for it: the plan (graced
	 * --plan) is the current config's, and a shutdown that comes meanwhile lets these steps
	 * end (worker_stop_task()). Its signals stay the old config's. */
	if (c != w->config) {
		struct plan_worker now;

		plan_worker_budget(w->config, &now);
		settings.stop = MIN(settings.stop, now.stop);
		settings.join = MIN(settings.join, now.join);
		settings.kill = MIN(settings.kill, now.kill);
	}
	old->retire_stopping = true;
	stopper_run(sd, &settings, &retire_stopper, old);
	old->retire_stopping = false;
	/* The worker's stopper may wait for this end (worker_stop_task()). */
	poke(w->set);
	/* Its exit hook and output drain are bounded (hook_timeout, OUTPUT_DRAIN_TIMEOUT); a
	 * process abandoned after the kill signal keeps its task, and it stays among the extra
	 * instances (the shutdown's stopper takes it on: a later one, or one whose steps still
	 * run, from its next step). */
	if (shutdown_scope_enter(sd, &scope) >= 0) {
		(void) wait_instance(old, task_ended, usec_add(now_usec(),
		    usec_add(budget.hook, OUTPUT_DRAIN_TIMEOUT + USEC_PER_SEC)));
		(void) shutdown_scope_leave(sd, &scope);
	}
	prune_extra(w);
}

/* Starts the replacement of slot index (or a new slot at n_instances): 0 once it took the slot
 * (and the one it replaced was stopped), -EPROTO when it did not get ready (it is stopped, the
 * old one kept), -ECANCELED at the shutdown's trigger, or -ENOMEM. */
static int
replace_slot(struct worker *w, unsigned index)
{
	struct worker_context *ctx = ctx_of(w);
	const struct worker_config *c = w->config;
	struct instance *old = index < w->n_instances ? w->instances[index] : NULL;
	struct instance *in;
	unsigned burst = MAX(c->start_limit_burst, 1U);
	int r;

	if ((r = instance_new(w, c, index, c->instances, &in)) < 0)
		return r;
	if ((r = extra_add(w, in)) < 0) {
		instance_free(in);
		return r;
	}
	in->replacement = true;
	if (old) {
		/* Its starts go on from the old one's: restarts + 1. */
		memcpy(in->starts, old->starts, burst * sizeof(usec_t));
		in->n_starts = old->n_starts;
	}
	if (old && old->running)
		log_fields(LOG_NOTICE, 0, INSTANCE_FIELDS(old, "restart-request"),
		    "Restarting worker '%s' (pid %ld): starting its replacement", old->name,
		    (long) old->pid);
	else
		log_fields(LOG_NOTICE, 0, INSTANCE_FIELDS(in, "restart-request"),
		    "Starting worker '%s' (rolling restart)", in->name);
	if ((r = task_group_new(ctx->rt, ctx->group, in->name, &in->group)) < 0 ||
	    (r = task_spawn(ctx->group, in->name, instance_task, in, NULL)) < 0) {
		log_error_errno(r, "Failed to start the task of worker '%s'", in->name);
		snprintf(w->restart_error, sizeof(w->restart_error),
		    "%s: its replacement's task could not be started", in->name);
		prune_extra(w);
		return -EPROTO;
	}
	in->task_alive = true;

	/* Until it is ready (its start_timeout bounds that) or it failed. */
	if ((r = wait_instance(in, replacement_settled, USEC_INFINITY)) < 0)
		return r;
	if (in->replacement) {
		if (!in->replace_failed)
			snprintf(in->why, sizeof(in->why), "ended before it was ready");
		snprintf(w->restart_error, sizeof(w->restart_error), "%s: the %s (pid %ld) %s%s",
		    in->name, old ? "replacement" : "added instance", (long) in->last_pid, in->why,
		    old && old->running ? "; the running one was kept" : "");
		/* It got the give-up signal; its task reaps it, runs its exit hook, drains its
		 * output. */
		(void) wait_instance(in, task_ended, USEC_INFINITY);
		prune_extra(w);
		return -EPROTO;
	}
	if (old)
		retire_stop(w, old);
	return 0;
}

/* A surplus slot (instances = shrank): the last one goes through its steps. */
static void
remove_slot(struct worker *w)
{
	struct instance *old = w->instances[w->n_instances - 1];

	if (extra_add(w, old) < 0)
		return;
	w->n_instances--;
	log_fields(LOG_NOTICE, 0, INSTANCE_FIELDS(old, "restart-request"),
	    "Stopping worker '%s': instances = %u now", old->name, w->config->instances);
	retire(old);
	retire_stop(w, old);
}

static int
worker_restart_task(void *arg)
{
	struct worker *w = arg; /* owned by the set, which outlives the task */
	const struct worker_config *c = w->config;
	unsigned n_old = w->n_instances;
	int r = 0;

	log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "worker", c->name }, { "event", "restart-request" }),
	    "Restarting worker '%s' (rolling, %u instance%s)", c->name, c->instances,
	    c->instances == 1 ? "" : "s");
	for (unsigned i = 0; r == 0 && i < c->instances; i++)
		r = restart_cancelled(w) ? -ECANCELED : replace_slot(w, i);
	while (r == 0 && w->n_instances > c->instances) {
		if (restart_cancelled(w))
			r = -ECANCELED;
		else
			remove_slot(w);
	}
	if (r == 0)
		log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "worker", c->name }, { "event", "restarted" }),
		    "Worker '%s' restarted (%u instance%s replaced)", c->name, MIN(n_old, c->instances),
		    MIN(n_old, c->instances) == 1 ? "" : "s");
	else if (r == -ECANCELED)
		log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "worker", c->name }, { "event", "restart-cancelled" }),
		    "Rolling restart of worker '%s' cut short by the shutdown", c->name);
	else
		log_fields(LOG_ERR, 0, LOG_FIELDS({ "worker", c->name }, { "event", "restart-failed" }),
		    "Rolling restart of worker '%s' failed: %s", c->name,
		    w->restart_error[0] ? w->restart_error : strerror(-r));
	w->restart_result = r < 0 && r != -ECANCELED && r != -EPROTO ? -EPROTO : r;
	if (r < 0 && r != -ECANCELED && !w->restart_error[0])
		snprintf(w->restart_error, sizeof(w->restart_error), "%s", strerror(-r));
	/* The old config is not read from here on (the caller may free it). */
	w->prev_config = NULL;
	w->restarting = false;
	task_event_set(&w->restart_done);
	poke(w->set);
	return 0;
}

int
worker_restart(struct worker *w, const struct worker_config *c)
{
	struct worker_context *ctx = ctx_of(w);
	const struct worker_config *prev = w->config;
	unsigned slots = MAX(w->n_instances, c->instances);
	struct instance **m;
	int r;

	if (!streq(c->name, w->config->name) || c->instances == 0)
		return -EINVAL;
	if ((r = worker_can_restart(w)) < 0)
		return r;
	prune_extra(w);
	/* Room for the slots that instances = may add (take_slot() appends). */
	if (!(m = realloc(w->instances, slots * sizeof(*m))))
		return -ENOMEM;
	w->instances = m;
	if ((r = resize_rings(w, prev->start_limit_burst, c->start_limit_burst)) < 0)
		return r;
	w->prev_config = prev;
	w->config = c;
	w->restart_error[0] = '\0';
	w->restart_result = 0;
	task_event_reset(&w->restart_done);
	w->restarting = true;
	if ((r = task_spawn(ctx->group, c->name, worker_restart_task, w, NULL)) < 0) {
		w->restarting = false;
		w->config = prev;
		w->prev_config = NULL;
		(void) resize_rings(w, c->start_limit_burst, prev->start_limit_burst);
		task_event_set(&w->restart_done);
		return r;
	}
	poke(w->set);
	return 0;
}

int
worker_wait_restarted(struct worker *w, usec_t deadline)
{
	while (w->restarting) {
		int r = task_event_wait(&w->restart_done, deadline);

		if (r < 0)
			return r;
	}
	return w->restart_result;
}

int
worker_set_config(struct worker *w, const struct worker_config *c)
{
	int r;

	if (!streq(c->name, w->config->name) || c->instances == 0)
		return -EINVAL;
	if (w->restarting || w->halting)
		return -EBUSY;
	if (c->instances != w->n_instances) {
		struct instance **m;
		unsigned n = 0;

		/* Only a worker with nothing running is rebuilt. */
		if (!idle(w))
			return -EBUSY;
		prune_extra(w);
		if (!(m = calloc(c->instances, sizeof(*m))))
			return -ENOMEM;
		for (; n < c->instances; n++)
			if ((r = instance_new(w, c, n, c->instances, &m[n])) < 0) {
				while (n > 0)
					instance_free(m[--n]);
				free(m);
				return r;
			}
		for (unsigned i = 0; i < w->n_instances; i++) {
			if (w->instances[i]->group)
				(void) task_group_free(w->instances[i]->group);
			instance_free(w->instances[i]);
		}
		free(w->instances);
		w->instances = m;
		w->n_instances = c->instances;
		w->n_ready = 0;
	} else if ((r = resize_rings(w, w->config->start_limit_burst, c->start_limit_burst)) < 0)
		return r;
	w->config = c;
	/* Only its own waits read its settings (an after= of its own, its restart delay...), and
	 * the supervisor's: poking every worker here made a reload of n workers O(n^2). */
	poke_worker(w);
	task_event_set(ctx_of(w)->changed);
	return 0;
}
