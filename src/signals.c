/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "parse.h"
#include "supervisor.h"
#include "util.h"

/*
 * graced takes no signal's default action over: it catches every signal it can, in both modes.
 * Config mode acts on TERM, INT, HUP, USR1 and CHLD and logs the others (supervisor.c);
 * single-command mode forwards all but TERM, INT and CHLD to the command, as tini does.
 *
 * Left out, each for its reason:
 * - SIGKILL and SIGSTOP cannot be caught.
 * - The synchronous fault signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS) belong to
 *   graced's own faults. A handler tells them apart: one sent by kill() (si_code <= 0) is
 *   dropped, neither forwarded (tini does not either) nor fatal; a real fault puts the previous
 *   action back (the default, or a sanitizer's) and meets it again.
 * - glibc's two internal real-time signals (32 and 33, below SIGRTMIN): glibc refuses them.
 * - SIGPIPE is blocked and read from a signalfd: graced's own writes to a closed pipe must be
 *   EPIPE, and the kernel's SIGPIPE for such a write names graced itself as the sender, so only
 *   a SIGPIPE sent by another process is passed on (or logged in config mode).
 * libevent's evsignal takes every other number below NSIG, real-time signals included: each is
 * an ordinary sigaction() handler writing to libevent's socketpair.
 */
static bool
is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP ||
	    sig == SIGSYS;
}

static bool
catchable(int sig)
{
	if (sig == SIGKILL || sig == SIGSTOP || sig == SIGPIPE || is_fault(sig))
		return false;
	return sig < 32 || (sig >= SIGRTMIN && sig <= SIGRTMAX);
}

static struct sigaction fault_previous[32];

static void
fault_handler(int sig, siginfo_t *si, void *context)
{
	(void) context;
	if (si->si_code <= 0)
		return; /* SI_USER, SI_QUEUE, SI_TKILL: sent, not a fault of ours */
	(void) sigaction(sig, &fault_previous[sig], NULL);
	/* The faulting instruction runs again and meets the previous action; a trap or a bad
	 * system call does not repeat itself. */
	if (sig == SIGTRAP || sig == SIGSYS)
		(void) raise(sig);
}

static int
watch_faults(void)
{
	static const int faults[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS };
	struct sigaction sa = { .sa_sigaction = fault_handler, .sa_flags = SA_SIGINFO | SA_ONSTACK };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ELEMENTSOF(faults); i++)
		if (sigaction(faults[i], &sa, &fault_previous[faults[i]]) < 0)
			return log_error_errno(errno, "Failed to watch %s", signal_to_string(faults[i]));
	return 0;
}

/* The command stopped: is it still stopped by job control once the signals received with its
 * SIGCHLD (a SIGCONT that continues it) were handled? Then graced stops too. */
static void
job_check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *sv = arg;
	const struct instance *in = sv->n_workers ? &sv->workers[0].instances[0] : NULL;
	char path[64], buf[256], *p;
	FILE *f;
	bool stopped = false;

	(void) fd;
	(void) what;
	if (!in || !in->running)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long) in->pid);
	if (!(f = fopen(path, "re")))
		return;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ')
		stopped = p[2] == 'T';
	fclose(f);
	if (stopped)
		supervisor_job_stopped(sv);
}

static void
job_watch(struct supervisor *sv)
{
	const struct instance *in = sv->n_workers ? &sv->workers[0].instances[0] : NULL;
	siginfo_t si = {};

	if (!in || !in->running)
		return;
	/* Stops only: the exit is supervisor_reap()'s. */
	if (waitid(P_PID, (id_t) in->pid, &si, WSTOPPED | WNOHANG) < 0 || si.si_pid != in->pid ||
	    si.si_code != CLD_STOPPED)
		return;
	if (si.si_status != SIGTSTP && si.si_status != SIGTTIN && si.si_status != SIGTTOU)
		return;
	(void) event_base_once(sv->base, -1, EV_TIMEOUT, job_check_cb, sv,
	    &(struct timeval) { 0, 0 });
}

/*
 * libevent runs this from the loop, not from the signal handler, so it may do anything the loop
 * may: the signal becomes a supervisor event and the callback returns (no stack switch here).
 */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct supervisor *sv = arg;

	(void) what;
	if (sig == SIGCHLD) {
		if (sv->single)
			job_watch(sv);
		supervisor_reap(sv);
	} else
		supervisor_on_signal(sv, (int) sig);
}

static void
sigpipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *sv = arg;
	struct signalfd_siginfo si;

	(void) what;
	while (read(fd, &si, sizeof(si)) == (ssize_t) sizeof(si))
		if ((pid_t) si.ssi_pid != getpid())
			supervisor_on_signal(sv, SIGPIPE);
}

static int
watch_sigpipe(struct supervisor *sv)
{
	sigset_t pipe;
	int fd;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &pipe, NULL) < 0)
		return log_error_errno(errno, "Failed to block SIGPIPE");
	if ((fd = signalfd(-1, &pipe, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return log_error_errno(errno, "Failed to watch SIGPIPE");
	if (!(sv->sigpipe = event_new(sv->base, fd, EV_READ | EV_PERSIST, sigpipe_cb, sv)) ||
	    event_add(sv->sigpipe, NULL) < 0) {
		close(fd);
		return log_error_errno(ENOMEM, "Failed to watch SIGPIPE");
	}
	return 0;
}

static int
watch(struct supervisor *sv, int sig)
{
	assert(sig > 0 && (size_t) sig < ELEMENTSOF(sv->signals));
	sv->signals[sig] = evsignal_new(sv->base, sig, signal_cb, sv);
	if (!sv->signals[sig] || evsignal_add(sv->signals[sig], NULL) < 0)
		return log_error_errno(ENOMEM, "Failed to watch %s", signal_to_string(sig));
	return 0;
}

int
signals_setup(struct supervisor *sv)
{
	int r;

	if ((r = watch_sigpipe(sv)) < 0 || (r = watch_faults()) < 0)
		return r;
	for (int sig = 1; sig < NSIG; sig++)
		if (catchable(sig) && (r = watch(sv, sig)) < 0)
			return r;
	return 0;
}

void
signals_free(struct supervisor *sv)
{
	for (size_t i = 0; i < ELEMENTSOF(sv->signals); i++)
		if (sv->signals[i]) {
			event_free(sv->signals[i]);
			sv->signals[i] = NULL;
		}
	if (sv->sigpipe) {
		close(event_get_fd(sv->sigpipe));
		event_free(sv->sigpipe);
		sv->sigpipe = NULL;
	}
}
