/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Instance numbers in a worker's settings. In command, environment, directory and ready of a
 * [worker:*] section, "${INSTANCE}" stands for the instance number (0, 1, ...) and "$$" for "$":
 * plain text substitution, so "tcp:900${INSTANCE}" is port 9000, 9001, ... These functions are
 * pure: config.c checks the templates, worker-params.c expands them for each instance.
 */

#include <stdbool.h>
#include <stdint.h>

#define INSTANCE_VARIABLE "${INSTANCE}"

/* Whether s mentions ${INSTANCE} (a "$${INSTANCE}" is an escaped "$" and text, not a mention). */
bool expand_has_instance(const char *s);

/* Replaces ${INSTANCE} with n and $$ with $; any other "${" is -EINVAL. */
int expand_instance(const char *template, unsigned n, char **ret);

/* The same for each string of a NULL-terminated list; NULL in, NULL out. */
int expand_instance_strv(char *const *l, unsigned n, char ***ret);

/* "tcp:PORT" with ${INSTANCE} expanded for instance n: -EINVAL when it is not a tcp: value,
 * -ERANGE when the port is out of 1..65535. */
int expand_ready_port(const char *template, unsigned n, uint16_t *ret);
