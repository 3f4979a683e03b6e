/* SPDX-License-Identifier: MIT */
/*
 * The difference between two configurations, section by section and key by key (the rules are in
 * config-diff.h). One table per section lists every key with how to compare its parsed value and
 * whether a difference applies in place; test_config_diff checks that every key of config-keys.c
 * is in these tables, so a new key cannot be forgotten here.
 */

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config-diff.h"
#include "config-internal.h"
#include "jsontext.h"
#include "parse.h"
#include "plan.h"
#include "util.h"

static const char *const config_change_table[_CONFIG_CHANGE_MAX] = {
	[CONFIG_UNCHANGED] = "unchanged",
	[CONFIG_ADDED] = "added",
	[CONFIG_REMOVED] = "removed",
	[CONFIG_CHANGED] = "changed",
	[CONFIG_UPDATED] = "updated",
};

const char *
config_change_to_string(enum config_change c)
{
	if ((unsigned) c >= _CONFIG_CHANGE_MAX)
		return NULL;
	return config_change_table[c];
}

enum config_change
config_change_from_string(const char *s)
{
	for (int i = 0; i < _CONFIG_CHANGE_MAX; i++)
		if (s && streq(config_change_table[i], s))
			return (enum config_change) i;
	return _CONFIG_CHANGE_INVALID;
}

/* Comparing one key. */

struct diff_key;
typedef bool (*diff_equal_fn)(const void *a, const void *b, const struct diff_key *k);

struct diff_key {
	const char *name;
	bool live;              /* a difference applies in place */
	diff_equal_fn equal;    /* given the two sections' structs */
	size_t offset;          /* of the field the generic comparators read */
	size_t flag_offset;     /* of its has_X bool, with has_flag: unset on both sides is equal */
	bool has_flag;
	unsigned template_bit;  /* worker keys: their INSTANCE_IN_* bit of instance_templates */
};

#define FIELD(obj, off, type) ((const type *) ((const char *) (obj) + (off)))

/* The enums are compared as the int they are stored in. */
_Static_assert(sizeof(enum restart_policy) == sizeof(int), "enum size");
_Static_assert(sizeof(enum kill_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum signal_target) == sizeof(int), "enum size");
_Static_assert(sizeof(enum worker_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum intake_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum resource_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum log_target) == sizeof(int), "enum size");
_Static_assert(sizeof(enum second_signal) == sizeof(int), "enum size");
_Static_assert(sizeof(enum when_empty) == sizeof(int), "enum size");

static bool
strv_equal(char *const *a, char *const *b)
{
	for (; a && *a && b && *b; a++, b++)
		if (!streq(*a, *b))
			return false;
	return !(a && *a) && !(b && *b);
}

static bool
eq_string(const void *a, const void *b, const struct diff_key *k)
{
	return streq_ptr(*FIELD(a, k->offset, char *), *FIELD(b, k->offset, char *));
}

typedef char **strv_t;

static bool
eq_strv(const void *a, const void *b, const struct diff_key *k)
{
	return strv_equal(*FIELD(a, k->offset, strv_t), *FIELD(b, k->offset, strv_t));
}

static bool
eq_usec(const void *a, const void *b, const struct diff_key *k)
{
	return *FIELD(a, k->offset, usec_t) == *FIELD(b, k->offset, usec_t);
}

static bool
eq_unsigned(const void *a, const void *b, const struct diff_key *k)
{
	return *FIELD(a, k->offset, unsigned) == *FIELD(b, k->offset, unsigned);
}

static bool
eq_int(const void *a, const void *b, const struct diff_key *k)
{
	return *FIELD(a, k->offset, int) == *FIELD(b, k->offset, int);
}

static bool
eq_bool(const void *a, const void *b, const struct diff_key *k)
{
	return *FIELD(a, k->offset, bool) == *FIELD(b, k->offset, bool);
}

static bool
eq_u64(const void *a, const void *b, const struct diff_key *k)
{
	return *FIELD(a, k->offset, uint64_t) == *FIELD(b, k->offset, uint64_t);
}

static bool
eq_mode(const void *a, const void *b, const struct diff_key *k)
{
	return *FIELD(a, k->offset, mode_t) == *FIELD(b, k->offset, mode_t);
}

static bool
eq_rlimit(const void *a, const void *b, const struct diff_key *k)
{
	const struct rlimit *x = FIELD(a, k->offset, struct rlimit);
	const struct rlimit *y = FIELD(b, k->offset, struct rlimit);

	return x->rlim_cur == y->rlim_cur && x->rlim_max == y->rlim_max;
}

static bool
eq_ready(const void *a, const void *b, const struct diff_key *k)
{
	const struct worker_config *x = a, *y = b;

	(void) k;
	return x->ready.kind == y->ready.kind && x->ready.port == y->ready.port &&
	    x->ready.delay == y->ready.delay && streq_ptr(x->ready_template, y->ready_template);
}

static bool
eq_start_limit(const void *a, const void *b, const struct diff_key *k)
{
	const struct worker_config *x = a, *y = b;

	(void) k;
	return x->start_limit_burst == y->start_limit_burst &&
	    x->start_limit_interval == y->start_limit_interval;
}

static bool
eq_output(const void *a, const void *b, const struct diff_key *k)
{
	const struct worker_config *x = a, *y = b;

	(void) k;
	return x->output == y->output && streq_ptr(x->output_file, y->output_file);
}

static bool
eq_stderr(const void *a, const void *b, const struct diff_key *k)
{
	const struct worker_config *x = a, *y = b;

	(void) k;
	return x->stderr_mode == y->stderr_mode && streq_ptr(x->stderr_file, y->stderr_file);
}

static bool
int_array_equal(const int *a, size_t n, const int *b, size_t m)
{
	return n == m && (n == 0 || memcmp(a, b, n * sizeof(int)) == 0);
}

static bool
eq_success_status(const void *a, const void *b, const struct diff_key *k)
{
	const struct worker_config *x = a, *y = b;

	(void) k;
	return int_array_equal(x->success_status, x->n_success_status, y->success_status,
		   y->n_success_status) &&
	    int_array_equal(x->success_signal, x->n_success_signal, y->success_signal,
		y->n_success_signal);
}

static bool
eq_listen(const void *a, const void *b, const struct diff_key *k)
{
	const struct intake_config *x = a, *y = b;

	(void) k;
	return listen_address_equal(&x->listen, &y->listen);
}

static bool
eq_control_socket(const void *a, const void *b, const struct diff_key *k)
{
	const struct supervisor_config *x = a, *y = b;

	(void) k;
	return x->control_socket_none == y->control_socket_none &&
	    streq_ptr(x->control_socket, y->control_socket);
}

/* The tables: every key of config-keys.c's, in its order. */

#define KEY(type, key, is_live, fn, field, ...)                                                    \
	{ .name = key, .live = is_live, .equal = fn, .offset = offsetof(type, field), __VA_ARGS__ }
#define HAS(type, field) .flag_offset = offsetof(type, field), .has_flag = true
#define TEMPLATE(bit) .template_bit = (bit)
#define LIVE true
#define RESTART false

#define W(key, live, fn, field, ...) KEY(struct worker_config, key, live, fn, field, __VA_ARGS__)
static const struct diff_key worker_keys[] = {
	W("command", RESTART, eq_strv, argv, TEMPLATE(INSTANCE_IN_COMMAND)),
	W("instances", RESTART, eq_unsigned, instances),
	W("type", RESTART, eq_int, type),
	W("autostart", LIVE, eq_bool, autostart),
	W("after", LIVE, eq_strv, after),
	W("sockets", RESTART, eq_strv, sockets),
	W("ready", RESTART, eq_ready, ready),
	W("start_timeout", LIVE, eq_usec, start_timeout),
	W("restart", LIVE, eq_int, restart),
	W("restart_delay", LIVE, eq_usec, restart_delay),
	W("restart_delay_max", LIVE, eq_usec, restart_delay_max),
	W("start_limit", LIVE, eq_start_limit, start_limit_burst),
	W("stop_timeout", LIVE, eq_usec, shutdown.stop_timeout),
	W("join_timeout", LIVE, eq_usec, shutdown.join_timeout),
	W("kill_timeout", LIVE, eq_usec, shutdown.kill_timeout),
	W("intake_signal", LIVE, eq_int, shutdown.intake_signal),
	W("stop_signal", LIVE, eq_int, shutdown.stop_signal),
	W("cancel_signal", LIVE, eq_int, shutdown.cancel_signal),
	W("kill_signal", LIVE, eq_int, shutdown.kill_signal),
	W("kill_mode", LIVE, eq_int, shutdown.kill_mode),
	W("signal_target", LIVE, eq_int, shutdown.signal_target),
	W("stop_fd", RESTART, eq_bool, shutdown.stop_fd),
	W("user", RESTART, eq_string, user),
	W("group", RESTART, eq_string, group),
	W("directory", RESTART, eq_string, directory, TEMPLATE(INSTANCE_IN_DIRECTORY)),
	W("environment", RESTART, eq_strv, environment, TEMPLATE(INSTANCE_IN_ENVIRONMENT)),
	W("environment_file", RESTART, eq_string, environment_file),
	W("umask", RESTART, eq_mode, umask, HAS(struct worker_config, has_umask)),
	W("output", RESTART, eq_output, output),
	W("stderr", RESTART, eq_stderr, stderr_mode),
	W("output_max_size", RESTART, eq_u64, output_max_size),
	W("output_backups", RESTART, eq_unsigned, output_backups),
	W("critical", LIVE, eq_bool, critical),
	W("success_status", LIVE, eq_success_status, success_status),
	W("watchdog", RESTART, eq_usec, watchdog),
	W("limit_nofile", RESTART, eq_rlimit, limits.rlimit[PROCESS_RLIMIT_NOFILE],
	    HAS(struct worker_config, limits.has_rlimit[PROCESS_RLIMIT_NOFILE])),
	W("limit_nproc", RESTART, eq_rlimit, limits.rlimit[PROCESS_RLIMIT_NPROC],
	    HAS(struct worker_config, limits.has_rlimit[PROCESS_RLIMIT_NPROC])),
	W("limit_core", RESTART, eq_rlimit, limits.rlimit[PROCESS_RLIMIT_CORE],
	    HAS(struct worker_config, limits.has_rlimit[PROCESS_RLIMIT_CORE])),
	W("limit_memlock", RESTART, eq_rlimit, limits.rlimit[PROCESS_RLIMIT_MEMLOCK],
	    HAS(struct worker_config, limits.has_rlimit[PROCESS_RLIMIT_MEMLOCK])),
	W("nice", RESTART, eq_int, limits.nice, HAS(struct worker_config, limits.has_nice)),
	W("oom_score_adjust", RESTART, eq_int, limits.oom_score_adjust,
	    HAS(struct worker_config, limits.has_oom_score_adjust)),
	W("on_exit", LIVE, eq_strv, on_exit),
	W("hook_timeout", LIVE, eq_usec, hook_timeout),
};

/* For intakes "live" means the socket stays open: only type, listen and reuseport reopen it. */
#define I(key, live, fn, field, ...) KEY(struct intake_config, key, live, fn, field, __VA_ARGS__)
static const struct diff_key intake_keys[] = {
	I("type", RESTART, eq_int, type),
	I("listen", RESTART, eq_listen, listen, HAS(struct intake_config, has_listen)),
	I("backlog", LIVE, eq_unsigned, backlog),
	I("reuseport", RESTART, eq_bool, reuseport),
	I("mode", LIVE, eq_mode, mode, HAS(struct intake_config, has_mode)),
	I("owner", LIVE, eq_string, owner),
	I("group", LIVE, eq_string, group),
	I("max_connections", LIVE, eq_unsigned, max_connections),
	I("request_timeout", LIVE, eq_usec, request_timeout),
	I("command", LIVE, eq_strv, argv),
	I("signal", LIVE, eq_int, signal),
	I("workers", LIVE, eq_strv, workers),
};

#define R(key, fn, field) KEY(struct resource_config, key, LIVE, fn, field)
static const struct diff_key resource_keys[] = {
	R("type", eq_int, type),
	R("path", eq_string, path),
	R("command", eq_strv, argv),
	R("close_timeout", eq_usec, close_timeout),
};

#define S(key, live, fn, field, ...) \
	KEY(struct supervisor_config, key, live, fn, field, __VA_ARGS__)
static const struct diff_key supervisor_keys[] = {
	S("name", RESTART, eq_string, name),
	S("log_level", LIVE, eq_int, log_level),
	S("log_target", LIVE, eq_int, log_target),
	S("pidfile", RESTART, eq_string, pidfile),
	S("report", LIVE, eq_string, report),
	S("control_socket", RESTART, eq_control_socket, control_socket),
	S("control_group", LIVE, eq_string, control_group),
	S("subreaper", RESTART, eq_bool, subreaper),
	S("debug", LIVE, eq_bool, debug),
	S("slow_step", LIVE, eq_usec, slow_step),
	S("exit_code_from", LIVE, eq_string, exit_code_from),
	S("when_empty", LIVE, eq_int, when_empty),
};

#define D(key, fn, field, ...) KEY(struct shutdown_config, key, LIVE, fn, field, __VA_ARGS__)
static const struct diff_key shutdown_keys[] = {
	D("intake_timeout", eq_usec, intake_timeout),
	D("drain_delay", eq_usec, drain_delay),
	D("close_timeout", eq_usec, close_timeout),
	D("deadline", eq_usec, deadline, HAS(struct shutdown_config, deadline_set)),
	D("second_signal", eq_int, second_signal),
	D("second_signal_window", eq_usec, second_signal_window),
	D("stop_timeout", eq_usec, defaults.stop_timeout),
	D("join_timeout", eq_usec, defaults.join_timeout),
	D("kill_timeout", eq_usec, defaults.kill_timeout),
	D("intake_signal", eq_int, defaults.intake_signal),
	D("stop_signal", eq_int, defaults.stop_signal),
	D("cancel_signal", eq_int, defaults.cancel_signal),
	D("kill_signal", eq_int, defaults.kill_signal),
	D("kill_mode", eq_int, defaults.kill_mode),
	D("signal_target", eq_int, defaults.signal_target),
	D("stop_fd", eq_bool, defaults.stop_fd),
};

_Static_assert(ELEMENTSOF(worker_keys) <= CONFIG_KEYS_MAX, "CONFIG_KEYS_MAX");

static bool
key_equal(const struct diff_key *k, const void *a, const void *b)
{
	if (k->has_flag) {
		bool fa = *FIELD(a, k->flag_offset, bool), fb = *FIELD(b, k->flag_offset, bool);

		if (fa != fb)
			return false;
		if (!fa)
			return true;
	}
	if (k->template_bit) {
		unsigned ta = ((const struct worker_config *) a)->instance_templates;
		unsigned tb = ((const struct worker_config *) b)->instance_templates;

		if ((ta ^ tb) & k->template_bit)
			return false;
	}
	return k->equal(a, b, k);
}

/*
 * Compares a and b key by key: *ret_keys (NULL when none) gets the names of the keys that
 * differ, *ret_live whether all of those apply in place. -ENOMEM.
 */
static int
compare_keys(const struct diff_key *keys, size_t n, const void *a, const void *b,
    const char ***ret_keys, size_t *ret_n, bool *ret_live)
{
	const char *found[CONFIG_KEYS_MAX];
	const char **v = NULL;
	size_t m = 0;
	bool live = true;

	assert(n <= CONFIG_KEYS_MAX);
	for (size_t i = 0; i < n; i++)
		if (!key_equal(&keys[i], a, b)) {
			found[m++] = keys[i].name;
			live = live && keys[i].live;
		}
	if (m > 0) {
		if (!(v = malloc(m * sizeof(*found))))
			return -ENOMEM;
		memcpy(v, found, m * sizeof(*found));
	}
	*ret_keys = v;
	*ret_n = m;
	*ret_live = live;
	return 0;
}

/* Building the diff. */

struct config_diff *
config_diff_free(struct config_diff *d)
{
	if (!d)
		return NULL;
	for (size_t i = 0; i < d->n_workers; i++)
		free(d->workers[i].keys);
	for (size_t i = 0; i < d->n_intakes; i++)
		free(d->intakes[i].keys);
	for (size_t i = 0; i < d->n_resources; i++)
		free(d->resources[i].keys);
	free(d->workers);
	free(d->intakes);
	free(d->resources);
	free(d->settings);
	free(d->start_order);
	free(d->restart_order);
	free(d->stop_order);
	free(d);
	return NULL;
}

/* The change of a section present in both, from its differing keys. */
static enum config_change
section_change(size_t n_keys, bool live)
{
	return n_keys == 0 ? CONFIG_UNCHANGED : live ? CONFIG_UPDATED : CONFIG_CHANGED;
}

static int
diff_workers(struct config_diff *d)
{
	const struct config *old = d->old, *new = d->new;
	size_t n = new->n_workers + old->n_workers; /* at most: none in common */

	if (n && !(d->workers = calloc(n, sizeof(*d->workers))))
		return -ENOMEM;

	for (size_t i = 0; i < new->n_workers; i++) {
		struct config_diff_worker *e = &d->workers[d->n_workers++];
		ssize_t j = config_worker_index(old, new->workers[i]->name);
		bool live;
		int r;

		e->name = new->workers[i]->name;
		e->new = new->workers[i];
		if (j < 0) {
			e->change = CONFIG_ADDED;
			continue;
		}
		e->old = old->workers[j];
		r = compare_keys(worker_keys, ELEMENTSOF(worker_keys), e->old, e->new, &e->keys,
		    &e->n_keys, &live);
		if (r < 0)
			return r;
		e->change = section_change(e->n_keys, live);
	}
	for (size_t i = 0; i < old->n_workers; i++)
		if (config_worker_index(new, old->workers[i]->name) < 0)
			d->workers[d->n_workers++] = (struct config_diff_worker) {
				.name = old->workers[i]->name,
				.change = CONFIG_REMOVED,
				.old = old->workers[i],
			};
	return 0;
}

/* A name -> position index of sections with a name as their first member. */
static int
index_names(struct name_index *x, void *const *sections, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (name_index_put(x, *(char *const *) sections[i], i) < 0)
			return -ENOMEM;
	return 0;
}

_Static_assert(offsetof(struct intake_config, name) == 0, "name first");
_Static_assert(offsetof(struct resource_config, name) == 0, "name first");

static bool
intake_has_socket(const struct intake_config *in)
{
	return in->type == INTAKE_SOCKET || in->type == INTAKE_READINESS;
}

/*
 * The sections of two arrays matched by name: for each of new's, its position in old (or -1);
 * *ret_removed: how many of old's new lacks. -ENOMEM.
 */
static int
match_names(void *const *old, size_t n_old, void *const *new, size_t n_new, ssize_t **ret,
    size_t *ret_removed)
{
	struct name_index old_index = {}, new_index = {};
	_cleanup_free_ ssize_t *pos = NULL;
	size_t removed = 0;
	int r;

	if (n_new && !(pos = calloc(n_new, sizeof(*pos))))
		return -ENOMEM;
	r = index_names(&old_index, old, n_old);
	if (r >= 0)
		r = index_names(&new_index, new, n_new);
	if (r >= 0) {
		for (size_t i = 0; i < n_new; i++)
			pos[i] = name_index_get(&old_index, *(char *const *) new[i]);
		for (size_t i = 0; i < n_old; i++)
			if (name_index_get(&new_index, *(char *const *) old[i]) < 0)
				removed++;
	}
	name_index_done(&old_index);
	name_index_done(&new_index);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(pos);
	*ret_removed = removed;
	return 0;
}

static int
diff_intakes(struct config_diff *d)
{
	const struct config *old = d->old, *new = d->new;
	_cleanup_free_ ssize_t *pos = NULL;
	_cleanup_free_ bool *kept = NULL;
	size_t removed;
	int r;

	r = match_names((void *const *) old->intakes, old->n_intakes, (void *const *) new->intakes,
	    new->n_intakes, &pos, &removed);
	if (r < 0)
		return r;
	if (new->n_intakes + removed &&
	    !(d->intakes = calloc(new->n_intakes + removed, sizeof(*d->intakes))))
		return -ENOMEM;
	if (old->n_intakes && !(kept = calloc(old->n_intakes, sizeof(*kept))))
		return -ENOMEM;

	for (size_t i = 0; i < new->n_intakes; i++) {
		struct config_diff_intake *e = &d->intakes[d->n_intakes++];
		bool live;

		e->name = new->intakes[i]->name;
		e->new = new->intakes[i];
		if (pos[i] < 0) {
			e->change = CONFIG_ADDED;
			continue;
		}
		kept[pos[i]] = true;
		e->old = old->intakes[pos[i]];
		r = compare_keys(intake_keys, ELEMENTSOF(intake_keys), e->old, e->new, &e->keys,
		    &e->n_keys, &live);
		if (r < 0)
			return r;
		/* Without a socket on either side there is nothing to reopen. */
		if (!intake_has_socket(e->old) && !intake_has_socket(e->new))
			live = true;
		e->change = section_change(e->n_keys, live);
	}
	for (size_t i = 0; i < old->n_intakes; i++)
		if (!kept[i])
			d->intakes[d->n_intakes++] = (struct config_diff_intake) {
				.name = old->intakes[i]->name,
				.change = CONFIG_REMOVED,
				.old = old->intakes[i],
			};
	return 0;
}

/* A worker that is handed a socket that is closed and opened anew must be restarted to get it. */
static int
mark_reopened_sockets(struct config_diff *d)
{
	struct name_index reopened = {};
	int r = 0;

	for (size_t i = 0; i < d->n_intakes && r >= 0; i++)
		if (d->intakes[i].change == CONFIG_CHANGED)
			r = name_index_put(&reopened, d->intakes[i].name, i);
	if (r < 0 || reopened.n == 0) {
		name_index_done(&reopened);
		return r < 0 ? -ENOMEM : 0;
	}
	for (size_t i = 0; i < d->n_workers; i++) {
		struct config_diff_worker *e = &d->workers[i];

		if (e->change == CONFIG_ADDED || e->change == CONFIG_REMOVED)
			continue;
		for (char **s = e->new->sockets; s && *s; s++)
			if (name_index_get(&reopened, *s) >= 0) {
				e->socket = *s;
				e->change = CONFIG_CHANGED;
				break;
			}
	}
	name_index_done(&reopened);
	return 0;
}

static int
diff_resources(struct config_diff *d)
{
	const struct config *old = d->old, *new = d->new;
	_cleanup_free_ ssize_t *pos = NULL;
	_cleanup_free_ bool *kept = NULL;
	ssize_t last = -1;
	size_t removed;
	int r;

	r = match_names((void *const *) old->resources, old->n_resources,
	    (void *const *) new->resources, new->n_resources, &pos, &removed);
	if (r < 0)
		return r;
	if (new->n_resources + removed &&
	    !(d->resources = calloc(new->n_resources + removed, sizeof(*d->resources))))
		return -ENOMEM;
	if (old->n_resources && !(kept = calloc(old->n_resources, sizeof(*kept))))
		return -ENOMEM;

	for (size_t i = 0; i < new->n_resources; i++) {
		struct config_diff_resource *e = &d->resources[d->n_resources++];
		bool live;

		e->name = new->resources[i]->name;
		e->new = new->resources[i];
		if (pos[i] < 0) {
			e->change = CONFIG_ADDED;
			continue;
		}
		/* The kept ones must come in the old order, or they close in another. */
		if (pos[i] < last)
			d->resource_order_changed = true;
		last = pos[i];
		kept[pos[i]] = true;
		e->old = old->resources[pos[i]];
		r = compare_keys(resource_keys, ELEMENTSOF(resource_keys), e->old, e->new, &e->keys,
		    &e->n_keys, &live);
		if (r < 0)
			return r;
		e->change = section_change(e->n_keys, live);
	}
	for (size_t i = 0; i < old->n_resources; i++)
		if (!kept[i])
			d->resources[d->n_resources++] = (struct config_diff_resource) {
				.name = old->resources[i]->name,
				.change = CONFIG_REMOVED,
				.old = old->resources[i],
			};
	return 0;
}

static int
diff_settings(struct config_diff *d)
{
	static const struct {
		const char *section;
		const struct diff_key *keys;
		size_t n;
		size_t offset; /* of the section's struct in struct config */
	} sections[] = {
		{ "supervisor", supervisor_keys, ELEMENTSOF(supervisor_keys),
		    offsetof(struct config, supervisor) },
		{ "shutdown", shutdown_keys, ELEMENTSOF(shutdown_keys),
		    offsetof(struct config, shutdown) },
	};
	size_t n = 0;

	for (size_t s = 0; s < ELEMENTSOF(sections); s++)
		n += sections[s].n;
	if (!(d->settings = calloc(n, sizeof(*d->settings))))
		return -ENOMEM;
	for (size_t s = 0; s < ELEMENTSOF(sections); s++) {
		const void *a = (const char *) d->old + sections[s].offset;
		const void *b = (const char *) d->new + sections[s].offset;

		for (size_t i = 0; i < sections[s].n; i++) {
			const struct diff_key *k = &sections[s].keys[i];

			if (key_equal(k, a, b))
				continue;
			d->settings[d->n_settings++] = (struct config_diff_setting) {
				.section = sections[s].section,
				.key = k->name,
				.live = k->live,
				.at = config_key_location(d->new, b, k->name),
			};
		}
	}
	return 0;
}

/* Orders. */

struct ordered {
	const struct config_diff_worker *e;
	unsigned level;
	size_t pos;
};

/* Lower level first, then file order. */
static int
ordered_cmp(const void *x, const void *y)
{
	const struct ordered *a = x, *b = y;

	if (a->level != b->level)
		return a->level < b->level ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/*
 * Collects the entries with change c, keyed by plan level (descending when starting: a plan's
 * level 0 is what nobody is after=, stopped first and so started last), into *ret.
 */
static int
collect_order(const struct config_diff *d, const struct plan *p, const struct config *c,
    enum config_change change, bool start, const struct config_diff_worker ***ret, size_t *ret_n)
{
	size_t total = d->n_by_change[CONFIG_DIFF_WORKERS][change], n = 0, top = 0;
	_cleanup_free_ struct ordered *v = NULL;
	const struct config_diff_worker **out;

	if (total == 0) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	for (size_t i = 0; i < p->n_workers; i++)
		top = MAX(top, p->workers[i].level);
	if (!(v = calloc(total, sizeof(*v))))
		return -ENOMEM;
	for (size_t i = 0; i < d->n_workers; i++) {
		const struct config_diff_worker *e = &d->workers[i];
		ssize_t j;

		if (e->change != change)
			continue;
		j = config_worker_index(c, e->name);
		assert(j >= 0);
		v[n++] = (struct ordered) {
			.e = e,
			.level = start ? top - p->workers[j].level : p->workers[j].level,
			.pos = (size_t) j,
		};
	}
	qsort(v, n, sizeof(*v), ordered_cmp);
	if (!(out = calloc(n, sizeof(*out))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		out[i] = v[i].e;
	*ret = out;
	*ret_n = n;
	return 0;
}

static int
diff_orders(struct config_diff *d)
{
	_cleanup_(plan_freep) struct plan *old_plan = NULL, *new_plan = NULL;
	const size_t *counts = d->n_by_change[CONFIG_DIFF_WORKERS];
	int r;

	if (counts[CONFIG_ADDED] + counts[CONFIG_CHANGED] > 0) {
		r = plan_build(d->new, &new_plan);
		if (r < 0)
			return r;
		r = collect_order(d, new_plan, d->new, CONFIG_ADDED, true, &d->start_order,
		    &d->n_start_order);
		if (r < 0)
			return r;
		r = collect_order(d, new_plan, d->new, CONFIG_CHANGED, true, &d->restart_order,
		    &d->n_restart_order);
		if (r < 0)
			return r;
	}
	if (counts[CONFIG_REMOVED] > 0) {
		r = plan_build(d->old, &old_plan);
		if (r < 0)
			return r;
		r = collect_order(d, old_plan, d->old, CONFIG_REMOVED, false, &d->stop_order,
		    &d->n_stop_order);
		if (r < 0)
			return r;
	}
	return 0;
}

static void
count_changes(struct config_diff *d)
{
	for (size_t i = 0; i < d->n_workers; i++)
		d->n_by_change[CONFIG_DIFF_WORKERS][d->workers[i].change]++;
	for (size_t i = 0; i < d->n_intakes; i++)
		d->n_by_change[CONFIG_DIFF_INTAKES][d->intakes[i].change]++;
	for (size_t i = 0; i < d->n_resources; i++)
		d->n_by_change[CONFIG_DIFF_RESOURCES][d->resources[i].change]++;
}

int
config_diff_build(const struct config *old, const struct config *new, struct config_diff **ret)
{
	_cleanup_(config_diff_freep) struct config_diff *d = NULL;
	int r;

	assert(old && new && ret);
	if (!(d = calloc(1, sizeof(*d))))
		return -ENOMEM;
	d->old = old;
	d->new = new;
	if ((r = diff_workers(d)) < 0 || (r = diff_intakes(d)) < 0 ||
	    (r = mark_reopened_sockets(d)) < 0 || (r = diff_resources(d)) < 0 ||
	    (r = diff_settings(d)) < 0)
		return r;
	count_changes(d);
	if ((r = diff_orders(d)) < 0)
		return r;
	*ret = TAKE_PTR(d);
	return 0;
}

bool
config_diff_is_empty(const struct config_diff *d)
{
	if (d->n_settings > 0 || d->resource_order_changed)
		return false;
	for (size_t k = 0; k < ELEMENTSOF(d->n_by_change); k++)
		for (int c = 0; c < _CONFIG_CHANGE_MAX; c++)
			if (c != CONFIG_UNCHANGED && d->n_by_change[k][c] > 0)
				return false;
	return true;
}

int
config_diff_check(const struct config_diff *d, struct config_errors *errors)
{
	int n = 0;

	for (size_t i = 0; i < d->n_settings; i++) {
		const struct config_diff_setting *s = &d->settings[i];
		int r;

		if (s->live)
			continue;
		if (s->at.file)
			r = config_errors_add(errors, s->at.file, s->at.line,
			    "cannot change at run time: %s (restart graced to apply it)", s->key);
		else if (d->new->files && d->new->files[0])
			r = config_errors_add(errors, d->new->files[0], 0,
			    "cannot change at run time: %s (now unset; restart graced to apply it)",
			    s->key);
		else /* a config built in memory */
			r = config_errors_add(errors, NULL, 0,
			    "cannot change at run time: %s (restart graced to apply it)", s->key);
		if (r < 0)
			return r;
		n++;
	}
	return n;
}

/* Text. */

static void
print_keys(const char *const *keys, size_t n, FILE *f)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : ": ", keys[i]);
}

static void
print_names(const char *what, const struct config_diff_worker *const *v, size_t n, FILE *f)
{
	if (n == 0)
		return;
	fprintf(f, "%s:", what);
	for (size_t i = 0; i < n; i++)
		fprintf(f, " %s", v[i]->name);
	fputc('\n', f);
}

static void
print_counts(const char *what, const size_t *counts, FILE *f)
{
	static const enum config_change order[] = { CONFIG_ADDED, CONFIG_REMOVED, CONFIG_CHANGED,
		CONFIG_UPDATED, CONFIG_UNCHANGED };
	bool first = true;

	fprintf(f, "%s:", what);
	for (size_t i = 0; i < ELEMENTSOF(order); i++) {
		if (counts[order[i]] == 0 && !(first && i + 1 == ELEMENTSOF(order)))
			continue;
		fprintf(f, "%s %zu %s", first ? "" : ",", counts[order[i]],
		    config_change_to_string(order[i]));
		first = false;
	}
	fputc('\n', f);
}

void
config_diff_print(const struct config_diff *d, FILE *f)
{
	if (config_diff_is_empty(d)) {
		fputs("no changes\n", f);
		return;
	}
	for (size_t i = 0; i < d->n_workers; i++) {
		const struct config_diff_worker *e = &d->workers[i];

		if (e->change == CONFIG_UNCHANGED)
			continue;
		fprintf(f, "worker '%s': %s", e->name, config_change_to_string(e->change));
		if (e->change == CONFIG_CHANGED)
			fputs(" (restart)", f);
		else if (e->change == CONFIG_UPDATED)
			fputs(" (no restart)", f);
		print_keys(e->keys, e->n_keys, f);
		if (e->socket)
			fprintf(f, "%sintake '%s' is reopened", e->n_keys ? "; " : ": ", e->socket);
		fputc('\n', f);
	}
	for (size_t i = 0; i < d->n_intakes; i++) {
		const struct config_diff_intake *e = &d->intakes[i];

		if (e->change == CONFIG_UNCHANGED)
			continue;
		fprintf(f, "intake '%s': %s", e->name, config_change_to_string(e->change));
		if (e->change == CONFIG_CHANGED)
			fputs(" (socket reopened)", f);
		else if (e->change == CONFIG_UPDATED && intake_has_socket(e->new))
			fputs(" (socket kept)", f);
		print_keys(e->keys, e->n_keys, f);
		fputc('\n', f);
	}
	for (size_t i = 0; i < d->n_resources; i++) {
		const struct config_diff_resource *e = &d->resources[i];

		if (e->change == CONFIG_UNCHANGED)
			continue;
		fprintf(f, "resource '%s': %s", e->name, config_change_to_string(e->change));
		print_keys(e->keys, e->n_keys, f);
		fputc('\n', f);
	}
	if (d->resource_order_changed)
		fputs("resources: close order changed\n", f);
	for (size_t i = 0; i < d->n_settings; i++) {
		const struct config_diff_setting *s = &d->settings[i];

		fprintf(f, "[%s] %s: ", s->section, s->key);
		if (s->live)
			fputs(streq(s->section, "shutdown") ? "changed, applies to the next shutdown" :
							      "changed, applies now",
			    f);
		else
			fputs("cannot change at run time", f);
		if (s->at.file) {
			fputs(" (", f);
			(void) escape_fputs(s->at.file, 0, f);
			fprintf(f, ":%u)", s->at.line);
		}
		fputc('\n', f);
	}
	print_names("start order", d->start_order, d->n_start_order, f);
	print_names("restart order", d->restart_order, d->n_restart_order, f);
	print_names("stop order", d->stop_order, d->n_stop_order, f);
	print_counts("workers", d->n_by_change[CONFIG_DIFF_WORKERS], f);
	print_counts("intakes", d->n_by_change[CONFIG_DIFF_INTAKES], f);
	print_counts("resources", d->n_by_change[CONFIG_DIFF_RESOURCES], f);
}

/* JSON. Every builder consumes what it is given, also on failure, so nothing leaks. */

static json_t *
set(json_t *o, const char *key, json_t *v)
{
	if (!o || !v || json_object_set_new(o, key, v) < 0) {
		json_decref(o);
		json_decref(v);
		return NULL;
	}
	return o;
}

static json_t *
append(json_t *a, json_t *v)
{
	if (!a || !v || json_array_append_new(a, v) < 0) {
		json_decref(a);
		json_decref(v);
		return NULL;
	}
	return a;
}

static json_t *
section_json(const char *name, enum config_change change, const char *const *keys, size_t n_keys,
    const char *socket)
{
	json_t *o = json_object(), *k = json_array();

	for (size_t i = 0; i < n_keys; i++)
		k = append(k, json_string(keys[i]));
	o = set(o, "name", jsontext_new(name));
	o = set(o, "change", json_string(config_change_to_string(change)));
	o = set(o, "keys", k);
	if (socket)
		o = set(o, "socket", jsontext_new(socket));
	return o;
}

static json_t *
order_json(const struct config_diff_worker *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		a = append(a, jsontext_new(v[i]->name));
	return a;
}

static json_t *
settings_json(const struct config_diff *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n_settings; i++) {
		const struct config_diff_setting *s = &d->settings[i];
		json_t *o = json_object();

		o = set(o, "section", json_string(s->section));
		o = set(o, "key", json_string(s->key));
		o = set(o, "live", json_boolean(s->live));
		if (s->at.file) {
			o = set(o, "file", jsontext_new(s->at.file));
			o = set(o, "line", json_integer(s->at.line));
		}
		a = append(a, o);
	}
	return a;
}

json_t *
config_diff_to_json(const struct config_diff *d)
{
	json_t *o = json_object(), *w = json_array(), *in = json_array(), *res = json_array();
	json_t *unchanged = json_object();

	for (size_t i = 0; i < d->n_workers; i++)
		if (d->workers[i].change != CONFIG_UNCHANGED)
			w = append(w, section_json(d->workers[i].name, d->workers[i].change,
			    d->workers[i].keys, d->workers[i].n_keys, d->workers[i].socket));
	for (size_t i = 0; i < d->n_intakes; i++)
		if (d->intakes[i].change != CONFIG_UNCHANGED)
			in = append(in, section_json(d->intakes[i].name, d->intakes[i].change,
			    d->intakes[i].keys, d->intakes[i].n_keys, NULL));
	for (size_t i = 0; i < d->n_resources; i++)
		if (d->resources[i].change != CONFIG_UNCHANGED)
			res = append(res, section_json(d->resources[i].name, d->resources[i].change,
			    d->resources[i].keys, d->resources[i].n_keys, NULL));
	unchanged = set(unchanged, "workers",
	    json_integer((json_int_t) d->n_by_change[CONFIG_DIFF_WORKERS][CONFIG_UNCHANGED]));
	unchanged = set(unchanged, "intakes",
	    json_integer((json_int_t) d->n_by_change[CONFIG_DIFF_INTAKES][CONFIG_UNCHANGED]));
	unchanged = set(unchanged, "resources",
	    json_integer((json_int_t) d->n_by_change[CONFIG_DIFF_RESOURCES][CONFIG_UNCHANGED]));

	o = set(o, "changed", json_boolean(!config_diff_is_empty(d)));
	o = set(o, "workers", w);
	o = set(o, "intakes", in);
	o = set(o, "resources", res);
	o = set(o, "unchanged", unchanged);
	o = set(o, "resource_order_changed", json_boolean(d->resource_order_changed));
	o = set(o, "settings", settings_json(d));
	o = set(o, "start_order", order_json(d->start_order, d->n_start_order));
	o = set(o, "restart_order", order_json(d->restart_order, d->n_restart_order));
	o = set(o, "stop_order", order_json(d->stop_order, d->n_stop_order));
	return o;
}
