/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * GET /metrics of a readiness intake: graced's state in the Prometheus text format
 * (exposition.h), read through the control plane's view (supervisor-view.h). graced.ini(5)
 * lists the metrics.
 */

#include <stdio.h>

struct supervisor;

/* Writes every metric to f; -EIO when f failed. */
int metrics_write(const struct supervisor *sv, FILE *f);
