/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static void
test_usec_add_saturates(void **state)
{
	assert_int_equal(usec_add(1, 2), 3);
	assert_int_equal(usec_add(USEC_INFINITY, 1), USEC_INFINITY);
	assert_int_equal(usec_add(1, USEC_INFINITY), USEC_INFINITY);
	assert_int_equal(usec_add(USEC_INFINITY - 1, 5), USEC_INFINITY);
}

static void
test_now_is_monotonic(void **state)
{
	usec_t a = now_usec(), b = now_usec();

	assert_true(a > 0);
	assert_true(b >= a);
}

static void
test_strv(void **state)
{
	_cleanup_strv_free_ char **l = NULL, **copy = NULL;
	_cleanup_free_ char *joined = NULL;

	assert_int_equal(strv_length(l), 0);
	assert_false(strv_contains(l, "a"));
	assert_int_equal(strv_extend(&l, "a"), 0);
	assert_int_equal(strv_extend(&l, "bb"), 0);
	assert_int_equal(strv_length(l), 2);
	assert_true(strv_contains(l, "bb"));
	assert_false(strv_contains(l, "b"));
	assert_non_null(copy = strv_copy(l));
	assert_string_equal(copy[1], "bb");
	assert_null(copy[2]);
	assert_non_null(joined = strv_join(l, ", "));
	assert_string_equal(joined, "a, bb");
}

static void
check_quoted(char **argv, const char *want)
{
	_cleanup_free_ char *s = strv_join_quoted(argv);

	assert_non_null(s);
	assert_string_equal(s, want);
}

static void
test_join_quoted(void **state)
{
	check_quoted((char *[]) { "sleep", "10", NULL }, "sleep 10");
	check_quoted((char *[]) { "sh", "-c", "echo \"hi there\"", NULL }, "sh -c 'echo \"hi there\"'");
	check_quoted((char *[]) { "echo", "it's", "", NULL }, "echo 'it'\\''s' ''");
	check_quoted((char *[]) { "/usr/bin/web", "--listen-fd=3", "a,b@c:1", NULL },
	    "/usr/bin/web --listen-fd=3 a,b@c:1");
	check_quoted((char *[]) { NULL }, "");
}

static void
test_fd_flags(void **state)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(fd_cloexec(p[0], true), 0);
	assert_int_equal(fd_nonblock(p[0], true), 0);
	assert_int_equal(fd_cloexec(p[0], false), 0);
	assert_int_equal(fd_nonblock(p[0], false), 0);
	safe_close(p[0]);
	safe_close(p[1]);
	assert_int_equal(fd_cloexec(p[0], true), -EBADF);
	assert_int_equal(fd_nonblock(p[1], true), -EBADF);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usec_add_saturates),
		cmocka_unit_test(test_now_is_monotonic),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_join_quoted),
		cmocka_unit_test(test_fd_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
