/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the configuration language: defaults, every key, inheritance from [shutdown],
 * environment expansion, includes, quoting, long lines, and one input per class of error with
 * the exact FILE:LINE: message it must produce.
 */

#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "config.h"
#include "util.h"

/* Loads text as "t.ini"; returns what config_errors_print() writes ("" when it loaded). */
static char *
load(const char *text, struct config **ret)
{
	struct config_errors errors = {};
	struct config *c = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	r = config_load_string("t.ini", text, &c, &errors);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	config_errors_print(&errors, f);
	assert_int_equal(fclose(f), 0);
	if (r == 0) {
		assert_non_null(c);
		assert_int_equal(errors.n, 0);
	} else {
		assert_int_equal(r, -EINVAL);
		assert_null(c);
		assert_true(errors.n > 0);
	}
	config_errors_clear(&errors);
	if (ret)
		*ret = c;
	else
		config_free(c);
	return out;
}

static struct config *
load_ok(const char *text)
{
	struct config *c = NULL;
	char *out;

	out = load(text, &c);
	assert_string_equal(out, "");
	free(out);
	assert_non_null(c);
	return c;
}

static void
expect_errors(const char *text, const char *expected)
{
	char *out;

	out = load(text, NULL);
	assert_string_equal(out, expected);
	free(out);
}

#define MINIMAL "[worker:a]\ncommand = /bin/true\n"

static void
test_defaults(void **state)
{
	struct config *c;
	const struct worker_config *w;
	const struct intake_config *in;
	const struct resource_config *r;

	c = load_ok(MINIMAL "[intake:i]\nlisten = tcp://127.0.0.1:80\n[resource:r]\npath = /x\n");
	assert_string_equal(c->files[0], "t.ini");
	assert_null(c->files[1]);

	assert_string_equal(c->supervisor.name, "graced");
	assert_int_equal(c->supervisor.log_level, LOG_LEVEL_INFO);
	assert_int_equal(c->supervisor.log_target, LOG_TARGET_AUTO);
	assert_null(c->supervisor.pidfile);
	assert_null(c->supervisor.report);
	assert_null(c->supervisor.control_socket);
	assert_true(c->supervisor.subreaper);
	assert_false(c->supervisor.debug);
	assert_int_equal(c->supervisor.slow_step, 100 * USEC_PER_MSEC);
	assert_null(c->supervisor.exit_code_from);

	assert_int_equal(c->shutdown.intake_timeout, 5 * USEC_PER_SEC);
	assert_int_equal(c->shutdown.drain_delay, 0);
	assert_int_equal(c->shutdown.close_timeout, 5 * USEC_PER_SEC);
	assert_true(c->shutdown.deadline == USEC_INFINITY);
	assert_false(c->shutdown.deadline_set);
	assert_int_equal(c->shutdown.second_signal, SECOND_SIGNAL_ESCALATE);
	assert_int_equal(c->shutdown.second_signal_window, 200 * USEC_PER_MSEC);
	assert_int_equal(c->supervisor.when_empty, WHEN_EMPTY_SHUTDOWN);
	assert_int_equal(c->shutdown.defaults.stop_timeout, 10 * USEC_PER_SEC);
	assert_int_equal(c->shutdown.defaults.join_timeout, 5 * USEC_PER_SEC);
	assert_int_equal(c->shutdown.defaults.kill_timeout, 5 * USEC_PER_SEC);
	assert_int_equal(c->shutdown.defaults.intake_signal, SIGNAL_NONE);
	assert_int_equal(c->shutdown.defaults.stop_signal, SIGTERM);
	assert_int_equal(c->shutdown.defaults.cancel_signal, SIGINT);
	assert_int_equal(c->shutdown.defaults.kill_signal, SIGKILL);
	assert_int_equal(c->shutdown.defaults.kill_mode, KILL_MODE_GROUP);
	assert_false(c->shutdown.defaults.stop_fd);

	assert_int_equal(c->n_workers, 1);
	w = c->workers[0];
	assert_string_equal(w->name, "a");
	assert_ptr_equal(w->at.file, c->files[0]);
	assert_int_equal(w->at.line, 1);
	assert_string_equal(w->argv[0], "/bin/true");
	assert_null(w->argv[1]);
	assert_string_equal(w->command, "/bin/true");
	assert_int_equal(w->instances, 1);
	assert_null(w->after);
	assert_null(w->sockets);
	assert_int_equal(w->ready.kind, READY_NONE);
	assert_int_equal(w->start_timeout, 30 * USEC_PER_SEC);
	assert_int_equal(w->restart, RESTART_NO);
	assert_int_equal(w->restart_delay, USEC_PER_SEC);
	assert_int_equal(w->restart_delay_max, 30 * USEC_PER_SEC);
	assert_int_equal(w->start_limit_burst, 5);
	assert_int_equal(w->start_limit_interval, 60 * USEC_PER_SEC);
	assert_memory_equal(&w->shutdown, &c->shutdown.defaults, sizeof(w->shutdown));
	assert_null(w->user);
	assert_null(w->group);
	assert_null(w->directory);
	assert_null(w->environment);
	assert_false(w->has_umask);
	assert_int_equal(w->output, OUTPUT_INHERIT);
	assert_null(w->output_file);
	assert_int_equal(w->stderr_mode, STDERR_AUTO);
	assert_int_equal(worker_config_stderr(w), STDERR_SEPARATE);
	assert_true(w->output_max_size == 10 * 1024 * 1024);
	assert_int_equal(w->output_backups, 5);
	assert_false(w->critical);
	assert_int_equal(w->type, WORKER_LONGRUN);
	assert_true(w->autostart);
	assert_int_equal(w->n_success_status, 0);
	assert_int_equal(w->n_success_signal, 0);
	assert_true(w->watchdog == USEC_INFINITY);

	assert_int_equal(c->n_intakes, 1);
	in = c->intakes[0];
	assert_int_equal(in->type, INTAKE_SOCKET);
	assert_true(in->has_listen);
	assert_int_equal(in->listen_at.line, 4);
	assert_int_equal(in->backlog, 511);
	assert_false(in->reuseport);
	assert_false(in->has_mode);
	assert_null(in->owner);
	assert_null(in->group);
	assert_null(in->argv);
	assert_int_equal(in->signal, SIGNAL_NONE);
	assert_null(in->workers);

	assert_int_equal(c->n_resources, 1);
	r = c->resources[0];
	assert_int_equal(r->type, RESOURCE_FILE);
	assert_string_equal(r->path, "/x");
	assert_int_equal(r->close_timeout, 5 * USEC_PER_SEC);

	assert_ptr_equal(config_find_worker(c, "a"), w);
	assert_null(config_find_worker(c, "b"));
	assert_ptr_equal(config_find_intake(c, "i"), in);
	assert_null(config_find_intake(c, "a"));
	config_free(c);
}

static const char every_key[] =
    "[supervisor]\n"
    "name = shop\n"
    "log_level = debug\n"
    "log_target = journal\n"
    "pidfile = /run/shop.pid\n"
    "report = /run/shop.json\n"
    "control_socket = /run/shop.sock\n"
    "subreaper = no\n"
    "debug = yes\n"
    "slow_step = 250ms\n"
    "exit_code_from = web\n"
    "[shutdown]\n"
    "intake_timeout = 2s\n"
    "drain_delay = 1s500ms\n"
    "stop_timeout = 11s\n"
    "join_timeout = 12s\n"
    "kill_timeout = 13s\n"
    "close_timeout = 14s\n"
    "deadline = 1m\n"
    "second_signal = ignore\n"
    "stop_signal = SIGQUIT\n"
    "cancel_signal = none\n"
    "kill_signal = TERM\n"
    "kill_mode = main\n"
    "intake_signal = TSTP\n"
    "stop_fd = yes\n"
    "[intake:http]\n"
    "type = socket\n"
    "listen = unix:/run/http.sock\n"
    "backlog = 128\n"
    "reuseport = yes\n"
    "mode = 0660\n"
    "owner = www\n"
    "group = wwwgrp\n"
    "[intake:ready]\n"
    "type = readiness\n"
    "listen = tcp://127.0.0.1:8081\n"
    "[intake:lb]\n"
    "type = exec\n"
    "command = /usr/bin/deregister --now\n"
    "[intake:quiet]\n"
    "type = signal\n"
    "signal = SIGUSR1\n"
    "workers = web, db\n"
    "[worker:db]\n"
    "command = /usr/bin/db\n"
    "[worker:web]\n"
    "command = /usr/bin/web --listen-fd 3\n"
    "instances = 3\n"
    "after = db\n"
    "sockets = http\n"
    "ready = tcp:8080\n"
    "start_timeout = 40s\n"
    "restart = always\n"
    "restart_delay = 2s\n"
    "restart_delay_max = 1m\n"
    "start_limit = 3 in 10s\n"
    "stop_signal = SIGTERM\n"
    "stop_timeout = 20s\n"
    "cancel_signal = SIGINT\n"
    "join_timeout = 6s\n"
    "kill_signal = SIGKILL\n"
    "kill_timeout = 7s\n"
    "kill_mode = group\n"
    "intake_signal = none\n"
    "stop_fd = no\n"
    "user = www-data\n"
    "group = www-data\n"
    "directory = /srv/web\n"
    "environment = PORT=8080 MODE=prod\n"
    "umask = 027\n"
    "output = prefix\n"
    "stderr = file:/tmp/graced-test-config.err\n"
    "output_max_size = 64K\n"
    "output_backups = 0\n"
    "critical = yes\n"
    "type = longrun\n"
    "autostart = no\n"
    "success_status = 3 75 SIGHUP USR2\n"
    "watchdog = 30s\n"
    "[resource:spool]\n"
    "type = exec\n"
    "command = /usr/bin/flush-spool\n"
    "close_timeout = 9s\n"
    "[resource:lock]\n"
    "type = file\n"
    "path = /run/shop.lock\n";

static void
test_every_key(void **state)
{
	struct config *c = load_ok(every_key);
	const struct worker_config *w, *db;
	const struct intake_config *in;

	assert_string_equal(c->supervisor.name, "shop");
	assert_int_equal(c->supervisor.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(c->supervisor.log_target, LOG_TARGET_JOURNAL);
	assert_string_equal(c->supervisor.pidfile, "/run/shop.pid");
	assert_string_equal(c->supervisor.report, "/run/shop.json");
	assert_string_equal(c->supervisor.control_socket, "/run/shop.sock");
	assert_false(c->supervisor.subreaper);
	assert_true(c->supervisor.debug);
	assert_int_equal(c->supervisor.slow_step, 250 * USEC_PER_MSEC);
	assert_string_equal(c->supervisor.exit_code_from, "web");
	assert_int_equal(c->supervisor.exit_code_from_at.line, 11);

	assert_int_equal(c->shutdown.intake_timeout, 2 * USEC_PER_SEC);
	assert_int_equal(c->shutdown.drain_delay, 1500 * USEC_PER_MSEC);
	assert_int_equal(c->shutdown.close_timeout, 14 * USEC_PER_SEC);
	assert_int_equal(c->shutdown.deadline, 60 * USEC_PER_SEC);
	assert_true(c->shutdown.deadline_set);
	assert_int_equal(c->shutdown.second_signal, SECOND_SIGNAL_IGNORE);
	assert_int_equal(c->shutdown.defaults.stop_timeout, 11 * USEC_PER_SEC);
	assert_int_equal(c->shutdown.defaults.join_timeout, 12 * USEC_PER_SEC);
	assert_int_equal(c->shutdown.defaults.kill_timeout, 13 * USEC_PER_SEC);
	assert_int_equal(c->shutdown.defaults.stop_signal, SIGQUIT);
	assert_int_equal(c->shutdown.defaults.cancel_signal, SIGNAL_NONE);
	assert_int_equal(c->shutdown.defaults.kill_signal, SIGTERM);
	assert_int_equal(c->shutdown.defaults.kill_mode, KILL_MODE_MAIN);
	assert_int_equal(c->shutdown.defaults.intake_signal, SIGTSTP);
	assert_true(c->shutdown.defaults.stop_fd);

	assert_int_equal(c->n_intakes, 4);
	in = config_find_intake(c, "http");
	assert_int_equal(in->type, INTAKE_SOCKET);
	assert_int_equal(in->listen.kind, LISTEN_UNIX);
	assert_string_equal(in->listen.addr.un.sun_path, "/run/http.sock");
	assert_int_equal(in->backlog, 128);
	assert_true(in->reuseport);
	assert_true(in->has_mode);
	assert_int_equal(in->mode, 0660);
	assert_string_equal(in->owner, "www");
	assert_string_equal(in->group, "wwwgrp");
	in = config_find_intake(c, "ready");
	assert_int_equal(in->type, INTAKE_READINESS);
	assert_int_equal(in->listen.kind, LISTEN_TCP);
	in = config_find_intake(c, "lb");
	assert_int_equal(in->type, INTAKE_EXEC);
	assert_string_equal(in->argv[0], "/usr/bin/deregister");
	assert_string_equal(in->argv[1], "--now");
	assert_null(in->argv[2]);
	in = config_find_intake(c, "quiet");
	assert_int_equal(in->type, INTAKE_SIGNAL);
	assert_int_equal(in->signal, SIGUSR1);
	assert_string_equal(in->workers[0], "web");
	assert_string_equal(in->workers[1], "db");
	assert_null(in->workers[2]);
	assert_int_equal(in->workers_at.line, 44);

	assert_int_equal(c->n_workers, 2);
	db = c->workers[0];
	assert_string_equal(db->name, "db");
	/* Nothing set in [worker:db]: everything from [shutdown]. */
	assert_memory_equal(&db->shutdown, &c->shutdown.defaults, sizeof(db->shutdown));
	w = c->workers[1];
	assert_string_equal(w->name, "web");
	assert_int_equal(w->at.line, 47);
	assert_string_equal(w->command, "/usr/bin/web --listen-fd 3");
	assert_int_equal(strv_length(w->argv), 3);
	assert_int_equal(w->instances, 3);
	assert_string_equal(w->after[0], "db");
	assert_null(w->after[1]);
	assert_int_equal(w->after_at.line, 50);
	assert_string_equal(w->sockets[0], "http");
	assert_int_equal(w->sockets_at.line, 51);
	assert_int_equal(w->ready.kind, READY_TCP);
	assert_int_equal(w->ready.port, 8080);
	assert_int_equal(w->start_timeout, 40 * USEC_PER_SEC);
	assert_int_equal(w->restart, RESTART_ALWAYS);
	assert_int_equal(w->restart_delay, 2 * USEC_PER_SEC);
	assert_int_equal(w->restart_delay_max, 60 * USEC_PER_SEC);
	assert_int_equal(w->start_limit_burst, 3);
	assert_int_equal(w->start_limit_interval, 10 * USEC_PER_SEC);
	assert_int_equal(w->shutdown.stop_signal, SIGTERM);
	assert_int_equal(w->shutdown.stop_timeout, 20 * USEC_PER_SEC);
	assert_int_equal(w->shutdown.cancel_signal, SIGINT);
	assert_int_equal(w->shutdown.join_timeout, 6 * USEC_PER_SEC);
	assert_int_equal(w->shutdown.kill_signal, SIGKILL);
	assert_int_equal(w->shutdown.kill_timeout, 7 * USEC_PER_SEC);
	assert_int_equal(w->shutdown.kill_mode, KILL_MODE_GROUP);
	assert_int_equal(w->shutdown.intake_signal, SIGNAL_NONE);
	assert_false(w->shutdown.stop_fd);
	assert_string_equal(w->user, "www-data");
	assert_string_equal(w->group, "www-data");
	assert_string_equal(w->directory, "/srv/web");
	assert_string_equal(w->environment[0], "PORT=8080");
	assert_string_equal(w->environment[1], "MODE=prod");
	assert_null(w->environment[2]);
	assert_true(w->has_umask);
	assert_int_equal(w->umask, 027);
	assert_int_equal(w->output, OUTPUT_PREFIX);
	assert_null(w->output_file);
	assert_int_equal(w->stderr_mode, STDERR_FILE);
	assert_string_equal(w->stderr_file, "/tmp/graced-test-config.err");
	assert_true(w->output_max_size == 64 * 1024);
	assert_int_equal(w->output_backups, 0);
	assert_true(w->critical);
	assert_int_equal(w->type, WORKER_LONGRUN);
	assert_false(w->autostart);
	assert_int_equal(w->n_success_status, 2);
	assert_int_equal(w->success_status[0], 3);
	assert_int_equal(w->success_status[1], 75);
	assert_int_equal(w->n_success_signal, 2);
	assert_int_equal(w->success_signal[0], SIGHUP);
	assert_int_equal(w->success_signal[1], SIGUSR2);
	assert_int_equal(w->watchdog, 30 * USEC_PER_SEC);

	assert_int_equal(c->n_resources, 2);
	assert_string_equal(c->resources[0]->name, "spool");
	assert_int_equal(c->resources[0]->type, RESOURCE_EXEC);
	assert_string_equal(c->resources[0]->argv[0], "/usr/bin/flush-spool");
	assert_int_equal(c->resources[0]->close_timeout, 9 * USEC_PER_SEC);
	assert_string_equal(c->resources[1]->name, "lock");
	assert_int_equal(c->resources[1]->type, RESOURCE_FILE);
	assert_string_equal(c->resources[1]->path, "/run/shop.lock");
	/* Not set: [shutdown]'s close_timeout. */
	assert_int_equal(c->resources[1]->close_timeout, 14 * USEC_PER_SEC);
	config_free(c);
}

/* [shutdown] written after the workers still applies to every key a worker does not set. */
/* when_empty and second_signal_window: set, and rejected with the accepted values. */
static void
test_when_empty_and_window(void **state)
{
	struct config *c;

	c = load_ok("[supervisor]\nwhen_empty = stay\n[shutdown]\nsecond_signal_window = 50ms\n" MINIMAL);
	assert_int_equal(c->supervisor.when_empty, WHEN_EMPTY_STAY);
	assert_int_equal(c->shutdown.second_signal_window, 50 * USEC_PER_MSEC);
	config_free(c);
	c = load_ok("[supervisor]\nwhen_empty = shutdown\n[shutdown]\nsecond_signal_window = 0\n" MINIMAL);
	assert_int_equal(c->supervisor.when_empty, WHEN_EMPTY_SHUTDOWN);
	assert_int_equal(c->shutdown.second_signal_window, 0);
	config_free(c);

	expect_errors("[supervisor]\nwhen_empty = never\n" MINIMAL,
	    "t.ini:2: invalid value 'never' for when_empty (expected shutdown or stay)\n");
	expect_errors("[shutdown]\nsecond_signal_window = soon\n" MINIMAL,
	    "t.ini:2: invalid duration 'soon' for second_signal_window (expected e.g. 250ms, 10s, "
	    "1m30s, infinity)\n");
}

static void
test_shutdown_inheritance(void **state)
{
	struct config *c = load_ok(
	    "[worker:a]\n"
	    "command = a\n"
	    "stop_timeout = 7s\n"
	    "cancel_signal = SIGUSR2\n"
	    "[worker:b]\n"
	    "command = b\n"
	    "kill_mode = group\n"
	    "[resource:r]\n"
	    "path = /r\n"
	    "[shutdown]\n"
	    "stop_timeout = 3s\n"
	    "join_timeout = 4s\n"
	    "kill_timeout = 1s\n"
	    "stop_signal = QUIT\n"
	    "cancel_signal = none\n"
	    "kill_signal = 15\n"
	    "kill_mode = main\n"
	    "intake_signal = SIGTSTP\n"
	    "stop_fd = yes\n"
	    "close_timeout = 2s\n");
	const struct worker_config *a = c->workers[0], *b = c->workers[1];

	assert_int_equal(a->shutdown.stop_timeout, 7 * USEC_PER_SEC);
	assert_int_equal(a->shutdown.cancel_signal, SIGUSR2);
	assert_int_equal(a->shutdown.join_timeout, 4 * USEC_PER_SEC);
	assert_int_equal(a->shutdown.kill_timeout, 1 * USEC_PER_SEC);
	assert_int_equal(a->shutdown.stop_signal, SIGQUIT);
	assert_int_equal(a->shutdown.kill_signal, SIGTERM);
	assert_int_equal(a->shutdown.kill_mode, KILL_MODE_MAIN);
	assert_int_equal(a->shutdown.intake_signal, SIGTSTP);
	assert_true(a->shutdown.stop_fd);

	assert_int_equal(b->shutdown.stop_timeout, 3 * USEC_PER_SEC);
	assert_int_equal(b->shutdown.cancel_signal, SIGNAL_NONE);
	assert_int_equal(b->shutdown.stop_signal, SIGQUIT);
	/* Set in the worker to the built-in default: still an override. */
	assert_int_equal(b->shutdown.kill_mode, KILL_MODE_GROUP);
	assert_true(b->shutdown.stop_fd);

	assert_int_equal(c->resources[0]->close_timeout, 2 * USEC_PER_SEC);
	config_free(c);
}

static void
test_env_expansion(void **state)
{
	struct config *c;

	assert_int_equal(setenv("GRACED_TEST_PORT", "9090", 1), 0);
	assert_int_equal(setenv("GRACED_TEST_CMD", "/bin/echo 'a b'", 1), 0);
	(void) unsetenv("GRACED_TEST_UNSET");
	c = load_ok(
	    "[intake:i]\n"
	    "listen = tcp://127.0.0.1:${GRACED_TEST_PORT}\n"
	    "[worker:a]\n"
	    "command = ${GRACED_TEST_CMD}\n"
	    "directory = ${GRACED_TEST_UNSET:-/srv}\n"
	    "user = ${GRACED_TEST_UNSET:-}\n"
	    "environment = PRICE=$$5\n");
	assert_int_equal(ntohs(c->intakes[0]->listen.addr.in.sin_port), 9090);
	/* Expansion comes first, then the quoting of the command is parsed. */
	assert_string_equal(c->workers[0]->argv[0], "/bin/echo");
	assert_string_equal(c->workers[0]->argv[1], "a b");
	assert_string_equal(c->workers[0]->directory, "/srv");
	assert_null(c->workers[0]->user);
	assert_string_equal(c->workers[0]->environment[0], "PRICE=$5");
	config_free(c);

	expect_errors(MINIMAL "stop_timeout = ${GRACED_TEST_UNSET}\n",
	    "t.ini:3: environment variable 'GRACED_TEST_UNSET' is not set, in the value of "
	    "stop_timeout (write ${GRACED_TEST_UNSET:-DEFAULT} for a default)\n");
	expect_errors(MINIMAL "stop_timeout = ${GRACED_TEST_UNSET\n",
	    "t.ini:3: invalid ${...} in the value of stop_timeout: '${GRACED_TEST_UNSET'\n");
	unsetenv("GRACED_TEST_PORT");
	unsetenv("GRACED_TEST_CMD");
}

/* ${INSTANCE}: kept as a template (with "$$") only where it appears, in the keys that take it;
 * the port of ready = tcp: is checked for every instance. */
static void
test_instance_templates(void **state)
{
	struct config *c;

	(void) state;
	assert_int_equal(setenv("GRACED_TEST_DOLLAR", "a$b", 1), 0);
	c = load_ok(
	    "[worker:a]\n"
	    "command = /bin/srv --port 90${INSTANCE} --price $$5 ${GRACED_TEST_DOLLAR}\n"
	    "instances = 100\n"
	    "ready = tcp:90${INSTANCE}\n"
	    "environment = PRICE=$$5\n"
	    "directory = /srv/${INSTANCE}\n");
	assert_string_equal(c->workers[0]->argv[2], "90${INSTANCE}");
	assert_string_equal(c->workers[0]->argv[4], "$$5");
	assert_string_equal(c->workers[0]->argv[5], "a$$b");
	assert_string_equal(c->workers[0]->environment[0], "PRICE=$5");
	assert_int_equal(c->workers[0]->instance_templates,
	    INSTANCE_IN_COMMAND | INSTANCE_IN_DIRECTORY);
	assert_string_equal(c->workers[0]->ready_template, "tcp:90${INSTANCE}");
	config_free(c);
	unsetenv("GRACED_TEST_DOLLAR");

	expect_errors(MINIMAL "instances = 101\nready = tcp:90${INSTANCE}\n",
	    "t.ini:4: ready = tcp:90${INSTANCE} gives 'tcp:90100' for instance 100 of [worker:a] "
	    "(instances = 101): the port must be 1..65535\n");
	expect_errors(MINIMAL "stop_timeout = ${INSTANCE}s\n",
	    "t.ini:3: ${INSTANCE} does not expand in stop_timeout; it does only in command, "
	    "environment, directory and ready of a [worker:NAME]\n");
}

static void
test_quoting_and_comments(void **state)
{
	struct config *c = load_ok(
	    "; a comment\n"
	    "# another\n"
	    "[worker:a]   ; trailing comment\n"
	    "command = /bin/sh -c 'echo \"hi  there\"; exit 3' ; comment\n"
	    "environment = A=1 B='two words' C=\"x\\\"y\"\n"
	    "\t  user = nobody\n"
	    "[worker:b]\n"
	    "command = /bin/echo a;b\n");
	const struct worker_config *a = c->workers[0], *b = c->workers[1];

	assert_int_equal(strv_length(a->argv), 3);
	assert_string_equal(a->argv[0], "/bin/sh");
	assert_string_equal(a->argv[1], "-c");
	assert_string_equal(a->argv[2], "echo \"hi  there\"; exit 3");
	assert_string_equal(a->command, "/bin/sh -c 'echo \"hi  there\"; exit 3'");
	assert_string_equal(a->environment[0], "A=1");
	assert_string_equal(a->environment[1], "B=two words");
	assert_string_equal(a->environment[2], "C=x\"y");
	assert_string_equal(a->user, "nobody");
	/* ';' right after a non-blank is part of the value. */
	assert_string_equal(b->argv[1], "a;b");
	config_free(c);

	/* ';' after a blank starts a comment, even inside quotes. */
	expect_errors("[worker:a]\ncommand = sh -c 'a ; b'\n",
	    "t.ini:2: invalid command 'sh -c 'a' for command (expected words with balanced "
	    "quotes)\n");
}

static void
test_line_endings(void **state)
{
	struct config *c = load_ok("\xEF\xBB\xBF[worker:a]\r\ncommand: /bin/x  \r\n\r\n"
	    "user=me\r\n[worker:b]\ncommand = y");

	assert_string_equal(c->workers[0]->argv[0], "/bin/x");
	assert_null(c->workers[0]->argv[1]);
	assert_string_equal(c->workers[0]->user, "me");
	assert_string_equal(c->workers[1]->argv[0], "y");
	config_free(c);
}

static void
test_long_line(void **state)
{
	_cleanup_free_ char *text = NULL, *too_long = NULL;
	size_t max = 65536;
	struct config *c;
	char *out;

	text = malloc(4000);
	assert_non_null(text);
	strcpy(text, "[worker:a]\ncommand = /bin/echo ");
	memset(text + strlen(text), 'x', 3000);
	strcpy(text + strlen("[worker:a]\ncommand = /bin/echo ") + 3000, "\nuser = u\n");
	c = load_ok(text);
	assert_int_equal(strlen(c->workers[0]->argv[1]), 3000);
	assert_string_equal(c->workers[0]->user, "u");
	config_free(c);

	too_long = malloc(max + 100);
	assert_non_null(too_long);
	strcpy(too_long, "[worker:a]\ncommand = a\nuser = ");
	memset(too_long + strlen(too_long), 'x', max);
	strcpy(too_long + strlen("[worker:a]\ncommand = a\nuser = ") + max, "\nfoo = 1\n");
	out = load(too_long, NULL);
	assert_string_equal(out, "t.ini:3: line too long (more than 65536 bytes)\n"
	    "t.ini:4: unknown key 'foo' in [worker:a]\n");
	free(out);
}

static void
test_empty_section(void **state)
{
	expect_errors("[supervisor]\n\n[worker:x]\n\n[shutdown]\n",
	    "t.ini:3: missing key 'command' in [worker:x]\n");
	expect_errors("[worker:x]", "t.ini:1: missing key 'command' in [worker:x]\n");
	expect_errors("", "t.ini: no [worker:*] section: nothing to supervise\n");
	expect_errors("[supervisor]\n",
	    "t.ini: no [worker:*] section: nothing to supervise\n");
}

/* Writes text to dir/name. */
static void
write_file(const char *dir, const char *name, const char *text)
{
	_cleanup_free_ char *path = NULL;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
remove_tree(const char *dir)
{
	_cleanup_free_ char *cmd = NULL;

	assert_true(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
	assert_int_equal(system(cmd), 0);
}

static char *
load_file_errors(const char *path, struct config **ret)
{
	struct config_errors errors = {};
	struct config *c = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	r = config_load(path, &c, &errors);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	config_errors_print(&errors, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(r == 0, errors.n == 0);
	config_errors_clear(&errors);
	if (ret)
		*ret = c;
	else
		config_free(c);
	return out;
}

static void
test_includes(void **state)
{
	char dir[] = "/tmp/graced-test-config-XXXXXX";
	_cleanup_free_ char *main_ini = NULL, *sub = NULL, *expected = NULL;
	struct config *c = NULL;
	char *out;

	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&sub, "%s/conf.d", dir) > 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	free(expected);
	assert_true(asprintf(&expected, "%s/dir.ini", sub) > 0);
	/* A directory matching the pattern is skipped. */
	assert_int_equal(mkdir(expected, 0700), 0);
	write_file(dir, "main.ini",
	    "include = conf.d/*.ini\n"
	    "include = empty.d/*.ini\n"
	    "[supervisor]\n"
	    "name = inc\n"
	    "include = extra.ini\n"
	    "debug = yes\n"
	    "[worker:last]\n"
	    "command = /bin/last\n");
	write_file(sub, "20-b.ini", "[worker:b]\ncommand = /bin/b\n");
	write_file(sub, "10-a.ini", "\n[worker:a]\ncommand = /bin/a\n");
	write_file(sub, "ignored.conf", "[worker:z]\ncommand = /bin/z\n");
	write_file(dir, "extra.ini", "[intake:i]\nlisten = tcp://127.0.0.1:1\n");
	assert_true(asprintf(&main_ini, "%s/main.ini", dir) > 0);

	out = load_file_errors(main_ini, &c);
	assert_string_equal(out, "");
	free(out);
	assert_non_null(c);
	assert_int_equal(c->n_workers, 3);
	assert_string_equal(c->workers[0]->name, "a");
	assert_string_equal(c->workers[1]->name, "b");
	assert_string_equal(c->workers[2]->name, "last");
	assert_string_equal(c->supervisor.name, "inc");
	/* The include in [supervisor] returns to [supervisor]. */
	assert_true(c->supervisor.debug);
	assert_int_equal(strv_length(c->files), 4);
	assert_string_equal(c->files[0], main_ini);
	assert_true(strstr(c->files[1], "/conf.d/10-a.ini") != NULL);
	assert_true(strstr(c->files[2], "/conf.d/20-b.ini") != NULL);
	assert_true(strstr(c->files[3], "/extra.ini") != NULL);
	assert_ptr_equal(c->workers[0]->at.file, c->files[1]);
	assert_int_equal(c->workers[0]->at.line, 2);
	assert_ptr_equal(c->intakes[0]->at.file, c->files[3]);
	config_free(c);

	/* A plain name must exist; errors in an included file name that file. */
	free(expected);
	expected = NULL;
	write_file(dir, "main.ini",
	    "include = missing.ini\n"
	    "include = bad.ini\n"
	    "[worker:a]\n"
	    "command = a\n"
	    "include = x.ini\n");
	write_file(dir, "bad.ini", "[worker:b]\ncommand = b\nstop_timeout = soon\n");
	out = load_file_errors(main_ini, NULL);
	assert_true(asprintf(&expected,
	    "%1$s/main.ini:1: include not found: '%1$s/missing.ini'\n"
	    "%1$s/bad.ini:3: invalid duration 'soon' for stop_timeout (expected e.g. 250ms, "
	    "10s, 1m30s, infinity)\n"
	    "%1$s/main.ini:5: include is not allowed in [worker:a] (only at the top of a file, "
	    "before any section, or in [supervisor])\n", dir) > 0);
	assert_string_equal(out, expected);
	free(out);
	free(expected);
	expected = NULL;

	/* Cycles: a includes b includes a; and a file including itself. */
	write_file(dir, "main.ini", "include = a.ini\n[worker:w]\ncommand = w\n");
	write_file(dir, "a.ini", "include = b.ini\n");
	write_file(dir, "b.ini", "include = ./a.ini\ninclude = b.ini\n");
	out = load_file_errors(main_ini, NULL);
	assert_true(asprintf(&expected,
	    "%1$s/b.ini:1: include cycle: '%1$s/./a.ini' is already being read\n"
	    "%1$s/b.ini:2: include cycle: '%1$s/b.ini' is already being read\n", dir) > 0);
	assert_string_equal(out, expected);
	free(out);

	/* The main file itself. */
	free(expected);
	assert_true(asprintf(&expected, "%s/nothing.ini: cannot read configuration: No such file "
	    "or directory\n", dir) > 0);
	free(main_ini);
	assert_true(asprintf(&main_ini, "%s/nothing.ini", dir) > 0);
	out = load_file_errors(main_ini, NULL);
	assert_string_equal(out, expected);
	free(out);
	remove_tree(dir);
}

/* One input per class of error, with its exact message. */
static const struct {
	const char *text;
	const char *errors;
} error_cases[] = {
	{ "[wroker:web]\n" MINIMAL,
	  "t.ini:1: unknown section [wroker:web]; did you mean [worker:web]?\n" },
	{ "[supervisr]\n" MINIMAL,
	  "t.ini:1: unknown section [supervisr]; did you mean [supervisor]?\n" },
	{ "[main]\n" MINIMAL,
	  "t.ini:1: unknown section [main] (expected [supervisor], [shutdown], [intake:NAME], "
	  "[worker:NAME] or [resource:NAME])\n" },
	{ "[worker]\n" MINIMAL, "t.ini:1: section [worker] needs a name: [worker:NAME]\n" },
	{ "[shutdown:x]\n" MINIMAL, "t.ini:1: section [shutdown] takes no name: [shutdown:x]\n" },
	{ "[worker:we b]\n" MINIMAL,
	  "t.ini:1: invalid name 'we b' in [worker:we b] (expected up to 64 letters, digits, '_' "
	  "and '-', not starting with '-')\n" },
	{ "[worker:web]\ncommand = x\nstop_timout = 1s\n",
	  "t.ini:3: unknown key 'stop_timout' in [worker:web]; did you mean 'stop_timeout'?\n" },
	{ MINIMAL "frobnicate = 1\n", "t.ini:3: unknown key 'frobnicate' in [worker:a]\n" },
	{ MINIMAL "drain_delay = 1s\n",
	  "t.ini:3: key 'drain_delay' does not belong in [worker:a]; it is a key of [shutdown]\n" },
	{ "[supervisor]\ncommand = x\n" MINIMAL,
	  "t.ini:2: key 'command' does not belong in [supervisor]; it is a key of "
	  "[intake:NAME], [worker:NAME] or [resource:NAME]\n" },
	{ MINIMAL "user = a\nuser = b\n",
	  "t.ini:4: duplicate key 'user' in [worker:a] (first set at t.ini:3)\n" },
	{ MINIMAL "[shutdown]\n[shutdown]\n",
	  "t.ini:4: duplicate section [shutdown] (first at t.ini:3)\n" },
	{ MINIMAL MINIMAL, "t.ini:3: duplicate section [worker:a] (first at t.ini:1)\n" },
	{ "[worker:a]\nuser = x\n", "t.ini:1: missing key 'command' in [worker:a]\n" },
	{ "[worker:a]\ncommand =\n", "t.ini:2: empty value for command\n" },
	{ MINIMAL "[intake:i]\n", "t.ini:3: missing key 'listen' in [intake:i]\n" },
	{ MINIMAL "[intake:i]\ntype = readiness\n",
	  "t.ini:3: missing key 'listen' in [intake:i]\n" },
	{ MINIMAL "[intake:i]\ntype = exec\n", "t.ini:3: missing key 'command' in [intake:i]\n" },
	{ MINIMAL "[intake:i]\ntype = signal\n", "t.ini:3: missing key 'signal' in [intake:i]\n" },
	{ MINIMAL "[resource:r]\n", "t.ini:3: missing key 'path' in [resource:r]\n" },
	{ MINIMAL "[resource:r]\ntype = exec\n",
	  "t.ini:3: missing key 'command' in [resource:r]\n" },
	{ MINIMAL "[intake:i]\ntype = exec\ncommand = x\nlisten = tcp://127.0.0.1:1\n",
	  "t.ini:6: key 'listen' does not apply to type = exec in [intake:i]\n" },
	{ MINIMAL "[intake:i]\nlisten = tcp://127.0.0.1:1\nmode = 0600\n",
	  "t.ini:5: key 'mode' applies only to a unix: address in [intake:i]\n" },
	{ MINIMAL "instances = 0\n",
	  "t.ini:3: invalid number '0' for instances (expected 1..1024)\n" },
	{ MINIMAL "instances = 1025\n",
	  "t.ini:3: invalid number '1025' for instances (expected 1..1024)\n" },
	{ MINIMAL "stop_timeout = 10x\n",
	  "t.ini:3: invalid duration '10x' for stop_timeout (expected e.g. 250ms, 10s, 1m30s, "
	  "infinity)\n" },
	{ MINIMAL "stop_signal = SIGFOO\n",
	  "t.ini:3: invalid signal 'SIGFOO' for stop_signal (expected e.g. SIGTERM, TERM, 15, "
	  "none)\n" },
	{ MINIMAL "critical = maybe\n",
	  "t.ini:3: invalid boolean 'maybe' for critical (expected yes or no)\n" },
	{ MINIMAL "restart = sometimes\n",
	  "t.ini:3: invalid value 'sometimes' for restart (expected no, on-failure or always)\n" },
	{ MINIMAL "ready = http\n",
	  "t.ini:3: invalid readiness 'http' for ready (expected none, notify, tcp:PORT or "
	  "delay:DURATION)\n" },
	{ MINIMAL "start_limit = lots\n",
	  "t.ini:3: invalid start limit 'lots' for start_limit (expected COUNT in DURATION, e.g. "
	  "5 in 60s)\n" },
	{ MINIMAL "umask = 999\n",
	  "t.ini:3: invalid mode '999' for umask (expected an octal mode such as 0660)\n" },
	{ MINIMAL "environment = 1A=x\n",
	  "t.ini:3: invalid environment '1A=x' for environment (expected NAME=VALUE words, quoted "
	  "as in a command)\n" },
	{ MINIMAL "success_status = 256\n",
	  "t.ini:3: invalid exit status '256' for success_status (expected exit codes 0..255 "
	  "and/or signal names)\n" },
	{ MINIMAL "directory = srv\n",
	  "t.ini:3: invalid path 'srv' for directory (expected an absolute path)\n" },
	{ MINIMAL "after = b!\n",
	  "t.ini:3: invalid name 'b!' in after (expected letters, digits, '_' and '-')\n" },
	{ MINIMAL "[intake:i]\nlisten = http://x\n",
	  "t.ini:4: invalid address 'http://x' for listen: unknown scheme 'http' (expected "
	  "tcp://, unix: or systemd:)\n" },
	{ MINIMAL "[intake:i]\nlisten = tcp://127.0.0.1:1\nbacklog = 0\n",
	  "t.ini:5: invalid number '0' for backlog (expected 1..65535)\n" },
	{ "[supervisor]\nlog_level = loud\n" MINIMAL,
	  "t.ini:2: invalid value 'loud' for log_level (expected err, warning, notice, info or "
	  "debug)\n" },
	{ MINIMAL "after = dbb\n[worker:db]\ncommand = x\n",
	  "t.ini:3: unknown worker 'dbb' in after= of [worker:a]; did you mean 'db'?\n" },
	{ MINIMAL "after = a\n", "t.ini:3: worker 'a' cannot be started after itself\n" },
	{ "[worker:web]\ncommand = x\nafter = api\n[worker:api]\ncommand = y\nafter = web\n",
	  "t.ini:3: dependency cycle: web -> api -> web\n" },
	{ MINIMAL "sockets = htp\n[intake:http]\nlisten = tcp://127.0.0.1:1\n",
	  "t.ini:3: unknown intake 'htp' in sockets= of [worker:a]; did you mean 'http'?\n" },
	{ MINIMAL "sockets = r\n[intake:r]\ntype = readiness\nlisten = tcp://127.0.0.1:1\n",
	  "t.ini:3: intake 'r' in sockets= of [worker:a] is type = readiness, not a socket\n" },
	{ MINIMAL "[intake:a]\nlisten = tcp://127.0.0.1:80\n"
	  "[intake:b]\nlisten = tcp://127.0.0.1:80\n",
	  "t.ini:6: intake 'b' listens on tcp://127.0.0.1:80, which conflicts with "
	  "tcp://127.0.0.1:80 of intake 'a' (t.ini:4)\n" },
	{ MINIMAL "[intake:a]\nlisten = tcp://*:80\n[intake:b]\nlisten = tcp://127.0.0.1:80\n",
	  "t.ini:6: intake 'b' listens on tcp://127.0.0.1:80, which conflicts with "
	  "tcp://0.0.0.0:80 of intake 'a' (t.ini:4)\n" },
	{ "[supervisor]\nexit_code_from = nginx\n" MINIMAL,
	  "t.ini:2: unknown worker 'nginx' in exit_code_from\n" },
	{ "[supervisor]\nexit_code_from = wbe\n[worker:web]\ncommand = x\n",
	  "t.ini:2: unknown worker 'wbe' in exit_code_from; did you mean 'web'?\n" },
	{ MINIMAL "[intake:q]\ntype = signal\nsignal = TSTP\nworkers = a nginx\n",
	  "t.ini:6: unknown worker 'nginx' in workers= of [intake:q]\n" },
	{ "include = /nonexistent/graced.ini\n" MINIMAL,
	  "t.ini:1: include not found: '/nonexistent/graced.ini'\n" },
	{ "include = /nonexistent/*.ini\n" MINIMAL, "" },
	{ "include = /dev/null\ninclude = /\n" MINIMAL,
	  "t.ini:1: cannot read include '/dev/null': not a regular file\n"
	  "t.ini:2: cannot read include '/': Is a directory\n" },
	{ "user = x\n" MINIMAL,
	  "t.ini:1: key 'user' outside of any section (only include = is allowed before the "
	  "first section)\n" },
	{ MINIMAL "this is not a key\n",
	  "t.ini:3: syntax error: expected 'key = value' or '[section]'\n" },
	{ MINIMAL "[worker:b\ncommand = x\nuser = y\n",
	  "t.ini:3: syntax error: missing ']' in section header\n" },
	{ MINIMAL "= x\n", "t.ini:3: syntax error: missing key before '='\n" },
	{ MINIMAL "[shutdown] x\n", "t.ini:3: syntax error: text after ']' in section header\n" },
};

static void
test_error_classes(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(error_cases); i++) {
		char *out = load(error_cases[i].text, NULL);

		if (!streq(out, error_cases[i].errors))
			print_error("case %zu:\n%s", i, error_cases[i].text);
		assert_string_equal(out, error_cases[i].errors);
		free(out);
	}
}

/* Every error of a file, in file order, then the cross references. */
static void
test_many_errors(void **state)
{
	expect_errors(
	    "[worker:web]\n"
	    "command = /bin/web\n"
	    "after = api\n"
	    "stop_timeout = forever\n"
	    "[worker:api]\n"
	    "after = web\n"
	    "restart = sometimes\n"
	    "[wroker:x]\n"
	    "command = ignored\n"
	    "[worker:db]\n"
	    "command = /bin/db\n"
	    "sockets = nope\n"
	    "instances = 0\n",
	    "t.ini:4: invalid duration 'forever' for stop_timeout (expected e.g. 250ms, 10s, "
	    "1m30s, infinity)\n"
	    "t.ini:5: missing key 'command' in [worker:api]\n"
	    "t.ini:7: invalid value 'sometimes' for restart (expected no, on-failure or always)\n"
	    "t.ini:8: unknown section [wroker:x]; did you mean [worker:x]?\n"
	    "t.ini:13: invalid number '0' for instances (expected 1..1024)\n"
	    "t.ini:12: unknown intake 'nope' in sockets= of [worker:db]\n"
	    "t.ini:3: dependency cycle: web -> api -> web\n");
}

/* Control bytes in a section name, a key and values come back escaped in the messages: no ESC
 * or DEL of the file reaches the terminal through --check. */
static void
test_errors_escape_control_bytes(void **state)
{
	char *out = load("[worker:a]\ncommand = /bin/true\n"
			 "stop_timeout = 5\x1b[31ms\x7f\n"
			 "ke\x1by = v\n"
			 "restart = al\x7fways\n"
			 "[wo\x1brker:b]\n"
			 "[worker:c\x7f]\n"
			 "[worker:e]\ncommand = x\nafter = \xc2\x9b\n", NULL);

	assert_string_equal(out,
	    "t.ini:3: invalid duration '5\\x1b[31ms\\x7f' for stop_timeout (expected e.g. 250ms, "
	    "10s, 1m30s, infinity)\n"
	    "t.ini:4: unknown key 'ke\\x1by' in [worker:a]\n"
	    "t.ini:5: invalid value 'al\\x7fways' for restart (expected no, on-failure or always)\n"
	    "t.ini:6: unknown section [wo\\x1brker:b]; did you mean [worker:b]?\n"
	    "t.ini:7: invalid name 'c\\x7f' in [worker:c\\x7f] (expected up to 64 letters, digits, "
	    "'_' and '-', not starting with '-')\n"
	    "t.ini:10: invalid name '\\xc2\\x9b' in after (expected letters, digits, '_' and '-')\n");
	free(out);
}

#define CHAIN 10000

/* CHAIN workers w0..w9999, w_i after= w_(i+1): a search from w0 goes 10,000 deep. extra, when
 * set, is appended to the last worker's section. */
static char *
chain_text(const char *extra)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	for (size_t i = 0; i < CHAIN; i++) {
		fprintf(f, "[worker:w%zu]\ncommand = /bin/true\n", i);
		if (i + 1 < CHAIN)
			fprintf(f, "after = w%zu\n", i + 1);
		else if (extra)
			fputs(extra, f);
	}
	assert_int_equal(fclose(f), 0);
	return text;
}

/* A long after= chain validates (no recursion to overflow, no quadratic lookups to wait for),
 * and every name resolves to its position. */
static void
test_long_chain(void **state)
{
	_cleanup_free_ char *text = chain_text(NULL);
	struct config *c = load_ok(text);
	char name[16];

	assert_int_equal(c->n_workers, CHAIN);
	for (size_t i = 0; i < CHAIN; i += 997) {
		snprintf(name, sizeof(name), "w%zu", i);
		assert_int_equal(config_worker_index(c, name), (ssize_t) i);
		assert_ptr_equal(config_find_worker(c, name), c->workers[i]);
	}
	assert_int_equal(config_worker_index(c, "w10000"), -1);
	assert_int_equal(config_worker_index(c, ""), -1);
	config_free(c);
}

/* A cycle at the end of a long chain is found and reported as before: at the after= of the
 * worker where the cycle starts, every name on it. */
static void
test_long_chain_cycle(void **state)
{
	_cleanup_free_ char *text = NULL, *want = NULL, *whole = NULL, *want_whole = NULL;
	char *out, *p;
	size_t len = 0;
	FILE *f;

	/* w9999 after= w9990: the cycle w9990 -> ... -> w9999 -> w9990, reported at w9990's after=
	 * (line 3 * 9990 + 3). */
	text = chain_text("after = w9990\n");
	assert_non_null(f = open_memstream(&want, &len));
	fprintf(f, "t.ini:%d: dependency cycle: ", 3 * 9990 + 3);
	for (size_t i = 9990; i < CHAIN; i++)
		fprintf(f, "w%zu -> ", i);
	fprintf(f, "w9990\n");
	assert_int_equal(fclose(f), 0);
	out = load(text, NULL);
	assert_string_equal(out, want);
	free(out);

	/* The whole chain as one cycle: w9999 after= w0. */
	whole = chain_text("after = w0\n");
	assert_non_null(f = open_memstream(&want_whole, &len));
	fprintf(f, "t.ini:3: dependency cycle: ");
	for (size_t i = 0; i < CHAIN; i++)
		fprintf(f, "w%zu -> ", i);
	fprintf(f, "w0\n");
	assert_int_equal(fclose(f), 0);
	out = load(whole, NULL);
	assert_string_equal(out, want_whole);
	/* Only one error. */
	p = strchr(out, '\n');
	assert_non_null(p);
	assert_string_equal(p, "\n");
	free(out);
}

/* Many cycles through one long chain: the first ten are spelled out, the rest counted, so that
 * the report stays linear in the file (each cycle can be 10,000 names long). */
static void
test_many_cycles(void **state)
{
	_cleanup_free_ char *text = NULL;
	char *out, *last;
	size_t len = 0, lines = 0;
	FILE *f;

	/* w_i after= w_(i+1) and w0: every w_i closes a cycle back to w0. */
	assert_non_null(f = open_memstream(&text, &len));
	for (size_t i = 0; i < CHAIN; i++) {
		fprintf(f, "[worker:w%zu]\ncommand = /bin/true\nafter =", i);
		if (i + 1 < CHAIN)
			fprintf(f, " w%zu", i + 1);
		fprintf(f, "%s\n", i ? " w0" : "");
	}
	assert_int_equal(fclose(f), 0);
	out = load(text, NULL);
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 11);
	/* The search goes down the chain first: the first cycle found is the whole chain. */
	assert_true(strncmp(out, "t.ini:3: dependency cycle: w0 -> w1 -> w2 -> ", 45) == 0);
	assert_non_null(strstr(out, " -> w9998 -> w9999 -> w0\nt.ini:3: dependency cycle: w0 -> "));
	last = strstr(out, "t.ini: 9989 more dependency cycles not shown\n");
	assert_non_null(last);
	assert_string_equal(last, "t.ini: 9989 more dependency cycles not shown\n");
	/* Ten cycles of at most 10,000 names: linear, not 10,000 of them (400 MB). */
	assert_true(strlen(out) < 10 * CHAIN * 10);
	free(out);
}

/* Thousands of unknown names among thousands of workers: each is reported, but guesses stop
 * once they have cost 100,000 comparisons (ten guesses here), so the check stays fast. */
static void
test_many_unknown_workers(void **state)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0, lines = 0, guesses = 0;
	char *out;
	FILE *f;

	assert_non_null(f = open_memstream(&text, &len));
	for (size_t i = 0; i < CHAIN; i++)
		fprintf(f, "[worker:w%zu]\ncommand = /bin/true\nafter = v%zu\n", i, i);
	assert_int_equal(fclose(f), 0);
	out = load(text, NULL);
	for (const char *p = out; (p = strchr(p, '\n')); p++)
		lines++;
	for (const char *p = out; (p = strstr(p, "; did you mean")); p++)
		guesses++;
	assert_int_equal(lines, CHAIN);
	assert_int_equal(guesses, 10);
	assert_true(strncmp(out, "t.ini:3: unknown worker 'v0' in after= of [worker:w0]; did you mean "
				 "'w0'?\n", 73) == 0);
	assert_non_null(strstr(out, "t.ini:30000: unknown worker 'v9999' in after= of [worker:w9999]\n"));
	free(out);
}

static void
test_in_memory(void **state)
{
	struct config_errors errors = {};
	struct config *c;
	struct worker_config *w;

	c = config_new();
	assert_non_null(c);
	c->shutdown.defaults.stop_timeout = 8 * USEC_PER_SEC;
	w = config_add_worker(c, "main");
	assert_non_null(w);
	assert_int_equal(w->shutdown.stop_timeout, 8 * USEC_PER_SEC);
	assert_int_equal(w->instances, 1);
	assert_int_equal(config_validate(c, &errors), -EINVAL);
	assert_int_equal(errors.n, 1);
	assert_string_equal(errors.items[0].message, "missing key 'command' in [worker:main]");
	config_errors_clear(&errors);

	assert_int_equal(strv_extend(&w->argv, "/bin/true"), 0);
	assert_int_equal(config_validate(c, &errors), 0);
	assert_int_equal(errors.n, 0);

	assert_int_equal(strv_extend(&w->after, "other"), 0);
	assert_int_equal(config_validate(c, &errors), -EINVAL);
	assert_int_equal(errors.n, 1);
	assert_string_equal(errors.items[0].message, "unknown worker 'other' in after= of "
	    "[worker:main]");
	config_errors_clear(&errors);
	config_free(c);
	assert_null(config_free(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_when_empty_and_window),
		cmocka_unit_test(test_errors_escape_control_bytes),
		cmocka_unit_test(test_long_chain),
		cmocka_unit_test(test_long_chain_cycle),
		cmocka_unit_test(test_many_cycles),
		cmocka_unit_test(test_many_unknown_workers),
		cmocka_unit_test(test_shutdown_inheritance),
		cmocka_unit_test(test_env_expansion),
		cmocka_unit_test(test_instance_templates),
		cmocka_unit_test(test_quoting_and_comments),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_empty_section),
		cmocka_unit_test(test_includes),
		cmocka_unit_test(test_error_classes),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_in_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
