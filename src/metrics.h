/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * GET /metrics of a readiness intake: graced's state in the Prometheus text format
 * (exposition.h), read from the live state (status.h). graced.ini(5)
 * lists the metrics.
 */

#include <stdio.h>

struct status_source;

/* Writes every metric to f; -EIO when f failed. */
int metrics_write(const struct status_source *src, FILE *f);
