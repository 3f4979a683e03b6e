/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "control-protocol.h"
#include "macro.h"
#include "parse.h"
#include "util.h"

static const char *const command_table[_CONTROL_COMMAND_MAX] = {
	[CONTROL_STATUS] = "status",
	[CONTROL_DUMP] = "dump",
	[CONTROL_SIGNAL] = "signal",
	[CONTROL_SHUTDOWN] = "shutdown",
	[CONTROL_REOPEN_LOGS] = "reopen-logs",
	[CONTROL_START] = "start",
	[CONTROL_STOP] = "stop",
	[CONTROL_RELOAD] = "reload",
	[CONTROL_RESTART] = "restart",
};

const char *
control_command_to_string(enum control_command c)
{
	return c >= 0 && c < _CONTROL_COMMAND_MAX ? command_table[c] : NULL;
}

enum control_command
control_command_from_string(const char *s)
{
	for (int i = 0; s && i < _CONTROL_COMMAND_MAX; i++)
		if (streq(command_table[i], s))
			return i;
	return _CONTROL_COMMAND_INVALID;
}

void
control_request_done(struct control_request *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_workers; i++)
		free(r->workers[i]);
	free(r->workers);
	r->workers = NULL;
	r->n_workers = 0;
}

/* Which keys each command takes besides "command". */
static bool
key_allowed(enum control_command c, const char *key)
{
	switch (c) {
	case CONTROL_STATUS:
	case CONTROL_START:
	case CONTROL_STOP:
	case CONTROL_RESTART:
		return streq(key, "workers");
	case CONTROL_SIGNAL:
		return streq(key, "worker") || streq(key, "signal");
	case CONTROL_SHUTDOWN:
		return streq(key, "wait");
	default:
		return false;
	}
}

static int
add_worker(struct control_request *r, const char *name, const char **ret_error)
{
	char **w;

	if (!name_is_valid(name)) {
		*ret_error = "invalid worker name (letters, digits, '_' and '-')";
		return -EINVAL;
	}
	if (r->n_workers >= CONTROL_WORKERS_MAX) {
		*ret_error = "too many worker names";
		return -EINVAL;
	}
	if (!(w = realloc(r->workers, (r->n_workers + 1) * sizeof(*w))) ||
	    !((r->workers = w)[r->n_workers] = strdup(name))) {
		*ret_error = "out of memory";
		return -ENOMEM;
	}
	r->n_workers++;
	return 0;
}

static int
parse_signal_value(json_t *v, int *ret, const char **ret_error)
{
	int sig;

	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);

		if (n < 1 || n > SIGRTMAX) {
			*ret_error = "invalid signal";
			return -EINVAL;
		}
		*ret = (int) n;
		return 0;
	}
	if (!json_is_string(v) || parse_signal(json_string_value(v), &sig) < 0 ||
	    sig == SIGNAL_NONE || sig <= 0) {
		*ret_error = "invalid signal (a name like \"HUP\" or \"SIGHUP\", or a number)";
		return -EINVAL;
	}
	*ret = sig;
	return 0;
}

static int
parse_object(json_t *root, struct control_request *r, const char **ret_error)
{
	json_t *v, *item;
	const char *key;
	size_t i;
	int q;

	if (!json_is_object(root)) {
		*ret_error = "a request is a JSON object";
		return -EINVAL;
	}
	v = json_object_get(root, "command");
	if (!v || !json_is_string(v)) {
		*ret_error = "missing \"command\"";
		return -EINVAL;
	}
	if ((r->command = control_command_from_string(json_string_value(v))) < 0) {
		*ret_error = "unknown command";
		return -EINVAL;
	}
	json_object_foreach(root, key, v) {
		if (streq(key, "command"))
			continue;
		if (!key_allowed(r->command, key)) {
			*ret_error = "unknown key for this command";
			return -EINVAL;
		}
		if (streq(key, "workers")) {
			if (!json_is_array(v)) {
				*ret_error = "\"workers\" is an array of names";
				return -EINVAL;
			}
			json_array_foreach(v, i, item) {
				if (!json_is_string(item)) {
					*ret_error = "\"workers\" is an array of names";
					return -EINVAL;
				}
				if ((q = add_worker(r, json_string_value(item), ret_error)) < 0)
					return q;
			}
		} else if (streq(key, "worker")) {
			if (!json_is_string(v)) {
				*ret_error = "\"worker\" is a name";
				return -EINVAL;
			}
			if ((q = add_worker(r, json_string_value(v), ret_error)) < 0)
				return q;
		} else if (streq(key, "signal")) {
			if ((q = parse_signal_value(v, &r->signal, ret_error)) < 0)
				return q;
		} else if (streq(key, "wait")) {
			if (!json_is_boolean(v)) {
				*ret_error = "\"wait\" is true or false";
				return -EINVAL;
			}
			r->wait = json_is_true(v);
		}
	}
	if (r->command == CONTROL_SIGNAL && (r->n_workers != 1 || r->signal == 0)) {
		*ret_error = "signal needs \"worker\" and \"signal\"";
		return -EINVAL;
	}
	if (r->command == CONTROL_START && r->n_workers == 0) {
		*ret_error = "start needs \"workers\": one name or more";
		return -EINVAL;
	}
	if (r->command == CONTROL_STOP && r->n_workers == 0) {
		*ret_error = "stop needs \"workers\": one name or more";
		return -EINVAL;
	}
	if (r->command == CONTROL_RESTART && r->n_workers == 0) {
		*ret_error = "restart needs \"workers\": one name or more";
		return -EINVAL;
	}
	return 0;
}

int
control_request_parse(const char *line, size_t len, struct control_request *ret,
    const char **ret_error)
{
	struct control_request r = {};
	json_error_t error;
	json_t *root;
	int q;

	if (len > CONTROL_LINE_MAX) {
		*ret_error = "request too long";
		return -EINVAL;
	}
	/* One value per line; NUL bytes are refused (JSON_ALLOW_NUL is not given) and duplicate
	 * keys too, so a request means one thing only. */
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &error);
	if (!root) {
		*ret_error = "not valid JSON";
		return -EINVAL;
	}
	q = parse_object(root, &r, ret_error);
	json_decref(root);
	if (q < 0) {
		control_request_done(&r);
		return q == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	*ret = r;
	return 0;
}

char *
control_reply_error(const char *message)
{
	json_t *o = json_pack("{s:b, s:s}", "ok", 0, "error", message);
	char *s, *line;
	size_t n;

	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return NULL;
	n = strlen(s);
	if ((line = realloc(s, n + 2))) {
		line[n] = '\n';
		line[n + 1] = '\0';
	} else
		free(s);
	return line;
}

int
control_socket_path(const struct supervisor_config *c, char **ret, bool *ret_default)
{
	const char *dir;
	char *p;

	*ret_default = false;
	if (c->control_socket_none) {
		*ret = NULL;
		return 0;
	}
	if (c->control_socket) {
		if (!(*ret = strdup(c->control_socket)))
			return -ENOMEM;
		return 0;
	}
	*ret_default = true;
	if (geteuid() == 0)
		dir = "/run";
	else if (!(dir = getenv("XDG_RUNTIME_DIR")) || dir[0] != '/') {
		*ret = NULL;
		return 0;
	}
	/* A name is free text: one with a '/' would name another directory. */
	if (strchr(c->name, '/') || streq(c->name, "") || streq(c->name, ".") || streq(c->name, ".."))
		return -EINVAL;
	if (asprintf(&p, "%s/graced/%s.sock", dir, c->name) < 0)
		return -ENOMEM;
	if (strlen(p) >= sizeof(((struct sockaddr_un *) NULL)->sun_path)) {
		free(p);
		return -ENAMETOOLONG;
	}
	*ret = p;
	return 0;
}
