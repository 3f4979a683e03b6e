/* SPDX-License-Identifier: MIT */
/*
 * control-protocol.c: the requests the control socket accepts and refuses, the error reply, and
 * where the socket is by default.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "control-protocol.h"
#include "util.h"

static int
parse(const char *text, struct control_request *req, const char **error)
{
	*error = NULL;
	return control_request_parse(text, strlen(text), req, error);
}

static void
test_commands(void **state)
{
	struct control_request req;
	const char *error;

	assert_int_equal(parse("{\"command\":\"status\"}", &req, &error), 0);
	assert_int_equal(req.command, CONTROL_STATUS);
	assert_int_equal(req.n_workers, 0);
	control_request_done(&req);

	assert_int_equal(parse("{\"command\": \"status\", \"workers\": [\"web\", \"db_1\"]}", &req,
			     &error),
	    0);
	assert_int_equal(req.n_workers, 2);
	assert_string_equal(req.workers[0], "web");
	assert_string_equal(req.workers[1], "db_1");
	control_request_done(&req);

	assert_int_equal(parse(" {\"command\":\"dump\"} \r", &req, &error), 0);
	assert_int_equal(req.command, CONTROL_DUMP);
	control_request_done(&req);

	assert_int_equal(parse("{\"command\":\"signal\",\"worker\":\"web\",\"signal\":\"HUP\"}", &req,
			     &error),
	    0);
	assert_int_equal(req.command, CONTROL_SIGNAL);
	assert_int_equal(req.signal, SIGHUP);
	assert_string_equal(req.workers[0], "web");
	control_request_done(&req);

	assert_int_equal(parse("{\"signal\":\"SIGUSR2\",\"command\":\"signal\",\"worker\":\"w\"}",
			     &req, &error),
	    0);
	assert_int_equal(req.signal, SIGUSR2);
	control_request_done(&req);

	assert_int_equal(parse("{\"command\":\"signal\",\"worker\":\"w\",\"signal\":10}", &req,
			     &error),
	    0);
	assert_int_equal(req.signal, 10);
	control_request_done(&req);

	assert_int_equal(parse("{\"command\":\"shutdown\"}", &req, &error), 0);
	assert_false(req.wait);
	control_request_done(&req);
	assert_int_equal(parse("{\"command\":\"shutdown\",\"wait\":true}", &req, &error), 0);
	assert_int_equal(req.command, CONTROL_SHUTDOWN);
	assert_true(req.wait);
	control_request_done(&req);

	assert_int_equal(parse("{\"command\":\"reopen-logs\"}", &req, &error), 0);
	assert_int_equal(req.command, CONTROL_REOPEN_LOGS);
	control_request_done(&req);

	assert_int_equal(parse("{\"command\":\"start\",\"workers\":[\"migrate\",\"web\"]}", &req,
			     &error),
	    0);
	assert_int_equal(req.command, CONTROL_START);
	assert_int_equal(req.n_workers, 2);
	assert_string_equal(req.workers[0], "migrate");
	assert_string_equal(req.workers[1], "web");
	control_request_done(&req);

	assert_int_equal(parse("{\"command\":\"stop\",\"workers\":[\"web\",\"db\"]}", &req,
			     &error),
	    0);
	assert_int_equal(req.command, CONTROL_STOP);
	assert_int_equal(req.n_workers, 2);
	assert_string_equal(req.workers[0], "web");
	assert_string_equal(req.workers[1], "db");
	control_request_done(&req);

	assert_int_equal(parse("{\"command\":\"restart\",\"workers\":[\"web\"]}", &req, &error),
	    0);
	assert_int_equal(req.command, CONTROL_RESTART);
	assert_int_equal(req.n_workers, 1);
	assert_string_equal(req.workers[0], "web");
	control_request_done(&req);
}

static void
expect_refused(const char *text, const char *message)
{
	struct control_request req = { .command = _CONTROL_COMMAND_INVALID };
	const char *error = NULL;

	assert_int_equal(parse(text, &req, &error), -EINVAL);
	assert_non_null(error);
	if (message && !strstr(error, message))
		fail_msg("'%s': error '%s', expected '%s'", text, error, message);
	/* Untouched on failure. */
	assert_int_equal(req.command, _CONTROL_COMMAND_INVALID);
}

static void
test_refused(void **state)
{
	expect_refused("", "not valid JSON");
	expect_refused("status", "not valid JSON");
	expect_refused("{\"command\":\"status\"", "not valid JSON");
	expect_refused("{\"command\":\"status\"}{\"command\":\"dump\"}", "not valid JSON");
	expect_refused("[\"status\"]", "JSON object");
	expect_refused("\"status\"", NULL);
	expect_refused("{}", "missing \"command\"");
	expect_refused("{\"command\":1}", "missing \"command\"");
	expect_refused("{\"command\":\"frobnicate\"}", "unknown command");
	expect_refused("{\"command\":\"reload\",\"workers\":[\"web\"]}", "unknown key");
	expect_refused("{\"command\":\"Status\"}", "unknown command");
	expect_refused("{\"command\":\"status\",\"worker\":\"web\"}", "unknown key");
	expect_refused("{\"command\":\"reopen-logs\",\"wait\":true}", "unknown key");
	expect_refused("{\"command\":\"dump\",\"wait\":true}", "unknown key");
	expect_refused("{\"command\":\"start\"}", "start needs");
	expect_refused("{\"command\":\"start\",\"workers\":[]}", "start needs");
	expect_refused("{\"command\":\"start\",\"worker\":\"web\"}", "unknown key");
	expect_refused("{\"command\":\"start\",\"workers\":[\"../x\"]}", "invalid worker name");
	expect_refused("{\"command\":\"stop\"}", "stop needs");
	expect_refused("{\"command\":\"stop\",\"workers\":[]}", "stop needs");
	expect_refused("{\"command\":\"stop\",\"worker\":\"web\"}", "unknown key");
	expect_refused("{\"command\":\"stop\",\"workers\":[\"web\"],\"wait\":true}", "unknown key");
	expect_refused("{\"command\":\"restart\"}", "restart needs");
	expect_refused("{\"command\":\"restart\",\"workers\":[]}", "restart needs");
	expect_refused("{\"command\":\"restart\",\"worker\":\"web\"}", "unknown key");
	expect_refused("{\"command\":\"status\",\"command\":\"dump\"}", "not valid JSON");
	expect_refused("{\"command\":\"status\",\"workers\":\"web\"}", "array of names");
	expect_refused("{\"command\":\"status\",\"workers\":[1]}", "array of names");
	expect_refused("{\"command\":\"status\",\"workers\":[\"../x\"]}", "invalid worker name");
	expect_refused("{\"command\":\"status\",\"workers\":[\"\"]}", "invalid worker name");
	expect_refused("{\"command\":\"signal\",\"worker\":\"web\"}", "needs");
	expect_refused("{\"command\":\"signal\",\"signal\":\"HUP\"}", "needs");
	expect_refused("{\"command\":\"signal\",\"worker\":\"web\",\"signal\":\"none\"}",
	    "invalid signal");
	expect_refused("{\"command\":\"signal\",\"worker\":\"web\",\"signal\":\"BOGUS\"}",
	    "invalid signal");
	expect_refused("{\"command\":\"signal\",\"worker\":\"web\",\"signal\":0}", "invalid signal");
	expect_refused("{\"command\":\"signal\",\"worker\":\"web\",\"signal\":-9}", "invalid signal");
	expect_refused("{\"command\":\"signal\",\"worker\":\"web\",\"signal\":4096}",
	    "invalid signal");
	expect_refused("{\"command\":\"signal\",\"worker\":\"web\",\"signal\":1.5}", "invalid signal");
	expect_refused("{\"command\":\"shutdown\",\"wait\":1}", "true or false");
	/* A NUL inside the line. */
	{
		static const char nul[] = "{\"command\":\"st\0atus\"}";
		struct control_request req;
		const char *error;

		assert_int_equal(control_request_parse(nul, sizeof(nul) - 1, &req, &error), -EINVAL);
	}
}

static void
test_limits(void **state)
{
	struct control_request req;
	const char *error;
	char *big, *p;
	size_t n = CONTROL_LINE_MAX + 16;

	/* Longer than a line may be: refused without parsing. */
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, ' ', n);
	memcpy(big, "{\"command\":\"dump\"}", strlen("{\"command\":\"dump\"}"));
	big[n] = '\0';
	assert_int_equal(control_request_parse(big, n, &req, &error), -EINVAL);
	assert_string_equal(error, "request too long");
	/* Exactly the limit is fine. */
	assert_int_equal(control_request_parse(big, CONTROL_LINE_MAX, &req, &error), 0);
	control_request_done(&req);
	free(big);

	/* Too many names. */
	big = malloc(16 * (CONTROL_WORKERS_MAX + 2));
	assert_non_null(big);
	p = big + sprintf(big, "{\"command\":\"status\",\"workers\":[");
	for (int i = 0; i <= CONTROL_WORKERS_MAX; i++)
		p += sprintf(p, "%s\"w%d\"", i ? "," : "", i);
	strcpy(p, "]}");
	assert_true(strlen(big) <= CONTROL_LINE_MAX);
	assert_int_equal(control_request_parse(big, strlen(big), &req, &error), -EINVAL);
	assert_string_equal(error, "too many worker names");
	free(big);
}

static void
test_error_reply(void **state)
{
	char *s = control_reply_error("no worker 'a\"b'");

	assert_non_null(s);
	assert_string_equal(s, "{\"ok\":false,\"error\":\"no worker 'a\\\"b'\"}\n");
	free(s);
}

static void
test_commands_table(void **state)
{
	for (int i = 0; i < _CONTROL_COMMAND_MAX; i++)
		assert_int_equal(control_command_from_string(control_command_to_string(i)), i);
	assert_int_equal(control_command_from_string("frobnicate"), _CONTROL_COMMAND_INVALID);
	assert_null(control_command_to_string(_CONTROL_COMMAND_MAX));
}

static void
test_socket_path(void **state)
{
	struct config *c = config_new();
	char *path = NULL, *want = NULL;
	bool is_default;

	assert_non_null(c);
	free(c->supervisor.name);
	c->supervisor.name = strdup("shop");
	assert_int_equal(control_socket_path(&c->supervisor, &path, &is_default), 0);
	assert_true(is_default);
	if (geteuid() == 0)
		assert_string_equal(path, "/run/graced/shop.sock");
	else if (getenv("XDG_RUNTIME_DIR") && getenv("XDG_RUNTIME_DIR")[0] == '/') {
		assert_true(asprintf(&want, "%s/graced/shop.sock", getenv("XDG_RUNTIME_DIR")) > 0);
		assert_string_equal(path, want);
	} else
		assert_null(path);
	free(path);
	free(want);

	free(c->supervisor.name);
	c->supervisor.name = strdup("a/b");
	assert_int_equal(control_socket_path(&c->supervisor, &path, &is_default),
	    geteuid() == 0 ? -EINVAL : getenv("XDG_RUNTIME_DIR") ? -EINVAL : 0);

	c->supervisor.control_socket = strdup("/tmp/x.sock");
	assert_int_equal(control_socket_path(&c->supervisor, &path, &is_default), 0);
	assert_false(is_default);
	assert_string_equal(path, "/tmp/x.sock");
	free(path);

	c->supervisor.control_socket_none = true;
	assert_int_equal(control_socket_path(&c->supervisor, &path, &is_default), 0);
	assert_null(path);
	config_free(c);
}

static void
test_config_keys(void **state)
{
	struct config_errors errors = {};
	struct config *c = NULL;

	assert_int_equal(config_load_string("t.ini",
			     "[supervisor]\ncontrol_socket = none\ncontrol_group = adm\n"
			     "[worker:w]\ncommand = true\n",
			     &c, &errors),
	    0);
	assert_true(c->supervisor.control_socket_none);
	assert_null(c->supervisor.control_socket);
	assert_string_equal(c->supervisor.control_group, "adm");
	c = config_free(c);

	assert_int_equal(config_load_string("t.ini",
			     "[supervisor]\ncontrol_socket = /run/x.sock\n[worker:w]\ncommand = true\n",
			     &c, &errors),
	    0);
	assert_false(c->supervisor.control_socket_none);
	assert_string_equal(c->supervisor.control_socket, "/run/x.sock");
	c = config_free(c);

	assert_int_equal(config_load_string("t.ini",
			     "[supervisor]\ncontrol_socket = relative.sock\n[worker:w]\ncommand = true\n",
			     &c, &errors),
	    -EINVAL);
	assert_int_equal(errors.n, 1);
	config_errors_clear(&errors);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_error_reply),
		cmocka_unit_test(test_commands_table),
		cmocka_unit_test(test_socket_path),
		cmocka_unit_test(test_config_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
