/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What one instance of a worker is started with: its command, environment and directory with
 * ${INSTANCE} expanded, GRACED_WORKER and GRACED_INSTANCE, and its environment_file read now (at
 * each start, so a restart picks up a changed file, as systemd does).
 */

#include <stdint.h>

#include "config.h"
#include "macro.h"

struct worker_params {
	char **argv;
	char **environment;  /* environment=, then environment_file, then GRACED_WORKER/INSTANCE */
	char *directory;     /* NULL: graced's */
};

/* Fills *ret for instance n of c; logs what went wrong (an unreadable or malformed
 * environment_file) and returns -errno. */
int worker_params_build(const struct worker_config *c, unsigned n, struct worker_params *ret);
void worker_params_done(struct worker_params *p);

/* The port ready = tcp: probes for instance n. */
uint16_t worker_params_ready_port(const struct worker_config *c, unsigned n);
