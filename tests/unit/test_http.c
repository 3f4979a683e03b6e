/* SPDX-License-Identifier: MIT */
/*
 * http.c: the request heads the readiness endpoint accepts and refuses, and a request read in
 * pieces, a head too big and a trickle past the deadline over a socketpair on a real loop.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "http.h"
#include "task.h"
#include "util.h"

static int
parse(const char *text, struct http_request *req, char *buf, size_t size)
{
	size_t n = strlen(text);

	assert_true(n < size);
	memcpy(buf, text, n + 1);
	return http_parse_request(buf, n, req);
}

static void
test_parse(void **state)
{
	struct http_request req;
	char buf[256];

	assert_int_equal(parse("GET /ready HTTP/1.1\r\nHost: x\r\n\r\n", &req, buf, sizeof(buf)), 0);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.path, "/ready");
	assert_int_equal(req.minor, 1);
	/* Bare LF, HTTP/1.0, a query and a fragment. */
	assert_int_equal(parse("HEAD /status?x=1#f HTTP/1.0\n\n", &req, buf, sizeof(buf)), 0);
	assert_string_equal(req.method, "HEAD");
	assert_string_equal(req.path, "/status");
	assert_int_equal(req.minor, 0);
	/* Absolute form. */
	assert_int_equal(parse("GET http://h:1/live?a HTTP/1.1\r\n\r\n", &req, buf, sizeof(buf)), 0);
	assert_string_equal(req.path, "/live");
	assert_int_equal(parse("GET http://h:1 HTTP/1.1\r\n\r\n", &req, buf, sizeof(buf)), 0);
	assert_string_equal(req.path, "/");
	assert_int_equal(parse("OPTIONS * HTTP/1.1\r\n\r\n", &req, buf, sizeof(buf)), 0);
	assert_string_equal(req.path, "*");
}

static void
test_parse_refuses(void **state)
{
	static const char *const bad[] = {
		"\x00\x01garbage \xff\r\n\r\n",
		"GET /ready\r\n\r\n",
		"GET /ready HTTP/2.0\r\n\r\n",
		"GET /ready HTTP/1.1 x\r\n\r\n",
		"GET  /ready HTTP/1.1\r\n\r\n",
		"GET ready HTTP/1.1\r\n\r\n",
		"G\x7f /ready HTTP/1.1\r\n\r\n",
		"GET /re\x01dy HTTP/1.1\r\n\r\n",
		"GET /ready HTTP/1.1\r\nno colon\r\n\r\n",
		"GET /ready HTTP/1.1\r\n: empty name\r\n\r\n",
		"GET /ready HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
		"GET /ready HTTP/1.1\r\nA: b\x01\r\n\r\n",
		"\r\n",
	};
	struct http_request req;
	char buf[256];

	for (size_t k = 0; k < ELEMENTSOF(bad); k++) {
		size_t n = k == 0 ? 16 : strlen(bad[k]);

		memcpy(buf, bad[k], n);
		buf[n] = '\0';
		assert_int_equal(http_parse_request(buf, n, &req), -EBADMSG);
	}
}

struct fixture {
	struct event_base *base;
	struct task_runtime *rt;
	struct task_group *g;
	int fds[2];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(f->base = event_base_new());
	assert_int_equal(task_runtime_new(f->base, &f->rt), 0);
	assert_int_equal(task_group_new(f->rt, NULL, "test", &f->g), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, f->fds), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(task_group_free(f->g), 0);
	task_runtime_free(f->rt);
	event_base_free(f->base);
	safe_close(f->fds[0]);
	safe_close(f->fds[1]);
	free(f);
	return 0;
}

static void
run(struct fixture *f, task_fn fn)
{
	assert_int_equal(task_spawn(f->g, "test", fn, f, NULL), 0);
	assert_int_equal(task_runtime_run_until(f->rt, f->g, now_usec() + 10 * USEC_PER_SEC), 0);
}

/* Sends the request in pieces, the terminator split over two writes. */
static int
pieces_writer(void *arg)
{
	struct fixture *f = arg;
	static const char *const pieces[] = { "GET /re", "ady HTTP/1.1\r\nHost: x\r\n\r", "\n" };

	for (size_t k = 0; k < ELEMENTSOF(pieces); k++) {
		assert_int_equal(send(f->fds[1], pieces[k], strlen(pieces[k]), 0),
		    (ssize_t) strlen(pieces[k]));
		assert_int_equal(task_sleep_until(now_usec() + 5 * USEC_PER_MSEC), 0);
	}
	return 0;
}

static int
pieces_reader(void *arg)
{
	struct fixture *f = arg;
	struct http_request req;
	static char buf[HTTP_HEAD_MAX];
	char reply[512];
	ssize_t n;

	assert_int_equal(task_spawn(f->g, "writer", pieces_writer, f, NULL), 0);
	assert_int_equal(http_read_request(f->fds[0], buf, sizeof(buf), now_usec() + USEC_PER_SEC,
			     &req), 0);
	assert_string_equal(req.path, "/ready");
	assert_int_equal(http_reply(f->fds[0], now_usec() + USEC_PER_SEC, 503, "Service Unavailable",
			     NULL, "text/plain", "stopping\n", 9, true), 0);
	n = recv(f->fds[1], reply, sizeof(reply) - 1, 0);
	assert_true(n > 0);
	reply[n] = '\0';
	assert_non_null(strstr(reply, "HTTP/1.1 503 Service Unavailable\r\n"));
	assert_non_null(strstr(reply, "Content-Length: 9\r\n"));
	assert_non_null(strstr(reply, "Connection: close\r\n"));
	/* HEAD: no body after the head. */
	assert_int_equal(strcmp(reply + n - 4, "\r\n\r\n"), 0);
	return 0;
}

static void
test_read_in_pieces(void **state)
{
	run(*state, pieces_reader);
}

static int
too_big(void *arg)
{
	struct fixture *f = arg;
	struct http_request req;
	char buf[64];
	const char *head = "GET /ready HTTP/1.1\r\nX-Long: 0123456789012345678901234567890123456789\r\n";

	assert_int_equal(send(f->fds[1], head, strlen(head), 0), (ssize_t) strlen(head));
	assert_int_equal(http_read_request(f->fds[0], buf, sizeof(buf), now_usec() + USEC_PER_SEC,
			     &req), -EMSGSIZE);
	return 0;
}

static void
test_too_big(void **state)
{
	run(*state, too_big);
}

/* A request line and then nothing: the deadline ends it, and one absolute deadline ends it. */
static int
trickle(void *arg)
{
	struct fixture *f = arg;
	struct http_request req;
	char buf[256];
	usec_t start = now_usec();

	assert_int_equal(send(f->fds[1], "GET / HTTP/1.1\r\n", 16, 0), 16);
	assert_int_equal(http_read_request(f->fds[0], buf, sizeof(buf),
			     start + 100 * USEC_PER_MSEC, &req), -ETIMEDOUT);
	assert_true(now_usec() - start >= 100 * USEC_PER_MSEC);
	return 0;
}

static void
test_deadline(void **state)
{
	run(*state, trickle);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test_setup_teardown(test_read_in_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
