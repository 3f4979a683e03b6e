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
#include "report.h"
#include "single.h"
#include "straggler.h"
#include "supervisor.h"
#include "task.h"
#include "util.h"

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
	sv->phase = _PHASE_INVALID;
	sv->reaper = (struct command_reaper) { reap_all, sv };
	task_event_init(&sv->trigger, "shutdown trigger");
	task_event_init(&sv->stop, "stop");
	task_event_init(&sv->wake, "supervisor changed");
	LIST_INIT(&sv->step_scopes);

	if (!(sv->report = report_new(c->supervisor.name)) ||
	    !(sv->workers = calloc(MAX(c->n_workers, 1), sizeof(struct worker)))) {
		supervisor_free(sv);
		return -ENOMEM;
	}
	sv->n_workers = c->n_workers;
	for (size_t i = 0; i < c->n_workers; i++) {
		struct worker *w = &sv->workers[i];

		if ((r = worker_init(w, sv, c->workers[i])) < 0) {
			supervisor_free(sv);
			return r;
		}
		for (unsigned j = 0; j < w->n_instances; j++) {
			w->instances[j].record = sv->report->n_workers;
			if (!report_add_worker(sv->report, c->workers[i]->name, j)) {
				supervisor_free(sv);
				return -ENOMEM;
			}
		}
	}
	if ((r = plan_build(c, &sv->plan)) < 0) {
		supervisor_free(sv);
		return r;
	}
	/* Listening sockets and readiness endpoints exist before any worker starts. */
	if ((r = intake_open_all(sv)) < 0) {
		supervisor_free(sv);
		return r;
	}
	*ret = sv;
	return 0;
}

struct supervisor *
supervisor_free(struct supervisor *sv)
{
	if (!sv)
		return NULL;
	signals_free(sv);
	sv->control = control_close(sv->control, 1);
	notify_free(sv);
	straggler_free_all(sv);
	intake_free_all(sv);
	for (size_t i = 0; i < sv->n_workers; i++)
		worker_done(&sv->workers[i]);
	free(sv->workers);
	/* supervisor_run() failed before its loop (the control socket, the pidfile...): nothing
	 * ran, so nothing can still reference the runtime. */
	if (sv->rt && sv->started == 0)
		sv->rt = task_runtime_free(sv->rt);
	plan_free(sv->plan);
	report_free(sv->report);
	free(sv);
	return NULL;
}

struct worker *
supervisor_find_worker(struct supervisor *sv, const char *name)
{
	/* sv->workers is parallel to the config's workers. */
	ssize_t i = config_worker_index(sv->config, name);

	return i >= 0 ? &sv->workers[i] : NULL;
}

void
supervisor_poke(struct supervisor *sv)
{
	task_event_set(&sv->wake);
	for (size_t i = 0; i < sv->n_workers; i++) {
		task_event_set(&sv->workers[i].wake);
		for (unsigned j = 0; j < sv->workers[i].n_instances; j++)
			task_event_set(&sv->workers[i].instances[j].wake);
	}
}

void
supervisor_trigger(struct supervisor *sv, const char *why)
{
	if (sv->stopping)
		return;
	sv->stopping = true;
	sv->report->triggered = now_usec();
	free(sv->report->trigger);
	sv->report->trigger = strdup(why);
	log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "event", "shutdown" }, { "trigger", why }),
	    "Shutdown triggered by %s", why);
	notify_stopping(sv, "stopping: intake");
	/* No step may wait on a stuck reader of graced's output from now on. */
	outbuf_stop_waiting();
	/* What must act on it waits on it: the supervisor's task, instances starting or waiting for
	 * their dependencies. */
	task_event_set(&sv->trigger);
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
	for (size_t i = 0; i < sv->n_workers; i++)
		for (unsigned j = 0; j < sv->workers[i].n_instances; j++) {
			const struct instance *in = &sv->workers[i].instances[j];

			if (notify_worker_status(in))
				fprintf(f, "worker %s status: %s\n", in->name, notify_worker_status(in));
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
	struct instance *in = sv->n_workers ? &sv->workers[0].instances[0] : NULL;
	int to = sv->forwarding ? single_rewrite(sv->forwarding, sig) : sig;
	bool group = sv->forwarding && sv->forwarding->group;
	char pid[16];

	if (!in || !in->running) {
		log_debug("Received %s with no command running, ignoring", signal_to_string(sig));
		return false;
	}
	if (to == SIGNAL_NONE) {
		log_debug("Received %s: dropped (-r)", signal_to_string(sig));
		return false;
	}
	snprintf(pid, sizeof(pid), "%ld", (long) in->pid);
	log_fields(LOG_DEBUG, 0, LOG_FIELDS({ "worker", in->name }, { "signal", signal_to_string(to) },
				     { "pid", pid }, { "event", "forward" }),
	    "Forwarding %s to '%s' (%s %s)", signal_to_string(to), in->name,
	    group ? "process group" : "pid", pid);
	if (kill(group ? -in->pid : in->pid, to) < 0 && errno != ESRCH)
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
	struct instance *in = sv->n_workers ? &sv->workers[0].instances[0] : NULL;
	sigset_t ttou, old;

	if (!in || !in->running || !isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp())
		return;
	/* Only the foreground group may hand the terminal on without SIGTTOU; block it anyway. */
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	(void) sigprocmask(SIG_BLOCK, &ttou, &old);
	(void) tcsetpgrp(STDIN_FILENO, in->pid);
	(void) sigprocmask(SIG_SETMASK, &old, NULL);
}

void
supervisor_job_stopped(struct supervisor *sv)
{
	if (sv->single)
		job_stop();
}

int
supervisor_stop_signal(const struct supervisor *sv, int configured)
{
	return sv->stop_signal_replaced ? sv->stop_signal_received : configured;
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

int
supervisor_step_scope_enter(struct supervisor *sv, struct step_scope *s)
{
	int r;

	if ((r = task_scope_enter(&s->scope, USEC_INFINITY)) < 0)
		return r;
	LIST_INSERT_HEAD(&sv->step_scopes, s, link);
	return 0;
}

int
supervisor_step_scope_leave(struct supervisor *sv, struct step_scope *s)
{
	LIST_REMOVE(s, link);
	return task_scope_leave(&s->scope);
}

/* A second signal: every step wait in progress ends now (each leaves its scope and moves on). */
static void
escalate(struct supervisor *sv)
{
	struct step_scope *s;

	LIST_FOREACH(s, &sv->step_scopes, link)
		task_scope_cancel(&s->scope, "escalation");
}

/*
 * GNU timeout (and other killers) send their signal to graced's pid and then to its process
 * group, microseconds apart: the same signal again within second_signal_window of the one acted
 * on is that same request. Another signal (SIGINT right after SIGTERM) is a new request.
 */
static bool
same_request(const struct supervisor *sv, int sig, usec_t now)
{
	return sv->stopping && sig == sv->last_signal &&
	    now - sv->last_signal_at < sv->config->shutdown.second_signal_window;
}

void
supervisor_on_signal(struct supervisor *sv, int sig)
{
	usec_t now;

	if (sv->single && sig != SIGTERM && sig != SIGINT) {
		if (sig == SIGCONT)
			job_continue(sv);
		if (forward(sv, sig) && (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU))
			job_stop();
		return;
	}
	/* Without --stop-signal the command gets the SIGTERM or SIGINT graced received. */
	if (sv->single && !sv->stopping && sv->forwarding && !sv->forwarding->stop_signal_set) {
		sv->stop_signal_replaced = true;
		sv->stop_signal_received = single_rewrite(sv->forwarding, sig);
	}
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		now = now_usec();
		if (same_request(sv, sig, now)) {
			log_fields(LOG_DEBUG, 0, LOG_FIELDS({ "event", "repeat" }),
			    "Received %s again within second_signal_window: the same request, ignoring",
			    signal_to_string(sig));
			break;
		}
		sv->last_signal = sig;
		sv->last_signal_at = now;
		if (!sv->stopping) {
			supervisor_trigger(sv, signal_to_string(sig));
			break;
		}
		if (sv->config->shutdown.second_signal == SECOND_SIGNAL_IGNORE) {
			log_notice("Received %s again during the shutdown, ignoring (second_signal = ignore)",
			    signal_to_string(sig));
			break;
		}
		log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "event", "escalate" }),
		    "Received %s again: skipping the current wait", signal_to_string(sig));
		escalate(sv);
		break;
	case SIGUSR1:
		dump_tasks(sv);
		break;
	case SIGHUP:
		log_notice("Received SIGHUP: reloading is not supported by this version, ignoring");
		break;
	default:
		ignore_signal(sv, sig);
		break;
	}
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
		if (task_runtime_child_exited(sv->rt, pid, status) == -ESRCH)
			log_fields(sv->forwarding && sv->forwarding->warn_zombies ? LOG_WARNING :
				LOG_DEBUG, 0, LOG_FIELDS({ "event", "reap-orphan" }),
			    "Reaped orphan pid %ld", (long) pid);
	}
}

void
supervisor_step_begin(struct supervisor *sv, enum phase p)
{
	struct report_step *s = &sv->report->steps[p];
	usec_t now = now_usec();

	if (s->start)
		return;
	s->start = now;
	s->end = now;
	if (sv->phase < p)
		sv->phase = p;
	log_fields(LOG_INFO, 0, LOG_FIELDS({ "step", phase_to_string(p) }, { "event", "step-begin" }),
	    "Step %s begins", phase_to_string(p));
	if (sv->phase == p) {
		char status[64];

		snprintf(status, sizeof(status), "stopping: %s", phase_to_string(p));
		notify_status(sv, status);
		notify_extend(sv);
		control_step_changed(sv->control);
	}
}

void
supervisor_step_end(struct supervisor *sv, enum phase p)
{
	struct report_step *s = &sv->report->steps[p];

	s->end = MAX(s->end, now_usec());
}

static int
start_workers(struct supervisor *sv)
{
	int r;

	log_info("Starting %zu worker%s of '%s'", sv->n_workers, sv->n_workers == 1 ? "" : "s",
	    sv->config->supervisor.name);
	for (size_t i = 0; i < sv->n_workers; i++)
		for (unsigned j = 0; j < sv->workers[i].n_instances; j++) {
			struct instance *in = &sv->workers[i].instances[j];

			if ((r = task_group_new(sv->rt, sv->workers_group, in->name, &in->group)) < 0 ||
			    (r = task_spawn(sv->workers_group, in->name, worker_instance_task, in, NULL)) <
				0)
				return log_error_errno(r, "Failed to start the task of worker '%s'",
				    in->name);
		}
	return 0;
}

/* Announce (readiness 503, exec hooks, intake signals; bounded by intake_timeout), then
 * drain_delay while the workers still accept, then close the door: shutdown() of the sockets. */
static void
intake_step(struct supervisor *sv)
{
	const struct config *c = sv->config;
	usec_t drain = c->shutdown.drain_delay;
	struct step_scope scope;

	supervisor_step_begin(sv, PHASE_INTAKE);
	intake_announce_all(sv, usec_add(now_usec(), c->shutdown.intake_timeout));
	if (drain > 0 && sv->empty)
		log_info("No worker is left to accept, skipping drain_delay");
	else if (drain > 0 && supervisor_step_scope_enter(sv, &scope) == 0) {
		log_info("Draining for %s while workers still accept",
		    format_duration((char[DURATION_MAX]) { 0 }, DURATION_MAX, drain));
		/* Until drain_delay has passed, or a second signal cancels the scope. */
		(void) !task_sleep_until(usec_add(now_usec(), drain));
		(void) supervisor_step_scope_leave(sv, &scope);
	}
	intake_shutdown_all(sv);
	supervisor_step_end(sv, PHASE_INTAKE);
}

/* "stopping: join, 1 left: web.1 (pid 4242)", logged and sent as STATUS=. */
static void
log_still_alive(struct supervisor *sv)
{
	char line[512], status[sizeof(sv->status)];
	size_t len = 0, left = 0;

	for (size_t i = 0; i < sv->n_workers; i++)
		for (unsigned j = 0; j < sv->workers[i].n_instances; j++) {
			struct instance *in = &sv->workers[i].instances[j];

			if (!in->running)
				continue;
			if (left++ < 8 && len < sizeof(line))
				len += (size_t) snprintf(line + len, sizeof(line) - len, "%s%s (pid %ld)",
				    left > 1 ? ", " : "", in->name, (long) in->pid);
		}
	if (left > 8 && len < sizeof(line))
		snprintf(line + len, sizeof(line) - len, ", ...");
	if (!left)
		return;
	snprintf(status, sizeof(status), "stopping: %s, %zu left: %s", phase_to_string(sv->phase),
	    left, line);
	log_fields(LOG_INFO, 0, LOG_FIELDS({ "event", "waiting" }), "%s", status);
	notify_status(sv, status);
	notify_extend(sv);
}

/*
 * While running: STATUS= "running: 5 workers", and READY=1 once every instance is ready or has
 * given up (a failed non-critical worker does not hold the service back). Returns true when
 * nothing runs and nothing will start again: every instance finished or gave up and its process
 * is gone. One waiting for its restart_delay or for its dependencies is pending, not over.
 */
static bool
report_running(struct supervisor *sv)
{
	unsigned ready = 0, failed = 0, pending = 0, finished = 0, over = 0, total = 0;
	char status[sizeof(sv->status)];
	int n;

	for (size_t i = 0; i < sv->n_workers; i++)
		for (unsigned j = 0; j < sv->workers[i].n_instances; j++) {
			const struct instance *in = &sv->workers[i].instances[j];

			total++;
			if ((in->failed || in->finished) && !in->running)
				over++;
			if (in->failed)
				failed++;
			else if (in->ready)
				ready++;
			else if (in->finished)
				finished++;
			else
				pending++;
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
		notify_status(sv, status);
	else if (!sv->notified_ready) {
		log_fields(LOG_INFO, 0, LOG_FIELDS({ "event", "ready" }), "Every worker is ready (%s)",
		    status);
		notify_ready(sv, status);
	} else
		notify_status(sv, status);
	return total > 0 && over == total;
}

static int
exit_status_of(const struct supervisor *sv, const char *name)
{
	const struct report *r = sv->report;

	for (size_t i = 0; i < r->n_workers; i++) {
		const struct report_worker *w = &r->workers[i];

		if (!streq(w->name, name) || w->instance != 0)
			continue;
		if (w->exit_code >= 0)
			return w->exit_code;
		if (w->term_signal > 0)
			return 128 + w->term_signal;
		return 1; /* never ended, or never started */
	}
	return 1;
}

static int
exit_status(struct supervisor *sv)
{
	const struct report *r = sv->report;
	bool forced = sv->forced;

	for (size_t i = 0; i < r->n_workers; i++)
		forced = forced || r->workers[i].outcome == OUTCOME_KILLED ||
		    r->workers[i].outcome == OUTCOME_ABANDONED || r->workers[i].outcome == OUTCOME_FAILED;
	for (size_t i = 0; i < r->n_stragglers; i++)
		forced = forced || r->stragglers[i].outcome == OUTCOME_KILLED ||
		    r->stragglers[i].outcome == OUTCOME_ABANDONED;
	if (sv->config->supervisor.exit_code_from)
		return exit_status_of(sv, sv->config->supervisor.exit_code_from);
	return forced ? 1 : 0;
}

static void
close_step(struct supervisor *sv)
{
	int r;

	supervisor_step_begin(sv, PHASE_CLOSE);
	/* Every worker is joined or abandoned: cancel what still serves them (the watcher of an
	 * abandoned process, a pump whose pipe a descendant holds), subgroups included. */
	task_group_cancel_because(sv->workers_group, "shutdown step close");
	/* 0, or the first failure of a worker task (reported when it ended): empty either way. */
	r = task_group_join(sv->workers_group, usec_add(now_usec(), CLOSE_TASKS_TIMEOUT));
	if (r >= 0 || task_group_live(sv->workers_group) == 0) {
		for (size_t i = 0; i < sv->n_workers; i++)
			for (unsigned j = 0; j < sv->workers[i].n_instances; j++) {
				struct instance *in = &sv->workers[i].instances[j];

				if (in->group && task_group_free(in->group) == 0)
					in->group = NULL;
			}
		if (task_group_free(sv->workers_group) == 0)
			sv->workers_group = NULL;
	}
	if (sv->stoppers &&
	    task_group_close(sv->stoppers, usec_add(now_usec(), CLOSE_TASKS_TIMEOUT)) == 0 &&
	    task_group_free(sv->stoppers) == 0)
		sv->stoppers = NULL;
	/* Listening sockets and endpoints first, then the resources (DESIGN.md, step 5). */
	intake_close_all(sv);
	resource_close_all(sv);
	/* Last, so the step log below is the only thing a stuck reader can still cost. */
	outbuf_drain(usec_add(now_usec(), OUTPUT_FLUSH_TIMEOUT));
	if (outbuf_dropped() > 0)
		log_warning("%llu bytes of graced's output were dropped: its stdout or stderr did not "
			    "take them in time, continuing",
		    (unsigned long long) outbuf_dropped());
	sv->report->output_dropped_bytes = outbuf_dropped();
	supervisor_step_end(sv, PHASE_CLOSE);

	for (enum phase p = 0; p < _PHASE_MAX; p++) {
		const struct report_step *st = &sv->report->steps[p];

		log_fields(LOG_INFO, 0, LOG_FIELDS({ "step", phase_to_string(p) }, { "event", "step-end" }),
		    "Step %s ran from +%llu ms to +%llu ms", phase_to_string(p),
		    (unsigned long long) ((st->start - sv->report->triggered) / USEC_PER_MSEC),
		    (unsigned long long) ((st->end - sv->report->triggered) / USEC_PER_MSEC));
	}
	sv->exit_status = exit_status(sv);
	sv->report->exit_code = sv->exit_status;
	/* `gracectl shutdown --wait` learns the exit status; the socket goes last. */
	sv->control = control_close(sv->control, sv->exit_status);
	/* The report is written by supervisor_finish(), once the loop has ended. */
	sv->closed = true;
}

static int
supervisor_task(void *arg)
{
	struct supervisor *sv = arg; /* owned by main(), which outlives the loop */
	struct task_clause c[] = {
		{ .kind = TASK_CLAUSE_EVENT, .event = &sv->trigger },
		{ .kind = TASK_CLAUSE_EVENT, .event = &sv->wake },
	};
	int r;

	if (start_workers(sv) < 0)
		supervisor_trigger(sv, "start failure");
	/* Until the trigger (clause 0); a change of the workers' state (clause 1) is looked at. */
	task_event_set(&sv->wake);
	while (task_wait_any(c, ELEMENTSOF(c), USEC_INFINITY) == 1) {
		task_event_reset(&sv->wake);
		/* Single-command mode ends with its command (a critical worker) anyway. */
		if (report_running(sv) && !sv->single &&
		    sv->config->supervisor.when_empty == WHEN_EMPTY_SHUTDOWN) {
			log_info("Every worker has ended and none will start again (when_empty = shutdown)");
			sv->empty = true;
			supervisor_trigger(sv, "nothing left to run");
			break;
		}
	}

	intake_step(sv);
	sv->phase = PHASE_STOP;
	/* The stop step's in-process part: what waits on the stop event (an instance waiting out
	 * its restart_delay) wakes up; the stoppers signal the processes. */
	task_event_set(&sv->stop);
	if ((r = task_group_new(sv->rt, NULL, "stoppers", &sv->stoppers)) < 0) {
		log_error_errno(r, "Failed to run the stop steps, killing every worker");
		sv->forced = true;
		for (size_t i = 0; i < sv->n_workers; i++)
			for (unsigned j = 0; j < sv->workers[i].n_instances; j++)
				(void) worker_signal(&sv->workers[i].instances[j], SIGKILL, true,
				    PHASE_JOIN);
	} else {
		for (size_t i = 0; i < sv->n_workers; i++)
			if ((r = task_spawn(sv->stoppers, sv->workers[i].config->name, worker_stop_task,
				 &sv->workers[i], NULL)) < 0) {
				log_error_errno(r, "Failed to stop worker '%s', killing it",
				    sv->workers[i].config->name);
				sv->forced = true;
				sv->workers[i].joined = true;
				for (unsigned j = 0; j < sv->workers[i].n_instances; j++)
					(void) worker_signal(&sv->workers[i].instances[j], SIGKILL, true,
					    PHASE_JOIN);
			}
		/* After the workers' stoppers, so the first stop signal is not held up by the walk
		 * down /proc (scan() copes with workers that exit meanwhile). */
		if ((r = task_spawn(sv->stoppers, "stragglers", straggler_task, sv, NULL)) < 0)
			log_error_errno(r, "Failed to look for stragglers, continuing");
		while (task_group_join(sv->stoppers, usec_add(now_usec(), STILL_ALIVE_INTERVAL)) ==
		    -ETIMEDOUT)
			log_still_alive(sv);
	}
	/* Every step appears in the report; one that had nothing to do took no time. */
	for (enum phase p = PHASE_STOP; p <= PHASE_JOIN; p++) {
		supervisor_step_begin(sv, p);
		supervisor_step_end(sv, p);
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

size_t
supervisor_finish(struct supervisor *sv)
{
	const char *report = sv->config->supervisor.report;
	size_t pending;
	int r;

	pending = task_runtime_shutdown(sv->rt);
	if (pending > 0)
		log_error("%zu task%s still pending at exit", pending, pending == 1 ? "" : "s");
	if (!sv->closed)
		return pending; /* the loop failed before the close step: no report to write */
	sv->report->tasks_pending_at_exit = pending;
	if (report && (r = report_write_file(sv->report, report)) < 0) {
		log_error_errno(r, "Failed to write the report '%s', continuing", report);
		/* A run-time failure of graced's own: 1, unless a status is passed on. */
		if (sv->exit_status == 0)
			sv->exit_status = 1;
	}
	log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "event", "exit" }), "Shutdown complete, exit status %d",
	    sv->exit_status);
	return pending;
}

static void
reporter(enum task_report kind, const char *name, const char *message, void *userdata)
{
	log_fields(kind == TASK_REPORT_SLOW_STEP ? LOG_NOTICE : LOG_WARNING, 0,
	    LOG_FIELDS({ "task", name }, { "event", task_report_to_string(kind) }), "%s", message);
}

int
supervisor_run(struct supervisor *sv)
{
	const struct supervisor_config *c = &sv->config->supervisor;
	size_t pending;
	int r;

	if ((r = task_runtime_new(sv->base, &sv->rt)) < 0)
		return log_error_errno(r, "Failed to set up the task runtime"), 1;
	task_runtime_set_reporter(sv->rt, reporter, sv);
	/* Slow steps are reported in debug mode only (DESIGN.md). */
	task_runtime_set_slow_step(sv->rt, c->debug ? c->slow_step : 0);
	if ((r = task_group_new(sv->rt, NULL, "supervisor", &sv->group)) < 0 ||
	    (r = task_group_new(sv->rt, NULL, "workers", &sv->workers_group)) < 0)
		return log_error_errno(r, "Failed to set up the task runtime"), 1;
	if (signals_setup(sv) < 0)
		return 1;
	if (notify_setup(sv) < 0)
		return 1;
	/* Readiness endpoints serve from now on, before any worker starts. */
	if (intake_serve_all(sv) < 0)
		return 1;
	if (c->subreaper && getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		log_warning_errno(errno, "Failed to become a subreaper, orphans of workers will not be "
					 "reaped by graced, continuing");
	if (control_new(sv, sv->rt, c, &sv->control) < 0)
		return 1;
	if (c->pidfile && (r = resource_write_pidfile(c->pidfile)) < 0)
		return log_error_errno(r, "Failed to write the pidfile '%s'", c->pidfile), 1;
	if ((r = task_spawn(sv->group, "supervisor", supervisor_task, sv, NULL)) < 0)
		return log_error_errno(r, "Failed to start the supervisor task"), 1;

	sv->started = now_usec();
	if (event_base_dispatch(sv->base) < 0)
		log_error("The event loop failed");

	reap_last(sv);
	/* The loop ends after the close step; nothing may be left. */
	pending = supervisor_finish(sv);
	if (pending == 0) {
		if (sv->workers_group)
			(void) task_group_free(sv->workers_group);
		(void) task_group_free(sv->group);
		sv->rt = task_runtime_free(sv->rt);
	}
	return sv->exit_status;
}
