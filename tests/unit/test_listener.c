/* SPDX-License-Identifier: MIT */
/*
 * listener.c on a real loop with loopback clients: at the limit the oldest idle client makes
 * room for a new one, a connection's deadline counts from its accept, and accept() failing with
 * EMFILE pauses accepting (a handful of calls per second, one warning) instead of spinning.
 * accept4() and log_fields() are wrapped.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "listener.h"
#include "log.h"
#include "task.h"
#include "util.h"

int __real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int __wrap_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int __wrap_log_fields(int priority, int error, const struct log_field *fields, const char *format,
    ...);

static unsigned accept_calls;
static unsigned accept_failures; /* accept4() fails with EMFILE this many more times */
static unsigned warnings;

int
__wrap_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	accept_calls++;
	if (accept_failures > 0) {
		accept_failures--;
		errno = EMFILE;
		return -1;
	}
	return __real_accept4(fd, addr, len, flags);
}

int
__wrap_log_fields(int priority, int error, const struct log_field *fields, const char *format, ...)
{
	if (priority <= LOG_WARNING)
		warnings++;
	return -abs(error);
}

/* Long enough that a close well before it can only be an eviction, on a loaded machine too. */
#define REQUEST_TIMEOUT (3 * USEC_PER_SEC)

struct fixture {
	struct event_base *base;
	struct task_runtime *rt;
	struct task_group *g;
	struct listener *l;
	struct sockaddr_in addr;
	unsigned served;
	int r;
};

/* Reads until the client closes or the deadline; a client that sends "hi" gets "ok". */
static int
serve(struct listener_conn *conn, int fd, usec_t deadline, void *userdata)
{
	struct fixture *f = userdata;
	char buf[16];
	ssize_t n;
	int r;

	f->served++;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			return 0;
		if (n > 0 && buf[0] == 'h') {
			listener_conn_set_answering(conn, true);
			(void) send(fd, "ok", 2, MSG_NOSIGNAL);
			return 0;
		}
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if ((r = task_wait_fd(fd, TASK_FD_READ, deadline)) < 0)
			return r;
	}
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	socklen_t len = sizeof(f->addr);
	int fd;

	assert_non_null(f);
	assert_non_null(f->base = event_base_new());
	assert_int_equal(task_runtime_new(f->base, &f->rt), 0);
	assert_int_equal(task_group_new(f->rt, NULL, "test", &f->g), 0);
	assert_true((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	f->addr = (struct sockaddr_in) { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(fd, (struct sockaddr *) &f->addr, sizeof(f->addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &f->addr, &len), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(listener_new(f->rt, fd, "test", 2, REQUEST_TIMEOUT, serve, f, &f->l), 0);
	accept_calls = accept_failures = warnings = 0;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	assert_null(listener_free(f->l));
	assert_int_equal(task_group_free(f->g), 0);
	task_runtime_free(f->rt);
	event_base_free(f->base);
	free(f);
	return 0;
}

static int
client(struct fixture *f)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *) &f->addr, sizeof(f->addr)) < 0)
		assert_int_equal(errno, EINPROGRESS);
	return fd;
}

/* Waits (bounded) until the listener holds n clients. */
static void
wait_count(struct fixture *f, unsigned n)
{
	usec_t end = now_usec() + 5 * USEC_PER_SEC;

	while (listener_count(f->l) != n) {
		assert_true(now_usec() < end);
		assert_int_equal(task_sleep_until(now_usec() + USEC_PER_MSEC), 0);
	}
}

/* Whether the server closed fd within timeout. */
static bool
closed_within(int fd, usec_t timeout)
{
	char c;

	if (task_wait_fd(fd, TASK_FD_READ, usec_add(now_usec(), timeout)) < 0)
		return false;
	return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

static int
evict_task(void *arg)
{
	struct fixture *f = arg;
	int a, b, c;
	usec_t before_b;
	char buf[4];

	a = client(f);
	wait_count(f, 1);
	before_b = now_usec();
	b = client(f);
	wait_count(f, 2);
	/* The third client takes the slot of the oldest (a) and is served at once. */
	c = client(f);
	assert_true(task_wait_fd(c, TASK_FD_WRITE, now_usec() + USEC_PER_SEC) > 0);
	assert_int_equal(send(c, "hi", 2, MSG_NOSIGNAL), 2);
	/* Evicted: closed long before its own deadline (a loaded machine gets half of it). */
	assert_true(closed_within(a, REQUEST_TIMEOUT / 2));
	assert_true(task_wait_fd(c, TASK_FD_READ, now_usec() + USEC_PER_SEC) > 0);
	assert_int_equal(recv(c, buf, sizeof(buf), 0), 2);
	assert_true(listener_count(f->l) <= 2);
	/* b is closed by its deadline, REQUEST_TIMEOUT from its accept, not before (no upper
	 * bound beyond "it is closed": a loaded machine makes it late, never early). */
	assert_true(closed_within(b, 10 * REQUEST_TIMEOUT));
	assert_true(now_usec() - before_b >= REQUEST_TIMEOUT - 20 * USEC_PER_MSEC);
	close(a);
	close(b);
	close(c);
	return 0;
}

static void
test_evict_and_deadline(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(task_spawn(f->g, "client", evict_task, f, NULL), 0);
	assert_int_equal(task_runtime_run_until(f->rt, f->g, now_usec() + 10 * USEC_PER_SEC), 0);
	assert_int_equal(f->served, 3);
}

static int
emfile_task(void *arg)
{
	struct fixture *f = arg;
	int c;
	char buf[4];

	accept_failures = UINT32_MAX;
	c = client(f);
	assert_true(task_wait_fd(c, TASK_FD_WRITE, now_usec() + USEC_PER_SEC) > 0);
	assert_int_equal(send(c, "hi", 2, MSG_NOSIGNAL), 2);
	/* One second out of descriptors: a pause of 200 ms per failed accept(), not a spin. */
	assert_int_equal(task_sleep_until(now_usec() + USEC_PER_SEC), 0);
	assert_true(accept_calls >= 2);
	assert_true(accept_calls <= 1 + USEC_PER_SEC / LISTENER_PAUSE + 1);
	assert_int_equal(warnings, 1);
	assert_int_equal(f->served, 0);
	/* Descriptors again: the waiting client is served. */
	accept_failures = 0;
	assert_true(task_wait_fd(c, TASK_FD_READ, now_usec() + 2 * USEC_PER_SEC) > 0);
	assert_int_equal(recv(c, buf, sizeof(buf), 0), 2);
	assert_int_equal(f->served, 1);
	assert_int_equal(warnings, 1);
	close(c);
	return 0;
}

static void
test_emfile_pauses(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(task_spawn(f->g, "client", emfile_task, f, NULL), 0);
	assert_int_equal(task_runtime_run_until(f->rt, f->g, now_usec() + 10 * USEC_PER_SEC), 0);
}

static void
test_fd_budget(void **state)
{
	/* A reserve beyond the limit leaves nothing; a small one leaves most of it. */
	assert_int_equal(listener_fd_budget(UINT32_MAX / 2), 0);
	assert_true(listener_fd_budget(8) > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_evict_and_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emfile_pauses, setup, teardown),
		cmocka_unit_test(test_fd_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
