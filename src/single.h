/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Single-command mode (`graced [OPTIONS] -- CMD [ARG...]`, the container entrypoint) as an
 * in-memory one-worker configuration, so that it runs through the same validation, plan and
 * supervisor as a configuration file.
 */

#include "config.h"
#include "graced.h"

struct single_options {
	int stop_signal;       /* SIGTERM */
	usec_t stop_timeout;   /* 8s: ends inside docker stop's 10 s */
	int cancel_signal;     /* none */
	usec_t join_timeout;   /* 5s, only used with a cancel signal */
	int kill_signal;       /* SIGKILL */
	usec_t kill_timeout;   /* 1s: SIGKILL needs no grace, only the reaping */
	const char *report;    /* NULL: none */
};

/* The defaults above. */
void single_options_init(struct single_options *o);

/*
 * Builds the configuration of one critical worker running argv verbatim (no shell, no quoting),
 * whose exit status becomes graced's. Returns -EINVAL with the reasons in errors.
 */
int single_config(char *const *argv, const struct single_options *o, struct config **ret,
    struct config_errors *errors);
