/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>
#if HAVE_LIBSYSTEMD
#include <systemd/sd-bus.h>
#include <systemd/sd-login.h>
#endif

#include "config.h"
#include "log.h"
#include "notify.h"
#include "sd-compat.h"
#include "util.h"

/* Layer: process plumbing towards systemd. See notify.h. */

/*
 * EXTEND_TIMEOUT_USEC= covers what is left of the plan plus this: the tasks of the close step
 * (CLOSE_TASKS_TIMEOUT), the output drain of the last worker, and writing the report.
 */
#define NOTIFY_EXTEND_SLACK (5 * USEC_PER_SEC)

/*
 * Every message goes through sd_notify(), which sends one datagram on a fresh socket and returns;
 * without NOTIFY_SOCKET it does nothing. A failure is logged at debug only: systemd not listening
 * must never disturb a shutdown.
 */
static void
send_state(const char *state)
{
	int r = sd_notify(0, state);

	if (r < 0)
		log_debug_errno(r, "Failed to notify the service manager (%s)", state);
}

/* Without NOTIFY_SOCKET there is nobody to tell: skip the formatting too. */
static bool
notify_wanted(void)
{
	const char *e = getenv("NOTIFY_SOCKET");

	return e && *e;
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *userdata)
{
	/* Sent from the loop itself: a stuck loop stops the pings and systemd restarts graced. */
	send_state("WATCHDOG=1");
}

int
notify_setup(struct notify *n, struct event_base *base)
{
	uint64_t usec = 0;
	struct timeval tv;
	int r;

	r = sd_watchdog_enabled(0, &usec);
	if (r < 0)
		log_warning_errno(r, "Invalid WATCHDOG_USEC or WATCHDOG_PID, no watchdog pings, continuing");
	if (r <= 0 || usec == 0)
		return 0; /* no timer at all: graced stays without wakeups when idle */
	usec /= 2;
	tv.tv_sec = (time_t) (usec / USEC_PER_SEC);
	tv.tv_usec = (suseconds_t) (usec % USEC_PER_SEC);
	if (!(n->watchdog = event_new(base, -1, EV_PERSIST, watchdog_cb, n)))
		return log_error_errno(ENOMEM, "Failed to set up the watchdog timer");
	if (event_add(n->watchdog, &tv) < 0) {
		event_free(n->watchdog);
		n->watchdog = NULL;
		return log_error_errno(EIO, "Failed to set up the watchdog timer");
	}
	log_debug("Pinging the systemd watchdog every %" PRIu64 " ms", usec / USEC_PER_MSEC);
	send_state("WATCHDOG=1");
	return 0;
}

void
notify_free(struct notify *n)
{
	if (n->watchdog)
		event_free(n->watchdog);
	n->watchdog = NULL;
}

/* Remembers text as the current status; false when it is the one already sent. */
static bool
status_changed(struct notify *n, const char *text)
{
	if (streq(n->status, text))
		return false;
	snprintf(n->status, sizeof(n->status), "%s", text);
	return true;
}

void
notify_ready(struct notify *n, const char *status)
{
	char msg[sizeof(n->status) + 64];

	if (n->notified_ready)
		return;
	n->notified_ready = true;
	if (!notify_wanted())
		return;
	(void) status_changed(n, status);
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s\nMAINPID=%ld", n->status, (long) getpid());
	send_state(msg);
}

void
notify_status(struct notify *n, const char *status)
{
	char msg[sizeof(n->status) + 16];

	if (!notify_wanted() || !status_changed(n, status))
		return;
	snprintf(msg, sizeof(msg), "STATUS=%s", n->status);
	send_state(msg);
}

void
notify_reloading(struct notify *n, const char *status)
{
	char msg[sizeof(n->status) + 64];

	if (!notify_wanted())
		return;
	(void) status_changed(n, status);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=%s",
	    (uint64_t) now_usec(), n->status);
	send_state(msg);
}

void
notify_reloaded(struct notify *n, const char *status)
{
	char msg[sizeof(n->status) + 16];

	n->notified_ready = true;
	if (!notify_wanted())
		return;
	(void) status_changed(n, status);
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", n->status);
	send_state(msg);
}

void
notify_stopping(struct notify *n, const char *status, usec_t left)
{
	char msg[sizeof(n->status) + 32];

	if (!notify_wanted())
		return;
	(void) status_changed(n, status);
	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s", n->status);
	send_state(msg);
	notify_extend(n, left);
}

usec_t
notify_remaining(usec_t worst, bool stopping, usec_t triggered, usec_t extended, usec_t now)
{
	usec_t end;

	if (worst == USEC_INFINITY || !stopping)
		return USEC_INFINITY;
	end = usec_add(triggered, worst);
	/* A worker that extended its budget (EXTEND_TIMEOUT_USEC=) may delay every step after its
	 * own: the bound moves by the whole plan past its extension. */
	if (extended > now)
		end = MAX(end, usec_add(extended, worst));
	return usec_add(end > now ? end - now : 0, NOTIFY_EXTEND_SLACK);
}

void
notify_extend(struct notify *n, usec_t left)
{
	char msg[64];

	(void) n;
	if (!notify_wanted())
		return;
	/* An unbounded plan leaves systemd's TimeoutStopSec= in charge (set it to infinity). */
	if (left == USEC_INFINITY)
		return;
	snprintf(msg, sizeof(msg), "EXTEND_TIMEOUT_USEC=%" PRIu64, left);
	send_state(msg);
}

#if HAVE_LIBSYSTEMD
static int
reply_cb(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	sd_bus_message **reply = userdata;

	*reply = sd_bus_message_ref(m);
	return 1;
}

/*
 * One method call answered before deadline. sd_bus_call() would wait for the connection's
 * authentication without our bound (up to libsystemd's own 90 s), so the call is made async and
 * the bus is driven here until the reply or the deadline.
 */
static int
call_before(sd_bus *bus, sd_bus_message *m, usec_t deadline, sd_bus_message **ret)
{
	sd_bus_message *reply = NULL;
	sd_bus_slot *slot = NULL;
	usec_t now = now_usec();
	int r;

	if (now >= deadline)
		return -ETIMEDOUT;
	if ((r = sd_bus_call_async(bus, &slot, m, reply_cb, &reply, deadline - now)) < 0)
		return r;
	while (!reply) {
		now = now_usec();
		if (now >= deadline) {
			r = -ETIMEDOUT;
			break;
		}
		if ((r = sd_bus_process(bus, NULL)) < 0)
			break;
		if (r > 0)
			continue;
		if ((r = sd_bus_wait(bus, deadline - now)) < 0)
			break;
	}
	sd_bus_slot_unref(slot);
	if (!reply)
		return r < 0 ? r : -ETIMEDOUT;
	if (sd_bus_message_is_method_error(reply, NULL)) {
		const sd_bus_error *e = sd_bus_message_get_error(reply);

		r = sd_bus_message_get_errno(reply);
		log_debug("D-Bus error: %s", strempty(e ? e->message : NULL));
		sd_bus_message_unref(reply);
		return r > 0 ? -r : -EIO;
	}
	*ret = reply;
	return 0;
}

/* A method call of systemd's manager bus name, with one string argument when arg is set. */
static int
systemd_call(sd_bus *bus, const char *path, const char *interface, const char *member,
    const char *arg1, const char *arg2, usec_t deadline, sd_bus_message **ret)
{
	sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", path, interface,
	    member);
	if (r >= 0 && arg1)
		r = sd_bus_message_append_basic(m, 's', arg1);
	if (r >= 0 && arg2)
		r = sd_bus_message_append_basic(m, 's', arg2);
	if (r >= 0)
		r = call_before(bus, m, deadline, ret);
	sd_bus_message_unref(m);
	return r;
}

int
notify_unit_stop_timeout(usec_t timeout, usec_t *ret)
{
	_cleanup_free_ char *unit = NULL, *path = NULL;
	usec_t deadline = usec_add(now_usec(), timeout);
	sd_bus_message *reply = NULL;
	sd_bus *bus = NULL;
	const char *p;
	uint64_t usec;
	size_t n;
	int r;

	/* A service started by systemd has an INVOCATION_ID; a login shell's scope does not count:
	 * its stop timeout is not the deadline of the service graced will run as. */
	if (!getenv("INVOCATION_ID") || sd_pid_get_unit(0, &unit) < 0)
		return -ENXIO;
	n = strlen(unit);
	if (n < 8 || !streq(unit + n - 8, ".service"))
		return -ENXIO;

	if ((r = sd_bus_open_system(&bus)) < 0)
		goto finish;
	r = systemd_call(bus, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
	    "GetUnit", unit, NULL, deadline, &reply);
	if (r < 0)
		goto finish;
	if ((r = sd_bus_message_read_basic(reply, 'o', &p)) < 0)
		goto finish;
	if (!(path = strdup(p))) {
		r = -ENOMEM;
		goto finish;
	}
	reply = sd_bus_message_unref(reply);
	r = systemd_call(bus, path, "org.freedesktop.DBus.Properties", "Get",
	    "org.freedesktop.systemd1.Service", "TimeoutStopUSec", deadline, &reply);
	if (r < 0)
		goto finish;
	if ((r = sd_bus_message_enter_container(reply, 'v', "t")) < 0 ||
	    (r = sd_bus_message_read_basic(reply, 't', &usec)) < 0)
		goto finish;
	*ret = usec == UINT64_MAX ? USEC_INFINITY : usec;
	r = 0;
finish:
	if (r < 0)
		log_debug_errno(r, "Failed to read TimeoutStopUSec of '%s' over D-Bus", unit);
	sd_bus_message_unref(reply);
	sd_bus_close_unref(bus); /* no flush: it would wait out an authentication */
	return r;
}
#else
int
notify_unit_stop_timeout(usec_t timeout, usec_t *ret)
{
	/* The static build has no D-Bus client: say so where it would have mattered. */
	if (getenv("INVOCATION_ID"))
		log_warning("This graced is the static build, without D-Bus: the unit's "
			    "TimeoutStopSec= is not read, set [shutdown] deadline = instead");
	return -EOPNOTSUPP;
}
#endif
