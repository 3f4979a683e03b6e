/* SPDX-License-Identifier: MIT */
/*
 * log-libevent.c: libevent's warnings reach graced's log, at most 20 per 10 s, then one line
 * saying the rest are not logged, then (in the next interval) how many were not. The warnings
 * are real ones (event_add() of a closed descriptor); log_fields() and now_usec() are wrapped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "log.h"
#include "util.h"

int __wrap_log_fields(int priority, int error, const struct log_field *fields, const char *format,
    ...);
usec_t __wrap_now_usec(void);

static unsigned lines, libevent_lines;
static char last[256];
static usec_t fake_now = 1;

int
__wrap_log_fields(int priority, int error, const struct log_field *fields, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vsnprintf(last, sizeof(last), format, ap);
	va_end(ap);
	lines++;
	if (strncmp(last, "libevent: ", 10) == 0 && !strstr(last, "not logged") &&
	    !strstr(last, "too many"))
		libevent_lines++;
	return -abs(error);
}

usec_t
__wrap_now_usec(void)
{
	return fake_now;
}

static void
noop_cb(evutil_socket_t fd, short what, void *arg)
{
}

/* One libevent warning: epoll refuses a descriptor that is not open. */
static void
provoke(struct event_base *base)
{
	struct event *ev = event_new(base, 1000, EV_READ, noop_cb, NULL);

	assert_non_null(ev);
	(void) close(1000);
	assert_int_equal(event_add(ev, NULL), -1);
	event_free(ev);
}

static void
test_rate_limited(void **state)
{
	struct event_base *base;

	log_libevent_setup();
	assert_non_null(base = event_base_new());
	for (int k = 0; k < 50; k++)
		provoke(base);
	/* 20 warnings, then one line saying the rest are not logged. */
	assert_int_equal(libevent_lines, 20);
	assert_int_equal(lines, 21);
	assert_non_null(strstr(last, "too many messages"));

	/* Ten seconds later: how many were not, then the new warning. */
	fake_now += 10 * USEC_PER_SEC;
	provoke(base);
	assert_int_equal(lines, 23);
	assert_int_equal(libevent_lines, 21);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_limited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
