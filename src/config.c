/* SPDX-License-Identifier: MIT */
/*
 * The configuration API, the key tables and the handler inih calls for every "key = value".
 * Reading files is config-reader.c's job, cross references are config-validate.c's.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "config.h"
#include "expand.h"
#include "parse.h"
#include "util.h"

static const char *const section_kind_table[_SECTION_KIND_MAX] = {
	[SECTION_NONE] = "",
	[SECTION_SUPERVISOR] = "supervisor",
	[SECTION_SHUTDOWN] = "shutdown",
	[SECTION_INTAKE] = "intake",
	[SECTION_WORKER] = "worker",
	[SECTION_RESOURCE] = "resource",
	[SECTION_IGNORED] = "",
};

const char *
section_kind_to_string(enum section_kind k)
{
	return section_kind_table[k];
}

static bool
section_kind_has_name(enum section_kind k)
{
	return k == SECTION_INTAKE || k == SECTION_WORKER || k == SECTION_RESOURCE;
}

/* Errors. */

static void
pending_add(struct config_parser *p, const char *file, unsigned line, size_t ordinal, char *msg)
{
	struct pending_error *n;
	char *f = NULL;

	if (!msg) {
		p->oom = true;
		return;
	}
	if (file) {
		f = strdup(file);
		if (!f)
			goto oom;
	}
	n = reallocarray(p->errors, p->n_errors + 1, sizeof(*n));
	if (!n)
		goto oom;
	p->errors = n;
	p->errors[p->n_errors++] = (struct pending_error) {
		.e = { .file = f, .line = line, .message = msg },
		.ordinal = ordinal,
	};
	return;
oom:
	free(f);
	free(msg);
	p->oom = true;
}

void
parser_error_at(struct config_parser *p, const char *file, unsigned line, size_t ordinal,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	pending_add(p, file, line, ordinal, msg);
}

void
parser_error(struct config_parser *p, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	pending_add(p, p->src ? p->src->file : NULL, p->src ? p->src->line : 0, p->ordinal, msg);
}

static int
pending_compare(const void *a, const void *b)
{
	const struct pending_error *x = a, *y = b;

	/* Same ordinal: keep the order they were found in (the array index breaks the tie). */
	if (x->ordinal != y->ordinal)
		return x->ordinal < y->ordinal ? -1 : 1;
	return x < y ? -1 : x > y;
}

void
config_errors_clear(struct config_errors *errors)
{
	if (!errors)
		return;
	for (size_t i = 0; i < errors->n; i++) {
		free(errors->items[i].file);
		free(errors->items[i].message);
	}
	free(errors->items);
	errors->items = NULL;
	errors->n = 0;
}

void
config_errors_print(const struct config_errors *errors, FILE *f)
{
	/* Messages quote the input (names, values, the file's own path): escaped, so that no byte
	 * of it reaches the terminal as a control. */
	for (size_t i = 0; i < errors->n; i++) {
		const struct config_error *e = &errors->items[i];

		if (e->file) {
			(void) escape_fputs(e->file, 0, f);
			if (e->line > 0)
				fprintf(f, ":%u", e->line);
			fputs(": ", f);
		}
		(void) escape_fputs(e->message, 0, f);
		fputc('\n', f);
	}
}

/* Construction and destruction. */

static void
shutdown_settings_default(struct shutdown_settings *s)
{
	*s = (struct shutdown_settings) {
		.stop_timeout = 10 * USEC_PER_SEC,
		.join_timeout = 5 * USEC_PER_SEC,
		.kill_timeout = 5 * USEC_PER_SEC,
		.intake_signal = SIGNAL_NONE,
		.stop_signal = 15,   /* SIGTERM */
		.cancel_signal = 2,  /* SIGINT */
		.kill_signal = 9,    /* SIGKILL */
		.kill_mode = KILL_MODE_GROUP,
		.signal_target = SIGNAL_TARGET_MAIN,
		.stop_fd = false,
	};
}

struct config *
config_new(void)
{
	struct config *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->supervisor = (struct supervisor_config) {
		.log_level = LOG_LEVEL_INFO,
		.log_target = LOG_TARGET_AUTO,
		.subreaper = true,
		.debug = false,
		.slow_step = 100 * USEC_PER_MSEC,
		.when_empty = WHEN_EMPTY_SHUTDOWN,
	};
	c->supervisor.name = strdup("graced");
	if (!c->supervisor.name)
		return config_free(c);
	c->shutdown = (struct shutdown_config) {
		.intake_timeout = 5 * USEC_PER_SEC,
		.drain_delay = 0,
		.close_timeout = 5 * USEC_PER_SEC,
		.deadline = USEC_INFINITY,
		.deadline_set = false,
		.second_signal = SECOND_SIGNAL_ESCALATE,
		.second_signal_window = 200 * USEC_PER_MSEC,
	};
	shutdown_settings_default(&c->shutdown.defaults);
	return c;
}

static struct worker_config *
worker_config_free(struct worker_config *w)
{
	if (!w)
		return NULL;
	free(w->name);
	strv_free(w->argv);
	free(w->command);
	strv_free(w->after);
	strv_free(w->sockets);
	free(w->user);
	free(w->group);
	free(w->directory);
	strv_free(w->environment);
	free(w->output_file);
	free(w->stderr_file);
	free(w->environment_file);
	free(w->ready_template);
	free(w->success_status);
	free(w->success_signal);
	strv_free(w->on_exit);
	free(w);
	return NULL;
}

static struct intake_config *
intake_config_free(struct intake_config *i)
{
	if (!i)
		return NULL;
	free(i->name);
	free(i->owner);
	free(i->group);
	strv_free(i->argv);
	strv_free(i->workers);
	free(i);
	return NULL;
}

static struct resource_config *
resource_config_free(struct resource_config *r)
{
	if (!r)
		return NULL;
	free(r->name);
	free(r->path);
	strv_free(r->argv);
	free(r);
	return NULL;
}

struct config *
config_free(struct config *c)
{
	if (!c)
		return NULL;
	free(c->supervisor.name);
	free(c->supervisor.pidfile);
	free(c->supervisor.report);
	free(c->supervisor.control_socket);
	free(c->supervisor.control_group);
	free(c->supervisor.exit_code_from);
	for (size_t i = 0; i < c->n_intakes; i++)
		intake_config_free(c->intakes[i]);
	free(c->intakes);
	for (size_t i = 0; i < c->n_workers; i++)
		worker_config_free(c->workers[i]);
	free(c->workers);
	name_index_done(&c->worker_index);
	for (size_t i = 0; i < c->n_resources; i++)
		resource_config_free(c->resources[i]);
	free(c->resources);
	strv_free(c->files);
	free(c->key_locations);
	free(c);
	return NULL;
}

/* Appends obj to *array (of n pointers); the array owns it only on success. */
static int
array_push(void *array, size_t *n, void *obj)
{
	void ***a = array;
	void **b;

	b = reallocarray(*a, *n + 1, sizeof(void *));
	if (!b)
		return -ENOMEM;
	b[(*n)++] = obj;
	*a = b;
	return 0;
}

struct worker_config *
config_add_worker(struct config *c, const char *name)
{
	struct worker_config *w;

	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->name = strdup(name);
	if (!w->name)
		return worker_config_free(w);
	w->instances = 1;
	w->type = WORKER_LONGRUN;
	w->autostart = true;
	w->ready.kind = READY_NONE;
	w->start_timeout = 30 * USEC_PER_SEC;
	w->restart = RESTART_NO;
	w->restart_delay = 1 * USEC_PER_SEC;
	w->restart_delay_max = 30 * USEC_PER_SEC;
	w->start_limit_burst = 5;
	w->start_limit_interval = 60 * USEC_PER_SEC;
	w->shutdown = c->shutdown.defaults;
	w->output = OUTPUT_INHERIT;
	w->stderr_mode = STDERR_AUTO;
	w->output_max_size = 10 * 1024 * 1024;
	w->output_backups = 5;
	w->critical = false;
	w->watchdog = USEC_INFINITY;
	w->hook_timeout = 10 * USEC_PER_SEC;
	if (array_push(&c->workers, &c->n_workers, w) < 0)
		return worker_config_free(w);
	if (name_index_put(&c->worker_index, w->name, c->n_workers - 1) < 0) {
		c->n_workers--;
		return worker_config_free(w);
	}
	return w;
}

static struct intake_config *
config_add_intake(struct config *c, const char *name)
{
	struct intake_config *i;

	i = calloc(1, sizeof(*i));
	if (!i)
		return NULL;
	i->name = strdup(name);
	if (!i->name)
		return intake_config_free(i);
	i->type = INTAKE_SOCKET;
	i->backlog = 511;
	i->max_connections = 256;
	i->request_timeout = 5 * USEC_PER_SEC;
	i->signal = SIGNAL_NONE;
	if (array_push(&c->intakes, &c->n_intakes, i) < 0)
		return intake_config_free(i);
	return i;
}

static struct resource_config *
config_add_resource(struct config *c, const char *name)
{
	struct resource_config *r;

	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->name = strdup(name);
	if (!r->name)
		return resource_config_free(r);
	r->type = RESOURCE_FILE;
	r->close_timeout = c->shutdown.close_timeout;
	if (array_push(&c->resources, &c->n_resources, r) < 0)
		return resource_config_free(r);
	return r;
}

ssize_t
config_worker_index(const struct config *c, const char *name)
{
	/* A hash lookup: validation and the plan resolve every after= edge through here. */
	return name_index_get(&c->worker_index, name);
}

struct config_location
config_key_location(const struct config *c, const void *obj, const char *key)
{
	for (size_t i = c->n_key_locations; i-- > 0;) {
		const struct config_key_location *l = &c->key_locations[i];

		if (l->obj == obj && streq(l->key, key))
			return l->at;
	}
	return (struct config_location) {};
}

const struct worker_config *
config_find_worker(const struct config *c, const char *name)
{
	ssize_t i = config_worker_index(c, name);

	return i >= 0 ? c->workers[i] : NULL;
}

const struct intake_config *
config_find_intake(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_intakes; i++)
		if (streq(c->intakes[i]->name, name))
			return c->intakes[i];
	return NULL;
}

/* Sections. */

static void
section_rec_free(struct section_rec *s)
{
	if (!s)
		return;
	free(s->title);
	free(s->keys);
	free(s);
}

static enum section_kind
section_kind_from_string(const char *s, size_t n)
{
	for (int k = SECTION_SUPERVISOR; k <= SECTION_RESOURCE; k++)
		if (strlen(section_kind_table[k]) == n && strncmp(section_kind_table[k], s, n) == 0)
			return (enum section_kind) k;
	return SECTION_NONE;
}

/* supervisord's words, for files being migrated: what graced calls the same thing. */
static const struct {
	const char *theirs;
	const char *ours;
} supervisord_keys[] = {
	{ "numprocs", "instances (numbered from 0: ${INSTANCE}, GRACED_INSTANCE)" },
	{ "numprocs_start", "no equivalent: instances are numbered from 0" },
	{ "process_name", "no equivalent: instances are named NAME.0, NAME.1, ..." },
	{ "stopwaitsecs", "stop_timeout, with a unit (e.g. 10s)" },
	{ "stopsignal", "stop_signal" },
	{ "stopasgroup", "signal_target = group" },
	{ "killasgroup", "kill_mode = group" },
	{ "autorestart", "restart (no, on-failure or always)" },
	{ "startsecs", "ready = delay:DURATION (e.g. delay:1s)" },
	{ "startretries", "start_limit (e.g. 3 in 60s)" },
	{ "exitcodes", "success_status (0 is always a success)" },
	{ "priority", "after (start order by dependencies)" },
	{ "redirect_stderr", "output (inherit or prefix: both streams go the same way)" },
	{ "stdout_logfile", "output" },
	{ "stderr_logfile", "output" },
	{ "stdout_logfile_maxbytes", "output" },
	{ "stdout_logfile_backups", "output" },
	{ "stdout_events_enabled", "no equivalent" },
	{ "serverurl", "no equivalent: workers need no supervisor URL" },
};

static const char *
supervisord_key(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(supervisord_keys); i++)
		if (streq(supervisord_keys[i].theirs, name))
			return supervisord_keys[i].ours;
	return NULL;
}

/* [program:x], [group:x], ...: a supervisord.conf section, with what graced has instead. */
static bool
supervisord_section(struct config_parser *p, const char *title, const char *kind, const char *name)
{
	static const struct {
		const char *theirs;
		const char *ours;
	} sections[] = {
		{ "program", "[worker:%s]" },
		{ "fcgi-program", "[worker:%s] with sockets = and an [intake:NAME]" },
		{ "group", "no equivalent: name the workers in after= instead of [group:%s]" },
		{ "supervisord", "[supervisor]" },
		{ "include", "include = at the top of the file" },
		{ "unix_http_server", "control_socket = in [supervisor]" },
		{ "inet_http_server", "control_socket = in [supervisor]" },
		{ "supervisorctl", "gracectl (no section needed)" },
		{ "rpcinterface", "no equivalent: gracectl talks to control_socket" },
		{ "eventlistener", "no equivalent yet" },
	};

	for (size_t i = 0; i < ELEMENTSOF(sections); i++) {
		char ours[128];

		if (!streq(sections[i].theirs, kind))
			continue;
		snprintf(ours, sizeof(ours), sections[i].ours, name ? name : "NAME");
		parser_error(p, "unknown section [%.*s]: that is supervisord's; %s%s (graced "
		    "--import supervisord FILE converts a whole file)", QUOTE_MAX, title,
		    strncmp(ours, "no equivalent", 13) == 0 ? "graced has " : "graced calls this ", ours);
		return true;
	}
	return false;
}

static void
unknown_section(struct config_parser *p, const char *title, const char *kind, const char *name)
{
	static const char *const plain[] = { "supervisor", "shutdown" };
	static const char *const named[] = { "intake", "worker", "resource" };
	const char *s;

	if (supervisord_section(p, title, kind, name))
		return;
	s = name ? suggest_closest(kind, named, ELEMENTSOF(named))
		 : suggest_closest(kind, plain, ELEMENTSOF(plain));
	if (s && name)
		parser_error(p, "unknown section [%.*s]; did you mean [%s:%.*s]?", QUOTE_MAX, title,
		    s, QUOTE_MAX, name);
	else if (s)
		parser_error(p, "unknown section [%.*s]; did you mean [%s]?", QUOTE_MAX, title, s);
	else
		parser_error(p, "unknown section [%.*s] (expected [supervisor], [shutdown], "
		    "[intake:NAME], [worker:NAME] or [resource:NAME])", QUOTE_MAX, title);
}

/* The title names the kind, so a lookup by title alone finds the section of that kind. */
static const struct section_rec *
section_find(const struct config_parser *p, const char *title)
{
	ssize_t i = name_index_get(&p->section_index, title);

	return i >= 0 ? p->sections[i] : NULL;
}

/* Called by the reader at each "[title]" line, so that a section without keys is seen too. */
void
parser_begin_section(struct config_parser *p, const char *title)
{
	_cleanup_free_ char *kind_s = NULL;
	const struct section_rec *dup;
	struct section_rec *s;
	const char *colon, *name = NULL;
	enum section_kind kind;
	void *obj = NULL;

	p->kind = SECTION_IGNORED;
	p->section = NULL;

	colon = strchr(title, ':');
	kind_s = strndup(title, colon ? (size_t) (colon - title) : strlen(title));
	if (!kind_s) {
		p->oom = true;
		return;
	}
	if (colon)
		name = colon + 1;
	kind = section_kind_from_string(kind_s, strlen(kind_s));
	if (kind == SECTION_NONE) {
		unknown_section(p, title, kind_s, name);
		return;
	}
	if (section_kind_has_name(kind) && !name) {
		parser_error(p, "section [%s] needs a name: [%s:NAME]", kind_s, kind_s);
		return;
	}
	if (!section_kind_has_name(kind) && name) {
		parser_error(p, "section [%s] takes no name: [%.*s]", kind_s, QUOTE_MAX, title);
		return;
	}
	if (name && !name_is_valid(name)) {
		parser_error(p, "invalid name '%.*s' in [%.*s] (expected up to 64 letters, digits, "
		    "'_' and '-', not starting with '-')", QUOTE_MAX, name, QUOTE_MAX, title);
		return;
	}
	dup = section_find(p, title);
	if (dup) {
		parser_error(p, "duplicate section [%s] (first at %s:%u)", title, dup->at.file,
		    dup->at.line);
		return;
	}

	switch (kind) {
	case SECTION_SUPERVISOR:
		obj = &p->config->supervisor;
		break;
	case SECTION_SHUTDOWN:
		obj = &p->config->shutdown;
		break;
	case SECTION_INTAKE:
		obj = config_add_intake(p->config, name);
		break;
	case SECTION_WORKER:
		obj = config_add_worker(p->config, name);
		break;
	case SECTION_RESOURCE:
		obj = config_add_resource(p->config, name);
		break;
	default:
		break;
	}
	if (!obj) {
		p->oom = true;
		return;
	}
	if (kind == SECTION_INTAKE)
		((struct intake_config *) obj)->at = (struct config_location) { p->src->file,
		    p->src->line };
	else if (kind == SECTION_WORKER)
		((struct worker_config *) obj)->at = (struct config_location) { p->src->file,
		    p->src->line };
	else if (kind == SECTION_RESOURCE)
		((struct resource_config *) obj)->at = (struct config_location) { p->src->file,
		    p->src->line };

	s = calloc(1, sizeof(*s));
	if (!s || !(s->title = strdup(title)) ||
	    array_push(&p->sections, &p->n_sections, s) < 0) {
		section_rec_free(s);
		p->oom = true;
		return;
	}
	if (name_index_put(&p->section_index, s->title, p->n_sections - 1) < 0)
		p->oom = true;
	s->kind = kind;
	s->obj = obj;
	s->at = (struct config_location) { p->src->file, p->src->line };
	s->ordinal = p->ordinal;
	p->kind = kind;
	p->section = s;
}

static const struct key_rec *
section_key(const struct section_rec *s, const char *name)
{
	for (size_t i = 0; i < s->n_keys; i++)
		if (streq(s->keys[i].key->name, name))
			return &s->keys[i];
	return NULL;
}

/* "key 'listen' does not belong in [worker:web]; it is a key of [intake:NAME]" */
static bool
misplaced_key(struct config_parser *p, const char *name, const char *title)
{
	char where[128] = "";
	unsigned n = 0, total = 0, seen = 0;

	for (size_t i = 0; i < config_keys_n; i++)
		if (streq(config_keys[i].name, name))
			seen |= 1U << config_keys[i].section;
	for (int k = SECTION_SUPERVISOR; k <= SECTION_RESOURCE; k++)
		if (seen & (1U << k))
			total++;
	if (total == 0)
		return false;
	for (int k = SECTION_SUPERVISOR; k <= SECTION_RESOURCE; k++) {
		char one[32];

		if (!(seen & (1U << k)))
			continue;
		snprintf(one, sizeof(one), "%s[%s%s]",
		    n == 0 ? "" : n + 1 == total ? " or " : ", ", section_kind_table[k],
		    section_kind_has_name((enum section_kind) k) ? ":NAME" : "");
		strncat(where, one, sizeof(where) - strlen(where) - 1);
		n++;
	}
	parser_error(p, "key '%s' does not belong in [%s]; it is a key of %s", name, title, where);
	return true;
}

static void
unknown_key(struct config_parser *p, const char *name)
{
	const char *candidates[CONFIG_KEYS_MAX];
	const char *title = p->section->title;
	size_t n = 0;
	const char *s;

	if (misplaced_key(p, name, title))
		return;
	if (p->kind == SECTION_WORKER && (s = supervisord_key(name))) {
		parser_error(p, "unknown key '%s' in [%s]: that is supervisord's; %s%s", name, title,
		    strncmp(s, "no equivalent", 13) == 0 ? "graced has " : "graced calls this ", s);
		return;
	}
	for (size_t i = 0; i < config_keys_n; i++)
		if (config_keys[i].section == p->kind && n < CONFIG_KEYS_MAX)
			candidates[n++] = config_keys[i].name;
	s = suggest_closest(name, candidates, n);
	if (s)
		parser_error(p, "unknown key '%.*s' in [%s]; did you mean '%s'?", QUOTE_MAX, name,
		    title, s);
	else
		parser_error(p, "unknown key '%.*s' in [%s]", QUOTE_MAX, name, title);
}

/* The keys in which ${INSTANCE} stands for the instance number (expand.h). */
static bool
instance_key(enum section_kind kind, const char *name)
{
	return kind == SECTION_WORKER && (streq(name, "command") || streq(name, "environment") ||
	    streq(name, "directory") || streq(name, "ready"));
}

/*
 * Expands ${VAR}; NULL (with the error reported) when that fails. A value of a key that takes
 * ${INSTANCE} and has it stays a template (${INSTANCE} and "$$" kept, expand.h), and *ret_template
 * says so; any other value is final.
 */
static char *
expand_value(struct config_parser *p, const char *name, const char *value, bool *ret_template)
{
	_cleanup_free_ char *missing = NULL;
	bool keep = expand_has_instance(value) && instance_key(p->kind, name);
	char *v = NULL;
	int r;

	if (ret_template)
		*ret_template = keep;
	if (!keep && expand_has_instance(value)) {
		parser_error(p, "${INSTANCE} does not expand in %s; it does only in command, "
		    "environment, directory and ready of a [worker:NAME]", name);
		return NULL;
	}
	r = expand_env_keeping(value, keep ? "INSTANCE" : NULL, &v, &missing);
	if (r == -ENOMEM)
		p->oom = true;
	else if (r == -ENXIO)
		parser_error(p, "environment variable '%s' is not set, in the value of %s (write "
		    "${%s:-DEFAULT} for a default)", strempty(missing), name, strempty(missing));
	else if (r < 0)
		parser_error(p, "invalid ${...} in the value of %s: '%.*s'", name, QUOTE_MAX,
		    value);
	return r < 0 ? NULL : v;
}

/* The inih handler's work, for "name = value" in the current section. */
void
parser_handle_key(struct config_parser *p, const char *name, const char *value)
{
	_cleanup_free_ char *v = NULL;
	const struct config_key *k;
	const struct key_rec *first;
	struct key_rec *keys;
	bool template = false;

	if (p->kind == SECTION_IGNORED)
		return;

	if (streq(name, "include")) {
		if (p->kind != SECTION_NONE && p->kind != SECTION_SUPERVISOR) {
			parser_error(p, "include is not allowed in [%s] (only at the top of a "
			    "file, before any section, or in [supervisor])", p->section->title);
			return;
		}
		v = expand_value(p, name, value, NULL);
		if (v)
			config_include(p, v);
		return;
	}
	if (p->kind == SECTION_NONE) {
		parser_error(p, "key '%.*s' outside of any section (only include = is allowed "
		    "before the first section)", QUOTE_MAX, name);
		return;
	}

	k = config_key_find(p->kind, name);
	if (!k) {
		unknown_key(p, name);
		return;
	}
	first = section_key(p->section, name);
	if (first) {
		parser_error(p, "duplicate key '%s' in [%s] (first set at %s:%u)", name,
		    p->section->title, first->at.file, first->at.line);
		return;
	}
	keys = reallocarray(p->section->keys, p->section->n_keys + 1, sizeof(*keys));
	if (!keys) {
		p->oom = true;
		return;
	}
	p->section->keys = keys;
	keys[p->section->n_keys++] = (struct key_rec) {
		.key = k,
		.at = { p->src->file, p->src->line },
		.ordinal = p->ordinal,
	};
	{
		struct config *c = p->config;
		struct config_key_location *l;

		l = reallocarray(c->key_locations, c->n_key_locations + 1, sizeof(*l));
		if (!l) {
			p->oom = true;
			return;
		}
		c->key_locations = l;
		l[c->n_key_locations++] = (struct config_key_location) {
			.obj = p->section->obj,
			.section = section_kind_to_string(p->kind),
			.key = k->name,
			.at = { p->src->file, p->src->line },
		};
	}

	v = expand_value(p, name, value, &template);
	if (!v)
		return;
	k->parse(p, k, v, p->section->obj);
	if (p->kind == SECTION_WORKER) {
		struct worker_config *w = p->section->obj;
		unsigned bit = streq(name, "command")	  ? INSTANCE_IN_COMMAND :
		    streq(name, "environment")		  ? INSTANCE_IN_ENVIRONMENT :
		    streq(name, "directory")		  ? INSTANCE_IN_DIRECTORY :
							    0;

		w->instance_templates = template ? w->instance_templates | bit :
						   w->instance_templates & ~bit;
	}
}

/* After reading: inheritance, keys that do not apply, missing keys. */

static void
resolve_inheritance(struct config_parser *p)
{
	for (size_t i = 0; i < p->n_sections; i++) {
		struct section_rec *s = p->sections[i];

		if (s->kind == SECTION_WORKER) {
			struct worker_config *w = s->obj;

			for (size_t j = 0; j < config_inherited_keys_n; j++) {
				const struct inherited_key *ik = &config_inherited_keys[j];

				if (!section_key(s, ik->name))
					memcpy((char *) &w->shutdown + ik->offset,
					    (char *) &p->config->shutdown.defaults + ik->offset,
					    ik->size);
			}
		} else if (s->kind == SECTION_RESOURCE) {
			struct resource_config *r = s->obj;

			if (!section_key(s, "close_timeout"))
				r->close_timeout = p->config->shutdown.close_timeout;
		}
	}
}

/* mode, owner and group are those of a socket file: a unix: address graced creates. */
static void
check_unix_only(struct config_parser *p, const struct section_rec *s, const struct key_rec *kr)
{
	const struct intake_config *in = s->obj;
	const char *name = kr->key->name;

	if (s->kind != SECTION_INTAKE || !in->has_listen || in->listen.kind == LISTEN_UNIX)
		return;
	if (streq(name, "mode") || streq(name, "owner") || streq(name, "group"))
		parser_error_at(p, kr->at.file, kr->at.line, kr->ordinal,
		    "key '%s' applies only to a unix: address in [%s]", name, s->title);
}

/* ready = tcp:...${INSTANCE}...: a valid port for every instance. */
static void
check_ready_template(struct config_parser *p, const struct section_rec *s)
{
	const struct worker_config *w = s->obj;

	if (s->kind != SECTION_WORKER || !w->ready_template)
		return;
	for (unsigned n = 0; n < w->instances; n++) {
		_cleanup_free_ char *v = NULL;
		uint16_t port;

		if (expand_ready_port(w->ready_template, n, &port) == 0)
			continue;
		(void) expand_instance(w->ready_template, n, &v);
		parser_error_at(p, w->ready_at.file, w->ready_at.line, s->ordinal,
		    "ready = %.*s gives '%.*s' for instance %u of [%s] (instances = %u): the port "
		    "must be 1..65535", QUOTE_MAX, w->ready_template, QUOTE_MAX, strempty(v), n,
		    s->title, w->instances);
		return;
	}
}

static void
check_sections(struct config_parser *p)
{
	for (size_t i = 0; i < p->n_sections; i++) {
		struct section_rec *s = p->sections[i];
		const char *missing;
		int type = -1;

		if (s->kind == SECTION_INTAKE)
			type = ((struct intake_config *) s->obj)->type;
		else if (s->kind == SECTION_RESOURCE)
			type = ((struct resource_config *) s->obj)->type;
		for (size_t j = 0; type >= 0 && j < s->n_keys; j++) {
			const struct key_rec *kr = &s->keys[j];

			if (kr->key->types == 0 || (kr->key->types & (1U << type))) {
				check_unix_only(p, s, kr);
				continue;
			}
			parser_error_at(p, kr->at.file, kr->at.line, kr->ordinal,
			    "key '%s' does not apply to type = %s in [%s]", kr->key->name,
			    s->kind == SECTION_INTAKE ? intake_type_to_string(type)
						      : resource_type_to_string(type),
			    s->title);
		}
		check_ready_template(p, s);
		missing = section_missing_key(s->kind, s->obj);
		/* A key that was written but had a bad value has been reported already. */
		if (missing && !section_key(s, missing))
			parser_error_at(p, s->at.file, s->at.line, s->ordinal,
			    "missing key '%s' in [%s]", missing, s->title);
	}
}

/* Moves the parser's errors, in reading order, to errors. */
static int
flush_errors(struct config_parser *p, struct config_errors *errors)
{
	int r = 0;

	if (p->n_errors > 0)
		qsort(p->errors, p->n_errors, sizeof(*p->errors), pending_compare);
	for (size_t i = 0; i < p->n_errors; i++) {
		struct config_error *e = &p->errors[i].e;
		struct config_error *n;

		n = reallocarray(errors->items, errors->n + 1, sizeof(*n));
		if (!n) {
			free(e->file);
			free(e->message);
			r = -ENOMEM;
			continue;
		}
		errors->items = n;
		errors->items[errors->n++] = *e;
	}
	free(p->errors);
	p->errors = NULL;
	p->n_errors = 0;
	return r;
}

static void
parser_done(struct config_parser *p)
{
	for (size_t i = 0; i < p->n_sections; i++)
		section_rec_free(p->sections[i]);
	free(p->sections);
	name_index_done(&p->section_index);
	for (size_t i = 0; i < p->n_errors; i++) {
		free(p->errors[i].e.file);
		free(p->errors[i].e.message);
	}
	free(p->errors);
}

static int
config_load_internal(const char *path, const char *name, const char *text, struct config **ret,
    struct config_errors *errors)
{
	_cleanup_(config_freep) struct config *c = NULL;
	struct config_parser p = {};
	size_t n_before = errors->n;
	int r;

	c = config_new();
	if (!c)
		return -ENOMEM;
	p.config = c;
	p.kind = SECTION_NONE;

	if (path)
		r = config_read_file(&p, path);
	else
		r = config_read_text(&p, name, text);
	if (r == -ENOMEM)
		p.oom = true;
	if (r == -EINVAL) {
		/* The file itself could not be read: nothing to check further. */
		r = flush_errors(&p, errors);
		parser_done(&p);
		return r < 0 ? r : -EINVAL;
	}
	resolve_inheritance(&p);
	check_sections(&p);
	r = flush_errors(&p, errors);
	parser_done(&p);
	if (r < 0 || p.oom)
		return -ENOMEM;
	r = config_validate_references(c, errors);
	if (r < 0)
		return r;
	if (errors->n > n_before)
		return -EINVAL;
	*ret = TAKE_PTR(c);
	return 0;
}

int
config_load(const char *path, struct config **ret, struct config_errors *errors)
{
	return config_load_internal(path, NULL, NULL, ret, errors);
}

int
config_load_string(const char *name, const char *text, struct config **ret,
    struct config_errors *errors)
{
	return config_load_internal(NULL, name, text, ret, errors);
}

int
config_validate(struct config *c, struct config_errors *errors)
{
	size_t n_before = errors->n;
	int r;

	for (size_t i = 0; i < c->n_intakes; i++) {
		const struct intake_config *in = c->intakes[i];
		const char *missing = section_missing_key(SECTION_INTAKE, in);

		if (missing && config_errors_add(errors, in->at.file, in->at.line,
		    "missing key '%s' in [intake:%s]", missing, in->name) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_workers; i++) {
		const struct worker_config *w = c->workers[i];
		const char *missing = section_missing_key(SECTION_WORKER, w);

		if (missing && config_errors_add(errors, w->at.file, w->at.line,
		    "missing key '%s' in [worker:%s]", missing, w->name) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_resources; i++) {
		const struct resource_config *res = c->resources[i];
		const char *missing = section_missing_key(SECTION_RESOURCE, res);

		if (missing && config_errors_add(errors, res->at.file, res->at.line,
		    "missing key '%s' in [resource:%s]", missing, res->name) < 0)
			return -ENOMEM;
	}
	r = config_validate_references(c, errors);
	if (r < 0)
		return r;
	return errors->n > n_before ? -EINVAL : 0;
}
