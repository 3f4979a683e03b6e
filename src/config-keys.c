/* SPDX-License-Identifier: MIT */
/*
 * The key tables of every section and the value parsers behind them. Each parser takes the value
 * after ${VAR} expansion and either writes the field or reports what was wrong with the value.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config-internal.h"
#include "envfile.h"
#include "expand.h"
#include "parse.h"
#include "util.h"

#define FIELD(obj, k, type) ((type *) ((char *) (obj) + (k)->offset))

static void
set_flag(const struct config_key *k, void *obj)
{
	if (k->has_flag)
		*(bool *) ((char *) obj + k->flag_offset) = true;
}

static void
bad_value(struct config_parser *p, const char *what, const char *v, const struct config_key *k,
    const char *expected)
{
	parser_error(p, "invalid %s '%.*s%s' for %s (expected %s)", what, QUOTE_MAX, v,
	    strlen(v) > QUOTE_MAX ? "..." : "", k->name, expected);
}

static void
parse_string_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj,
    bool optional)
{
	char **field = FIELD(obj, k, char *);
	char *s = NULL;

	if (!*v && !optional) {
		parser_error(p, "empty value for %s", k->name);
		return;
	}
	/* An empty value leaves an optional string unset, so "${X:-}" can switch it off. */
	if (*v) {
		s = strdup(v);
		if (!s) {
			p->oom = true;
			return;
		}
	}
	free(*field);
	*field = s;
	set_flag(k, obj);
}

static void
parse_string(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	parse_string_field(p, k, v, obj, false);
}

static void
parse_string_opt(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	parse_string_field(p, k, v, obj, true);
}

static void
parse_path_opt(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	if (*v && *v != '/') {
		bad_value(p, "path", v, k, "an absolute path");
		return;
	}
	parse_string_field(p, k, v, obj, true);
}

static void
parse_path(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	if (*v != '/') {
		bad_value(p, "path", v, k, "an absolute path");
		return;
	}
	parse_string_field(p, k, v, obj, false);
}

static void
parse_socket_path(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	if (strlen(v) >= sizeof(((struct sockaddr_un *) NULL)->sun_path)) {
		bad_value(p, "path", v, k, "an absolute path of at most 107 bytes");
		return;
	}
	parse_path_opt(p, k, v, obj);
}

/* control_socket: a path, or none (also an empty value) for no control socket. */
static void
parse_control_socket(struct config_parser *p, const struct config_key *k, const char *v,
    void *obj)
{
	struct supervisor_config *sc = obj;

	if (*v == '\0' || streq(v, "none")) {
		free(sc->control_socket);
		sc->control_socket = NULL;
		sc->control_socket_none = true;
		return;
	}
	parse_socket_path(p, k, v, obj);
	sc->control_socket_none = false;
}

static void
parse_name_ref(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	if (*v && !name_is_valid(v)) {
		bad_value(p, "name", v, k, "letters, digits, '_' and '-'");
		return;
	}
	parse_string_field(p, k, v, obj, true);
}

/* A bare number is what supervisord's stopwaitsecs and friends look like: say what to add. */
static void
bad_duration(struct config_parser *p, const char *v, const struct config_key *k,
    const char *expected)
{
	size_t n = strspn(v, "0123456789");
	usec_t d;

	/* "0" parses: it was refused for its range, not its spelling. */
	if (n > 0 && n < 20 && v[n] == '\0' && parse_duration(v, &d) < 0) {
		parser_error(p, "invalid duration '%s' for %s: add a unit, e.g. %ss", v, k->name, v);
		return;
	}
	bad_value(p, "duration", v, k, expected);
}

static void
parse_duration_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	usec_t d;

	if (parse_duration(v, &d) < 0) {
		bad_duration(p, v, k, "e.g. 250ms, 10s, 1m30s, infinity");
		return;
	}
	*FIELD(obj, k, usec_t) = d;
	set_flag(k, obj);
}

/* A deadline that must end: neither 0 nor infinity. */
static void
parse_finite_duration(struct config_parser *p, const struct config_key *k, const char *v,
    void *obj)
{
	usec_t d;

	if (parse_duration(v, &d) < 0 || d == 0 || d == USEC_INFINITY) {
		bad_duration(p, v, k, "more than 0 and not infinity, e.g. 5s");
		return;
	}
	*FIELD(obj, k, usec_t) = d;
}

/* watchdog: 0 and infinity both switch it off. */
static void
parse_watchdog(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	usec_t d;

	if (parse_duration(v, &d) < 0) {
		bad_duration(p, v, k, "e.g. 10s, 1m, or 0 for off");
		return;
	}
	*FIELD(obj, k, usec_t) = d == 0 ? USEC_INFINITY : d;
}

static void
parse_signal_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	int sig;

	if (parse_signal(v, &sig) < 0) {
		bad_value(p, "signal", v, k, "e.g. SIGTERM, TERM, 15, none");
		return;
	}
	*FIELD(obj, k, int) = sig;
}

static void
parse_boolean_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	bool b;

	if (parse_boolean(v, &b) < 0) {
		bad_value(p, "boolean", v, k, "yes or no");
		return;
	}
	*FIELD(obj, k, bool) = b;
}

static void
parse_unsigned_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	unsigned u;
	char range[64];

	if (parse_unsigned(v, k->min, k->max, &u) < 0) {
		snprintf(range, sizeof(range), "%u..%u", k->min, k->max);
		bad_value(p, "number", v, k, range);
		return;
	}
	*FIELD(obj, k, unsigned) = u;
}

static void
parse_mode_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	mode_t m;

	if (parse_mode(v, &m) < 0) {
		bad_value(p, "mode", v, k, "an octal mode such as 0660");
		return;
	}
	*FIELD(obj, k, mode_t) = m;
	set_flag(k, obj);
}

/* Which part of an address parse_listen() refused, for the message. */
static const char *
listen_problem(const char *v, char *buf, size_t n)
{
	struct listen_address a;
	const char *colon, *host;
	size_t hlen;

	if (strncmp(v, "unix:", 5) == 0) {
		if (v[5] != '/' && v[5] != '@')
			return "the unix: path must be absolute (unix:/run/x.sock) or abstract (unix:@name)";
		return "the unix: path is longer than 107 bytes";
	}
	if (strncmp(v, "systemd:", 8) == 0)
		return "the systemd: name must be 1..255 printable characters, without ':'";
	if (strncmp(v, "tcp://", 6) != 0) {
		const char *sep = strstr(v, "://");

		if (sep) {
			snprintf(buf, n, "unknown scheme '%.*s' (expected tcp://, unix: or systemd:)",
			    (int) MIN((size_t) (sep - v), (size_t) 32), v);
			return buf;
		}
		return "missing 'tcp://' before HOST:PORT (or unix:/PATH, systemd:NAME)";
	}
	host = v + 6;
	if (*host == '[') {
		const char *rb = strchr(host, ']');

		if (!rb)
			return "the IPv6 host has no closing ']'";
		if (rb[1] != ':')
			return "missing ':PORT' after the host";
		colon = rb + 1;
		hlen = (size_t) (rb - host - 1);
		host++;
	} else {
		colon = strrchr(host, ':');
		if (!colon)
			return "missing ':PORT' after the host (e.g. tcp://0.0.0.0:8080)";
		hlen = (size_t) (colon - host);
		if (memchr(host, ':', hlen))
			return "an IPv6 host needs brackets: tcp://[::1]:PORT";
	}
	if (hlen == 0)
		return "missing host before ':PORT' (e.g. 0.0.0.0, 127.0.0.1, [::] or *)";
	/* The host is right if it parses with a port that surely does. */
	snprintf(buf, n, "tcp://%s%.*s%s:1", v[6] == '[' ? "[" : "", (int) MIN(hlen, (size_t) 64),
	    host, v[6] == '[' ? "]" : "");
	if (hlen > 64 || parse_listen(buf, &a) < 0) {
		snprintf(buf, n, "host '%.*s' is not an IP address (only 'localhost' and '*' are "
		    "names)", (int) MIN(hlen, (size_t) 64), host);
		return buf;
	}
	snprintf(buf, n, "port '%.*s' is not a number in 1..65535", 32, colon + 1);
	return buf;
}

/* limit_nofile, limit_nproc, limit_core, limit_memlock. */
static void
parse_rlimit_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	struct rlimit l;
	int r;

	r = parse_rlimit(v, &l);
	if (r == -EDOM) {
		parser_error(p, "invalid limit '%.*s%s' for %s (the soft limit is above the hard "
		    "limit)", QUOTE_MAX, v, strlen(v) > QUOTE_MAX ? "..." : "", k->name);
		return;
	}
	if (r < 0) {
		bad_value(p, "limit", v, k, "SOFT[:HARD], each a number or infinity");
		return;
	}
	*FIELD(obj, k, struct rlimit) = l;
	set_flag(k, obj);
}

static void
parse_int_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj,
    int min, int max)
{
	char range[64];
	int x;

	if (parse_int(v, min, max, &x) < 0) {
		snprintf(range, sizeof(range), "%d..%d", min, max);
		bad_value(p, "number", v, k, range);
		return;
	}
	*FIELD(obj, k, int) = x;
	set_flag(k, obj);
}

static void
parse_nice_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	parse_int_field(p, k, v, obj, -20, 19);
}

static void
parse_oom_score_adjust_field(struct config_parser *p, const struct config_key *k, const char *v,
    void *obj)
{
	parse_int_field(p, k, v, obj, -1000, 1000);
}

static void
parse_listen_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	struct intake_config *i = obj;
	struct listen_address a;

	if (parse_listen(v, &a) < 0) {
		char why[128];

		parser_error(p, "invalid address '%.*s' for %s: %s", QUOTE_MAX, v, k->name,
		    listen_problem(v, why, sizeof(why)));
		return;
	}
	i->listen = a;
	i->has_listen = true;
	i->listen_at = (struct config_location) { p->src->file, p->src->line };
}

static void
parse_ready_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	struct ready_spec r;

	if (p->kind == SECTION_WORKER) {
		struct worker_config *w = obj;

		w->ready_at = (struct config_location) { p->src->file, p->src->line };
		free(w->ready_template);
		w->ready_template = NULL;
		/* Ports per instance: checked for each once instances= is known. */
		if (expand_has_instance(v)) {
			if (strncmp(v, "tcp:", 4) != 0) {
				bad_value(p, "readiness", v, k,
				    "${INSTANCE} only in a port: tcp:PORT");
				return;
			}
			if (!(w->ready_template = strdup(v))) {
				p->oom = true;
				return;
			}
			w->ready = (struct ready_spec) { .kind = READY_TCP };
			return;
		}
	}
	if (parse_ready(v, &r) < 0) {
		bad_value(p, "readiness", v, k, "none, notify, tcp:PORT or delay:DURATION");
		return;
	}
	*FIELD(obj, k, struct ready_spec) = r;
}

static void
parse_start_limit_field(struct config_parser *p, const struct config_key *k, const char *v,
    void *obj)
{
	struct worker_config *w = obj;
	unsigned burst;
	usec_t interval;

	if (parse_start_limit(v, &burst, &interval) < 0) {
		bad_value(p, "start limit", v, k, "COUNT in DURATION, e.g. 5 in 60s");
		return;
	}
	w->start_limit_burst = burst;
	w->start_limit_interval = interval;
}

static void
parse_argv_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	char **argv = NULL;
	int r;

	r = parse_argv(v, &argv);
	if (r == -ENOMEM) {
		p->oom = true;
		return;
	}
	if (r == -ENODATA) {
		parser_error(p, "empty value for %s", k->name);
		return;
	}
	if (r < 0) {
		bad_value(p, "command", v, k, "words with balanced quotes");
		return;
	}
	strv_free(*FIELD(obj, k, char **));
	*FIELD(obj, k, char **) = argv;
}

static void
parse_worker_command(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	struct worker_config *w = obj;
	char **old = w->argv;

	parse_argv_field(p, k, v, obj);
	if (w->argv == old)
		return;
	free(w->command);
	w->command = strdup(v);
	if (!w->command)
		p->oom = true;
}

static void
parse_environment_field(struct config_parser *p, const struct config_key *k, const char *v,
    void *obj)
{
	char **env = NULL;
	int r;

	r = parse_environment(v, &env);
	if (r == -ENOMEM) {
		p->oom = true;
		return;
	}
	if (r < 0) {
		bad_value(p, "environment", v, k, "NAME=VALUE words, quoted as in a command");
		return;
	}
	strv_free(*FIELD(obj, k, char **));
	*FIELD(obj, k, char **) = env;
}

/* environment_file = [-]PATH: read at each start; read here too, so that a malformed file is an
 * error now (a missing one is --check's warning: something may create it before the start). */
static void
parse_environment_file(struct config_parser *p, const struct config_key *k, const char *v,
    void *obj)
{
	struct worker_config *w = obj;
	_cleanup_strv_free_ char **env = NULL;
	struct envfile_error e = {};
	const char *path = envfile_path(v);
	int r;

	if (*path != '/') {
		bad_value(p, "path", v, k, "an absolute path, with a leading '-' if it is optional");
		return;
	}
	r = envfile_read(v, &env, &e);
	if (r == -ENOMEM) {
		p->oom = true;
		return;
	}
	if (r == -EINVAL) {
		parser_error(p, "environment_file %.*s:%u: %s", QUOTE_MAX, path, e.line, e.message);
		return;
	}
	free(w->environment_file);
	if (!(w->environment_file = strdup(v))) {
		p->oom = true;
		return;
	}
	w->environment_file_at = (struct config_location) { p->src->file, p->src->line };
}

/* after, sockets, workers: names, each checked here; what they name is checked later. */
static void
parse_name_list(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	char **l = NULL;
	int r;

	r = parse_word_list(v, &l);
	if (r == -ENOMEM) {
		p->oom = true;
		return;
	}
	if (r < 0) {
		bad_value(p, "list", v, k, "names separated by spaces or commas");
		return;
	}
	for (char **n = l; *n; n++)
		if (!name_is_valid(*n)) {
			parser_error(p, "invalid name '%.*s' in %s (expected letters, digits, "
			    "'_' and '-')", QUOTE_MAX, *n, k->name);
			strv_free(l);
			return;
		}
	strv_free(*FIELD(obj, k, char **));
	*FIELD(obj, k, char **) = l;
	*(struct config_location *) ((char *) obj + k->flag_offset) =
	    (struct config_location) { p->src->file, p->src->line };
}

static void
parse_exit_code_from(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	struct supervisor_config *s = obj;

	s->exit_code_from_at = (struct config_location) { p->src->file, p->src->line };
	parse_name_ref(p, k, v, obj);
}

static void
parse_deadline(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	struct shutdown_config *s = obj;
	usec_t d;

	if (parse_duration(v, &d) < 0) {
		bad_duration(p, v, k, "e.g. 250ms, 10s, 1m30s, infinity");
		return;
	}
	s->deadline = d;
	s->deadline_set = true;
}

static int
push_int(int **a, size_t *n, int v)
{
	int *b;

	b = reallocarray(*a, *n + 1, sizeof(int));
	if (!b)
		return -ENOMEM;
	b[(*n)++] = v;
	*a = b;
	return 0;
}

static void
parse_success_status(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	struct worker_config *w = obj;
	_cleanup_strv_free_ char **l = NULL;
	int *status = NULL, *sig = NULL;
	size_t n_status = 0, n_sig = 0;

	if (parse_word_list(v, &l) < 0) {
		/* It only fails for lack of memory. */
		p->oom = true;
		return;
	}
	for (char **word = l; *word; word++) {
		unsigned u;
		int s, r;

		if (**word >= '0' && **word <= '9') {
			if (parse_unsigned(*word, 0, 255, &u) < 0)
				goto bad;
			r = push_int(&status, &n_status, (int) u);
		} else {
			if (parse_signal(*word, &s) < 0 || s == SIGNAL_NONE)
				goto bad;
			r = push_int(&sig, &n_sig, s);
		}
		if (r < 0) {
			p->oom = true;
			goto fail;
		}
		continue;
bad:
		parser_error(p, "invalid exit status '%.*s' for %s (expected exit codes 0..255 "
		    "and/or signal names)", QUOTE_MAX, *word, k->name);
		goto fail;
	}
	free(w->success_status);
	free(w->success_signal);
	w->success_status = status;
	w->n_success_status = n_status;
	w->success_signal = sig;
	w->n_success_signal = n_sig;
	return;
fail:
	free(status);
	free(sig);
}

/* Enum keys: the message lists every accepted value. */
static void
bad_enum(struct config_parser *p, const struct config_key *k, const char *v,
    const char *const *names, size_t n)
{
	char expected[256] = "";

	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strncat(expected, i + 1 == n ? " or " : ", ",
			    sizeof(expected) - strlen(expected) - 1);
		strncat(expected, names[i], sizeof(expected) - strlen(expected) - 1);
	}
	bad_value(p, "value", v, k, expected);
}

#define DEFINE_ENUM_KEY(type, name, max)                                                           \
	static void parse_##name##_field(struct config_parser *p, const struct config_key *k,      \
	    const char *v, void *obj)                                                              \
	{                                                                                          \
		const char *names[max];                                                            \
		enum type x = name##_from_string(v);                                               \
                                                                                                   \
		if ((int) x >= 0) {                                                                \
			*FIELD(obj, k, enum type) = x;                                             \
			return;                                                                    \
		}                                                                                  \
		for (int i = 0; i < (max); i++)                                                    \
			names[i] = name##_to_string((enum type) i);                                \
		bad_enum(p, k, v, names, (max));                                                   \
	}

DEFINE_ENUM_KEY(log_level, log_level, _LOG_LEVEL_MAX)
DEFINE_ENUM_KEY(log_target, log_target, _LOG_TARGET_MAX)
DEFINE_ENUM_KEY(second_signal, second_signal, _SECOND_SIGNAL_MAX)
DEFINE_ENUM_KEY(when_empty, when_empty, _WHEN_EMPTY_MAX)
DEFINE_ENUM_KEY(intake_type, intake_type, _INTAKE_TYPE_MAX)
DEFINE_ENUM_KEY(restart_policy, restart_policy, _RESTART_POLICY_MAX)
DEFINE_ENUM_KEY(kill_mode, kill_mode, _KILL_MODE_MAX)
DEFINE_ENUM_KEY(signal_target, signal_target, _SIGNAL_TARGET_MAX)
DEFINE_ENUM_KEY(worker_type, worker_type, _WORKER_TYPE_MAX)
DEFINE_ENUM_KEY(resource_type, resource_type, _RESOURCE_TYPE_MAX)

/* "file:PATH" (absolute) into *path, replacing what was there; false after reporting an error. */
static bool
take_file(struct config_parser *p, const struct config_key *k, const char *v, char **path)
{
	const char *f = v + strlen("file:");
	char *s;

	if (*f != '/') {
		bad_value(p, "path", f, k, "file:/ABSOLUTE/PATH");
		return false;
	}
	if (f[strlen(f) - 1] == '/') {
		bad_value(p, "path", f, k, "a file, not a directory");
		return false;
	}
	if (!(s = strdup(f))) {
		p->oom = true;
		return false;
	}
	free(*path);
	*path = s;
	return true;
}

static void
parse_output_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	struct worker_config *w = obj;
	enum output_mode m = output_mode_from_string(v);

	if (strncmp(v, "file:", 5) == 0) {
		if (!take_file(p, k, v, &w->output_file))
			return;
		w->output = OUTPUT_FILE;
		w->output_at = (struct config_location) { p->src->file, p->src->line };
		return;
	}
	if ((int) m < 0 || m == OUTPUT_FILE) {
		bad_value(p, "value", v, k, "inherit, prefix, journal or file:PATH");
		return;
	}
	w->output = m;
	free(w->output_file);
	w->output_file = NULL;
}

static void
parse_stderr_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	struct worker_config *w = obj;
	enum stderr_mode m = stderr_mode_from_string(v);

	if (strncmp(v, "file:", 5) == 0) {
		if (!take_file(p, k, v, &w->stderr_file))
			return;
		w->stderr_mode = STDERR_FILE;
		w->stderr_at = (struct config_location) { p->src->file, p->src->line };
		return;
	}
	if (m != STDERR_STDOUT && m != STDERR_SEPARATE) {
		bad_value(p, "value", v, k, "stdout, separate or file:PATH");
		return;
	}
	w->stderr_mode = m;
	free(w->stderr_file);
	w->stderr_file = NULL;
}

static void
parse_size_field(struct config_parser *p, const struct config_key *k, const char *v, void *obj)
{
	uint64_t n;

	if (parse_size(v, &n) < 0) {
		bad_value(p, "size", v, k, "bytes, e.g. 65536, 512K, 10M, 1G, or 0 for no limit");
		return;
	}
	*FIELD(obj, k, uint64_t) = n;
}

/* The key tables. */

#define SUP(key, fn, field, ...)                                                                   \
	{ .section = SECTION_SUPERVISOR, .name = key, .parse = fn,                         \
	    .offset = offsetof(struct supervisor_config, field), __VA_ARGS__ }
#define SHU(key, fn, field, ...)                                                                   \
	{ .section = SECTION_SHUTDOWN, .name = key, .parse = fn,                           \
	    .offset = offsetof(struct shutdown_config, field), __VA_ARGS__ }
#define INT(key, fn, field, ...)                                                                   \
	{ .section = SECTION_INTAKE, .name = key, .parse = fn,                             \
	    .offset = offsetof(struct intake_config, field), __VA_ARGS__ }
#define WRK(key, fn, field, ...)                                                                   \
	{ .section = SECTION_WORKER, .name = key, .parse = fn,                             \
	    .offset = offsetof(struct worker_config, field), __VA_ARGS__ }
#define RES(key, fn, field, ...)                                                                   \
	{ .section = SECTION_RESOURCE, .name = key, .parse = fn,                           \
	    .offset = offsetof(struct resource_config, field), __VA_ARGS__ }
#define AT(type, field) .flag_offset = offsetof(type, field)
#define HAS(type, field) .flag_offset = offsetof(type, field), .has_flag = true
#define RANGE(a, b) .min = (a), .max = (b)
#define TYPES(...) .types = (__VA_ARGS__)
#define T(x) (1U << (x))

#define SOCKETISH (T(INTAKE_SOCKET) | T(INTAKE_READINESS))

const struct config_key config_keys[] = {
	SUP("name", parse_string, name),
	SUP("log_level", parse_log_level_field, log_level),
	SUP("log_target", parse_log_target_field, log_target),
	SUP("pidfile", parse_path_opt, pidfile),
	SUP("report", parse_path_opt, report),
	SUP("control_socket", parse_control_socket, control_socket),
	SUP("control_group", parse_string_opt, control_group),
	SUP("subreaper", parse_boolean_field, subreaper),
	SUP("debug", parse_boolean_field, debug),
	SUP("slow_step", parse_duration_field, slow_step),
	SUP("exit_code_from", parse_exit_code_from, exit_code_from),
	SUP("when_empty", parse_when_empty_field, when_empty),

	SHU("intake_timeout", parse_duration_field, intake_timeout),
	SHU("drain_delay", parse_duration_field, drain_delay),
	SHU("close_timeout", parse_duration_field, close_timeout),
	SHU("deadline", parse_deadline, deadline),
	SHU("second_signal", parse_second_signal_field, second_signal),
	SHU("second_signal_window", parse_duration_field, second_signal_window),
	SHU("stop_timeout", parse_duration_field, defaults.stop_timeout),
	SHU("join_timeout", parse_duration_field, defaults.join_timeout),
	SHU("kill_timeout", parse_duration_field, defaults.kill_timeout),
	SHU("intake_signal", parse_signal_field, defaults.intake_signal),
	SHU("stop_signal", parse_signal_field, defaults.stop_signal),
	SHU("cancel_signal", parse_signal_field, defaults.cancel_signal),
	SHU("kill_signal", parse_signal_field, defaults.kill_signal),
	SHU("kill_mode", parse_kill_mode_field, defaults.kill_mode),
	SHU("stop_fd", parse_boolean_field, defaults.stop_fd),
	SHU("signal_target", parse_signal_target_field, defaults.signal_target),

	INT("type", parse_intake_type_field, type),
	INT("listen", parse_listen_field, listen, TYPES(SOCKETISH)),
	INT("backlog", parse_unsigned_field, backlog, RANGE(1, 65535), TYPES(SOCKETISH)),
	INT("reuseport", parse_boolean_field, reuseport, TYPES(SOCKETISH)),
	INT("mode", parse_mode_field, mode, HAS(struct intake_config, has_mode), TYPES(SOCKETISH)),
	INT("owner", parse_string_opt, owner, TYPES(SOCKETISH)),
	INT("group", parse_string_opt, group, TYPES(SOCKETISH)),
	INT("max_connections", parse_unsigned_field, max_connections, RANGE(1, 1000000),
	    TYPES(T(INTAKE_READINESS))),
	INT("request_timeout", parse_finite_duration, request_timeout, TYPES(T(INTAKE_READINESS))),
	INT("command", parse_argv_field, argv, TYPES(T(INTAKE_EXEC))),
	INT("signal", parse_signal_field, signal, TYPES(T(INTAKE_SIGNAL))),
	INT("workers", parse_name_list, workers, AT(struct intake_config, workers_at),
	    TYPES(T(INTAKE_SIGNAL))),

	WRK("command", parse_worker_command, argv),
	WRK("instances", parse_unsigned_field, instances, RANGE(1, 1024)),
	WRK("type", parse_worker_type_field, type),
	WRK("autostart", parse_boolean_field, autostart),
	WRK("after", parse_name_list, after, AT(struct worker_config, after_at)),
	WRK("sockets", parse_name_list, sockets, AT(struct worker_config, sockets_at)),
	WRK("ready", parse_ready_field, ready),
	WRK("start_timeout", parse_duration_field, start_timeout),
	WRK("restart", parse_restart_policy_field, restart),
	WRK("restart_delay", parse_duration_field, restart_delay),
	WRK("restart_delay_max", parse_duration_field, restart_delay_max),
	WRK("start_limit", parse_start_limit_field, start_limit_burst),
	WRK("stop_timeout", parse_duration_field, shutdown.stop_timeout),
	WRK("join_timeout", parse_duration_field, shutdown.join_timeout),
	WRK("kill_timeout", parse_duration_field, shutdown.kill_timeout),
	WRK("intake_signal", parse_signal_field, shutdown.intake_signal),
	WRK("stop_signal", parse_signal_field, shutdown.stop_signal),
	WRK("cancel_signal", parse_signal_field, shutdown.cancel_signal),
	WRK("kill_signal", parse_signal_field, shutdown.kill_signal),
	WRK("kill_mode", parse_kill_mode_field, shutdown.kill_mode),
	WRK("stop_fd", parse_boolean_field, shutdown.stop_fd),
	WRK("signal_target", parse_signal_target_field, shutdown.signal_target),
	WRK("user", parse_string_opt, user),
	WRK("group", parse_string_opt, group),
	WRK("directory", parse_path_opt, directory),
	WRK("environment", parse_environment_field, environment),
	WRK("environment_file", parse_environment_file, environment_file),
	WRK("umask", parse_mode_field, umask, HAS(struct worker_config, has_umask)),
	WRK("output", parse_output_field, output),
	WRK("stderr", parse_stderr_field, stderr_mode),
	WRK("output_max_size", parse_size_field, output_max_size),
	WRK("output_backups", parse_unsigned_field, output_backups, RANGE(0, 1000)),
	WRK("critical", parse_boolean_field, critical),
	WRK("success_status", parse_success_status, success_status),
	WRK("watchdog", parse_watchdog, watchdog),
	WRK("limit_nofile", parse_rlimit_field, limits.rlimit[PROCESS_RLIMIT_NOFILE],
	    HAS(struct worker_config, limits.has_rlimit[PROCESS_RLIMIT_NOFILE])),
	WRK("limit_nproc", parse_rlimit_field, limits.rlimit[PROCESS_RLIMIT_NPROC],
	    HAS(struct worker_config, limits.has_rlimit[PROCESS_RLIMIT_NPROC])),
	WRK("limit_core", parse_rlimit_field, limits.rlimit[PROCESS_RLIMIT_CORE],
	    HAS(struct worker_config, limits.has_rlimit[PROCESS_RLIMIT_CORE])),
	WRK("limit_memlock", parse_rlimit_field, limits.rlimit[PROCESS_RLIMIT_MEMLOCK],
	    HAS(struct worker_config, limits.has_rlimit[PROCESS_RLIMIT_MEMLOCK])),
	WRK("nice", parse_nice_field, limits.nice, HAS(struct worker_config, limits.has_nice)),
	WRK("oom_score_adjust", parse_oom_score_adjust_field, limits.oom_score_adjust,
	    HAS(struct worker_config, limits.has_oom_score_adjust)),

	WRK("on_exit", parse_argv_field, on_exit),
	WRK("hook_timeout", parse_finite_duration, hook_timeout),

	RES("type", parse_resource_type_field, type),
	RES("path", parse_path, path, TYPES(T(RESOURCE_FILE))),
	RES("command", parse_argv_field, argv, TYPES(T(RESOURCE_EXEC))),
	RES("close_timeout", parse_duration_field, close_timeout),
};

/* The [shutdown] keys a worker inherits unless it sets them itself. */
const struct inherited_key config_inherited_keys[] = {
#define INH(f) { #f, offsetof(struct shutdown_settings, f), \
	    sizeof(((struct shutdown_settings *) 0)->f) }
	INH(stop_timeout), INH(join_timeout), INH(kill_timeout), INH(intake_signal),
	INH(stop_signal), INH(cancel_signal), INH(kill_signal), INH(kill_mode), INH(stop_fd),
	INH(signal_target),
#undef INH
};

const size_t config_keys_n = ELEMENTSOF(config_keys);
const size_t config_inherited_keys_n = ELEMENTSOF(config_inherited_keys);

const struct config_key *
config_key_find(enum section_kind kind, const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
		if (config_keys[i].section == kind && streq(config_keys[i].name, name))
			return &config_keys[i];
	return NULL;
}
