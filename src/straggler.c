/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "parse.h"
#include "report.h"
#include "shutdown.h"
#include "stopper.h"
#include "straggler.h"
#include "task.h"
#include "util.h"
#include "worker.h"

struct proc {
	pid_t pid;
	pid_t pgid;
	bool dying;            /* already ending: walked for its children, never tracked */
};

/* The kernel's PF_EXITING (include/linux/sched.h): the process is in exit(). */
#define PROC_FLAG_EXITING 0x4U

/* SIGKILL is pending for pid (SigPnd, or ShdPnd for a signal to the whole process): it will end
 * without anyone's help, as a process group's members do after a kill to the group. */
static bool
sigkill_pending(pid_t pid)
{
	char path[64], line[128];
	bool pending = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long) pid);
	if (!(f = fopen(path, "re")))
		return false;
	while (!pending && fgets(line, sizeof(line), f)) {
		unsigned long long mask;

		if ((sscanf(line, "SigPnd: %llx", &mask) == 1 ||
			sscanf(line, "ShdPnd: %llx", &mask) == 1) &&
		    (mask & (1ULL << (SIGKILL - 1))))
			pending = true;
	}
	fclose(f);
	return pending;
}

/* pid, state, pgrp and flags from /proc/PID/stat; the command name may hold spaces and parens,
 * so the fields are read after its last ')'. */
static int
read_stat(pid_t pid, struct proc *ret, char *ret_state)
{
	char path[64], buf[512], *p;
	_cleanup_close_ int fd = -1;
	unsigned flags;
	long pgid;
	ssize_t n;
	char state;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long) pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if ((n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 1, " %c %*d %ld %*d %*d %*d %u", &state, &pgid, &flags) != 3)
		return -EIO;
	*ret = (struct proc) {
		.pid = pid,
		.pgid = (pid_t) pgid,
		.dying = (flags & PROC_FLAG_EXITING) || sigkill_pending(pid),
	};
	*ret_state = state;
	return 0;
}

static int
push_proc(struct proc **procs, size_t *n, size_t *cap, const struct proc *p)
{
	if (*n == *cap) {
		struct proc *m = realloc(*procs, (*cap = *cap ? *cap * 2 : 64) * sizeof(*m));

		if (!m)
			return -ENOMEM;
		*procs = m;
	}
	(*procs)[(*n)++] = *p;
	return 0;
}

/* Appends the live children of pid, read from /proc/PID/task/TID/children of each thread. */
static int
add_children(pid_t pid, struct proc **procs, size_t *n, size_t *cap)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long) pid);
	if (!(d = opendir(path)))
		return errno == ENOENT ? 0 : -errno; /* it ended meanwhile */
	while (r >= 0 && (e = readdir(d))) {
		char file[64 + sizeof(e->d_name) + 16], *list = NULL, *save = NULL;
		size_t len = 0;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s/children", path, e->d_name);
		if (!(f = fopen(file, "re"))) {
			/* Missing for graced itself: a kernel without CONFIG_PROC_CHILDREN. */
			r = errno == ENOENT && pid == getpid() ? -EOPNOTSUPP : 0;
			continue;
		}
		if (getdelim(&list, &len, '\0', f) > 0)
			for (char *w = strtok_r(list, " \n", &save); w && r >= 0;
			     w = strtok_r(NULL, " \n", &save)) {
				struct proc p;
				char state = 'X';

				if (read_stat((pid_t) atol(w), &p, &state) == 0 && state != 'Z' &&
				    state != 'X')
					r = push_proc(procs, n, cap, &p);
			}
		free(list);
		fclose(f);
	}
	closedir(d);
	return r;
}

/*
 * The live descendants of graced, walking down from its own children: as many reads as there
 * are descendants, not as there are processes on the machine. The list grows while it is
 * walked, so it is indexed.
 */
static int
list_descendants(struct proc **ret, size_t *ret_n)
{
	struct proc *procs = NULL;
	size_t n = 0, cap = 0;
	int r = add_children(getpid(), &procs, &n, &cap);

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = add_children(procs[i].pid, &procs, &n, &cap);
	if (r < 0) {
		free(procs);
		return r;
	}
	*ret = procs;
	*ret_n = n;
	return 0;
}

static bool
known(const struct stragglers *sg, pid_t pid)
{
	for (size_t i = 0; i < sg->n; i++)
		if (sg->items[i].pid == pid && !sg->items[i].gone)
			return true;
	return false;
}

static void
command_of(pid_t pid, char *buf, size_t n)
{
	char path[64];
	_cleanup_close_ int fd = -1;
	ssize_t k = -1;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long) pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0)
		k = read(fd, buf, n - 1);
	if (k <= 0) {
		snprintf(buf, n, "?");
		return;
	}
	buf[k] = '\0';
	for (ssize_t i = 0; i < k - 1; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
}

static int
track(struct stragglers *sg, pid_t pid)
{
	struct straggler *m = realloc(sg->items, (sg->n + 1) * sizeof(*m));
	char command[256], pidbuf[16];
	struct straggler *s;

	if (!m)
		return -ENOMEM;
	sg->items = m;
	command_of(pid, command, sizeof(command));
	s = &m[sg->n];
	*s = (struct straggler) { .pid = pid, .outcome = OUTCOME_ABANDONED };
	if (!(s->command = strdup(command)))
		return -ENOMEM;
	/* A pidfd turns "is it gone yet" into a readable descriptor, for any process: the
	 * straggler task waits on it (op_wait()). */
	s->pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
	sg->n++;
	snprintf(pidbuf, sizeof(pidbuf), "%ld", (long) pid);
	log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "event", "straggler" }, { "pid", pidbuf }),
	    "Found straggler pid %s (%s), stopping it with the workers", pidbuf, command);
	return 0;
}

/*
 * Whether graced has any child, alive or waiting to be reaped (waitid() only looks). Without one
 * it has no descendant either: graced is a subreaper, and an orphan moves up to it in the same
 * instant its parent exits, so no process is ever between two parents. This one system call
 * spares the walks down /proc on the common path, a stop whose command left nothing behind.
 */
static bool
has_children(void)
{
	siginfo_t si = {};

	return !(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD);
}

/*
 * Adds the descendants nobody else stops; returns how many are being tracked and alive.
 *
 * A walk is not atomic: a process whose parent exits during it moves up to graced (the
 * subreaper) after graced's children were read and before its parent's were, and is missed.
 * It moves once, so the next walk sees it: walk twice, and again while a walk finds someone
 * new, a few times at most (a process forking without end would keep every walk busy).
 */
static size_t
scan(struct stragglers *sg)
{
	size_t alive = 0, found = 0;

	for (int walk = 0; walk < 4 && (walk < 2 || found > 0) && has_children(); walk++) {
		struct proc *procs = NULL;
		size_t n = 0;
		int r;

		if ((r = list_descendants(&procs, &n)) < 0) {
			log_warning_errno(r,
			    "Failed to list graced's descendants for stragglers, continuing");
			break;
		}
		found = 0;
		for (size_t i = 0; i < n; i++)
			/* A worker's stopper signals it and its process group: not a straggler
			 * while it runs. One already ending (a member of a group killed a moment
			 * ago, whose leader was reaped first) needs nobody to stop it. */
			if (!procs[i].dying &&
			    !workers_own_process(sg->workers, procs[i].pid, procs[i].pgid) &&
			    !known(sg, procs[i].pid))
				found += track(sg, procs[i].pid) == 0;
		free(procs);
	}
	for (size_t i = 0; i < sg->n; i++)
		alive += !sg->items[i].gone;
	return alive;
}

static void
mark_gone(struct straggler *s, enum outcome outcome)
{
	s->gone = true;
	s->pidfd = safe_close(s->pidfd);
	s->outcome = outcome;
	s->exit = now_usec();
}

static void
signal_all(struct stragglers *sg, int sig, enum phase step)
{
	char pid[16];

	if (sig == SIGNAL_NONE)
		return;
	for (size_t i = 0; i < sg->n; i++) {
		struct straggler *s = &sg->items[i];

		if (s->gone)
			continue;
		snprintf(pid, sizeof(pid), "%ld", (long) s->pid);
		log_fields(LOG_INFO, 0,
		    LOG_FIELDS({ "step", phase_to_string(step) }, { "signal", signal_to_string(sig) },
			{ "pid", pid }, { "event", "straggler-signal" }),
		    "Sending %s to straggler pid %s", signal_to_string(sig), pid);
		/* Through the pidfd when there is one: the pid may have been reaped and reused. */
		if ((s->pidfd >= 0 ? (int) syscall(SYS_pidfd_send_signal, s->pidfd, sig, NULL, 0) :
				     kill(s->pid, sig)) < 0 &&
		    errno == ESRCH)
			mark_gone(s, OUTCOME_EXITED);
	}
}

static bool
is_gone(const struct straggler *s)
{
	/* No pidfd (old kernel): only kill(0) can tell. */
	if (s->pidfd < 0)
		return kill(s->pid, 0) < 0 && errno == ESRCH;
	return poll(&(struct pollfd) { .fd = s->pidfd, .events = POLLIN }, 1, 0) > 0;
}

/* Marks what is gone; fills c (if not NULL: room for n_stragglers + 1) with a clause per pidfd
 * of those left, then the supervisor's wake event (for the ones without a pidfd). Returns how
 * many are left. */
static size_t
look(struct stragglers *sg, enum outcome outcome, struct task_clause *c, size_t *ret_n)
{
	size_t left = 0, n = 0;

	task_event_reset(sg->wake);
	for (size_t i = 0; i < sg->n; i++) {
		struct straggler *s = &sg->items[i];

		if (s->gone)
			continue;
		if (is_gone(s)) {
			mark_gone(s, outcome);
			continue;
		}
		left++;
		if (c && s->pidfd >= 0)
			c[n++] = (struct task_clause) {
				.kind = TASK_CLAUSE_FD, .fd = s->pidfd, .events = TASK_FD_READ
			};
	}
	if (c)
		c[n++] = (struct task_clause) { .kind = TASK_CLAUSE_EVENT, .event = sg->wake };
	*ret_n = n;
	return left;
}

/*
 * Waits until every tracked straggler is gone, or the deadline (the stopper's step scope around
 * it). The task waits on their pidfds; one without is only looked at again when something else
 * wakes the supervisor, or at the deadline.
 */
static void
op_wait(void *target, usec_t deadline, bool extendable)
{
	struct stragglers *sg = target;
	_cleanup_free_ struct task_clause *c = calloc(sg->n + 1, sizeof(*c));
	size_t n;

	(void) extendable;
	if (!c)
		return;
	while (look(sg, sg->marking, c, &n) > 0)
		if (task_wait_any(c, n, deadline) < 0)
			/* At the deadline (or the escalation), one more look (by the stopper): a busy
			 * loop may not have run the wakeup yet. */
			break;
}

static void
op_signal(void *target, int sig, bool group, enum phase step)
{
	(void) group;
	signal_all(target, sig, step);
}

static bool
op_alive(void *target)
{
	struct stragglers *sg = target;
	size_t n;

	return look(sg, sg->marking, NULL, &n) > 0;
}

/* Those gone from now on: exited during the stop step, cancelled after it. */
static void
op_step(void *target, enum phase p)
{
	struct stragglers *sg = target;

	sg->marking = p == PHASE_STOP ? OUTCOME_EXITED : OUTCOME_CANCELLED;
}

static void
op_killing(void *target)
{
	struct stragglers *sg = target;

	sg->marking = OUTCOME_KILLED;
}

static void
op_abandon(void *target)
{
	struct stragglers *sg = target;

	/* Without a kill signal they were left alone, not abandoned after one. */
	if (sg->settings->kill_signal == SIGNAL_NONE)
		return;
	for (size_t i = 0; i < sg->n; i++)
		if (!sg->items[i].gone)
			log_error("Straggler pid %ld is still alive after the kill signal, abandoning it",
			    (long) sg->items[i].pid);
}

static const struct stopper_ops straggler_stopper = {
	.signal = op_signal,
	.alive = op_alive,
	.wait = op_wait,
	.step = op_step,
	.killing = op_killing,
	.abandon = op_abandon,
};

int
straggler_task(void *arg)
{
	struct stragglers *sg = arg; /* owned by the supervisor, outlives the task */
	const struct shutdown_settings *s = sg->settings;
	/* The [shutdown] defaults; no stop pipe, no kill to the group (a straggler is one
	 * process, found by its pid). */
	struct stop_settings settings = {
		.stop_signal = shutdown_stop_signal(sg->shutdown, s->stop_signal),
		.cancel_signal = s->cancel_signal,
		.kill_signal = s->kill_signal,
		.stop = s->stop_signal != SIGNAL_NONE ? s->stop_timeout : 0,
		.join = s->cancel_signal != SIGNAL_NONE ? s->join_timeout : 0,
		.kill = s->kill_signal != SIGNAL_NONE ? s->kill_timeout : 0,
	};

	/* With the first workers: stop, then cancel, then kill what is left. */
	if (scan(sg) > 0)
		stopper_run(sg->shutdown, &settings, &straggler_stopper, sg);

	/* Once every worker is joined, what their processes left behind is a straggler too; their
	 * budget is spent, so it gets the kill signal at once. */
	for (;;) {
		task_event_reset(sg->wake);
		if (workers_all_joined(sg->workers))
			break;
		if (task_event_wait(sg->wake, USEC_INFINITY) < 0)
			return -ECANCELED;
	}
	if (scan(sg) > 0)
		stopper_kill(sg->shutdown, &settings, &straggler_stopper, sg);
	return 0;
}

int
straggler_report(const struct stragglers *sg, struct report *r)
{
	for (size_t i = 0; i < sg->n; i++) {
		const struct straggler *s = &sg->items[i];
		struct report_straggler *rs;

		if (!(rs = report_add_straggler(r, s->pid, s->command)))
			return -ENOMEM;
		rs->outcome = s->outcome;
		rs->exit = s->exit;
	}
	return 0;
}

void
straggler_free_all(struct stragglers *sg)
{
	for (size_t i = 0; i < sg->n; i++) {
		safe_close(sg->items[i].pidfd);
		free(sg->items[i].command);
	}
	free(sg->items);
	sg->items = NULL;
	sg->n = 0;
}
