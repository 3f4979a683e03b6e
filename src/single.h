/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: parsing and configuration (graced -- CMD as a one-worker config; the forwarding options
 * the supervisor applies).
 *
 * Single-command mode (`graced [OPTIONS] -- CMD [ARG...]`, the container entrypoint) as an
 * in-memory one-worker configuration, so that it runs through the same validation, plan and
 * supervisor as a configuration file.
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "graced.h"

/* What tini and dumb-init users pass: how signals reach the command and what the exit means. */
struct single_forwarding {
	bool group;            /* -g: signals go to the command's process group, not its pid */
	bool warn_zombies;     /* -w: a reaped orphan is a warning, not a debug line */
	bool stop_signal_set;  /* --stop-signal given: else the stop signal is the one received */
	uint8_t exit_zero[32]; /* -e CODE: bit CODE set, that exit status counts as 0 */
	/* -r S:R: what the command receives for signal S; 0 drops it. Identity by default. */
	int rewrite[NSIG];
};

struct single_options {
	struct single_forwarding forwarding;
	int stop_signal;       /* SIGTERM */
	usec_t stop_timeout;   /* 8s: ends inside docker stop's 10 s */
	int cancel_signal;     /* none */
	usec_t join_timeout;   /* 5s, only used with a cancel signal */
	int kill_signal;       /* SIGKILL */
	usec_t kill_timeout;   /* 1s: SIGKILL needs no grace, only the reaping */
	const char *report;    /* NULL: none; made absolute before graced changes to / */
	const char *control_socket; /* --control-socket, absolute; NULL: no control socket */
	const char *directory; /* where the command starts: graced's directory at start */
};

/* The defaults above. */
void single_options_init(struct single_options *o);
int single_rewrite(const struct single_forwarding *f, int sig);
bool single_exit_is_zero(const struct single_forwarding *f, int status);

/*
 * Builds the configuration of one critical worker running argv verbatim (no shell, no quoting),
 * whose exit status becomes graced's. Returns -EINVAL with the reasons in errors.
 */
int single_config(char *const *argv, const struct single_options *o, struct config **ret,
    struct config_errors *errors);
