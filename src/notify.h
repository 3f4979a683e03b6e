/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: process plumbing towards systemd (notify.c), and the worker objects' NOTIFY_SOCKET
 * (notify-worker.c, part of the instance: see worker-internal.h).
 *
 * The sd_notify protocol, both ways.
 *
 * Towards systemd (notify.c): READY=1 once every worker is started and ready, STATUS= kept
 * current, STOPPING=1 when the shutdown begins, EXTEND_TIMEOUT_USEC= at each step so systemd's
 * stop timeout never fires while graced is within its plan, MAINPID=, and WATCHDOG=1 at half of
 * WATCHDOG_USEC from a timer of the event loop itself. Without NOTIFY_SOCKET all of it is a no-op.
 *
 * Towards the workers (notify-worker.c): a worker with ready = notify or a watchdog gets its own
 * NOTIFY_SOCKET, an autobound abstract datagram socket read by a task of its instance.
 *
 * The message format (notify-message.c): a pure parser, unit-tested and safe on any input.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "graced.h"

struct event;
struct event_base;
struct instance;

/* A datagram longer than this is dropped whole (systemd's own limit is larger; ours is a
 * worker's, and nothing it may say needs more). */
#define NOTIFY_MESSAGE_MAX 4096
/* STATUS= text kept per worker, in bytes (longer is cut). */
#define NOTIFY_STATUS_MAX 128

/* What one datagram said. Pointers point into the parsed buffer. */
struct notify_message {
	bool ready;                /* READY=1 */
	bool stopping;             /* STOPPING=1 */
	bool watchdog;             /* WATCHDOG=1 */
	bool watchdog_trigger;     /* WATCHDOG=trigger: the worker asks to be treated as hung */
	const char *status;        /* STATUS=, not NUL-terminated; NULL when absent */
	size_t status_len;
	usec_t extend_timeout;     /* EXTEND_TIMEOUT_USEC=, USEC_INFINITY when absent */
	pid_t main_pid;            /* MAINPID=, 0 when absent */
	unsigned unknown;          /* assignments graced does not act on (ERRNO=, BARRIER=1, ...) */
	const char *first_unknown; /* the key of the first one, not NUL-terminated */
	size_t first_unknown_len;
};

/*
 * Parses a datagram: lines of KEY=VALUE separated by '\n' (an empty line is allowed), keys of
 * upper-case letters, digits and '_'. -EMSGSIZE when empty or longer than NOTIFY_MESSAGE_MAX,
 * -EBADMSG for a NUL or control byte, a line without '=' or a bad key, -EINVAL for a bad value of
 * a known key (READY=2, MAINPID=abc). Nothing is written to *ret on failure.
 */
int notify_message_parse(const char *buf, size_t n, struct notify_message *ret);

/* graced towards systemd: what was said. */
struct notify {
	struct event *watchdog;      /* WATCHDOG=1 to systemd; NULL when it is off */
	bool notified_ready;         /* READY=1 was sent */
	char status[600];            /* the last STATUS= sent */
};
/* Arms the watchdog timer when sd_watchdog_enabled() says so; nothing otherwise. */
int notify_setup(struct notify *n, struct event_base *base);
void notify_free(struct notify *n);
/* READY=1 with STATUS= and MAINPID=. */
void notify_ready(struct notify *n, const char *status);
void notify_status(struct notify *n, const char *status);
/* A reload begins: RELOADING=1 with MONOTONIC_USEC= of now and STATUS= (systemd holds the unit in
 * "reloading" until READY=1: notify_reloaded()). */
void notify_reloading(struct notify *n, const char *status);
/* A reload ended: READY=1 with STATUS= again (sent even though READY=1 was sent at start). */
void notify_reloaded(struct notify *n, const char *status);
/* STOPPING=1 with STATUS=, then EXTEND_TIMEOUT_USEC= for left (notify_remaining()). */
void notify_stopping(struct notify *n, const char *status, usec_t left);
/* EXTEND_TIMEOUT_USEC= for left, what is left of the plan (notify_remaining()). */
void notify_extend(struct notify *n, usec_t left);
/*
 * How long the rest of the shutdown may take at most, from now (USEC_INFINITY: unbounded, or not
 * stopping): the plan's worst case from the trigger, moved past the latest EXTEND_TIMEOUT_USEC=
 * of a worker (extended, 0: none), plus slack for the close step.
 */
usec_t notify_remaining(usec_t worst_case, bool stopping, usec_t triggered, usec_t extended,
    usec_t now);

/* How long --check and --plan wait for systemd's answer over D-Bus. */
#define NOTIFY_BUS_TIMEOUT (500 * USEC_PER_MSEC)
/* Under systemd, the unit's TimeoutStopUSec read over D-Bus: 0 with *ret set, or -errno
 * (-ENXIO: not a systemd unit). Time-boxed: it never takes much longer than timeout. */
int notify_unit_stop_timeout(usec_t timeout, usec_t *ret);

/* graced towards a worker instance. */
/* Whether the worker needs a NOTIFY_SOCKET (ready = notify, or a watchdog). */
bool notify_worker_wanted(const struct instance *in);
/* Creates the instance's socket and its reader task (once); the next process gets it. */
int notify_worker_open(struct instance *in);
/* "NOTIFY_SOCKET=@..." for the child's environment, or NULL before notify_worker_open(). */
const char *notify_worker_environment(const struct instance *in);
/* A new process was started: forget what the last one said, arm its watchdog. */
void notify_worker_started(struct instance *in);
/* The process is gone, or the shutdown began: no more watchdog. */
void notify_worker_disarm(struct instance *in);
/* Cancels the reader task (it ends with the instance's group). */
void notify_worker_close(struct instance *in);
/* Frees what is left (the socket, the timer) once the instance's tasks are gone. */
void notify_worker_free(struct instance *in);
/* The last STATUS= the worker sent, or NULL. */
const char *notify_worker_status(const struct instance *in);
