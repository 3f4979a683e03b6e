/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "parse.h"
#include "signals.h"
#include "util.h"

struct signals {
	signals_fn fn;
	void *userdata;
	struct event_base *base;
	struct event *events[72]; /* by signal number, one per signal graced catches */
	struct event *sigpipe;    /* SIGPIPE, read from a signalfd */
};

/*
 * Layer: process plumbing. See signals.h.
 *
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

/*
 * libevent runs this from the loop, not from the signal handler, so it may do anything the loop
 * may: the signal becomes a supervisor event and the callback returns (no stack switch here).
 */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct signals *s = arg;

	(void) what;
	s->fn((int) sig, s->userdata);
}

static void
sigpipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct signals *s = arg;
	struct signalfd_siginfo si;

	(void) what;
	while (read(fd, &si, sizeof(si)) == (ssize_t) sizeof(si))
		if ((pid_t) si.ssi_pid != getpid())
			s->fn(SIGPIPE, s->userdata);
}

static int
watch_sigpipe(struct signals *s)
{
	sigset_t pipe;
	int fd;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &pipe, NULL) < 0)
		return log_error_errno(errno, "Failed to block SIGPIPE");
	if ((fd = signalfd(-1, &pipe, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return log_error_errno(errno, "Failed to watch SIGPIPE");
	if (!(s->sigpipe = event_new(s->base, fd, EV_READ | EV_PERSIST, sigpipe_cb, s)) ||
	    event_add(s->sigpipe, NULL) < 0) {
		close(fd);
		return log_error_errno(ENOMEM, "Failed to watch SIGPIPE");
	}
	return 0;
}

static int
watch(struct signals *s, int sig)
{
	assert(sig > 0 && (size_t) sig < ELEMENTSOF(s->events));
	s->events[sig] = evsignal_new(s->base, sig, signal_cb, s);
	if (!s->events[sig] || evsignal_add(s->events[sig], NULL) < 0)
		return log_error_errno(ENOMEM, "Failed to watch %s", signal_to_string(sig));
	return 0;
}

int
signals_setup(struct event_base *base, signals_fn fn, void *userdata, struct signals **ret)
{
	struct signals *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return log_error_errno(ENOMEM, "Failed to watch signals");
	*s = (struct signals) { .fn = fn, .userdata = userdata, .base = base };
	/* Handed out at once: a failure below leaves what was set up for signals_free(). */
	*ret = s;
	if ((r = watch_sigpipe(s)) < 0 || (r = watch_faults()) < 0)
		return r;
	for (int sig = 1; sig < NSIG; sig++)
		if (catchable(sig) && (r = watch(s, sig)) < 0)
			return r;
	return 0;
}

struct signals *
signals_free(struct signals *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(s->events); i++)
		if (s->events[i])
			event_free(s->events[i]);
	if (s->sigpipe) {
		close(event_get_fd(s->sigpipe));
		event_free(s->sigpipe);
	}
	free(s);
	return NULL;
}
