/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <signal.h>

#include <event2/event.h>

#include "log.h"
#include "parse.h"
#include "supervisor.h"
#include "util.h"

static const int handled[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD };
/* Single-command mode forwards these to the command (and SIGHUP and SIGUSR1 above). Catching
 * SIGTSTP also means graced itself is never stopped by it: the command is. */
static const int forwarded[] = { SIGUSR2, SIGWINCH, SIGQUIT, SIGCONT, SIGTSTP };

/*
 * libevent runs this from the loop, not from the signal handler, so it may do anything the loop
 * may: the signal becomes a supervisor event and the callback returns (no stack switch here).
 */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct supervisor *sv = arg;

	if (sig == SIGCHLD)
		supervisor_reap(sv);
	else
		supervisor_on_signal(sv, (int) sig);
}

static int
watch(struct supervisor *sv, size_t slot, int sig)
{
	assert(slot < ELEMENTSOF(sv->signals));
	sv->signals[slot] = evsignal_new(sv->base, sig, signal_cb, sv);
	if (!sv->signals[slot] || evsignal_add(sv->signals[slot], NULL) < 0)
		return log_error_errno(ENOMEM, "Failed to watch %s", signal_to_string(sig));
	return 0;
}

int
signals_setup(struct supervisor *sv)
{
	/* Written to a closed pipe, a worker's output must be an EPIPE, not graced's death. */
	(void) signal(SIGPIPE, SIG_IGN);

	for (size_t i = 0; i < ELEMENTSOF(handled); i++)
		if (watch(sv, i, handled[i]) < 0)
			return -ENOMEM;
	if (!sv->single)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
		if (watch(sv, ELEMENTSOF(handled) + i, forwarded[i]) < 0)
			return -ENOMEM;
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
}
