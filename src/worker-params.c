/* SPDX-License-Identifier: MIT */
/*
 * The per-instance view of a worker's settings, built right before each spawn (worker.c calls
 * worker_params_build() once per start). Pure text work plus one file read.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envfile.h"
#include "expand.h"
#include "log.h"
#include "util.h"
#include "worker-params.h"

void
worker_params_done(struct worker_params *p)
{
	p->argv = strv_free(p->argv);
	p->environment = strv_free(p->environment);
	free(p->directory);
	p->directory = NULL;
}

static int
push(char ***l, size_t *n, char *s)
{
	char **m;

	if (!s)
		return -ENOMEM;
	m = reallocarray(*l, *n + 2, sizeof(char *));
	if (!m) {
		free(s);
		return -ENOMEM;
	}
	m[(*n)++] = s;
	m[*n] = NULL;
	*l = m;
	return 0;
}

static int
copy_or_expand(const struct worker_config *c, unsigned field, const char *s, unsigned n,
    char **ret)
{
	if (!(c->instance_templates & field)) {
		*ret = strdup(s);
		return *ret ? 0 : -ENOMEM;
	}
	return expand_instance(s, n, ret);
}

int
worker_params_build(const struct worker_config *c, unsigned n, struct worker_params *ret)
{
	_cleanup_strv_free_ char **file_env = NULL;
	struct worker_params p = {};
	size_t k = 0;
	char *s;
	int r;

	if (c->environment_file) {
		struct envfile_error e = {};

		r = envfile_read(c->environment_file, &file_env, &e);
		if (r == -EINVAL) {
			log_error("Worker '%s'[%u]: %s:%u: %s (environment_file at %s:%u)", c->name,
			    n, envfile_path(c->environment_file), e.line, e.message,
			    strempty(c->environment_file_at.file), c->environment_file_at.line);
			return r;
		}
		if (r < 0)
			return log_error_errno(r, "Worker '%s'[%u]: cannot read environment_file '%s' "
			    "(%s:%u)", c->name, n, envfile_path(c->environment_file),
			    strempty(c->environment_file_at.file), c->environment_file_at.line);
	}

	for (char **a = c->argv; a && *a; a++) {
		if ((r = copy_or_expand(c, INSTANCE_IN_COMMAND, *a, n, &s)) < 0 || (r = push(&p.argv, &k, s)) < 0)
			goto fail;
	}
	k = 0;
	for (char **e = c->environment; e && *e; e++)
		if ((r = copy_or_expand(c, INSTANCE_IN_ENVIRONMENT, *e, n, &s)) < 0 || (r = push(&p.environment, &k, s)) < 0)
			goto fail;
	for (char **e = file_env; e && *e; e++)
		if ((r = push(&p.environment, &k, strdup(*e))) < 0)
			goto fail;
	if (asprintf(&s, "GRACED_WORKER=%s", c->name) < 0)
		s = NULL;
	if ((r = push(&p.environment, &k, s)) < 0)
		goto fail;
	if (asprintf(&s, "GRACED_INSTANCE=%u", n) < 0)
		s = NULL;
	if ((r = push(&p.environment, &k, s)) < 0)
		goto fail;
	if (c->directory && (r = copy_or_expand(c, INSTANCE_IN_DIRECTORY, c->directory, n, &p.directory)) < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	worker_params_done(&p);
	if (r == -EINVAL) {
		/* config.c lets no other "${" through: a bug if it happens. */
		log_error("Worker '%s'[%u]: invalid ${...} in its settings", c->name, n);
		return r;
	}
	return r;
}

uint16_t
worker_params_ready_port(const struct worker_config *c, unsigned n)
{
	uint16_t port;

	/* Checked for every instance when the file was read. */
	if (c->ready_template && expand_ready_port(c->ready_template, n, &port) == 0)
		return port;
	return c->ready.port;
}
