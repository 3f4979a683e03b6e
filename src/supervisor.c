/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "control.h"
#include "intake.h"
#include "log.h"
#include "notify.h"
#include "outbuf.h"
#include "parse.h"
#include "plan.h"
#include "reload.h"
#include "policy.h"
#include "report.h"
#include "resource.h"
#include "signals.h"
#include "single.h"
#include "straggler.h"
#include "supervisor.h"
#include "task.h"
#include "util.h"
#include "worker.h"

/* Layer: the supervisor. See supervisor.h for what this file holds of DESIGN.md. */

/* While stopping, what is still alive is logged this often. */
#define STILL_ALIVE_INTERVAL (1 * USEC_PER_SEC)
/* After the loop, children still dying are waited for this long before graced exits. */
#define REAP_LAST_TIMEOUT (1 * USEC_PER_SEC)
/* In the close step, tasks that serve workers get this long to end after being cancelled. */
#define CLOSE_TASKS_TIMEOUT (1 * USEC_PER_SEC)
/* Then graced's own stdout and stderr get this long to be written; what is left is dropped. */
#define OUTPUT_FLUSH_TIMEOUT (500 * USEC_PER_MSEC)

static void
reap_all(void *userdata)
{
	supervisor_reap(userdata);
}

int
supervisor_new(struct event_base *base, const struct config *c, bool single,
    struct supervisor **ret)
{
	struct supervisor *sv;
	int r;

	if (!(sv = calloc(1, sizeof(*sv))))
		return -ENOMEM;
	sv->base = base;
	sv->config = c;
	sv->single = single;
	sv->reaper = (struct command_reaper) { reap_all, sv };
	shutdown_init(&sv->shutdown);
	task_event_init(&sv->wake, "supervisor changed");
	sv->wctx = (struct worker_context) {
		.base = base,
		.shutdown = &sv->shutdown,
		.intakes = &sv->intakes,
		.changed = &sv->wake,
		.reaper = &sv->reaper,
		.foreground = single,
	};
	sv->intakes = (struct intakes) {
		.shutdown = &sv->shutdown,
		.reaper = &sv->reaper,
	};
	TAILQ_INIT(&sv->resources.list);
	sv->stragglers = (struct stragglers) {
		.shutdown = &sv->shutdown,
		.settings = &c->shutdown.defaults,
		.wake = &sv->wake,
	};

	if ((r = workers_new(&sv->wctx, &sv->workers)) < 0) {
		supervisor_free(sv);
		return r;
	}
	sv->intakes.workers = sv->workers;
	sv->stragglers.workers = sv->workers;
	sv->status = (struct status_source) {
		.name = c->supervisor.name,
		.workers = sv->workers,
		.shutdown = &sv->shutdown,
		.stragglers = &sv->stragglers,
		.started = &sv->started,
	};
	sv->intakes.status = &sv->status;
	/* As supervisor_add_worker() does, with one plan for them all. */
	for (size_t i = 0; i < c->n_workers; i++)
		if ((r = workers_add(sv->workers, c->workers[i], NULL)) < 0) {
			supervisor_free(sv);
			return r;
		}
	if ((r = supervisor_replan(sv)) < 0) {
		supervisor_free(sv);
		return r;
	}
	for (size_t i = 0; i < c->n_resources; i++)
		if ((r = resources_add(&sv->resources, c->resources[i])) < 0) {
			supervisor_free(sv);
			return r;
		}
	/* Listening sockets and readiness endpoints exist before any worker starts. */
	if ((r = intake_open_all(&sv->intakes, c)) < 0) {
		supervisor_free(sv);
		return r;
	}
	*ret = sv;
	return 0;
}

int
supervisor_replan(struct supervisor *sv)
{
	size_t n = workers_count(sv->workers);
	_cleanup_free_ const struct worker_config **set = calloc(MAX(n, 1), sizeof(*set));
	struct plan *p;
	int r;

	if (!set)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		set[i] = worker_config(workers_at(sv->workers, i));
	if ((r = plan_build_workers(sv->config, set, n, &p)) < 0)
		return r;
	plan_free(sv->plan);
	sv->plan = p;
	return 0;
}

int
supervisor_add_worker(struct supervisor *sv, const struct worker_config *c)
{
	int r;

	if (sv->shutdown.stopping)
		return -ESHUTDOWN;
	if ((r = workers_add(sv->workers, c, NULL)) < 0)
		return r;
	if ((r = supervisor_replan(sv)) < 0)
		return r;
	return 0;
}

int
supervisor_remove_worker(struct supervisor *sv, const char *name)
{
	int r;

	if ((r = workers_remove(sv->workers, name)) < 0)
		return r;
	return supervisor_replan(sv);
}

struct supervisor *
supervisor_free(struct supervisor *sv)
{
	if (!sv)
		return NULL;
	sv->signals = signals_free(sv->signals);
	notify_free(&sv->notify);
	straggler_free_all(&sv->stragglers);
	intake_free_all(&sv->intakes);
	resources_free(&sv->resources);
	sv->workers = workers_free(sv->workers);
	sv->control = control_close(sv->control, 1);
	/* supervisor_run() failed before its loop (the control socket, the pidfile...): nothing
	 * ran, so nothing can still reference the runtime. */
	if (sv->rt && sv->started == 0)
		sv->rt = task_runtime_free(sv->rt);
	plan_free(sv->plan);
	config_free(sv->own_config);
	for (size_t i = 0; i < sv->n_retained; i++)
		config_free(sv->retained[i]);
	free(sv->retained);
	free(sv);
	return NULL;
}

/* What is left of the shutdown at most, for EXTEND_TIMEOUT_USEC=. */
static usec_t
remaining(const struct supervisor *sv)
{
	return notify_remaining(sv->plan ? sv->plan->worst_case : USEC_INFINITY,
	    sv->shutdown.stopping, sv->shutdown.triggered,
	    sv->workers ? workers_extended(sv->workers) : 0, now_usec());
}

static void
trigger(struct supervisor *sv, const char *why)
{
	if (!shutdown_trigger(&sv->shutdown, why, now_usec()))
		return;
	log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "event", "shutdown" }, { "trigger", why }),
	    "Shutdown triggered by %s", why);
	notify_stopping(&sv->notify, "stopping: intake", remaining(sv));
	/* No step may wait on a stuck reader of graced's output from now on. */
	outbuf_stop_waiting();
}

bool
supervisor_shutdown(struct supervisor *sv, const char *why)
{
	if (sv->shutdown.stopping)
		return false;
	trigger(sv, why);
	return true;
}

/* A step became the current one: STATUS= and EXTEND_TIMEOUT_USEC= for systemd. */
static void
announce_step(struct supervisor *sv)
{
	char status[64];

	task_event_reset(&sv->shutdown.step_changed);
	snprintf(status, sizeof(status), "stopping: %s", shutdown_step_name(&sv->shutdown));
	notify_status(&sv->notify, status);
	notify_extend(&sv->notify, remaining(sv));
	control_step_changed(sv->control);
}

static void
step_begin(struct supervisor *sv, enum phase p)
{
	shutdown_step_begin(&sv->shutdown, p);
	if (task_event_is_set(&sv->shutdown.step_changed))
		announce_step(sv);
}

/* The single command's instance, or false when it does not run (single-command mode). */
static bool
command_info(const struct supervisor *sv, struct worker_instance_info *ret)
{
	struct worker *w = sv->workers ? workers_at(sv->workers, 0) : NULL;

	if (!w)
		return false;
	worker_instance_info(w, 0, ret);
	return ret->running;
}

static void
dump_tasks(struct supervisor *sv)
{
	char *text = NULL, *line, *save = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	if (!f) {
		log_error_errno(ENOMEM, "Failed to write the task table");
		return;
	}
	task_runtime_dump(sv->rt, f);
	for (size_t i = 0; i < workers_count(sv->workers); i++) {
		const struct worker *w = workers_at(sv->workers, i);

		for (unsigned j = 0; j < worker_n_instances(w); j++) {
			struct worker_instance_info in;
			const char *status = worker_instance_status(w, j);

			worker_instance_info(w, j, &in);
			if (status)
				fprintf(f, "worker %s status: %s\n", in.name, status);
		}
	}
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "event", "dump" }), "%s", line);
	free(text);
}

/*
 * Single-command mode passes every signal it does not act on itself to the command, as tini
 * does: to its pid, or with -g to its process group; -r S:R changes what the command receives
 * (0: nothing). Returns whether a signal was sent.
 */
static bool
forward(struct supervisor *sv, int sig)
{
	struct worker_instance_info in;
	int to = sv->forwarding ? single_rewrite(sv->forwarding, sig) : sig;
	bool group = sv->forwarding && sv->forwarding->group;
	char pid[16];

	if (!command_info(sv, &in)) {
		log_debug("Received %s with no command running, ignoring", signal_to_string(sig));
		return false;
	}
	if (to == SIGNAL_NONE) {
		log_debug("Received %s: dropped (-r)", signal_to_string(sig));
		return false;
	}
	snprintf(pid, sizeof(pid), "%ld", (long) in.pid);
	log_fields(LOG_DEBUG, 0, LOG_FIELDS({ "worker", in.name }, { "signal", signal_to_string(to) },
				     { "pid", pid }, { "event", "forward" }),
	    "Forwarding %s to '%s' (%s %s)", signal_to_string(to), in.name,
	    group ? "process group" : "pid", pid);
	if (kill(group ? -in.pid : in.pid, to) < 0 && errno != ESRCH)
		log_warning_errno(errno, "Failed to forward %s to pid %s, continuing",
		    signal_to_string(to), pid);
	return true;
}

/*
 * Job control as dumb-init does it: once the command got SIGTSTP, SIGTTIN or SIGTTOU (from
 * graced, or from the terminal when it is in the foreground), graced stops itself, so the shell
 * that started it sees its job stopped. On SIGCONT (fg, bg) it gives the terminal back to the
 * command's group, which spawn.c made the foreground one, and continues it.
 */
static void
job_stop(void)
{
	log_debug("The command was stopped by job control: stopping graced too");
	(void) raise(SIGSTOP);
}

static void
job_continue(struct supervisor *sv)
{
	struct worker_instance_info in;
	sigset_t ttou, old;

	if (!command_info(sv, &in) || !isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp())
		return;
	/* Only the foreground group may hand the terminal on without SIGTTOU; block it anyway. */
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	(void) sigprocmask(SIG_BLOCK, &ttou, &old);
	(void) tcsetpgrp(STDIN_FILENO, in.pid);
	(void) sigprocmask(SIG_SETMASK, &old, NULL);
}

/* The command stopped: is it still stopped by job control once the signals received with its
 * SIGCHLD (a SIGCONT that continues it) were handled? Then graced stops too. */
static void
job_check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *sv = arg;
	struct worker_instance_info in;
	char path[64], buf[256], *p;
	FILE *f;
	bool stopped = false;

	(void) fd;
	(void) what;
	if (!command_info(sv, &in))
		return;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long) in.pid);
	if (!(f = fopen(path, "re")))
		return;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ')
		stopped = p[2] == 'T';
	fclose(f);
	if (stopped)
		job_stop();
}

/* SIGCHLD in single-command mode: did job control stop the command? */
static void
job_watch(struct supervisor *sv)
{
	struct worker_instance_info in;
	siginfo_t si = {};

	if (!command_info(sv, &in))
		return;
	/* Stops only: the exit is supervisor_reap()'s. */
	if (waitid(P_PID, (id_t) in.pid, &si, WSTOPPED | WNOHANG) < 0 || si.si_pid != in.pid ||
	    si.si_code != CLD_STOPPED)
		return;
	if (si.si_status != SIGTSTP && si.si_status != SIGTTIN && si.si_status != SIGTTOU)
		return;
	(void) event_base_once(sv->base, -1, EV_TIMEOUT, job_check_cb, sv,
	    &(struct timeval) { 0, 0 });
}

/* Signals with no meaning in config mode: graced takes none over, it only says so, at most
 * once per signal every SIGNAL_LOG_INTERVAL. */
#define SIGNAL_LOG_INTERVAL (10 * USEC_PER_SEC)

static void
ignore_signal(struct supervisor *sv, int sig)
{
	usec_t now = now_usec();

	if (sig == SIGCHLD || sig == SIGCONT || sig == SIGWINCH || sig == SIGURG)
		return; /* their default action is to do nothing: no news */
	if (sig > 0 && (size_t) sig < ELEMENTSOF(sv->signal_logged)) {
		if (sv->signal_logged[sig] && now - sv->signal_logged[sig] < SIGNAL_LOG_INTERVAL)
			return;
		sv->signal_logged[sig] = now;
	}
	log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "signal", signal_to_string(sig) }, { "event", "ignore" }),
	    "Received %s: it has no meaning in config mode, ignoring", signal_to_string(sig));
}

/* SIGHUP: the reload's errors are logged (FILE:LINE) by reload_begin(); what else refuses it is
 * said here. */
static void
reload_on_signal(struct supervisor *sv)
{
	struct config_errors errors = {};
	int r = reload_begin(sv, &errors, NULL);

	config_errors_clear(&errors);
	if (r == -ESHUTDOWN)
		log_notice("Received SIGHUP during the shutdown: not reloading");
	else if (r == -EALREADY)
		log_notice("Received SIGHUP while a reload is applied: not reloading again, send it "
			   "once that one has ended");
	else if (r == -EAGAIN)
		log_notice("Received SIGHUP before the workers started: not reloading");
	else if (r < 0 && r != -EINVAL && r != -EOPNOTSUPP)
		log_error_errno(r, "Reload failed, nothing changed");
}

void
supervisor_on_signal(struct supervisor *sv, int sig)
{
	usec_t now;

	if (sig == SIGCHLD) {
		if (sv->single)
			job_watch(sv);
		supervisor_reap(sv);
		return;
	}
	if (sv->single && sig != SIGTERM && sig != SIGINT) {
		if (sig == SIGCONT)
			job_continue(sv);
		if (forward(sv, sig) && (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU))
			job_stop();
		return;
	}
	/* Without --stop-signal the command gets the SIGTERM or SIGINT graced received. */
	if (sv->single && !sv->shutdown.stopping && sv->forwarding &&
	    !sv->forwarding->stop_signal_set) {
		sv->shutdown.stop_signal_replaced = true;
		sv->shutdown.stop_signal = single_rewrite(sv->forwarding, sig);
	}
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		now = now_usec();
		switch (policy_shutdown_signal(sv->shutdown.stopping, sig, sv->last_signal,
		    sv->last_signal_at, now, sv->config->shutdown.second_signal_window,
		    sv->config->shutdown.second_signal)) {
		case SIGNAL_ACTION_REPEAT:
			log_fields(LOG_DEBUG, 0, LOG_FIELDS({ "event", "repeat" }),
			    "Received %s again within second_signal_window: the same request, ignoring",
			    signal_to_string(sig));
			return;
		case SIGNAL_ACTION_TRIGGER:
			trigger(sv, signal_to_string(sig));
			break;
		case SIGNAL_ACTION_IGNORE:
			log_notice("Received %s again during the shutdown, ignoring (second_signal = ignore)",
			    signal_to_string(sig));
			break;
		case SIGNAL_ACTION_ESCALATE:
			log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "event", "escalate" }),
			    "Received %s again: skipping the current wait", signal_to_string(sig));
			shutdown_escalate(&sv->shutdown);
			break;
		}
		sv->last_signal = sig;
		sv->last_signal_at = now;
		break;
	case SIGUSR1:
		dump_tasks(sv);
		break;
	case SIGHUP:
		reload_on_signal(sv);
		break;
	default:
		ignore_signal(sv, sig);
		break;
	}
}

static void
on_signal(int sig, void *userdata)
{
	supervisor_on_signal(userdata, sig);
}

void
supervisor_reap(struct supervisor *sv)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid <= 0) {
			if (pid < 0 && errno == EINTR)
				continue;
			return; /* 0: nothing more to reap now; ECHILD: no children at all */
		}
		if (task_runtime_child_exited(sv->rt, pid, status) != -ESRCH)
			continue;
		if (sv->workers)
			workers_orphan_reaped(sv->workers);
		log_fields(sv->forwarding && sv->forwarding->warn_zombies ? LOG_WARNING : LOG_DEBUG,
		    0, LOG_FIELDS({ "event", "reap-orphan" }), "Reaped orphan pid %ld", (long) pid);
	}
}

static int
start_workers(struct supervisor *sv)
{
	size_t n = workers_count(sv->workers);

	log_info("Starting %zu worker%s of '%s'", n, n == 1 ? "" : "s", sv->config->supervisor.name);
	return workers_start(sv->workers);
}

/* Announce (readiness 503, exec hooks, intake signals; bounded by intake_timeout), then
 * drain_delay while the workers still accept, then close the door: shutdown() of the sockets. */
static void
intake_step(struct supervisor *sv)
{
	const struct config *c = sv->config;
	usec_t drain = c->shutdown.drain_delay;
	struct step_scope scope;

	step_begin(sv, PHASE_INTAKE);
	intake_announce_all(&sv->intakes, usec_add(now_usec(), c->shutdown.intake_timeout));
	if (drain > 0 && sv->facts.empty)
		log_info("No worker is left to accept, skipping drain_delay");
	else if (drain > 0 && shutdown_scope_enter(&sv->shutdown, &scope) == 0) {
		log_info("Draining for %s while workers still accept",
		    format_duration((char[DURATION_MAX]) { 0 }, DURATION_MAX, drain));
		/* Until drain_delay has passed, or a second signal cancels the scope. */
		(void) !task_sleep_until(usec_add(now_usec(), drain));
		(void) shutdown_scope_leave(&sv->shutdown, &scope);
	}
	intake_shutdown_all(&sv->intakes);
	shutdown_step_end(&sv->shutdown, PHASE_INTAKE);
}

/* "stopping: join, 1 left: web.1 (pid 4242)", logged and sent as STATUS=. */
static void
log_still_alive(struct supervisor *sv)
{
	char line[512], status[sizeof(sv->notify.status)];
	size_t len = 0, left = 0;

	for (size_t i = 0; i < workers_count(sv->workers); i++) {
		const struct worker *w = workers_at(sv->workers, i);

		for (unsigned j = 0; j < worker_n_instances(w); j++) {
			struct worker_instance_info in;

			worker_instance_info(w, j, &in);
			if (!in.running)
				continue;
			if (left++ < 8 && len < sizeof(line))
				len += (size_t) snprintf(line + len, sizeof(line) - len, "%s%s (pid %ld)",
				    left > 1 ? ", " : "", in.name, (long) in.pid);
		}
	}
	if (left > 8 && len < sizeof(line))
		snprintf(line + len, sizeof(line) - len, ", ...");
	if (!left)
		return;
	snprintf(status, sizeof(status), "stopping: %s, %zu left: %s",
	    shutdown_step_name(&sv->shutdown), left, line);
	log_fields(LOG_INFO, 0, LOG_FIELDS({ "event", "waiting" }), "%s", status);
	notify_status(&sv->notify, status);
	notify_extend(&sv->notify, remaining(sv));
}

/*
 * While running: STATUS= "running: 5 workers", and READY=1 once no instance is starting (the
 * readiness rule, policy.h). Returns true when nothing runs and nothing will start again: every
 * instance finished, gave up or was never started (autostart = no) and its process is gone. One
 * waiting for its restart_delay or for its dependencies is pending, not over.
 */
static bool
report_running(struct supervisor *sv)
{
	unsigned ready = 0, failed = 0, pending = 0, finished = 0, over = 0, total = 0;
	char status[sizeof(sv->notify.status)];
	int n;

	for (size_t i = 0; i < workers_count(sv->workers); i++) {
		const struct worker *w = workers_at(sv->workers, i);

		for (unsigned j = 0; j < worker_n_instances(w); j++) {
			struct worker_instance_info in;

			worker_instance_info(w, j, &in);
			total++;
			/* Done, gave up, or never started (autostart = no). */
			if (policy_instance_over(in.readiness, in.running))
				over++;
			failed += in.readiness == READINESS_FAILED;
			ready += in.readiness == READINESS_SERVING || in.readiness == READINESS_GONE;
			finished += in.readiness == READINESS_DONE;
			pending += policy_instance_starting(in.readiness);
		}
	}
	n = snprintf(status, sizeof(status), "%s: %u worker%s", pending ? "starting" : "running",
	    ready, ready == 1 ? "" : "s");
	if (pending && n > 0 && (size_t) n < sizeof(status))
		n += snprintf(status + n, sizeof(status) - (size_t) n, ", %u starting", pending);
	if (finished && n > 0 && (size_t) n < sizeof(status))
		n += snprintf(status + n, sizeof(status) - (size_t) n, ", %u exited", finished);
	if (failed && n > 0 && (size_t) n < sizeof(status))
		snprintf(status + n, sizeof(status) - (size_t) n, ", %u failed", failed);
	if (pending)
		notify_status(&sv->notify, status);
	else if (!sv->notify.notified_ready) {
		log_fields(LOG_INFO, 0, LOG_FIELDS({ "event", "ready" }), "Every worker is ready (%s)",
		    status);
		notify_ready(&sv->notify, status);
	} else
		notify_status(&sv->notify, status);
	return total > 0 && over == total;
}

/* What the run came to, for the exit status (policy_exit_status()) and the report. */
static void
collect_facts(struct supervisor *sv)
{
	struct run_facts *f = &sv->facts;
	const char *from = sv->config->supervisor.exit_code_from;
	struct worker *w;

	for (size_t i = 0; i < workers_count(sv->workers); i++) {
		w = workers_at(sv->workers, i);
		for (unsigned j = 0; j < worker_n_instances(w); j++) {
			struct worker_instance_info in;

			worker_instance_info(w, j, &in);
			/* One stopped by its own stop (gracectl stop) was not the shutdown's: it keeps
			 * its outcome in the report, but does not make the shutdown forced. */
			if (in.stopped)
				continue;
			f->forced = f->forced || in.outcome == OUTCOME_KILLED ||
			    in.outcome == OUTCOME_ABANDONED || in.outcome == OUTCOME_FAILED;
		}
	}
	for (size_t i = 0; i < sv->stragglers.n; i++)
		f->forced = f->forced || sv->stragglers.items[i].outcome == OUTCOME_KILLED ||
		    sv->stragglers.items[i].outcome == OUTCOME_ABANDONED;
	f->status_from_worker = from != NULL;
	if (from && (w = worker_find(sv->workers, from)) && worker_n_instances(w) > 0) {
		struct worker_instance_info in;

		worker_instance_info(w, 0, &in);
		f->worker_ended = in.ended;
		f->worker_status = in.status;
	}
	f->completed = true;
}

static void
close_step(struct supervisor *sv)
{
	const struct shutdown *sd = &sv->shutdown;
	int r;

	step_begin(sv, PHASE_CLOSE);
	/* A reload stops where it is once the shutdown began; what is left of it is cut here. */
	if (sv->reloads) {
		if (task_group_join(sv->reloads, usec_add(now_usec(), CLOSE_TASKS_TIMEOUT)) < 0)
			task_group_cancel_because(sv->reloads, "shutdown step close");
		if (task_group_close(sv->reloads, usec_add(now_usec(), CLOSE_TASKS_TIMEOUT)) == 0 &&
		    task_group_free(sv->reloads) == 0)
			sv->reloads = NULL;
	}
	/* Every worker is joined or abandoned: cancel what still serves them (the watcher of an
	 * abandoned process, a pump whose pipe a descendant holds), subgroups included. */
	task_group_cancel_because(sv->workers_group, "shutdown step close");
	/* 0, or the first failure of a worker task (reported when it ended): empty either way. */
	r = task_group_join(sv->workers_group, usec_add(now_usec(), CLOSE_TASKS_TIMEOUT));
	if (r >= 0 || task_group_live(sv->workers_group) == 0) {
		workers_free_groups(sv->workers);
		if (task_group_free(sv->workers_group) == 0)
			sv->workers_group = NULL;
	}
	if (sv->stoppers &&
	    task_group_close(sv->stoppers, usec_add(now_usec(), CLOSE_TASKS_TIMEOUT)) == 0 &&
	    task_group_free(sv->stoppers) == 0)
		sv->stoppers = NULL;
	/* Listening sockets and endpoints first, then the resources (DESIGN.md, step 5). */
	intake_close_all(&sv->intakes);
	resource_close_all(&sv->resources, sv->config->supervisor.pidfile, sv->rt, &sv->reaper);
	/* Last, so the step log below is the only thing a stuck reader can still cost. */
	outbuf_drain(usec_add(now_usec(), OUTPUT_FLUSH_TIMEOUT));
	if (outbuf_dropped() > 0)
		log_warning("%llu bytes of graced's output were dropped: its stdout or stderr did not "
			    "take them in time, continuing",
		    (unsigned long long) outbuf_dropped());
	sv->output_dropped = outbuf_dropped();
	shutdown_step_end(&sv->shutdown, PHASE_CLOSE);

	for (enum phase p = 0; p < _PHASE_MAX; p++) {
		const struct shutdown_step *st = &sd->steps[p];

		log_fields(LOG_INFO, 0, LOG_FIELDS({ "step", phase_to_string(p) }, { "event", "step-end" }),
		    "Step %s ran from +%llu ms to +%llu ms", phase_to_string(p),
		    (unsigned long long) ((st->start - sd->triggered) / USEC_PER_MSEC),
		    (unsigned long long) ((st->end - sd->triggered) / USEC_PER_MSEC));
	}
	/* The report is rendered and written by supervisor_finish(), once the loop has ended. */
	collect_facts(sv);
	/* `gracectl shutdown --wait` learns the exit status; the socket goes last. */
	sv->control = control_close(sv->control, policy_exit_status(&sv->facts));
}

/* The stop, cancel and join steps: one stopper per worker and one for the stragglers, until all
 * are done; meanwhile systemd hears of each step and of what is still alive. */
static void
stop_steps(struct supervisor *sv)
{
	usec_t next = usec_add(now_usec(), STILL_ALIVE_INTERVAL);
	int r;

	if ((r = task_group_new(sv->rt, NULL, "stoppers", &sv->stoppers)) < 0) {
		log_error_errno(r, "Failed to run the stop steps, killing every worker");
		sv->facts.forced = true;
		for (size_t i = 0; i < workers_count(sv->workers); i++)
			worker_kill_now(workers_at(sv->workers, i));
		return;
	}
	for (size_t i = 0; i < workers_count(sv->workers); i++) {
		struct worker *w = workers_at(sv->workers, i);

		if ((r = task_spawn(sv->stoppers, worker_name(w), worker_stop_task, w, NULL)) < 0) {
			log_error_errno(r, "Failed to stop worker '%s', killing it", worker_name(w));
			sv->facts.forced = true;
			worker_kill_now(w);
		}
	}
	/* After the workers' stoppers, so the first stop signal is not held up by the walk down
	 * /proc (scan() copes with workers that exit meanwhile). */
	if ((r = task_spawn(sv->stoppers, "stragglers", straggler_task, &sv->stragglers, NULL)) < 0)
		log_error_errno(r, "Failed to look for stragglers, continuing");
	for (;;) {
		struct task_clause c[] = {
			{ .kind = TASK_CLAUSE_GROUP, .group = sv->stoppers },
			{ .kind = TASK_CLAUSE_EVENT, .event = &sv->shutdown.step_changed },
		};

		r = task_wait_any(c, ELEMENTSOF(c), next);
		if (r == 1)
			announce_step(sv);
		else if (r == -ETIMEDOUT) {
			log_still_alive(sv);
			next = usec_add(now_usec(), STILL_ALIVE_INTERVAL);
		} else
			break;
	}
}

static int
supervisor_task(void *arg)
{
	struct supervisor *sv = arg; /* owned by main(), which outlives the loop */
	struct task_clause c[] = {
		{ .kind = TASK_CLAUSE_EVENT, .event = &sv->shutdown.trigger },
		{ .kind = TASK_CLAUSE_EVENT, .event = &sv->wake },
	};
	const char *why;

	if (start_workers(sv) < 0)
		trigger(sv, "start failure");
	sv->workers_started = true;
	/* Until the trigger (clause 0); a change of the workers' state (clause 1) is looked at. */
	task_event_set(&sv->wake);
	while (task_wait_any(c, ELEMENTSOF(c), USEC_INFINITY) == 1) {
		task_event_reset(&sv->wake);
		/* A critical worker ended or failed. */
		if ((why = workers_trigger_reason(sv->workers))) {
			trigger(sv, why);
			break;
		}
		/* Single-command mode ends with its command (a critical worker) anyway. */
		if (report_running(sv) && !sv->single &&
		    sv->config->supervisor.when_empty == WHEN_EMPTY_SHUTDOWN) {
			log_info("Every worker has ended and none will start again (when_empty = shutdown)");
			sv->facts.empty = true;
			trigger(sv, "nothing left to run");
			break;
		}
	}

	intake_step(sv);
	/* The stop step begins: what waits on the stop event (an instance waiting out its
	 * restart_delay) wakes up; the stoppers signal the processes. */
	sv->shutdown.phase = PHASE_STOP;
	task_event_set(&sv->shutdown.stop);
	stop_steps(sv);
	/* Every step appears in the report; one that had nothing to do took no time. */
	for (enum phase p = PHASE_STOP; p <= PHASE_JOIN; p++) {
		step_begin(sv, p);
		shutdown_step_end(&sv->shutdown, p);
	}

	close_step(sv);
	event_base_loopexit(sv->base, NULL);
	return 0;
}

/*
 * An orphan killed in the last steps (a hook's child, a straggler's child) may become graced's
 * only after graced's last reap: reap until no child is left, for a short while, so no zombie is
 * left to init. The loop has ended, so this may block.
 */
static void
reap_last(struct supervisor *sv)
{
	usec_t deadline = usec_add(now_usec(), REAP_LAST_TIMEOUT);

	for (;;) {
		siginfo_t info = {};

		supervisor_reap(sv);
		if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || now_usec() >= deadline)
			return; /* ECHILD: nothing left */
		if (info.si_pid == 0)
			(void) nanosleep(&(struct timespec) { .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
}

/* The report, rendered once from the final state of the shutdown, the workers, the stragglers
 * and the intakes. */
static struct report *
render_report(const struct supervisor *sv, size_t pending)
{
	const struct shutdown *sd = &sv->shutdown;
	_cleanup_(report_freep) struct report *r = report_new(sv->config->supervisor.name);

	if (!r || !(r->trigger = strdup(sd->why)))
		return NULL;
	r->triggered = sd->triggered;
	r->exit_code = policy_exit_status(&sv->facts);
	for (enum phase p = 0; p < _PHASE_MAX; p++)
		r->steps[p] = (struct report_step) { sd->steps[p].start, sd->steps[p].end };
	for (size_t i = 0; sv->workers && i < workers_count(sv->workers); i++) {
		const struct worker *w = workers_at(sv->workers, i);

		for (unsigned j = 0; j < worker_n_instances(w); j++) {
			struct worker_instance_info in;
			struct report_worker *rw;

			worker_instance_info(w, j, &in);
			if (!(rw = report_add_worker(r, worker_name(w), j)))
				return NULL;
			rw->pid = in.last_pid;
			rw->outcome = in.outcome;
			rw->step = in.step;
			rw->exit = in.exited_at;
			rw->signalled = in.signalled_at;
			rw->stopped_on_request = in.stopped;
			rw->exit_code = in.ended && WIFEXITED(in.status) ? WEXITSTATUS(in.status) : -1;
			rw->term_signal = in.ended && WIFSIGNALED(in.status) ? WTERMSIG(in.status) : 0;
		}
	}
	if (straggler_report(&sv->stragglers, r) < 0 || intake_report(&sv->intakes, r) < 0)
		return NULL;
	r->tasks_pending_at_exit = pending;
	r->budget = sv->plan && sv->plan->worst_case != USEC_INFINITY ? sv->plan->worst_case : 0;
	r->output_dropped_bytes = sv->output_dropped;
	return TAKE_PTR(r);
}

size_t
supervisor_finish(struct supervisor *sv)
{
	const char *path = sv->config->supervisor.report;
	size_t pending;
	int r;

	pending = task_runtime_shutdown(sv->rt);
	if (pending > 0)
		log_error("%zu task%s still pending at exit", pending, pending == 1 ? "" : "s");
	if (!sv->facts.completed)
		return pending; /* the loop failed before the close step: no report to write */
	if (path) {
		_cleanup_(report_freep) struct report *report = render_report(sv, pending);

		r = report ? report_write_file(report, path) : -ENOMEM;
		if (r < 0) {
			log_error_errno(r, "Failed to write the report '%s', continuing", path);
			/* A run-time failure of graced's own (policy_exit_status()). */
			sv->facts.report_failed = true;
		}
	}
	log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "event", "exit" }), "Shutdown complete, exit status %d",
	    policy_exit_status(&sv->facts));
	return pending;
}

static void
reporter(enum task_report kind, const char *name, const char *message, void *userdata)
{
	log_fields(kind == TASK_REPORT_SLOW_STEP ? LOG_NOTICE : LOG_WARNING, 0,
	    LOG_FIELDS({ "task", name }, { "event", task_report_to_string(kind) }), "%s", message);
}

int
supervisor_run(struct supervisor *sv, struct run_facts *ret)
{
	const struct supervisor_config *c = &sv->config->supervisor;
	size_t pending;
	int r;

	if ((r = task_runtime_new(sv->base, &sv->rt)) < 0)
		return log_error_errno(r, "Failed to set up the task runtime");
	task_runtime_set_reporter(sv->rt, reporter, sv);
	/* Slow steps are reported in debug mode only (DESIGN.md). */
	task_runtime_set_slow_step(sv->rt, c->debug ? c->slow_step : 0);
	if ((r = task_group_new(sv->rt, NULL, "supervisor", &sv->group)) < 0 ||
	    (r = task_group_new(sv->rt, NULL, "workers", &sv->workers_group)) < 0 ||
	    (r = task_group_new(sv->rt, NULL, "reload", &sv->reloads)) < 0)
		return log_error_errno(r, "Failed to set up the task runtime");
	sv->wctx.rt = sv->rt;
	sv->wctx.group = sv->workers_group;
	sv->intakes.rt = sv->rt;
	if ((r = signals_setup(sv->base, on_signal, sv, &sv->signals)) < 0 ||
	    (r = notify_setup(&sv->notify, sv->base)) < 0)
		return r;
	/* Readiness endpoints serve from now on, before any worker starts. */
	if ((r = intake_serve_all(&sv->intakes)) < 0)
		return r;
	if (c->subreaper && getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		log_warning_errno(errno, "Failed to become a subreaper, orphans of workers will not be "
					 "reaped by graced, continuing");
	if ((r = control_new(sv, sv->rt, c, &sv->control)) < 0)
		return r;
	if (c->pidfile && (r = resource_write_pidfile(c->pidfile)) < 0)
		return log_error_errno(r, "Failed to write the pidfile '%s'", c->pidfile);
	if ((r = task_spawn(sv->group, "supervisor", supervisor_task, sv, NULL)) < 0)
		return log_error_errno(r, "Failed to start the supervisor task");

	sv->started = now_usec();
	if (event_base_dispatch(sv->base) < 0)
		log_error("The event loop failed");

	reap_last(sv);
	/* The loop ends after the close step; nothing may be left. */
	pending = supervisor_finish(sv);
	if (pending == 0) {
		if (sv->workers_group)
			(void) task_group_free(sv->workers_group);
		if (sv->reloads)
			(void) task_group_free(sv->reloads);
		(void) task_group_free(sv->group);
		sv->rt = task_runtime_free(sv->rt);
	}
	*ret = sv->facts;
	return 0;
}
