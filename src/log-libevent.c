/* SPDX-License-Identifier: MIT */
#include <syslog.h>

#include <event2/event.h>

#include "log-ratelimit.h"
#include "log.h"
#include "util.h"

/*
 * libevent's own warnings go through graced's log, rate-limited like the bad notifications of a
 * worker (notify-worker.c): a condition libevent meets in a loop (a failing accept(), a broken
 * descriptor) must not flood the log.
 */
static struct log_ratelimit libevent_warnings;

static void
libevent_log_cb(int severity, const char *msg)
{
	int priority;

	switch (severity) {
	case EVENT_LOG_DEBUG:
		/* Debug messages are only made with event_enable_debug_logging(): not counted. */
		log_debug("libevent: %s", msg);
		return;
	case EVENT_LOG_MSG:
		priority = LOG_INFO;
		break;
	case EVENT_LOG_WARN:
		priority = LOG_WARNING;
		break;
	default:
		priority = LOG_ERR;
		break;
	}
	if (log_ratelimit(&libevent_warnings, "libevent", "messages"))
		log_fields(priority, 0, LOG_FIELDS({ "event", "libevent" }), "libevent: %s", msg);
}

void
log_libevent_setup(void)
{
	event_set_log_callback(libevent_log_cb);
}
