/* SPDX-License-Identifier: MIT */
#include <signal.h>

#include <event2/event.h>

#include "log.h"
#include "supervisor.h"
#include "util.h"

static const int handled[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD };

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

int
signals_setup(struct supervisor *sv)
{
	/* Written to a closed pipe, a worker's output must be an EPIPE, not graced's death. */
	(void) signal(SIGPIPE, SIG_IGN);

	for (size_t i = 0; i < ELEMENTSOF(handled); i++) {
		sv->signals[i] = evsignal_new(sv->base, handled[i], signal_cb, sv);
		if (!sv->signals[i] || evsignal_add(sv->signals[i], NULL) < 0)
			return log_error_errno(ENOMEM, "Failed to watch signal %d", handled[i]);
	}
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
