/* SPDX-License-Identifier: MIT */
/*
 * --check's look at the machine: what the file says that will fail once graced runs it, found
 * before anything runs. Everything here is a warning (the machine may change before the start:
 * a package installs the user, a mount brings the directory), named at the key's FILE:LINE.
 * One pass over the keys as written, so it stays linear in the size of the file.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-internal.h"
#include "config.h"
#include "envfile.h"
#include "expand.h"
#include "parse.h"
#include "spawn.h"
#include "util.h"

#define warn(w, at, ...)                                                                           \
	do {                                                                                       \
		if (config_errors_add((w), (at)->file, (at)->line, __VA_ARGS__) < 0)               \
			return -ENOMEM;                                                            \
	} while (0)

/* The child's PATH: environment= wins over graced's own, as in spawn.c. */
static const char *
worker_path(const struct worker_config *w)
{
	const char *path = getenv("PATH");

	for (char **e = w->environment; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	return path && *path ? path : "/bin:/usr/bin";
}

/* 0 if name is an executable file in one of path's directories; else -ENOENT or -EACCES. */
static int
find_in_path(const char *name, const char *path)
{
	int r = -ENOENT;

	for (const char *d = path; d;) {
		const char *colon = strchr(d, ':');
		size_t len = colon ? (size_t) (colon - d) : strlen(d);
		char file[PATH_MAX];
		struct stat st;

		if (snprintf(file, sizeof(file), "%.*s/%s", (int) len, len ? d : ".", name) <
		    (int) sizeof(file) && stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(file, X_OK) == 0)
				return 0;
			r = -EACCES;
		}
		d = colon ? colon + 1 : NULL;
	}
	return r;
}

static int
lint_command(const struct worker_config *w, const struct config_location *at,
    struct config_errors *warnings)
{
	_cleanup_free_ char *prog = NULL, *dir = NULL;
	struct stat st;

	if (!w->argv || !w->argv[0])
		return 0;
	if (!(w->instance_templates & INSTANCE_IN_COMMAND))
		prog = strdup(w->argv[0]);
	else if (expand_instance(w->argv[0], 0, &prog) < 0)
		return 0;
	if (!prog)
		return -ENOMEM;
	if (!strchr(prog, '/')) {
		const char *path = worker_path(w);
		int r = find_in_path(prog, path);

		if (r == -ENOENT)
			warn(warnings, at, "warning: command '%s' of [worker:%s] is not in its PATH (%s)",
			    prog, w->name, path);
		else if (r == -EACCES)
			warn(warnings, at, "warning: command '%s' of [worker:%s] is not executable",
			    prog, w->name);
		return 0;
	}
	/* A relative program is looked up from the worker's directory. */
	if (prog[0] != '/' && w->directory) {
		if (!(w->instance_templates & INSTANCE_IN_DIRECTORY))
			dir = strdup(w->directory);
		else if (expand_instance(w->directory, 0, &dir) < 0)
			return 0;
		if (!dir)
			return -ENOMEM;
		char *full;

		if (asprintf(&full, "%s/%s", dir, prog) < 0)
			return -ENOMEM;
		free(prog);
		prog = full;
	}
	if (stat(prog, &st) < 0)
		warn(warnings, at, "warning: command '%s' of [worker:%s] does not exist", prog, w->name);
	else if (!S_ISREG(st.st_mode) || access(prog, X_OK) < 0)
		warn(warnings, at, "warning: command '%s' of [worker:%s] is not executable", prog,
		    w->name);
	return 0;
}

/* on_exit runs in graced's environment and directory, so its program is looked up there. */
static int
lint_hook(const struct worker_config *w, const struct config_location *at,
    struct config_errors *warnings)
{
	const char *prog = w->on_exit[0], *path = getenv("PATH");
	struct stat st;
	int r = 0;

	if (!strchr(prog, '/'))
		r = find_in_path(prog, path && *path ? path : "/bin:/usr/bin");
	else if (stat(prog, &st) < 0)
		r = -ENOENT;
	else if (!S_ISREG(st.st_mode) || access(prog, X_OK) < 0)
		r = -EACCES;
	if (r == -ENOENT)
		warn(warnings, at, "warning: on_exit '%s' of [worker:%s] %s", prog, w->name,
		    strchr(prog, '/') ? "does not exist" : "is not in graced's PATH");
	else if (r == -EACCES)
		warn(warnings, at, "warning: on_exit '%s' of [worker:%s] is not executable", prog,
		    w->name);
	return 0;
}

static int
lint_directory(const struct worker_config *w, const struct config_location *at,
    struct config_errors *warnings)
{
	bool template = w->instance_templates & INSTANCE_IN_DIRECTORY;

	/* With ${INSTANCE}, each instance has its own: the first missing one is named. */
	for (unsigned n = 0; n < (template ? w->instances : 1); n++) {
		_cleanup_free_ char *dir = NULL;
		struct stat st;

		if (!template)
			dir = strdup(w->directory);
		else if (expand_instance(w->directory, n, &dir) < 0)
			return 0;
		if (!dir)
			return -ENOMEM;
		if (stat(dir, &st) < 0) {
			warn(warnings, at, "warning: directory '%s' of [worker:%s] does not exist", dir,
			    w->name);
			return 0;
		}
		if (!S_ISDIR(st.st_mode)) {
			warn(warnings, at, "warning: directory '%s' of [worker:%s] is not a directory",
			    dir, w->name);
			return 0;
		}
	}
	return 0;
}

static int
lint_user(const struct worker_config *w, const char *key, const struct config_location *at,
    struct config_errors *warnings)
{
	uid_t uid;
	gid_t gid;
	int r;

	if (streq(key, "user"))
		r = spawn_resolve_user(w->user, NULL, &uid, &gid);
	else
		r = spawn_resolve_user(NULL, w->group, &uid, &gid);
	if (r == -ESRCH)
		warn(warnings, at, "warning: unknown %s '%s' in [worker:%s]", key,
		    streq(key, "user") ? w->user : w->group, w->name);
	return 0;
}

/* report, pidfile, control_socket and the log files (output = file:, stderr = file:): graced
 * creates the file, so its directory must take it. */
static int
lint_writable(const char *key, const char *path, const struct config_location *at,
    struct config_errors *warnings)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (access(dir, F_OK) < 0)
		warn(warnings, at, "warning: the directory '%s' of %s does not exist", dir, key);
	else if (access(dir, W_OK) < 0)
		warn(warnings, at, "warning: the directory '%s' of %s is not writable (as uid %ld)",
		    dir, key, (long) getuid());
	return 0;
}

/* Whether something already listens there: a bind (TCP) or a connect (unix:) tells. */
static int
lint_listen(const struct intake_config *in, const struct config_location *at,
    struct config_errors *warnings)
{
	char addr[LISTEN_ADDRESS_MAX];
	_cleanup_close_ int fd = -1;
	bool busy = false;

	if (in->listen.kind == LISTEN_TCP) {
		int one = 1;

		fd = socket(in->listen.addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return 0;
		(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		busy = bind(fd, &in->listen.addr.sa, in->listen.addr_len) < 0 && errno == EADDRINUSE;
	} else if (in->listen.kind == LISTEN_UNIX) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return 0;
		busy = connect(fd, &in->listen.addr.sa, in->listen.addr_len) == 0 ||
		    errno == EAGAIN;
	}
	if (busy)
		warn(warnings, at, "warning: address %s of [intake:%s] is already in use",
		    listen_address_to_string(addr, sizeof(addr), &in->listen), in->name);
	return 0;
}

static int
lint_environment_file(const struct worker_config *w, const struct config_location *at,
    struct config_errors *warnings)
{
	const char *path = envfile_path(w->environment_file);

	if (w->environment_file[0] == '-' || access(path, R_OK) == 0)
		return 0;
	warn(warnings, at, "warning: environment_file '%s' of [worker:%s] cannot be read: %s "
	    "(write -%s if it is optional)", path, w->name, strerror(errno), path);
	return 0;
}

int
config_lint(const struct config *c, struct config_errors *warnings)
{
	int r = 0;

	for (size_t i = 0; i < c->n_key_locations && r >= 0; i++) {
		const struct config_key_location *l = &c->key_locations[i];
		const struct worker_config *w = l->obj;
		const char *key = l->key;

		if (streq(l->section, "worker")) {
			if (streq(key, "command"))
				r = lint_command(w, &l->at, warnings);
			else if (streq(key, "on_exit") && w->on_exit && w->on_exit[0])
				r = lint_hook(w, &l->at, warnings);
			else if (streq(key, "directory") && w->directory)
				r = lint_directory(w, &l->at, warnings);
			else if ((streq(key, "user") && w->user) || (streq(key, "group") && w->group))
				r = lint_user(w, key, &l->at, warnings);
			else if (streq(key, "environment_file") && w->environment_file)
				r = lint_environment_file(w, &l->at, warnings);
			else if (streq(key, "output") && w->output_file)
				r = lint_writable(key, w->output_file, &l->at, warnings);
			else if (streq(key, "stderr") && w->stderr_file)
				r = lint_writable(key, w->stderr_file, &l->at, warnings);
		} else if (streq(l->section, "supervisor")) {
			const struct supervisor_config *s = l->obj;
			const char *path = streq(key, "report") ? s->report :
			    streq(key, "pidfile")		 ? s->pidfile :
			    streq(key, "control_socket")	 ? s->control_socket :
								   NULL;

			if (path)
				r = lint_writable(key, path, &l->at, warnings);
		} else if (streq(l->section, "intake") && streq(key, "listen")) {
			const struct intake_config *in = l->obj;

			if (in->has_listen)
				r = lint_listen(in, &l->at, warnings);
		}
	}
	return r;
}
