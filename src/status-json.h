/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The status of the supervisor and its instances as JSON, one shape for every reader: the
 * readiness endpoint's GET /status (readiness.c) and `gracectl status` (control.c), both built
 * from the live state (status.h). gracectl(1) and graced.ini(5) document the
 * fields.
 */

#include <jansson.h>

#include "graced.h"
#include "status.h"

/*
 * An instance: worker, name, instance, state, pid, restarts, uptime_ms (while it runs),
 * last_exit ({"status": N} or {"signal": "SIGTERM"}, once a process of it ended), step (its
 * worker's step during the shutdown). now: CLOCK_MONOTONIC, for the uptime. NULL on OOM.
 */
json_t *status_json_instance(const struct instance_view *v, usec_t now);
/* The supervisor: name, step, stopping, uptime_ms (once started), trigger (once stopping). NULL
 * on OOM. */
json_t *status_json_supervisor(const struct supervisor_state *st, usec_t now);
