/* SPDX-License-Identifier: MIT */
/*
 * supervisor_finish(): what graced does once its loop has ended. The report's
 * tasks_pending_at_exit is the number the runtime's exit check found then: a task genuinely
 * still pending is counted (an estimate made before the loop ended, such as the live tasks less
 * the supervisor's own, would say 0 here), and the report is written only after that check.
 *
 * Escalation: a second signal cancels the step scopes entered at that moment ("escalation", shown
 * in the task table), so their waits return -ECANCELED; the task itself is not cancelled, and a
 * step scope entered afterwards is not either. With second_signal = ignore nothing is cancelled.
 */
#include <errno.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "config.h"
#include "plan.h"
#include "policy.h"
#include "report.h"
#include "shutdown.h"
#include "supervisor.h"
#include "worker.h"
#include "task.h"
#include "util.h"
#include "worker-internal.h"

struct fixture {
	struct event_base *base;
	struct task_runtime *rt;
	struct task_group *g;
	struct config *config;
	struct supervisor sv;
	struct task_event never;
	char dir[64];
	char path[96];
	unsigned pending_reports; /* the exit check named this many tasks */
	bool report_before_check; /* the report existed when the check named a task */
};

static void
reporter(enum task_report kind, const char *name, const char *message, void *userdata)
{
	struct fixture *f = userdata;

	(void) name, (void) message;
	if (kind != TASK_REPORT_PENDING_AT_EXIT)
		return;
	f->pending_reports++;
	f->report_before_check = f->report_before_check || access(f->path, F_OK) == 0;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(f->base = event_base_new());
	assert_int_equal(task_runtime_new(f->base, &f->rt), 0);
	task_runtime_set_reporter(f->rt, reporter, f);
	assert_int_equal(task_group_new(f->rt, NULL, "test", &f->g), 0);
	task_event_init(&f->never, "never");
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_supervisor.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/report.json", f->dir);
	assert_non_null(f->config = config_new());
	assert_non_null(f->config->supervisor.report = strdup(f->path));
	f->sv.config = f->config;
	f->sv.rt = f->rt;
	f->sv.base = f->base;
	shutdown_init(&f->sv.shutdown);
	f->sv.facts.completed = true;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	task_group_cancel(f->g);
	assert_int_equal(task_runtime_run_until(f->rt, f->g, now_usec() + 10 * USEC_PER_SEC), 0);
	assert_int_equal(task_group_free(f->g), 0);
	task_runtime_free(f->rt);
	event_base_free(f->base);
	config_free(f->config);
	(void) unlink(f->path);
	(void) rmdir(f->dir);
	free(f);
	return 0;
}

/* Waits for an event nobody sets: still pending when the loop ends. */
static int
stuck_task(void *arg)
{
	struct fixture *f = arg;

	return task_event_wait(&f->never, USEC_INFINITY);
}

static int
quick_task(void *arg)
{
	(void) arg;
	return 0;
}

/* The report's tasks_pending_at_exit, read back from the file. */
static long
reported_pending(const struct fixture *f)
{
	char buf[4096];
	const char *p;
	size_t n;
	FILE *file;

	assert_non_null(file = fopen(f->path, "re"));
	n = fread(buf, 1, sizeof(buf) - 1, file);
	buf[n] = '\0';
	fclose(file);
	assert_non_null(p = strstr(buf, "\"tasks_pending_at_exit\": "));
	return strtol(p + strlen("\"tasks_pending_at_exit\": "), NULL, 10);
}

static void
test_nothing_pending(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(task_spawn(f->g, "quick", quick_task, f, NULL), 0);
	assert_int_equal(task_runtime_run_until(f->rt, f->g, now_usec() + 10 * USEC_PER_SEC), 0);
	assert_int_equal(supervisor_finish(&f->sv), 0);
	assert_int_equal(f->pending_reports, 0);
	assert_int_equal(reported_pending(f), 0);
	assert_false(f->sv.facts.report_failed);
	assert_int_equal(policy_exit_status(&f->sv.facts), 0);
}

static void
test_pending_counted(void **state)
{
	struct fixture *f = *state;

	/* Two tasks still wait when the loop ends; one that returned is not counted. */
	assert_int_equal(task_spawn(f->g, "stuck-1", stuck_task, f, NULL), 0);
	assert_int_equal(task_spawn(f->g, "stuck-2", stuck_task, f, NULL), 0);
	assert_int_equal(task_spawn(f->g, "quick", quick_task, f, NULL), 0);
	assert_true(task_runtime_run_until(f->rt, f->g, now_usec() + 100 * USEC_PER_MSEC) < 0);
	assert_int_equal(supervisor_finish(&f->sv), 2);
	assert_int_equal(f->pending_reports, 2);
	assert_int_equal(reported_pending(f), 2);
	/* The check ran first, the report was written after it. */
	assert_false(f->report_before_check);
}

static void
test_one_pending(void **state)
{
	struct fixture *f = *state;

	/* The old estimate (live tasks less the supervisor's own) would say 0 here. */
	assert_int_equal(task_spawn(f->g, "stuck", stuck_task, f, NULL), 0);
	assert_true(task_runtime_run_until(f->rt, f->g, now_usec() + 100 * USEC_PER_MSEC) < 0);
	assert_int_equal(supervisor_finish(&f->sv), 1);
	assert_int_equal(reported_pending(f), 1);
}

static void
test_not_closed_no_report(void **state)
{
	struct fixture *f = *state;

	/* The loop failed before the close step: the exit check runs, no report is written. */
	f->sv.facts.completed = false;
	assert_int_equal(supervisor_finish(&f->sv), 0);
	assert_int_equal(access(f->path, F_OK), -1);
}

static void
test_report_unwritable(void **state)
{
	struct fixture *f = *state;
	char *path;

	assert_non_null(path = strdup("/nonexistent-graced-dir/report.json"));
	free(f->config->supervisor.report);
	f->config->supervisor.report = path;
	/* A run-time failure of graced's own: 1 ... */
	assert_int_equal(supervisor_finish(&f->sv), 0);
	assert_true(f->sv.facts.report_failed);
	assert_int_equal(policy_exit_status(&f->sv.facts), 1);
	/* ... unless a status is passed on (exit_code_from, the single command's). */
	f->sv.facts.status_from_worker = true;
	f->sv.facts.worker_ended = true;
	f->sv.facts.worker_status = 3 << 8; /* exited with 3 */
	assert_int_equal(policy_exit_status(&f->sv.facts), 3);
}

/* What a step task saw. */
struct step_run {
	struct fixture *f;
	int wait;      /* the step wait, in its scope */
	int leave;     /* leaving that scope */
	int after;     /* a wait of the task's after leaving it */
	int next_wait; /* a wait in a step scope entered after the escalation */
	int next_leave;
};

static int
step_task(void *arg)
{
	struct step_run *s = arg;
	struct step_scope scope, next;

	if (shutdown_scope_enter(&s->f->sv.shutdown, &scope) < 0)
		return -EINVAL;
	s->wait = task_event_wait(&s->f->never, now_usec() + 30 * USEC_PER_SEC);
	s->leave = shutdown_scope_leave(&s->f->sv.shutdown, &scope);
	s->after = task_sleep_until(now_usec() + USEC_PER_MSEC);
	if (shutdown_scope_enter(&s->f->sv.shutdown, &next) < 0)
		return -EINVAL;
	s->next_wait = task_sleep_until(now_usec() + USEC_PER_MSEC);
	s->next_leave = shutdown_scope_leave(&s->f->sv.shutdown, &next);
	return 0;
}

/* The reason the task table gives for the task named name, or "" when it is not cancelled. */
static void
cancel_reason(struct fixture *f, const char *name, char *buf, size_t n)
{
	struct task_info *info;
	size_t count;

	buf[0] = '\0';
	assert_int_equal(task_runtime_list(f->rt, &info, &count), 0);
	for (size_t i = 0; i < count; i++)
		if (strcmp(info[i].name, name) == 0 && info[i].cancelled)
			snprintf(buf, n, "%s", info[i].reason);
	free(info);
}

static void
test_escalation_cancels_step_scopes(void **state)
{
	struct fixture *f = *state;
	/* Static: a failed assertion leaves the function while the task still points here. */
	static struct step_run s;
	char reason[64];

	s = (struct step_run) { .f = f };

	f->sv.shutdown.stopping = true;
	assert_int_equal(task_spawn(f->g, "stopper", step_task, &s, NULL), 0);
	assert_true(task_runtime_run_until(f->rt, f->g, now_usec() + 50 * USEC_PER_MSEC) < 0);
	cancel_reason(f, "stopper", reason, sizeof(reason));
	assert_string_equal(reason, "");

	supervisor_on_signal(&f->sv, SIGTERM); /* the second signal of a shutdown */
	cancel_reason(f, "stopper", reason, sizeof(reason));
	assert_string_equal(reason, "escalation");

	assert_int_equal(task_runtime_run_until(f->rt, f->g, now_usec() + 10 * USEC_PER_SEC), 0);
	assert_int_equal(s.wait, -ECANCELED);
	assert_int_equal(s.leave, -ECANCELED);
	assert_int_equal(s.after, 0);
	assert_int_equal(s.next_wait, 0);
	assert_int_equal(s.next_leave, 0);
	assert_true(LIST_EMPTY(&f->sv.shutdown.scopes));
}

static void
test_ignored_second_signal(void **state)
{
	struct fixture *f = *state;
	static struct step_run s;
	char reason[64];

	s = (struct step_run) { .f = f, .wait = 1 };

	f->sv.shutdown.stopping = true;
	f->config->shutdown.second_signal = SECOND_SIGNAL_IGNORE;
	assert_int_equal(task_spawn(f->g, "stopper", step_task, &s, NULL), 0);
	assert_true(task_runtime_run_until(f->rt, f->g, now_usec() + 50 * USEC_PER_MSEC) < 0);
	supervisor_on_signal(&f->sv, SIGTERM);
	cancel_reason(f, "stopper", reason, sizeof(reason));
	assert_string_equal(reason, "");
	/* The step wait goes on; the teardown cancels it. */
	assert_true(task_runtime_run_until(f->rt, f->g, now_usec() + 50 * USEC_PER_MSEC) < 0);
	assert_int_equal(s.wait, 1); /* still waiting */
	task_group_cancel(f->g);
	assert_int_equal(task_runtime_run_until(f->rt, f->g, now_usec() + 10 * USEC_PER_SEC), 0);
	assert_int_equal(s.wait, -ECANCELED);
}

/* The loop's SIGCHLD, as signals.c hands it on: the one reaper. */
static void
sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	(void) sig, (void) what;
	supervisor_reap(arg);
}

static bool
instance_running(const struct worker *w)
{
	struct worker_instance_info in;

	worker_instance_info(w, 0, &in);
	return in.running;
}

static bool
instance_over(const struct worker *w)
{
	struct worker_instance_info in;

	worker_instance_info(w, 0, &in);
	return (in.finished || in.failed) && !in.running;
}

/* Runs the loop until done(w) holds, for at most 10 s (a bound, not a wait). */
static void
run_until(struct fixture *f, struct task_group *g, bool (*done)(const struct worker *),
    const struct worker *w)
{
	usec_t deadline = now_usec() + 10 * USEC_PER_SEC;

	while (!done(w) && now_usec() < deadline)
		(void) !task_runtime_run_until(f->rt, g, now_usec() + 20 * USEC_PER_MSEC);
	assert_true(done(w));
}

/* Removes name once its tasks have ended (they end just after its process), within 10 s. */
static int
remove_when_idle(struct fixture *f, struct supervisor *sv, const char *name)
{
	usec_t deadline = now_usec() + 10 * USEC_PER_SEC;
	int r;

	while ((r = supervisor_remove_worker(sv, name)) == -EBUSY && now_usec() < deadline)
		(void) !task_runtime_run_until(f->rt, sv->workers_group, now_usec() + 20 * USEC_PER_MSEC);
	return r;
}

static struct worker_config *
add_config_worker(struct config *c, const char *name, const char *cmd)
{
	struct worker_config *w;

	assert_non_null(w = config_add_worker(c, name));
	assert_int_equal(strv_extend(&w->argv, "/bin/sh"), 0);
	assert_int_equal(strv_extend(&w->argv, "-c"), 0);
	assert_int_equal(strv_extend(&w->argv, cmd), 0);
	return w;
}

/* Workers come and go by name while the loop runs: the added one starts at once, the plan
 * follows the current set, a running one cannot be removed, an ended one can. */
static void
test_add_remove_at_run_time(void **state)
{
	struct fixture *f = *state;
	_cleanup_(config_freep) struct config *extra = config_new();
	struct worker_config *b;
	struct supervisor *sv = NULL;
	struct event *chld;
	struct worker *a, *wb;

	add_config_worker(f->config, "a", "exec sleep 60");
	assert_non_null(extra);
	b = add_config_worker(extra, "b", "exit 0");
	assert_int_equal(supervisor_new(f->base, f->config, false, &sv), 0);
	assert_int_equal(sv->plan->n_workers, 1);
	/* What supervisor_run() sets up, on the fixture's runtime. */
	sv->rt = sv->wctx.rt = sv->intakes.rt = f->rt;
	assert_int_equal(task_group_new(f->rt, NULL, "workers", &sv->workers_group), 0);
	sv->wctx.group = sv->workers_group;
	assert_non_null(chld = evsignal_new(f->base, SIGCHLD, sigchld_cb, sv));
	assert_int_equal(evsignal_add(chld, NULL), 0);

	assert_int_equal(workers_start(sv->workers), 0);
	assert_non_null(a = worker_find(sv->workers, "a"));
	run_until(f, sv->workers_group, instance_running, a);

	/* Added while a runs: it starts at once and joins the plan. */
	assert_int_equal(supervisor_add_worker(sv, b), 0);
	assert_int_equal(supervisor_add_worker(sv, b), -EEXIST);
	assert_non_null(wb = worker_find(sv->workers, "b"));
	assert_int_equal(workers_count(sv->workers), 2);
	assert_int_equal(sv->plan->n_workers, 2);
	run_until(f, sv->workers_group, instance_over, wb);

	/* a still runs: stop it first. b has ended: it goes, and the plan with it. */
	assert_int_equal(supervisor_remove_worker(sv, "a"), -EBUSY);
	assert_int_equal(remove_when_idle(f, sv, "b"), 0);
	assert_null(worker_find(sv->workers, "b"));
	assert_int_equal(supervisor_remove_worker(sv, "b"), -ENOENT);
	assert_int_equal(sv->plan->n_workers, 1);
	assert_ptr_equal(worker_find(sv->workers, "a"), a);

	/* a ends (restart = no): it can go too. */
	worker_signal(a, SIGKILL, false, PHASE_INTAKE);
	run_until(f, sv->workers_group, instance_over, a);
	assert_int_equal(remove_when_idle(f, sv, "a"), 0);
	assert_int_equal(workers_count(sv->workers), 0);
	assert_int_equal(sv->plan->n_workers, 0);

	assert_int_equal(task_group_free(sv->workers_group), 0);
	event_free(chld);
	sv->rt = NULL; /* the fixture's, freed by the teardown */
	supervisor_free(sv);
}

static bool
not_restarting(const struct worker *w)
{
	return !worker_restarting(w);
}

static pid_t
pid_of(const struct worker *w, unsigned i)
{
	struct worker_instance_info in;

	worker_instance_info(w, i, &in);
	return in.pid;
}

static bool
all_running(const struct worker *w)
{
	for (unsigned i = 0; i < worker_n_instances(w); i++)
		if (pid_of(w, i) <= 0)
			return false;
	return true;
}

/* A process reaped by graced (or not ours any more): kill(pid, 0) fails. */
static bool
gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

/*
 * The rolling restart of worker_restart(): every slot gets a new process (restarts + 1), the
 * replaced one is stopped and reaped; instances = grows and shrinks through it; a replacement
 * that does not get ready in time is stopped and the old one kept (-EPROTO, the reason given).
 * worker_set_config(): repoints a running worker at an equal config, refuses another name and,
 * while it runs, another instance count.
 */
static void
test_rolling_restart(void **state)
{
	struct fixture *f = *state;
	_cleanup_(config_freep) struct config *two = config_new(), *slow = config_new();
	_cleanup_(config_freep) struct config *one = config_new(), *other = config_new();
	struct worker_config *c1, *c2, *c3, *c4;
	struct worker_instance_info in;
	struct supervisor *sv = NULL;
	struct event *chld;
	struct worker *a;
	pid_t old, old0, old1;

	assert_non_null(two);
	assert_non_null(slow);
	assert_non_null(one);
	assert_non_null(other);
	c1 = add_config_worker(f->config, "a", "exec sleep 60");
	c2 = add_config_worker(two, "a", "exec sleep 61");
	c2->instances = 2;
	c2->start_limit_burst = 2; /* the start rings shrink with it */
	c3 = add_config_worker(slow, "a", "exec sleep 62");
	c3->instances = 2;
	c3->ready.kind = READY_DELAY; /* never ready within start_timeout */
	c3->ready.delay = 10 * USEC_PER_SEC;
	c3->start_timeout = 300 * USEC_PER_MSEC;
	c4 = add_config_worker(one, "a", "exec sleep 63");
	/* Critical: a replaced instance's exit must not ask for the shutdown. */
	c1->critical = c2->critical = c3->critical = c4->critical = true;
	assert_non_null(add_config_worker(other, "b", "exec sleep 64"));
	assert_int_equal(supervisor_new(f->base, f->config, false, &sv), 0);
	sv->rt = sv->wctx.rt = sv->intakes.rt = f->rt;
	assert_int_equal(task_group_new(f->rt, NULL, "workers", &sv->workers_group), 0);
	sv->wctx.group = sv->workers_group;
	assert_non_null(chld = evsignal_new(f->base, SIGCHLD, sigchld_cb, sv));
	assert_int_equal(evsignal_add(chld, NULL), 0);

	assert_non_null(a = worker_find(sv->workers, "a"));
	/* Before the set started: nothing to restart yet. */
	assert_int_equal(worker_restart(a, c1), -EAGAIN);
	assert_int_equal(workers_start(sv->workers), 0);
	run_until(f, sv->workers_group, instance_running, a);
	old = pid_of(a, 0);

	/* worker_set_config(): an equal config is taken; another name, or another count while it
	 * runs, is not. */
	assert_int_equal(worker_set_config(a, c4), 0);
	assert_ptr_equal(worker_config(a), c4);
	assert_int_equal(worker_set_config(a, c1), 0);
	assert_int_equal(worker_set_config(a, other->workers[0]), -EINVAL);
	assert_int_equal(worker_set_config(a, c2), -EBUSY);
	assert_int_equal(worker_restart(a, other->workers[0]), -EINVAL);
	assert_int_equal(pid_of(a, 0), old);

	/* 1 -> 2 instances: slot 0 replaced, slot 1 added. */
	assert_int_equal(worker_restart(a, c2), 0);
	assert_true(worker_restarting(a));
	assert_int_equal(worker_restart(a, c2), -EBUSY);
	assert_int_equal(worker_can_halt(a, NULL, 0), -EINPROGRESS);
	assert_ptr_equal(worker_config(a), c2);
	run_until(f, sv->workers_group, not_restarting, a);
	assert_int_equal(worker_wait_restarted(a, now_usec()), 0);
	assert_null(worker_restart_error(a));
	assert_int_equal(worker_n_instances(a), 2);
	assert_true(all_running(a));
	worker_instance_info(a, 0, &in);
	assert_string_equal(in.name, "a.0");
	assert_int_equal(in.restarts, 1);
	assert_int_not_equal(in.pid, old);
	worker_instance_info(a, 1, &in);
	assert_string_equal(in.name, "a.1");
	assert_int_equal(in.restarts, 0);
	assert_true(gone(old));
	assert_true(worker_serving(a));
	old0 = pid_of(a, 0);
	old1 = pid_of(a, 1);

	/* A replacement never ready in time: stopped, the old one kept, the restart ends there. */
	assert_int_equal(worker_restart(a, c3), 0);
	run_until(f, sv->workers_group, not_restarting, a);
	assert_int_equal(worker_wait_restarted(a, now_usec()), -EPROTO);
	assert_non_null(worker_restart_error(a));
	assert_non_null(strstr(worker_restart_error(a), "a.0"));
	assert_non_null(strstr(worker_restart_error(a), "start_timeout"));
	assert_int_equal(pid_of(a, 0), old0);
	assert_int_equal(pid_of(a, 1), old1);
	assert_true(worker_serving(a));

	/* 2 -> 1: slot 0 replaced ("a" now), slot 1 stopped. */
	assert_int_equal(worker_restart(a, c4), 0);
	run_until(f, sv->workers_group, not_restarting, a);
	assert_int_equal(worker_wait_restarted(a, now_usec()), 0);
	assert_int_equal(worker_n_instances(a), 1);
	worker_instance_info(a, 0, &in);
	assert_string_equal(in.name, "a");
	assert_true(in.running);
	assert_int_not_equal(in.pid, old0);
	assert_true(gone(old0));
	assert_true(gone(old1));
	assert_null(workers_trigger_reason(sv->workers));
	assert_true(worker_serving(a));

	/* Ended (restart = no, not critical now: read at its exit): idle, so another count is
	 * taken by worker_set_config(). */
	c4->critical = false;
	worker_signal(a, SIGKILL, false, PHASE_INTAKE);
	run_until(f, sv->workers_group, instance_over, a);
	assert_int_equal(worker_restart(a, c4), -ESRCH);
	{
		usec_t deadline = now_usec() + 10 * USEC_PER_SEC;
		int r;

		while ((r = worker_set_config(a, c2)) == -EBUSY && now_usec() < deadline)
			(void) !task_runtime_run_until(f->rt, sv->workers_group,
			    now_usec() + 20 * USEC_PER_MSEC);
		assert_int_equal(r, 0);
	}
	assert_int_equal(worker_n_instances(a), 2);
	assert_int_equal(remove_when_idle(f, sv, "a"), 0);

	assert_int_equal(task_group_free(sv->workers_group), 0);
	event_free(chld);
	sv->rt = NULL;
	supervisor_free(sv);
}

static bool
slot_replaced(const struct worker *w)
{
	static pid_t old;

	if (!w) {
		old = 0;
		return false;
	}
	if (!old)
		old = pid_of(w, 0);
	return pid_of(w, 0) > 0 && pid_of(w, 0) != old;
}

static const struct workers *joined_set;

static bool
joined(const struct worker *w)
{
	(void) w;
	return workers_all_joined(joined_set);
}

/* The rolling restart's stop of the replaced instance has sent its stop signal (its retirement
 * is in the stop step): the instance is among the worker's extra ones (worker-internal.h). */
static bool
old_signalled(const struct worker *w)
{
	for (unsigned i = 0; i < w->n_extra; i++)
		if (w->extra[i]->retired && w->extra[i]->retire_step == PHASE_STOP)
			return true;
	return false;
}

/* How many lines of the file at path read pid. */
static unsigned
count_pid_lines(const char *path, pid_t pid)
{
	FILE *f = fopen(path, "re");
	char line[32];
	unsigned n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strtol(line, NULL, 10) == (long) pid)
			n++;
	fclose(f);
	return n;
}

static char terms_path[96];
static pid_t terms_pid;

/* terms_pid wrote its line to terms_path: it acts on its SIGTERM. */
static bool
term_recorded(const struct worker *w)
{
	(void) w;
	return access(terms_path, F_OK) == 0 && count_pid_lines(terms_path, terms_pid) > 0;
}

/*
 * The shutdown comes while a rolling restart stops a replaced instance, whose process takes
 * 2.5 s to exit on SIGTERM (stop_timeout 6 s, so one stop budget B is more than 6 s). The
 * replacement, in the slot, goes through the shutdown's steps at once: its stop signal comes
 * with the trigger, not once the old one exited, while the old one finishes its own stop
 * (signalled once, by the restart: each process writes its pid to a file on every SIGTERM). The worker is joined once both ended: about 2.5 s after the
 * trigger (it was some 5 s when the replacement waited for the old one), always within B of the
 * trigger. Every process is reaped and every task ends.
 */
static void
test_shutdown_during_rolling_restart(void **state)
{
	struct fixture *f = *state;
	struct worker_config *c;
	struct supervisor *sv = NULL;
	struct worker_instance_info in;
	struct event *chld;
	struct worker *a;
	pid_t old, new;
	usec_t t1, took;
	unsigned n_old, n_new;
	char cmd[256];
	const char *terms = terms_path;

	snprintf(terms_path, sizeof(terms_path), "%s/terms", f->dir);
	snprintf(cmd, sizeof(cmd), "trap 'echo $$ >>%s; t=1' TERM; "
	    "while [ -z \"$t\" ]; do sleep 0.05; done; sleep 2.5; exit 0", terms);
	c = add_config_worker(f->config, "a", cmd);
	c->shutdown.stop_timeout = 6 * USEC_PER_SEC;
	assert_int_equal(supervisor_new(f->base, f->config, false, &sv), 0);
	sv->rt = sv->wctx.rt = sv->intakes.rt = f->rt;
	assert_int_equal(task_group_new(f->rt, NULL, "workers", &sv->workers_group), 0);
	sv->wctx.group = sv->workers_group;
	assert_non_null(chld = evsignal_new(f->base, SIGCHLD, sigchld_cb, sv));
	assert_int_equal(evsignal_add(chld, NULL), 0);
	assert_int_equal(workers_start(sv->workers), 0);
	assert_non_null(a = worker_find(sv->workers, "a"));
	run_until(f, sv->workers_group, instance_running, a);
	old = pid_of(a, 0);

	(void) slot_replaced(NULL);
	assert_int_equal(worker_restart(a, worker_config(a)), 0);
	run_until(f, sv->workers_group, slot_replaced, a);
	run_until(f, sv->workers_group, old_signalled, a);
	/* It has run its trap: a second SIGTERM would not merge with the first. */
	terms_pid = old;
	run_until(f, sv->workers_group, term_recorded, a);
	new = pid_of(a, 0);
	assert_false(gone(old)); /* still in its 2.5 s */
	assert_true(worker_restarting(a));

	/* The trigger, then the worker's stopper as the supervisor would run it. */
	t1 = now_usec();
	assert_true(shutdown_trigger(sv->wctx.shutdown, "test", t1));
	assert_int_equal(worker_restart(a, worker_config(a)), -ESHUTDOWN);
	assert_int_equal(task_spawn(sv->workers_group, "stopper", worker_stop_task, a, NULL), 0);
	joined_set = sv->workers;
	run_until(f, sv->workers_group, joined, a);
	took = now_usec() - t1;
	fprintf(stderr, "# joined %.2f s after the trigger\n", (double) took / USEC_PER_SEC);

	/* The replacement got its stop signal with the trigger (a loose bound: the old one still
	 * had some 2.4 s to go then), and the worker was done well within one budget. */
	worker_instance_info(a, 0, &in);
	assert_int_equal(in.last_pid, new);
	assert_true(in.signalled_at >= t1);
	assert_true(in.signalled_at - t1 < 1500 * USEC_PER_MSEC);
	assert_true(took < 4 * USEC_PER_SEC);
	/* The replacement's exit is the shutdown's: at the stop step, on its stop signal. */
	assert_true(in.ended);
	assert_int_equal(in.step, PHASE_STOP);
	assert_int_equal(in.outcome, OUTCOME_EXITED);
	assert_false(worker_restarting(a));
	assert_int_equal(worker_wait_restarted(a, now_usec()), 0);
	assert_true(gone(old));
	assert_true(gone(new));
	/* One SIGTERM each: the shutdown's stopper left the old one to its own stop. */
	n_old = count_pid_lines(terms, old);
	n_new = count_pid_lines(terms, new);
	(void) unlink(terms);
	assert_int_equal(n_old, 1);
	assert_int_equal(n_new, 1);
	assert_int_equal(task_runtime_run_until(f->rt, sv->workers_group,
	    now_usec() + 10 * USEC_PER_SEC), 0);
	assert_int_equal(supervisor_remove_worker(sv, "a"), 0);

	assert_int_equal(task_group_free(sv->workers_group), 0);
	event_free(chld);
	sv->rt = NULL;
	supervisor_free(sv);
}

/*
 * A rolling restart to a config with shorter budgets (a reload's): the replaced instance's steps
 * wait no longer than the new config's (the plan's), with the old config's signals. Its process
 * ignores SIGTERM for 10 s: stop_timeout 8 s (old) would kill it after 8 s, 0.5 s (new) kills it
 * after 0.5 s; the restart ends well within 5 s.
 */
static void
test_rolling_restart_shorter_budgets(void **state)
{
	struct fixture *f = *state;
	_cleanup_(config_freep) struct config *quick = config_new();
	const char *cmd = "trap 'sleep 10; exit 0' TERM; while :; do sleep 0.05; done";
	struct worker_config *c1, *c2;
	struct supervisor *sv = NULL;
	struct event *chld;
	struct worker *a;
	usec_t t0, took;
	pid_t old;

	assert_non_null(quick);
	c1 = add_config_worker(f->config, "a", cmd);
	c1->shutdown.stop_timeout = 8 * USEC_PER_SEC;
	c1->shutdown.cancel_signal = SIGNAL_NONE;
	c2 = add_config_worker(quick, "a", cmd);
	c2->shutdown.stop_timeout = 500 * USEC_PER_MSEC;
	c2->shutdown.cancel_signal = SIGNAL_NONE;
	assert_int_equal(supervisor_new(f->base, f->config, false, &sv), 0);
	sv->rt = sv->wctx.rt = sv->intakes.rt = f->rt;
	assert_int_equal(task_group_new(f->rt, NULL, "workers", &sv->workers_group), 0);
	sv->wctx.group = sv->workers_group;
	assert_non_null(chld = evsignal_new(f->base, SIGCHLD, sigchld_cb, sv));
	assert_int_equal(evsignal_add(chld, NULL), 0);
	assert_int_equal(workers_start(sv->workers), 0);
	assert_non_null(a = worker_find(sv->workers, "a"));
	run_until(f, sv->workers_group, instance_running, a);
	old = pid_of(a, 0);

	t0 = now_usec();
	assert_int_equal(worker_restart(a, c2), 0);
	run_until(f, sv->workers_group, not_restarting, a);
	took = now_usec() - t0;
	fprintf(stderr, "# restarted in %.2f s\n", (double) took / USEC_PER_SEC);
	assert_int_equal(worker_wait_restarted(a, now_usec()), 0);
	assert_true(gone(old));
	assert_true(took < 5 * USEC_PER_SEC);

	/* The replacement goes (restart = no: it is not started again). */
	worker_signal(a, SIGKILL, false, PHASE_JOIN);
	run_until(f, sv->workers_group, instance_over, a);
	assert_int_equal(remove_when_idle(f, sv, "a"), 0);
	assert_int_equal(task_group_free(sv->workers_group), 0);
	event_free(chld);
	sv->rt = NULL;
	supervisor_free(sv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nothing_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_closed_no_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_unwritable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escalation_cancels_step_scopes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ignored_second_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_remove_at_run_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rolling_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_during_rolling_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rolling_restart_shorter_budgets, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
