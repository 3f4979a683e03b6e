/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of config-diff.c: pairs of configurations loaded from strings (and from files with
 * includes), compared by name. Added, removed, changed and updated workers, renames, reordered
 * sections, intakes whose socket is kept or reopened, [supervisor] keys that cannot change at run
 * time, the start, restart and stop orders, the text and JSON renderings, and a walk over every
 * key of config-keys.c so that no key is left out of the comparison.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include "config-diff.h"
#include "config-internal.h"
#include "util.h"

/*
 * Allocation failures: with fail_after = N, the N+1th malloc() or calloc() from graced's code
 * (not libc's or jansson's own) fails; -1 means none does.
 */
static int fail_after = -1;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);

static bool
allocation_fails(void)
{
	if (fail_after < 0)
		return false;
	if (fail_after == 0)
		return true;
	fail_after--;
	return false;
}

void *
__wrap_malloc(size_t n)
{
	return allocation_fails() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return allocation_fails() ? NULL : __real_calloc(n, size);
}

/* Two loaded configurations and their diff. */
struct pair {
	struct config *old;
	struct config *new;
	struct config_diff *d;
};

static struct config *
load_text(const char *text)
{
	struct config_errors errors = {};
	struct config *c = NULL;
	int r;

	r = config_load_string("t.ini", text, &c, &errors);
	if (r < 0) {
		config_errors_print(&errors, stderr);
		fail_msg("config did not load: %s", text);
	}
	config_errors_clear(&errors);
	return c;
}

static struct config *
load_path(const char *path)
{
	struct config_errors errors = {};
	struct config *c = NULL;
	int r;

	r = config_load(path, &c, &errors);
	if (r < 0) {
		config_errors_print(&errors, stderr);
		fail_msg("config did not load: %s", path);
	}
	config_errors_clear(&errors);
	return c;
}

static struct pair
pair_of(struct config *old, struct config *new)
{
	struct pair p = { old, new, NULL };

	assert_int_equal(config_diff_build(old, new, &p.d), 0);
	assert_non_null(p.d);
	return p;
}

static struct pair
diff_texts(const char *old, const char *new)
{
	return pair_of(load_text(old), load_text(new));
}

static void
pair_done(struct pair *p)
{
	config_diff_free(p->d);
	config_free(p->old);
	config_free(p->new);
}

static const struct config_diff_worker *
worker(const struct pair *p, const char *name)
{
	for (size_t i = 0; i < p->d->n_workers; i++)
		if (streq(p->d->workers[i].name, name))
			return &p->d->workers[i];
	fail_msg("no worker '%s' in the diff", name);
	return NULL;
}

static const struct config_diff_intake *
intake(const struct pair *p, const char *name)
{
	for (size_t i = 0; i < p->d->n_intakes; i++)
		if (streq(p->d->intakes[i].name, name))
			return &p->d->intakes[i];
	fail_msg("no intake '%s' in the diff", name);
	return NULL;
}

static const struct config_diff_resource *
resource(const struct pair *p, const char *name)
{
	for (size_t i = 0; i < p->d->n_resources; i++)
		if (streq(p->d->resources[i].name, name))
			return &p->d->resources[i];
	fail_msg("no resource '%s' in the diff", name);
	return NULL;
}

/* "a,b,c" of the keys, for one assert_string_equal(); static buffer. */
static const char *
joined(const char *const *keys, size_t n)
{
	static char buf[1024];

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(buf, ",");
		strcat(buf, keys[i]);
	}
	return buf;
}

static const char *
names(const struct config_diff_worker *const *v, size_t n)
{
	static char buf[1024];

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(buf, ",");
		strcat(buf, v[i]->name);
	}
	return buf;
}

/* What config_diff_print() writes; free() it. */
static char *
printed(const struct config_diff *d)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	config_diff_print(d, f);
	assert_int_equal(fclose(f), 0);
	return out;
}

/* config_diff_to_json() compact, keys in the order written; free() it. */
static char *
json_text(const struct config_diff *d)
{
	json_t *o = config_diff_to_json(d);
	char *s;

	assert_non_null(o);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_non_null(s);
	return s;
}

/* What config_diff_check() adds, printed; free() it. */
static char *
check_errors(const struct config_diff *d, int expected_n)
{
	struct config_errors errors = {};
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(config_diff_check(d, &errors), expected_n);
	assert_int_equal(errors.n, (size_t) expected_n);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	config_errors_print(&errors, f);
	assert_int_equal(fclose(f), 0);
	config_errors_clear(&errors);
	return out;
}

#define THREE                                                                                      \
	"[worker:a]\ncommand = /bin/a\n"                                                           \
	"[worker:b]\ncommand = /bin/b --flag\n"                                                    \
	"[worker:c]\ncommand = /bin/c\nafter = a\n"

static void
test_identical(void **state)
{
	struct pair p = diff_texts(THREE, THREE);
	_cleanup_free_ char *text = NULL, *json = NULL, *errors = NULL;

	(void) state;
	assert_true(config_diff_is_empty(p.d));
	assert_int_equal(p.d->n_workers, 3);
	for (size_t i = 0; i < p.d->n_workers; i++) {
		assert_int_equal(p.d->workers[i].change, CONFIG_UNCHANGED);
		assert_int_equal(p.d->workers[i].n_keys, 0);
		assert_non_null(p.d->workers[i].old);
		assert_non_null(p.d->workers[i].new);
	}
	assert_int_equal(p.d->n_by_change[CONFIG_DIFF_WORKERS][CONFIG_UNCHANGED], 3);
	assert_int_equal(p.d->n_settings, 0);
	assert_int_equal(p.d->n_start_order + p.d->n_restart_order + p.d->n_stop_order, 0);
	text = printed(p.d);
	assert_string_equal(text, "no changes\n");
	json = json_text(p.d);
	assert_string_equal(json,
	    "{\"changed\":false,\"workers\":[],\"intakes\":[],\"resources\":[],"
	    "\"unchanged\":{\"workers\":3,\"intakes\":0,\"resources\":0},"
	    "\"resource_order_changed\":false,\"settings\":[],\"start_order\":[],"
	    "\"restart_order\":[],\"stop_order\":[]}");
	errors = check_errors(p.d, 0);
	assert_string_equal(errors, "");
	pair_done(&p);
}

/* The same values spelled otherwise, and sections in another order, are no change. */
static void
test_same_values_reordered(void **state)
{
	struct pair p = diff_texts(
	    "[supervisor]\nname = x\n"
	    "[intake:i]\nlisten = tcp://127.0.0.1:9000\n"
	    "[intake:j]\ntype = readiness\nlisten = tcp://127.0.0.1:9001\n"
	    THREE
	    "[shutdown]\nstop_timeout = 10s\n",
	    "[shutdown]\nstop_timeout = 10000ms\n"
	    "[worker:c]\nafter = a\ncommand = /bin/c\n"
	    "[intake:j]\ntype = readiness\nlisten = tcp://127.0.0.1:9001\n"
	    "[worker:b]\ncommand = '/bin/b'    --flag\n"
	    "[intake:i]\nlisten = tcp://127.0.0.1:9000\n"
	    "[worker:a]\ncommand = /bin/a\n"
	    "[supervisor]\nname = x\n");
	_cleanup_free_ char *text = NULL;

	(void) state;
	assert_true(config_diff_is_empty(p.d));
	/* Listed in the new file's order. */
	assert_string_equal(p.d->workers[0].name, "c");
	assert_string_equal(p.d->workers[2].name, "a");
	assert_string_equal(p.d->intakes[0].name, "j");
	assert_int_equal(intake(&p, "i")->change, CONFIG_UNCHANGED);
	text = printed(p.d);
	assert_string_equal(text, "no changes\n");
	pair_done(&p);
}

static void
test_added_removed(void **state)
{
	struct pair p = diff_texts(THREE,
	    "[worker:a]\ncommand = /bin/a\n"
	    "[worker:d]\ncommand = /bin/d\n"
	    "[worker:b]\ncommand = /bin/b --flag\n");
	_cleanup_free_ char *text = NULL, *json = NULL;

	(void) state;
	assert_false(config_diff_is_empty(p.d));
	assert_int_equal(p.d->n_workers, 4);
	assert_int_equal(worker(&p, "a")->change, CONFIG_UNCHANGED);
	assert_int_equal(worker(&p, "b")->change, CONFIG_UNCHANGED);
	assert_int_equal(worker(&p, "d")->change, CONFIG_ADDED);
	assert_null(worker(&p, "d")->old);
	assert_ptr_equal(worker(&p, "d")->new, config_find_worker(p.new, "d"));
	assert_int_equal(worker(&p, "c")->change, CONFIG_REMOVED);
	assert_ptr_equal(worker(&p, "c")->old, config_find_worker(p.old, "c"));
	assert_null(worker(&p, "c")->new);
	/* The removed come last. */
	assert_string_equal(p.d->workers[3].name, "c");
	assert_string_equal(names(p.d->start_order, p.d->n_start_order), "d");
	assert_string_equal(names(p.d->stop_order, p.d->n_stop_order), "c");
	assert_int_equal(p.d->n_restart_order, 0);
	assert_int_equal(p.d->n_by_change[CONFIG_DIFF_WORKERS][CONFIG_ADDED], 1);
	assert_int_equal(p.d->n_by_change[CONFIG_DIFF_WORKERS][CONFIG_REMOVED], 1);
	assert_int_equal(p.d->n_by_change[CONFIG_DIFF_WORKERS][CONFIG_UNCHANGED], 2);

	text = printed(p.d);
	assert_string_equal(text,
	    "worker 'd': added\n"
	    "worker 'c': removed\n"
	    "start order: d\n"
	    "stop order: c\n"
	    "workers: 1 added, 1 removed, 2 unchanged\n"
	    "intakes: 0 unchanged\n"
	    "resources: 0 unchanged\n");
	json = json_text(p.d);
	assert_string_equal(json,
	    "{\"changed\":true,\"workers\":["
	    "{\"name\":\"d\",\"change\":\"added\",\"keys\":[]},"
	    "{\"name\":\"c\",\"change\":\"removed\",\"keys\":[]}],"
	    "\"intakes\":[],\"resources\":[],"
	    "\"unchanged\":{\"workers\":2,\"intakes\":0,\"resources\":0},"
	    "\"resource_order_changed\":false,\"settings\":[],\"start_order\":[\"d\"],"
	    "\"restart_order\":[],\"stop_order\":[\"c\"]}");
	pair_done(&p);
}

static void
test_changed_command_and_instances(void **state)
{
	struct pair p = diff_texts(THREE,
	    "[worker:a]\ncommand = /bin/a --new\n"
	    "[worker:b]\ncommand = /bin/b --flag\ninstances = 3\n"
	    "[worker:c]\ncommand = /bin/c\nafter = a\n");
	_cleanup_free_ char *text = NULL;

	(void) state;
	assert_int_equal(worker(&p, "a")->change, CONFIG_CHANGED);
	assert_string_equal(joined(worker(&p, "a")->keys, worker(&p, "a")->n_keys), "command");
	assert_int_equal(worker(&p, "b")->change, CONFIG_CHANGED);
	assert_string_equal(joined(worker(&p, "b")->keys, worker(&p, "b")->n_keys), "instances");
	assert_null(worker(&p, "b")->socket);
	/* c is after= a, which restarts: c itself is not touched. */
	assert_int_equal(worker(&p, "c")->change, CONFIG_UNCHANGED);
	assert_string_equal(names(p.d->restart_order, p.d->n_restart_order), "a,b");
	text = printed(p.d);
	assert_string_equal(text,
	    "worker 'a': changed (restart): command\n"
	    "worker 'b': changed (restart): instances\n"
	    "restart order: a b\n"
	    "workers: 2 changed, 1 unchanged\n"
	    "intakes: 0 unchanged\n"
	    "resources: 0 unchanged\n");
	pair_done(&p);
}

/* Whether a key is a ${INSTANCE} template is part of what it says. */
static void
test_instance_template(void **state)
{
	struct pair p = diff_texts("[worker:a]\ncommand = /bin/a ${INSTANCE}\n",
	    "[worker:a]\ncommand = /bin/a ${INSTANCE}\n");

	(void) state;
	assert_true(config_diff_is_empty(p.d));
	pair_done(&p);
	p = diff_texts("[worker:a]\ncommand = /bin/a ${INSTANCE}\n",
	    "[worker:a]\ncommand = /bin/a 0\n");
	assert_int_equal(worker(&p, "a")->change, CONFIG_CHANGED);
	assert_string_equal(joined(worker(&p, "a")->keys, worker(&p, "a")->n_keys), "command");
	pair_done(&p);
	/* "$${INSTANCE}" is a literal "${INSTANCE}": the same words, but not a template. */
	p = diff_texts("[worker:a]\ncommand = /bin/a ${INSTANCE}\n",
	    "[worker:a]\ncommand = /bin/a $${INSTANCE}\n");
	assert_string_equal(config_find_worker(p.old, "a")->argv[1],
	    config_find_worker(p.new, "a")->argv[1]);
	assert_int_equal(worker(&p, "a")->change, CONFIG_CHANGED);
	assert_string_equal(joined(worker(&p, "a")->keys, worker(&p, "a")->n_keys), "command");
	pair_done(&p);
}

static void
test_renamed(void **state)
{
	struct pair p = diff_texts(THREE,
	    "[worker:a]\ncommand = /bin/a\n"
	    "[worker:b2]\ncommand = /bin/b --flag\n"
	    "[worker:c]\ncommand = /bin/c\nafter = a\n");

	(void) state;
	assert_int_equal(p.d->n_workers, 4);
	assert_int_equal(worker(&p, "b2")->change, CONFIG_ADDED);
	assert_int_equal(worker(&p, "b")->change, CONFIG_REMOVED);
	assert_int_equal(worker(&p, "a")->change, CONFIG_UNCHANGED);
	assert_int_equal(worker(&p, "c")->change, CONFIG_UNCHANGED);
	pair_done(&p);
}

/* Keys graced alone reads, at a stop or an exit, change a worker in place. */
static void
test_updated_in_place(void **state)
{
	struct pair p = diff_texts(
	    "[worker:a]\ncommand = /bin/a\n"
	    "[worker:b]\ncommand = /bin/b\nstop_timeout = 3s\n",
	    "[worker:a]\ncommand = /bin/a\nstop_timeout = 20s\nrestart = always\n"
	    "[worker:b]\ncommand = /bin/b\nstop_timeout = 3s\nstop_fd = yes\n");
	_cleanup_free_ char *text = NULL;

	(void) state;
	assert_int_equal(worker(&p, "a")->change, CONFIG_UPDATED);
	assert_string_equal(joined(worker(&p, "a")->keys, worker(&p, "a")->n_keys),
	    "restart,stop_timeout");
	/* stop_fd is a pipe made at start. */
	assert_int_equal(worker(&p, "b")->change, CONFIG_CHANGED);
	assert_int_equal(p.d->n_restart_order, 1);
	text = printed(p.d);
	assert_string_equal(text,
	    "worker 'a': updated (no restart): restart, stop_timeout\n"
	    "worker 'b': changed (restart): stop_fd\n"
	    "restart order: b\n"
	    "workers: 1 changed, 1 updated\n"
	    "intakes: 0 unchanged\n"
	    "resources: 0 unchanged\n");
	pair_done(&p);

	/* A live key and a restart key together: a restart. */
	p = diff_texts("[worker:a]\ncommand = /bin/a\n",
	    "[worker:a]\ncommand = /bin/a\nstop_timeout = 20s\nenvironment = X=1\n");
	assert_int_equal(worker(&p, "a")->change, CONFIG_CHANGED);
	assert_string_equal(joined(worker(&p, "a")->keys, worker(&p, "a")->n_keys),
	    "stop_timeout,environment");
	pair_done(&p);
}

/* A [shutdown] default reaches the workers that inherit it, not the one that sets its own. */
static void
test_shutdown_defaults(void **state)
{
	struct pair p = diff_texts(
	    "[worker:a]\ncommand = /bin/a\n"
	    "[worker:b]\ncommand = /bin/b\nstop_timeout = 3s\n"
	    "[resource:r]\npath = /tmp/x\n",
	    "[shutdown]\nstop_timeout = 30s\nclose_timeout = 1s\ndrain_delay = 2s\n"
	    "[worker:a]\ncommand = /bin/a\n"
	    "[worker:b]\ncommand = /bin/b\nstop_timeout = 3s\n"
	    "[resource:r]\npath = /tmp/x\n");
	_cleanup_free_ char *text = NULL, *errors = NULL;

	(void) state;
	assert_int_equal(worker(&p, "a")->change, CONFIG_UPDATED);
	assert_string_equal(joined(worker(&p, "a")->keys, worker(&p, "a")->n_keys), "stop_timeout");
	assert_int_equal(worker(&p, "b")->change, CONFIG_UNCHANGED);
	assert_int_equal(resource(&p, "r")->change, CONFIG_UPDATED);
	assert_string_equal(joined(resource(&p, "r")->keys, resource(&p, "r")->n_keys),
	    "close_timeout");
	assert_int_equal(p.d->n_settings, 3);
	assert_string_equal(p.d->settings[0].section, "shutdown");
	assert_string_equal(p.d->settings[0].key, "drain_delay");
	assert_true(p.d->settings[0].live);
	assert_string_equal(p.d->settings[0].at.file, "t.ini");
	assert_int_equal(p.d->settings[0].at.line, 4);
	text = printed(p.d);
	assert_string_equal(text,
	    "worker 'a': updated (no restart): stop_timeout\n"
	    "resource 'r': updated: close_timeout\n"
	    "[shutdown] drain_delay: changed, applies to the next shutdown (t.ini:4)\n"
	    "[shutdown] close_timeout: changed, applies to the next shutdown (t.ini:3)\n"
	    "[shutdown] stop_timeout: changed, applies to the next shutdown (t.ini:2)\n"
	    "workers: 1 updated, 1 unchanged\n"
	    "intakes: 0 unchanged\n"
	    "resources: 1 updated\n");
	errors = check_errors(p.d, 0);
	pair_done(&p);
}

#define INTAKES                                                                                    \
	"[intake:http]\nlisten = tcp://127.0.0.1:9000\n"                                           \
	"[intake:quiet]\ntype = signal\nsignal = TSTP\nworkers = web\n"                            \
	"[worker:web]\ncommand = /bin/web\nsockets = http\n"                                       \
	"[worker:jobs]\ncommand = /bin/jobs\n"

/* A new listen address reopens the socket (and restarts its workers); workers= of a signal
 * intake is a setting of graced's own. */
static void
test_intake_listen_vs_workers(void **state)
{
	struct pair p = diff_texts(INTAKES,
	    "[intake:http]\nlisten = tcp://127.0.0.1:9001\n"
	    "[intake:quiet]\ntype = signal\nsignal = TSTP\nworkers = web\n"
	    "[worker:web]\ncommand = /bin/web\nsockets = http\n"
	    "[worker:jobs]\ncommand = /bin/jobs\n");
	_cleanup_free_ char *text = NULL, *json = NULL;

	(void) state;
	assert_int_equal(intake(&p, "http")->change, CONFIG_CHANGED);
	assert_string_equal(joined(intake(&p, "http")->keys, intake(&p, "http")->n_keys), "listen");
	assert_int_equal(intake(&p, "quiet")->change, CONFIG_UNCHANGED);
	assert_int_equal(worker(&p, "web")->change, CONFIG_CHANGED);
	assert_int_equal(worker(&p, "web")->n_keys, 0);
	assert_string_equal(worker(&p, "web")->socket, "http");
	assert_int_equal(worker(&p, "jobs")->change, CONFIG_UNCHANGED);
	text = printed(p.d);
	assert_string_equal(text,
	    "worker 'web': changed (restart): intake 'http' is reopened\n"
	    "intake 'http': changed (socket reopened): listen\n"
	    "restart order: web\n"
	    "workers: 1 changed, 1 unchanged\n"
	    "intakes: 1 changed, 1 unchanged\n"
	    "resources: 0 unchanged\n");
	json = json_text(p.d);
	assert_non_null(strstr(json,
	    "\"workers\":[{\"name\":\"web\",\"change\":\"changed\",\"keys\":[],"
	    "\"socket\":\"http\"}],"
	    "\"intakes\":[{\"name\":\"http\",\"change\":\"changed\",\"keys\":[\"listen\"]}]"));
	pair_done(&p);

	p = diff_texts(INTAKES,
	    "[intake:http]\nlisten = tcp://127.0.0.1:9000\nbacklog = 64\n"
	    "[intake:quiet]\ntype = signal\nsignal = TSTP\nworkers = web, jobs\n"
	    "[worker:web]\ncommand = /bin/web\nsockets = http\n"
	    "[worker:jobs]\ncommand = /bin/jobs\n");
	/* The socket stays open: listen() again with the new backlog. */
	assert_int_equal(intake(&p, "http")->change, CONFIG_UPDATED);
	assert_string_equal(joined(intake(&p, "http")->keys, intake(&p, "http")->n_keys), "backlog");
	assert_int_equal(intake(&p, "quiet")->change, CONFIG_UPDATED);
	assert_string_equal(joined(intake(&p, "quiet")->keys, intake(&p, "quiet")->n_keys),
	    "workers");
	assert_int_equal(worker(&p, "web")->change, CONFIG_UNCHANGED);
	assert_int_equal(worker(&p, "jobs")->change, CONFIG_UNCHANGED);
	free(text);
	text = printed(p.d);
	assert_string_equal(text,
	    "intake 'http': updated (socket kept): backlog\n"
	    "intake 'quiet': updated: workers\n"
	    "workers: 2 unchanged\n"
	    "intakes: 2 updated\n"
	    "resources: 0 unchanged\n");
	pair_done(&p);

	/* A socket intake becoming a readiness endpoint on the same address is a new socket; a
	 * signal intake becoming an exec one has none to reopen. */
	p = diff_texts(INTAKES,
	    "[intake:http]\ntype = readiness\nlisten = tcp://127.0.0.1:9000\n"
	    "[intake:quiet]\ntype = exec\ncommand = /bin/deregister\n"
	    "[worker:web]\ncommand = /bin/web\n"
	    "[worker:jobs]\ncommand = /bin/jobs\n");
	assert_int_equal(intake(&p, "http")->change, CONFIG_CHANGED);
	assert_string_equal(joined(intake(&p, "http")->keys, intake(&p, "http")->n_keys), "type");
	assert_int_equal(intake(&p, "quiet")->change, CONFIG_UPDATED);
	assert_string_equal(joined(intake(&p, "quiet")->keys, intake(&p, "quiet")->n_keys),
	    "type,command,signal,workers");
	/* web no longer has the socket: its own sockets= changed (and it does not use http). */
	assert_int_equal(worker(&p, "web")->change, CONFIG_CHANGED);
	assert_string_equal(joined(worker(&p, "web")->keys, worker(&p, "web")->n_keys), "sockets");
	assert_null(worker(&p, "web")->socket);
	pair_done(&p);
}

/* An intake renamed is one removed and one added; the worker's sockets= changed with it. */
static void
test_intake_renamed(void **state)
{
	struct pair p = diff_texts(INTAKES,
	    "[intake:web-http]\nlisten = tcp://127.0.0.1:9000\n"
	    "[intake:quiet]\ntype = signal\nsignal = TSTP\nworkers = web\n"
	    "[worker:web]\ncommand = /bin/web\nsockets = web-http\n"
	    "[worker:jobs]\ncommand = /bin/jobs\n");

	(void) state;
	assert_int_equal(intake(&p, "web-http")->change, CONFIG_ADDED);
	assert_int_equal(intake(&p, "http")->change, CONFIG_REMOVED);
	assert_null(intake(&p, "http")->new);
	assert_int_equal(worker(&p, "web")->change, CONFIG_CHANGED);
	assert_string_equal(joined(worker(&p, "web")->keys, worker(&p, "web")->n_keys), "sockets");
	assert_int_equal(p.d->n_by_change[CONFIG_DIFF_INTAKES][CONFIG_ADDED], 1);
	assert_int_equal(p.d->n_by_change[CONFIG_DIFF_INTAKES][CONFIG_REMOVED], 1);
	assert_int_equal(p.d->n_by_change[CONFIG_DIFF_INTAKES][CONFIG_UNCHANGED], 1);
	pair_done(&p);
}

static void
test_resources(void **state)
{
	struct pair p = diff_texts(
	    "[resource:a]\npath = /tmp/a\n[resource:b]\npath = /tmp/b\n"
	    "[resource:c]\ntype = exec\ncommand = /bin/flush\n" THREE,
	    "[resource:b]\npath = /tmp/b\n[resource:a]\npath = /tmp/a\n"
	    "[resource:d]\npath = /tmp/d\n" THREE);
	_cleanup_free_ char *text = NULL;

	(void) state;
	assert_int_equal(resource(&p, "a")->change, CONFIG_UNCHANGED);
	assert_int_equal(resource(&p, "b")->change, CONFIG_UNCHANGED);
	assert_int_equal(resource(&p, "c")->change, CONFIG_REMOVED);
	assert_int_equal(resource(&p, "d")->change, CONFIG_ADDED);
	/* a and b now close in the other order. */
	assert_true(p.d->resource_order_changed);
	text = printed(p.d);
	assert_string_equal(text,
	    "resource 'd': added\n"
	    "resource 'c': removed\n"
	    "resources: close order changed\n"
	    "workers: 3 unchanged\n"
	    "intakes: 0 unchanged\n"
	    "resources: 1 added, 1 removed, 2 unchanged\n");
	pair_done(&p);

	/* Removing one in the middle moves nothing that stays. */
	p = diff_texts("[resource:a]\npath = /tmp/a\n[resource:b]\npath = /tmp/b\n"
		       "[resource:c]\npath = /tmp/c\n" THREE,
	    "[resource:a]\npath = /tmp/a\n[resource:c]\npath = /tmp/c\n" THREE);
	assert_false(p.d->resource_order_changed);
	assert_int_equal(resource(&p, "b")->change, CONFIG_REMOVED);
	pair_done(&p);
}

static void
test_supervisor_cannot_change(void **state)
{
	struct pair p = diff_texts(
	    "[supervisor]\nname = shop\ncontrol_socket = /tmp/shop.sock\nlog_level = info\n" THREE,
	    "[supervisor]\nlog_level = debug\n\nname = shop2\n" THREE);
	_cleanup_free_ char *text = NULL, *errors = NULL, *json = NULL;

	(void) state;
	assert_int_equal(p.d->n_settings, 3);
	assert_false(config_diff_is_empty(p.d));
	text = printed(p.d);
	assert_string_equal(text,
	    "[supervisor] name: cannot change at run time (t.ini:4)\n"
	    "[supervisor] log_level: changed, applies now (t.ini:2)\n"
	    "[supervisor] control_socket: cannot change at run time\n"
	    "workers: 3 unchanged\n"
	    "intakes: 0 unchanged\n"
	    "resources: 0 unchanged\n");
	errors = check_errors(p.d, 2);
	assert_string_equal(errors,
	    "t.ini:4: cannot change at run time: name (restart graced to apply it)\n"
	    "t.ini: cannot change at run time: control_socket (now unset; restart graced to "
	    "apply it)\n");
	json = json_text(p.d);
	assert_non_null(strstr(json,
	    "\"settings\":["
	    "{\"section\":\"supervisor\",\"key\":\"name\",\"live\":false,\"file\":\"t.ini\","
	    "\"line\":4},"
	    "{\"section\":\"supervisor\",\"key\":\"log_level\",\"live\":true,\"file\":\"t.ini\","
	    "\"line\":2},"
	    "{\"section\":\"supervisor\",\"key\":\"control_socket\",\"live\":false}]"));
	pair_done(&p);
}

/* Dependency order: added workers start after what they are after=, removed ones stop first. */
static void
test_orders(void **state)
{
	struct pair p = diff_texts(
	    "[worker:keep]\ncommand = /bin/k\n"
	    "[worker:p]\ncommand = /bin/p\nafter = q\n"
	    "[worker:q]\ncommand = /bin/q\nafter = keep\n"
	    "[worker:r]\ncommand = /bin/r\n",
	    "[worker:x]\ncommand = /bin/x\nafter = y\n"
	    "[worker:y]\ncommand = /bin/y\nafter = z keep\n"
	    "[worker:z]\ncommand = /bin/z\n"
	    "[worker:w]\ncommand = /bin/w\n"
	    "[worker:keep]\ncommand = /bin/k2\n"
	    "[worker:r]\ncommand = /bin/r2\nafter = keep\n");

	(void) state;
	/* z before y before x; w (after= nothing, nothing after= it) with the last level. */
	assert_string_equal(names(p.d->start_order, p.d->n_start_order), "z,y,x,w");
	/* keep before r, which is after= it. */
	assert_string_equal(names(p.d->restart_order, p.d->n_restart_order), "keep,r");
	/* p before q (p is after= q); r is not removed. */
	assert_string_equal(names(p.d->stop_order, p.d->n_stop_order), "p,q");
	pair_done(&p);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	_cleanup_free_ char *path = NULL;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void
remove_tree(const char *dir)
{
	_cleanup_free_ char *cmd = NULL;

	assert_true(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
	assert_int_equal(system(cmd), 0);
}

/* Sections moved into included files are the same sections; a change inside an included file
 * is named at that file's line; an environment_file's content is not compared. */
static void
test_includes(void **state)
{
	char dir[] = "/tmp/graced-test-config-diff-XXXXXX";
	_cleanup_free_ char *main_ini = NULL, *sub = NULL, *errors = NULL, *expected = NULL;
	struct config *old;
	struct pair p;

	(void) state;
	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&main_ini, "%s/main.ini", dir) > 0);
	assert_true(asprintf(&sub, "%s/conf.d", dir) > 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(dir, "env", "A=1\n");
	write_file(dir, "main.ini",
	    "[supervisor]\nname = inc\n"
	    "[worker:a]\ncommand = /bin/a\nenvironment_file = /tmp/graced-no-such-env\n"
	    "[worker:b]\ncommand = /bin/b\n"
	    "[worker:c]\ncommand = /bin/c\n");
	old = load_path(main_ini);

	/* b and c move into conf.d, [supervisor] too; nothing changes. */
	write_file(dir, "main.ini",
	    "include = conf.d/*.ini\n"
	    "[worker:a]\ncommand = /bin/a\nenvironment_file = /tmp/graced-no-such-env\n");
	write_file(sub, "10-b.ini", "[worker:b]\ncommand = /bin/b\n");
	write_file(sub, "20-c.ini", "[supervisor]\nname = inc\n\n[worker:c]\ncommand = /bin/c\n");
	p = pair_of(old, load_path(main_ini));
	assert_true(config_diff_is_empty(p.d));
	config_diff_free(p.d);
	config_free(p.old);
	old = p.new;

	/* A change in an included file, and [supervisor] name there. */
	write_file(sub, "20-c.ini", "[supervisor]\nname = inc2\n\n[worker:c]\ncommand = /bin/c2\n");
	p = pair_of(old, load_path(main_ini));
	assert_int_equal(worker(&p, "c")->change, CONFIG_CHANGED);
	assert_int_equal(worker(&p, "a")->change, CONFIG_UNCHANGED);
	assert_int_equal(worker(&p, "b")->change, CONFIG_UNCHANGED);
	errors = check_errors(p.d, 1);
	assert_true(asprintf(&expected,
	    "%s/20-c.ini:2: cannot change at run time: name (restart graced to apply it)\n",
	    sub) > 0);
	assert_string_equal(errors, expected);
	config_diff_free(p.d);
	config_free(p.old);
	old = p.new;

	/* The environment file's content is read at each start, not compared. */
	write_file(dir, "env", "A=2\n");
	p = pair_of(old, load_path(main_ini));
	assert_true(config_diff_is_empty(p.d));
	pair_done(&p);
	remove_tree(dir);
}

/*
 * Every key of config-keys.c, changed alone from its default: the diff names exactly that key
 * (or the keys listed) with the expected outcome. A key with no line here fails the test: add
 * one, and compare the key in config-diff.c.
 */
struct sample {
	enum section_kind kind;
	const char *key;
	const char *old;      /* the section's body before */
	const char *new;      /* and after */
	enum config_change change;   /* sections; for [supervisor]/[shutdown]: CHANGED means
				      * "cannot change at run time", UPDATED "live" */
	const char *keys;     /* what the diff must name; NULL: key */
};

#define WORKER_BODY "command = /bin/w\n"
#define WK(k, v, c) { SECTION_WORKER, k, WORKER_BODY, WORKER_BODY k " = " v "\n", c, NULL }
#define TCP "listen = tcp://127.0.0.1:9100\n"
#define UNIX "listen = unix:/tmp/graced-test-diff.sock\n"
#define IK(k, base, v, c) { SECTION_INTAKE, k, base, base k " = " v "\n", c, NULL }
#define SK(k, v, c) { SECTION_SUPERVISOR, k, "", k " = " v "\n", c, NULL }
#define DK(k, v) { SECTION_SHUTDOWN, k, "", k " = " v "\n", CONFIG_UPDATED, NULL }

static const struct sample samples[] = {
	{ SECTION_WORKER, "command", "command = /bin/w\n", "command = /bin/w2\n", CONFIG_CHANGED, NULL },
	WK("instances", "2", CONFIG_CHANGED),
	WK("type", "oneshot", CONFIG_CHANGED),
	WK("autostart", "no", CONFIG_UPDATED),
	WK("after", "d", CONFIG_UPDATED),
	WK("sockets", "s", CONFIG_CHANGED),
	WK("ready", "notify", CONFIG_CHANGED),
	WK("start_timeout", "1s", CONFIG_UPDATED),
	WK("restart", "always", CONFIG_UPDATED),
	WK("restart_delay", "2s", CONFIG_UPDATED),
	WK("restart_delay_max", "1m", CONFIG_UPDATED),
	WK("start_limit", "3 in 10s", CONFIG_UPDATED),
	WK("stop_timeout", "1s", CONFIG_UPDATED),
	WK("join_timeout", "1s", CONFIG_UPDATED),
	WK("kill_timeout", "1s", CONFIG_UPDATED),
	WK("intake_signal", "TSTP", CONFIG_UPDATED),
	WK("stop_signal", "QUIT", CONFIG_UPDATED),
	WK("cancel_signal", "TERM", CONFIG_UPDATED),
	WK("kill_signal", "TERM", CONFIG_UPDATED),
	WK("kill_mode", "main", CONFIG_UPDATED),
	WK("signal_target", "group", CONFIG_UPDATED),
	WK("stop_fd", "yes", CONFIG_CHANGED),
	WK("user", "nobody", CONFIG_CHANGED),
	WK("group", "nogroup", CONFIG_CHANGED),
	WK("directory", "/tmp", CONFIG_CHANGED),
	WK("environment", "A=1", CONFIG_CHANGED),
	WK("environment_file", "-/tmp/graced-no-such-env", CONFIG_CHANGED),
	WK("umask", "077", CONFIG_CHANGED),
	WK("output", "prefix", CONFIG_CHANGED),
	WK("stderr", "stdout", CONFIG_CHANGED),
	WK("output_max_size", "1M", CONFIG_CHANGED),
	WK("output_backups", "2", CONFIG_CHANGED),
	WK("critical", "yes", CONFIG_UPDATED),
	WK("success_status", "3", CONFIG_UPDATED),
	WK("watchdog", "10s", CONFIG_CHANGED),
	WK("limit_nofile", "1024", CONFIG_CHANGED),
	WK("limit_nproc", "100", CONFIG_CHANGED),
	WK("limit_core", "0", CONFIG_CHANGED),
	WK("limit_memlock", "65536", CONFIG_CHANGED),
	WK("nice", "5", CONFIG_CHANGED),
	WK("oom_score_adjust", "100", CONFIG_CHANGED),
	WK("on_exit", "/bin/true", CONFIG_UPDATED),
	WK("hook_timeout", "1s", CONFIG_UPDATED),

	{ SECTION_INTAKE, "type", TCP, "type = readiness\n" TCP, CONFIG_CHANGED, NULL },
	{ SECTION_INTAKE, "listen", TCP, "listen = tcp://127.0.0.1:9101\n", CONFIG_CHANGED, NULL },
	IK("backlog", TCP, "10", CONFIG_UPDATED),
	IK("reuseport", TCP, "yes", CONFIG_CHANGED),
	IK("mode", UNIX, "0600", CONFIG_UPDATED),
	IK("owner", UNIX, "nobody", CONFIG_UPDATED),
	IK("group", UNIX, "nogroup", CONFIG_UPDATED),
	IK("max_connections", "type = readiness\n" TCP, "10", CONFIG_UPDATED),
	IK("request_timeout", "type = readiness\n" TCP, "1s", CONFIG_UPDATED),
	{ SECTION_INTAKE, "command", "type = exec\ncommand = /bin/a\n",
	    "type = exec\ncommand = /bin/b\n", CONFIG_UPDATED, NULL },
	{ SECTION_INTAKE, "signal", "type = signal\nsignal = TSTP\nworkers = d\n",
	    "type = signal\nsignal = USR1\nworkers = d\n", CONFIG_UPDATED, NULL },
	{ SECTION_INTAKE, "workers", "type = signal\nsignal = TSTP\nworkers = d\n",
	    "type = signal\nsignal = TSTP\nworkers = d e\n", CONFIG_UPDATED, NULL },

	{ SECTION_RESOURCE, "type", "path = /tmp/x\n", "type = exec\ncommand = /bin/r\n",
	    CONFIG_UPDATED, "type,path,command" },
	{ SECTION_RESOURCE, "path", "path = /tmp/x\n", "path = /tmp/y\n", CONFIG_UPDATED, NULL },
	{ SECTION_RESOURCE, "command", "type = exec\ncommand = /bin/a\n",
	    "type = exec\ncommand = /bin/b\n", CONFIG_UPDATED, NULL },
	{ SECTION_RESOURCE, "close_timeout", "path = /tmp/x\n", "path = /tmp/x\nclose_timeout = 1s\n",
	    CONFIG_UPDATED, NULL },

	SK("name", "other", CONFIG_CHANGED),
	SK("log_level", "debug", CONFIG_UPDATED),
	SK("log_target", "stderr", CONFIG_UPDATED),
	SK("pidfile", "/tmp/graced-test.pid", CONFIG_CHANGED),
	SK("report", "/tmp/graced-test.json", CONFIG_UPDATED),
	SK("control_socket", "/tmp/graced-test.sock", CONFIG_CHANGED),
	SK("control_group", "adm", CONFIG_UPDATED),
	SK("subreaper", "no", CONFIG_CHANGED),
	SK("debug", "yes", CONFIG_UPDATED),
	SK("slow_step", "1s", CONFIG_UPDATED),
	SK("exit_code_from", "d", CONFIG_UPDATED),
	SK("when_empty", "stay", CONFIG_UPDATED),

	DK("intake_timeout", "1s"),
	DK("drain_delay", "1s"),
	DK("close_timeout", "1s"),
	DK("deadline", "30s"),
	DK("second_signal", "ignore"),
	DK("second_signal_window", "1s"),
	DK("stop_timeout", "1s"),
	DK("join_timeout", "1s"),
	DK("kill_timeout", "1s"),
	DK("intake_signal", "TSTP"),
	DK("stop_signal", "QUIT"),
	DK("cancel_signal", "TERM"),
	DK("kill_signal", "TERM"),
	DK("kill_mode", "main"),
	DK("signal_target", "group"),
	DK("stop_fd", "yes"),
};

/* Around every sample: workers d and e to be after= or in workers=, an intake s for sockets=. */
#define AROUND                                                                                     \
	"[worker:d]\ncommand = /bin/d\n[worker:e]\ncommand = /bin/e\n"                               \
	"[intake:s]\nlisten = tcp://127.0.0.1:9200\n"

static char *
sample_text(const struct sample *s, const char *body)
{
	char *text;
	const char *title;

	switch (s->kind) {
	case SECTION_WORKER:
		title = "[worker:w]";
		break;
	case SECTION_INTAKE:
		title = "[intake:i]";
		break;
	case SECTION_RESOURCE:
		title = "[resource:r]";
		break;
	case SECTION_SUPERVISOR:
		title = "[supervisor]";
		break;
	case SECTION_SHUTDOWN:
		title = "[shutdown]";
		break;
	default:
		fail_msg("section kind %d", s->kind);
		return NULL;
	}
	assert_true(asprintf(&text, AROUND "%s\n%s", title, body) > 0);
	return text;
}

static void
check_sample(const struct sample *s)
{
	_cleanup_free_ char *old = sample_text(s, s->old), *new = sample_text(s, s->new);
	const char *expected = s->keys ? s->keys : s->key;
	struct pair p = diff_texts(old, new);
	const char *const *keys = NULL;
	enum config_change change;
	size_t n_keys = 0;

	switch (s->kind) {
	case SECTION_WORKER:
		change = worker(&p, "w")->change;
		keys = worker(&p, "w")->keys;
		n_keys = worker(&p, "w")->n_keys;
		break;
	case SECTION_INTAKE:
		change = intake(&p, "i")->change;
		keys = intake(&p, "i")->keys;
		n_keys = intake(&p, "i")->n_keys;
		break;
	case SECTION_RESOURCE:
		change = resource(&p, "r")->change;
		keys = resource(&p, "r")->keys;
		n_keys = resource(&p, "r")->n_keys;
		break;
	default:
		/* The first setting of the section is the key (a [shutdown] default also changes
		 * worker d, which inherits it). */
		for (size_t i = 0; i < p.d->n_settings; i++)
			if (streq(p.d->settings[i].section, s->kind == SECTION_SUPERVISOR ?
				    "supervisor" : "shutdown")) {
				keys = &p.d->settings[i].key;
				n_keys = 1;
				change = p.d->settings[i].live ? CONFIG_UPDATED : CONFIG_CHANGED;
				break;
			}
		if (!keys)
			fail_msg("[%s] %s: no setting in the diff", section_kind_to_string(s->kind),
			    s->key);
		assert_int_equal(p.d->n_settings, 1);
		break;
	}
	if (!streq(joined(keys, n_keys), expected) || change != s->change)
		fail_msg("[%s] %s: the diff says %s '%s', expected %s '%s'",
		    section_kind_to_string(s->kind), s->key, config_change_to_string(change),
		    joined(keys, n_keys), config_change_to_string(s->change), expected);
	pair_done(&p);
}

static void
test_every_key(void **state)
{
	(void) state;
	for (size_t i = 0; i < config_keys_n; i++) {
		const struct config_key *k = &config_keys[i];
		const struct sample *found = NULL;

		for (size_t j = 0; j < ELEMENTSOF(samples); j++)
			if (samples[j].kind == k->section && streq(samples[j].key, k->name))
				found = &samples[j];
		if (!found)
			fail_msg("key '%s' of [%s] has no sample in test_config_diff.c: add one, and "
				 "compare the key in config-diff.c",
			    k->name, section_kind_to_string(k->section));
		check_sample(found);
	}
	/* And no sample for a key that is not there. */
	for (size_t j = 0; j < ELEMENTSOF(samples); j++)
		assert_non_null(config_key_find(samples[j].kind, samples[j].key));
}

/* A config built in memory (single.c's) has no file: the errors have none either. */
static void
test_in_memory(void **state)
{
	struct config *old = config_new(), *new = config_new();
	struct pair p;
	_cleanup_free_ char *errors = NULL;

	(void) state;
	assert_non_null(config_add_worker(old, "main"));
	assert_non_null(config_add_worker(new, "main"));
	free(new->supervisor.name);
	new->supervisor.name = strdup("other");
	assert_non_null(new->supervisor.name);
	p = pair_of(old, new);
	assert_int_equal(worker(&p, "main")->change, CONFIG_UNCHANGED);
	errors = check_errors(p.d, 1);
	assert_string_equal(errors, "cannot change at run time: name (restart graced to apply it)\n");
	pair_done(&p);
}

/* Every allocation that fails makes the whole fail cleanly (no leak: valgrind and ASan). */
static void
test_out_of_memory(void **state)
{
	struct config *old = load_text(INTAKES "[resource:a]\npath = /tmp/a\n"
					     "[worker:gone]\ncommand = /bin/gone\n");
	struct config *new = load_text("[supervisor]\nname = other\n[shutdown]\ndrain_delay = 1s\n"
				       "[intake:http]\nlisten = tcp://127.0.0.1:9001\n"
				       "[intake:quiet]\ntype = signal\nsignal = USR1\nworkers = web\n"
				       "[worker:web]\ncommand = /bin/web\nsockets = http\n"
				       "[worker:jobs]\ncommand = /bin/jobs2\n"
				       "[worker:new]\ncommand = /bin/new\nafter = jobs\n"
				       "[resource:b]\npath = /tmp/b\n");
	struct config_diff *d = NULL;
	json_t *o = NULL;
	int k, r = -ENOMEM;

	(void) state;
	for (k = 0; r < 0; k++) {
		fail_after = k;
		r = config_diff_build(old, new, &d);
		fail_after = -1;
		if (r < 0) {
			assert_int_equal(r, -ENOMEM);
			assert_null(d);
		}
	}
	/* Every part allocated something: the worker keys, intakes, resources, settings, orders,
	 * plans, name indexes. */
	assert_true(k > 10);
	assert_int_equal(d->n_start_order + d->n_restart_order + d->n_stop_order, 4);
	for (k = 0; !o; k++) {
		fail_after = k;
		o = config_diff_to_json(d);
		fail_after = -1;
	}
	json_decref(o);
	config_diff_free(d);
	config_free(old);
	config_free(new);
}

static void
test_change_strings(void **state)
{
	(void) state;
	for (int c = 0; c < _CONFIG_CHANGE_MAX; c++)
		assert_int_equal(config_change_from_string(config_change_to_string(c)), c);
	assert_int_equal(config_change_from_string("moved"), _CONFIG_CHANGE_INVALID);
	assert_null(config_change_to_string(_CONFIG_CHANGE_MAX));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_same_values_reordered),
		cmocka_unit_test(test_added_removed),
		cmocka_unit_test(test_changed_command_and_instances),
		cmocka_unit_test(test_instance_template),
		cmocka_unit_test(test_renamed),
		cmocka_unit_test(test_updated_in_place),
		cmocka_unit_test(test_shutdown_defaults),
		cmocka_unit_test(test_intake_listen_vs_workers),
		cmocka_unit_test(test_intake_renamed),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_supervisor_cannot_change),
		cmocka_unit_test(test_orders),
		cmocka_unit_test(test_includes),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_in_memory),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_change_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
