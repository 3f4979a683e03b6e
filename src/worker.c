/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
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

#include "config.h"
#include "intake.h"
#include "log.h"
#include "notify.h"
#include "output-route.h"
#include "parse.h"
#include "plan.h"
#include "report.h"
#include "spawn.h"
#include "supervisor.h"
#include "task.h"
#include "util.h"
#include "worker-params.h"

/* How often a tcp: readiness probe is repeated while the worker starts (a probe interval: an
 * exit or the shutdown trigger ends the wait between two probes at once). */
#define READY_TCP_INTERVAL (50 * USEC_PER_MSEC)
/* How long the output of an exited process may take to reach EOF before its pumps are cut. */
#define OUTPUT_DRAIN_TIMEOUT (2 * USEC_PER_SEC)

#define INSTANCE_FIELDS(in, ev)                                                                    \
	LOG_FIELDS({ "worker", (in)->name }, { "event", (ev) })

int
worker_init(struct worker *w, struct supervisor *sv, const struct worker_config *c)
{
	*w = (struct worker) {
		.sv = sv,
		.config = c,
		.n_instances = c->instances,
		.step = _PHASE_INVALID,
	};
	task_event_init(&w->wake, "worker changed");
	if (!(w->instances = calloc(c->instances, sizeof(struct instance))))
		return -ENOMEM;
	for (unsigned i = 0; i < c->instances; i++) {
		struct instance *in = &w->instances[i];

		in->worker = w;
		in->index = i;
		in->stop_fd = -1;
		if (c->instances > 1)
			snprintf(in->name, sizeof(in->name), "%s.%u", c->name, i);
		else
			snprintf(in->name, sizeof(in->name), "%s", c->name);
		task_event_init(&in->wake, "instance changed");
		if (!(in->starts = calloc(MAX(c->start_limit_burst, 1U), sizeof(usec_t))))
			return -ENOMEM;
	}
	return 0;
}

void
worker_done(struct worker *w)
{
	for (unsigned i = 0; w->instances && i < w->n_instances; i++) {
		safe_close(w->instances[i].stop_fd);
		notify_worker_free(&w->instances[i]);
		free(w->instances[i].starts);
	}
	free(w->instances);
	w->instances = NULL;
}

static struct report_worker *
record_of(struct instance *in)
{
	return &in->worker->sv->report->workers[in->record];
}

int
worker_signal(struct instance *in, int sig, bool group, enum phase step)
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

/* The exit was a success: 0, a success_status code, or a success signal. */
static bool
exit_is_clean(const struct worker_config *c, int status)
{
	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) == 0)
			return true;
		for (size_t i = 0; i < c->n_success_status; i++)
			if (c->success_status[i] == WEXITSTATUS(status))
				return true;
		return false;
	}
	for (size_t i = 0; WIFSIGNALED(status) && i < c->n_success_signal; i++)
		if (c->success_signal[i] == WTERMSIG(status))
			return true;
	return false;
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

/*
 * How the exit is reported. Before the shutdown a clean exit is "exited", any other "failed".
 * During it, what matters is the step: an exit during stop is "exited", during cancel and join
 * "cancelled" — unless it failed on its own terms (a non-zero code, or a signal graced did not
 * send) — and after the kill signal "killed".
 */
static enum outcome
exit_outcome(const struct instance *in, int status, enum phase step, bool killed)
{
	const struct worker_config *c = in->worker->config;
	const struct shutdown_settings *s = &c->shutdown;
	bool clean = exit_is_clean(c, status);

	if (killed)
		return OUTCOME_KILLED;
	/* Only the signals graced sent count: the same death before the shutdown is a failure. */
	if (WIFSIGNALED(status) && in->worker->sv->stopping) {
		int sig = WTERMSIG(status);

		clean = clean || sig == supervisor_stop_signal(in->worker->sv, s->stop_signal) ||
		    sig == s->intake_signal ||
		    (step >= PHASE_CANCEL && sig == s->cancel_signal);
	}
	if (!in->worker->sv->stopping || step < PHASE_STOP)
		return clean ? OUTCOME_EXITED : OUTCOME_FAILED;
	if (!clean)
		return OUTCOME_FAILED;
	return step == PHASE_STOP ? OUTCOME_EXITED : OUTCOME_CANCELLED;
}

/* Records how the process ended, and wakes its stopper. */
static void
record_exit(struct instance *in, int status)
{
	struct worker *w = in->worker;
	struct report_worker *rec;
	pid_t pid = in->pid;
	char what[96], pidbuf[16];

	in->running = false;
	in->status = status;
	in->exited_at = now_usec();
	rec = record_of(in);
	rec->pid = pid;
	rec->exit = in->exited_at;
	rec->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	rec->term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	rec->step = !w->sv->stopping ? _PHASE_INVALID : w->step >= 0 ? w->step : w->sv->phase;
	rec->outcome = exit_outcome(in, status, rec->step, w->killed);
	notify_worker_disarm(in);

	describe_status(status, what, sizeof(what));
	snprintf(pidbuf, sizeof(pidbuf), "%ld", (long) pid);
	log_fields(rec->outcome == OUTCOME_FAILED ? LOG_WARNING : LOG_INFO, 0,
	    LOG_FIELDS({ "worker", in->name }, { "event", "exit" }, { "pid", pidbuf },
		{ "outcome", outcome_to_string(rec->outcome) }),
	    "Worker '%s' (pid %s) %s", in->name, pidbuf, what);

	task_event_set(&in->wake);
	task_event_set(&w->wake);
	/* The supervisor counts what is left (an instance that gave up is over once reaped). */
	task_event_set(&w->sv->wake);
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
	struct supervisor *sv = w->sv;
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
		.foreground = sv->single,
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
		if ((r = intake_socket_fd(sv, *s)) < 0)
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
	/* Read by the status views (supervisor-view.c) for the instance's uptime. */
	in->started_at = now_usec();
	notify_worker_started(in);
	record_of(in)->pid = child;
	safe_close(stop[0]);
	safe_close(in->stop_fd);
	in->stop_fd = stop[1];

	/* Interest in the pid at once: an exit reaped before the task waits for it is kept. */
	(void) task_runtime_watch_child(sv->rt, child);
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
 * is set (the shutdown trigger, the stop event): 0, -ETIMEDOUT, or -ECANCELED.
 */
static int
wait_until(struct instance *in, bool (*done)(const struct instance *), struct task_event *end,
    usec_t deadline)
{
	for (;;) {
		struct task_clause c[] = {
			{ .kind = TASK_CLAUSE_EVENT, .event = end },
			{ .kind = TASK_CLAUSE_EVENT, .event = &in->wake },
		};
		int r;

		task_event_reset(&in->wake);
		if (done(in))
			return 0;
		if ((r = task_wait_any(c, ELEMENTSOF(c), deadline)) == 0)
			return -ECANCELED;
		if (r < 0)
			return r;
	}
}

/*
 * The clauses every wait of the start (readiness) phase ends on besides its own: the shutdown
 * trigger (clause 0: the phase is over, -ECANCELED) and the process's exit (clause 1).
 */
#define START_CLAUSES(in)                                                                          \
	{ .kind = TASK_CLAUSE_EVENT, .event = &(in)->worker->sv->trigger },                        \
	    { .kind = TASK_CLAUSE_CHILD, .pid = (in)->pid }

/* What task_wait_any() returned for START_CLAUSES(): -ECANCELED at the trigger, -ECHILD (the
 * exit recorded) when the process ended, else r (its own clause's index, or an error). */
static int
start_clause_result(struct instance *in, const struct task_clause *c, int r)
{
	if (r == 0)
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

			r = probe_tcp(in, worker_params_ready_port(c, in->index), next);
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

static void
mark_failed(struct instance *in, const char *why)
{
	struct worker *w = in->worker;

	in->failed = true;
	w->start_failed = true;
	record_of(in)->outcome = OUTCOME_FAILED;
	log_fields(LOG_ERR, 0, INSTANCE_FIELDS(in, "failed"), "Worker '%s' failed: %s", in->name, why);
	if (w->config->critical) {
		char trigger[128];

		snprintf(trigger, sizeof(trigger), "critical worker '%s' failed", in->name);
		supervisor_trigger(w->sv, trigger);
	}
	supervisor_poke(w->sv);
}

/* A worker this one is after= that failed to start, or NULL. */
static const char *
failed_dependency(const struct instance *in)
{
	struct supervisor *sv = in->worker->sv;

	for (char **a = in->worker->config->after; a && *a; a++) {
		struct worker *d = supervisor_find_worker(sv, *a);

		if (d && d->start_failed)
			return *a;
	}
	return NULL;
}

static bool
dependencies_settled(const struct instance *in)
{
	struct supervisor *sv = in->worker->sv;

	if (failed_dependency(in))
		return true;
	for (char **a = in->worker->config->after; a && *a; a++) {
		struct worker *d = supervisor_find_worker(sv, *a);

		if (d && d->n_ready < d->n_instances)
			return false;
	}
	return true;
}

/* A start at the given time would exceed start_limit: start_limit_burst starts within
 * start_limit_interval. A burst of 0 is no limit. */
static bool
start_limit_hit(const struct instance *in, usec_t at)
{
	const struct worker_config *c = in->worker->config;
	unsigned burst = c->start_limit_burst;

	return burst > 0 && in->n_starts >= burst &&
	    at - in->starts[in->n_starts % burst] < c->start_limit_interval;
}

static void
record_start(struct instance *in)
{
	unsigned burst = in->worker->config->start_limit_burst;

	if (burst > 0)
		in->starts[in->n_starts % burst] = now_usec();
	in->n_starts++;
}

/* restart_delay, doubled for every failure in a row, up to restart_delay_max. */
static usec_t
restart_backoff(const struct worker_config *c, unsigned failures)
{
	usec_t d = c->restart_delay;

	for (unsigned i = 1; i < failures && d < c->restart_delay_max; i++)
		d = d > USEC_INFINITY / 2 ? USEC_INFINITY : d * 2;
	return MIN(d, MAX(c->restart_delay_max, c->restart_delay));
}

/* Runs the instance until the shutdown or until it gives up; returns when its process is gone. */
static void
run_instance(struct instance *in)
{
	struct worker *w = in->worker;
	struct supervisor *sv = w->sv;
	const struct worker_config *c = w->config;
	unsigned failures = 0;
	char why[160], d[DURATION_MAX];
	const char *dep;
	int r;

	/* Until every worker it is after= is ready, or the shutdown makes that moot. */
	if (wait_until(in, dependencies_settled, &sv->trigger, USEC_INFINITY) < 0)
		return;
	if ((dep = failed_dependency(in))) {
		snprintf(why, sizeof(why), "not started, worker '%s' it is after= failed", dep);
		mark_failed(in, why);
		return;
	}

	/* Restarted until the shutdown begins. */
	while (!task_event_is_set(&sv->trigger)) {
		usec_t delay;

		record_start(in);
		if ((r = start_process(in)) < 0) {
			/* A child that reported its failure exits at once (126, 127): let that status
			 * arrive. One that did not exec in time gets the kill signal first (spawn.c's
			 * CLONE_VFORK returns only after the exec, but valgrind makes it a fork()). */
			if (in->running && r == -ETIMEDOUT)
				(void) worker_signal(in, c->shutdown.kill_signal ? c->shutdown.kill_signal :
										 SIGKILL,
				    true, PHASE_INTAKE);
			(void) wait_exit(in, usec_add(now_usec(), c->start_timeout));
			mark_failed(in, "could not be started");
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
				(void) worker_signal(in, c->shutdown.kill_signal ? c->shutdown.kill_signal :
										 SIGKILL,
				    true, PHASE_INTAKE);
				mark_failed(in, why);
				return;
			}
			in->ready = true;
			if (++w->n_ready == w->n_instances)
				log_fields(LOG_INFO, 0, LOG_FIELDS({ "worker", c->name }, { "event", "ready" }),
				    "Worker '%s' is ready", c->name);
			supervisor_poke(sv);
		}

		/* Until it ends: on its own, or because the shutdown's stopper told it to (then this
		 * watch is cancelled at its cancel step; worker_instance_task() still reaps it). */
		if (watch_exit(in) < 0 || task_event_is_set(&sv->trigger))
			return;
		/* Gone, so not ready: a restarted process is checked again like the first. */
		in->ready = false;
		w->n_ready--;

		if (c->critical) {
			snprintf(why, sizeof(why), "critical worker '%s' exited", in->name);
			supervisor_trigger(sv, why);
			return;
		}
		if (c->restart == RESTART_NO ||
		    (c->restart == RESTART_ON_FAILURE && exit_is_clean(c, in->status))) {
			/* Done for good. A clean one-shot is not missing from the service (/ready);
			 * a worker that died of a failure with nothing to restart it is. */
			if (exit_is_clean(c, in->status))
				in->finished = true;
			else
				in->failed = true;
			supervisor_poke(sv);
			return;
		}
		failures = exit_is_clean(c, in->status) ? 0 : failures + 1;
		delay = restart_backoff(c, failures);
		if (start_limit_hit(in, usec_add(now_usec(), delay))) {
			snprintf(why, sizeof(why), "started %u times within %s (start_limit), giving up",
			    c->start_limit_burst, format_duration(d, sizeof(d), c->start_limit_interval));
			mark_failed(in, why);
			return;
		}
		log_fields(LOG_INFO, 0, INSTANCE_FIELDS(in, "restart"), "Restarting worker '%s' in %s",
		    in->name, format_duration(d, sizeof(d), delay));
		/* No restart once the shutdown began (the loop's condition); an instance with no
		 * process has nothing to stop, and the stop step ends its wait. */
		if (task_event_wait(&sv->stop, usec_add(now_usec(), delay)) != -ETIMEDOUT)
			return;
	}
}

int
worker_instance_task(void *arg)
{
	struct instance *in = arg; /* owned by its worker, which outlives the task */
	int r;

	run_instance(in);

	/* Whatever process is left is the stopper's to signal; this task still reaps it. */
	r = wait_exit(in, USEC_INFINITY);
	notify_worker_close(in);
	if (r < 0)
		return r;
	/* Then let its output reach EOF, so no line is lost, but not forever: a descendant may
	 * still hold the pipe. */
	if (task_group_join(in->group, usec_add(now_usec(), OUTPUT_DRAIN_TIMEOUT)) == -ETIMEDOUT)
		task_group_cancel_because(in->group, "output not at EOF in time");
	return 0;
}

static bool
any_running(const struct worker *w)
{
	for (unsigned i = 0; i < w->n_instances; i++)
		if (w->instances[i].running)
			return true;
	return false;
}

static bool
none_running(const struct worker *w)
{
	return !any_running(w);
}

/* Every worker that is after= this one has been joined. */
static bool
dependents_joined(const struct worker *w)
{
	for (size_t i = 0; i < w->sv->n_workers; i++) {
		const struct worker *d = &w->sv->workers[i];

		if (!d->joined && strv_contains(d->config->after, w->config->name))
			return false;
	}
	return true;
}

/* The later of deadline and the latest EXTEND_TIMEOUT_USEC= of its instances. */
static usec_t
extended_deadline(const struct worker *w, usec_t deadline)
{
	for (unsigned i = 0; i < w->n_instances; i++)
		deadline = MAX(deadline, w->instances[i].extended);
	return deadline;
}

static void
reset_extensions(struct worker *w)
{
	for (unsigned i = 0; i < w->n_instances; i++)
		w->instances[i].extended = 0;
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

/* A step's wait for every instance's process to end, in a step scope: a second signal
 * (escalation) cancels it and the step moves on. */
static void
wait_step(struct worker *w, usec_t deadline, bool extendable)
{
	struct step_scope scope;

	if (supervisor_step_scope_enter(w->sv, &scope) < 0)
		return;
	(void) wait_worker(w, none_running, deadline, extendable);
	(void) supervisor_step_scope_leave(w->sv, &scope);
}

static void
signal_all(struct worker *w, int sig, bool group, enum phase step)
{
	for (unsigned i = 0; i < w->n_instances; i++)
		(void) worker_signal(&w->instances[i], sig, group, step);
}

/* The cancel step's in-process part: the instances' watches of their processes (not the output
 * pumps, which drain to EOF, nor the notify readers, whose EXTEND_TIMEOUT_USEC= still moves
 * join_timeout). */
static void
cancel_watches(struct worker *w)
{
	for (unsigned i = 0; i < w->n_instances; i++)
		if (w->instances[i].watch)
			task_scope_cancel(w->instances[i].watch, "shutdown step cancel");
}

static void
stop_step(struct worker *w, const struct plan_worker *pw)
{
	const struct shutdown_settings *s = &w->config->shutdown;
	int stop_signal = supervisor_stop_signal(w->sv, s->stop_signal);

	w->step = PHASE_STOP;
	reset_extensions(w);
	supervisor_step_begin(w->sv, PHASE_STOP);
	if (stop_signal != SIGNAL_NONE) {
		signal_all(w, stop_signal, false, PHASE_STOP);
		/* A worker stopped by job control or a quiet signal must wake up to act on it. */
		signal_all(w, SIGCONT, false, PHASE_STOP);
	}
	for (unsigned i = 0; i < w->n_instances; i++)
		w->instances[i].stop_fd = safe_close(w->instances[i].stop_fd);
	if (pw->stop > 0)
		wait_step(w, usec_add(now_usec(), pw->stop), true);
	supervisor_step_end(w->sv, PHASE_STOP);
}

static void
join_step(struct worker *w, const struct plan_worker *pw, bool cancelled)
{
	const struct shutdown_settings *s = &w->config->shutdown;

	w->step = PHASE_JOIN;
	reset_extensions(w);
	supervisor_step_begin(w->sv, PHASE_JOIN);
	if (cancelled && pw->join > 0)
		wait_step(w, usec_add(now_usec(), pw->join), true);
	if (any_running(w) && s->kill_signal != SIGNAL_NONE) {
		w->killed = true;
		signal_all(w, s->kill_signal, s->kill_mode == KILL_MODE_GROUP, PHASE_JOIN);
		wait_step(w, usec_add(now_usec(), pw->kill), false);
	}
	for (unsigned i = 0; i < w->n_instances; i++) {
		struct instance *in = &w->instances[i];
		char pid[16];

		if (!in->running)
			continue;
		snprintf(pid, sizeof(pid), "%ld", (long) in->pid);
		record_of(in)->outcome = OUTCOME_ABANDONED;
		record_of(in)->step = PHASE_JOIN;
		log_fields(LOG_ERR, 0,
		    LOG_FIELDS({ "worker", in->name }, { "event", "abandoned" }, { "pid", pid }),
		    "Worker '%s' (pid %s) is still alive after %s, abandoning it", in->name, pid,
		    s->kill_signal != SIGNAL_NONE ? "the kill signal" : "join_timeout");
	}
	supervisor_step_end(w->sv, PHASE_JOIN);
}

int
worker_stop_task(void *arg)
{
	struct worker *w = arg; /* owned by the supervisor, which outlives the task */
	struct supervisor *sv = w->sv;
	const struct plan_worker *pw = &sv->plan->workers[w - sv->workers];
	const struct shutdown_settings *s = &w->config->shutdown;
	int r;

	/* Reverse dependency order: only once everything after= this worker is joined (not a step
	 * wait: a second signal does not skip it). */
	if ((r = wait_worker(w, dependents_joined, USEC_INFINITY, false)) < 0)
		return r;

	if (any_running(w))
		stop_step(w, pw);
	if (any_running(w) && s->cancel_signal != SIGNAL_NONE) {
		w->step = PHASE_CANCEL;
		supervisor_step_begin(sv, PHASE_CANCEL);
		signal_all(w, s->cancel_signal, false, PHASE_CANCEL);
		cancel_watches(w);
		supervisor_step_end(sv, PHASE_CANCEL);
		join_step(w, pw, true);
	} else if (any_running(w))
		join_step(w, pw, false);

	w->joined = true;
	supervisor_poke(sv);
	return 0;
}
