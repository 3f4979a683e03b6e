/* SPDX-License-Identifier: MIT */
#include <syslog.h>

#include <event2/event.h>

#include "log.h"
#include "util.h"

/*
 * libevent's own warnings go through graced's log, rate-limited like the bad notifications of a
 * worker (notify-worker.c): a condition libevent meets in a loop (a failing accept(), a broken
 * descriptor) must not flood the log.
 */
#define LIBEVENT_WARN_BURST 20
#define LIBEVENT_WARN_INTERVAL (10 * USEC_PER_SEC)

static struct {
	usec_t begin;      /* the current interval */
	unsigned logged;   /* messages logged in it */
	unsigned unlogged; /* messages not logged in it */
} libevent_warnings;

static bool
may_log(void)
{
	usec_t now = now_usec();

	if (libevent_warnings.begin == 0 || now - libevent_warnings.begin >= LIBEVENT_WARN_INTERVAL) {
		if (libevent_warnings.unlogged > 0)
			log_warning("libevent: %u more messages were not logged",
			    libevent_warnings.unlogged);
		libevent_warnings.begin = now;
		libevent_warnings.logged = libevent_warnings.unlogged = 0;
	}
	if (libevent_warnings.logged < LIBEVENT_WARN_BURST) {
		libevent_warnings.logged++;
		return true;
	}
	if (libevent_warnings.unlogged++ == 0)
		log_warning("libevent: too many messages, not logging them for %us",
		    (unsigned) (LIBEVENT_WARN_INTERVAL / USEC_PER_SEC));
	return false;
}

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
	if (may_log())
		log_fields(priority, 0, LOG_FIELDS({ "event", "libevent" }), "libevent: %s", msg);
}

void
log_libevent_setup(void)
{
	event_set_log_callback(libevent_log_cb);
}
