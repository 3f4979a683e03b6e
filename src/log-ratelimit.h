/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the base (graced's own log).
 *
 * Warnings about something a stranger can repeat at will (a worker's bad notifications,
 * libevent's messages about a failing descriptor) must not flood the log: LOG_RATELIMIT_BURST
 * per LOG_RATELIMIT_INTERVAL, then one line saying the rest are not logged, and at the next
 * interval one line saying how many were not.
 */

#include <stdbool.h>

#include "graced.h"

#define LOG_RATELIMIT_BURST 20
#define LOG_RATELIMIT_INTERVAL (10 * USEC_PER_SEC)

struct log_ratelimit {
	usec_t begin;      /* the current interval, 0 before the first warning */
	unsigned logged;   /* warnings logged in it */
	unsigned unlogged; /* warnings not logged in it */
};

/*
 * Whether one more warning may be logged. The lines about the others name who and what:
 * "Worker 'web.0': too many bad notifications, not logging them for 10s".
 */
bool log_ratelimit(struct log_ratelimit *rl, const char *who, const char *what);
