/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "expand.h"
#include "parse.h"
#include "util.h"

static void
check(const char *t, unsigned n, const char *expected)
{
	char *s = NULL;

	assert_int_equal(expand_instance(t, n, &s), 0);
	assert_string_equal(s, expected);
	free(s);
}

static void
test_expand_instance(void **state)
{
	char *s = NULL;

	(void) state;
	check("", 0, "");
	check("plain", 7, "plain");
	check("--port 900${INSTANCE}", 3, "--port 9003");
	check("${INSTANCE}${INSTANCE}", 12, "1212");
	check("${INSTANCE}", 4294967295U, "4294967295");
	check("$$", 1, "$");
	check("$${INSTANCE}", 1, "${INSTANCE}");
	check("$HOME $", 1, "$HOME $");
	assert_int_equal(expand_instance("${OTHER}", 0, &s), -EINVAL);
	assert_int_equal(expand_instance("${INSTANCE", 0, &s), -EINVAL);
	assert_null(s);
}

static void
test_has_instance(void **state)
{
	(void) state;
	assert_true(expand_has_instance("a${INSTANCE}b"));
	assert_true(expand_has_instance("$$$${INSTANCE}${INSTANCE}"));
	assert_false(expand_has_instance("$${INSTANCE}"));
	assert_false(expand_has_instance("${INSTANCE:-1}"));
	assert_false(expand_has_instance(""));
	assert_false(expand_has_instance(NULL));
}

static void
test_strv(void **state)
{
	char *in[] = { "a${INSTANCE}", "b", NULL };
	char **out = NULL;

	(void) state;
	assert_int_equal(expand_instance_strv(in, 5, &out), 0);
	assert_string_equal(out[0], "a5");
	assert_string_equal(out[1], "b");
	assert_null(out[2]);
	strv_free(out);
	assert_int_equal(expand_instance_strv(NULL, 5, &out), 0);
	assert_null(out);
}

static void
test_ready_port(void **state)
{
	uint16_t port = 0;

	(void) state;
	assert_int_equal(expand_ready_port("tcp:900${INSTANCE}", 2, &port), 0);
	assert_int_equal(port, 9002);
	assert_int_equal(expand_ready_port("tcp:6553${INSTANCE}", 5, &port), 0);
	assert_int_equal(port, 65535);
	assert_int_equal(expand_ready_port("tcp:6553${INSTANCE}", 6, &port), -ERANGE);
	assert_int_equal(expand_ready_port("tcp:${INSTANCE}", 0, &port), -ERANGE);
	assert_int_equal(expand_ready_port("tcp:900${INSTANCE}", 100000, &port), -ERANGE);
	assert_int_equal(expand_ready_port("tcp:x${INSTANCE}", 1, &port), -EINVAL);
	assert_int_equal(expand_ready_port("delay:${INSTANCE}s", 1, &port), -EINVAL);
	assert_int_equal(port, 65535);
}

/* The first expansion (from graced's environment, when the file is read) keeps what the second
 * needs: ${INSTANCE} and "$$", and a "$" that came from a variable's value is doubled. */
static void
test_env_keeping(void **state)
{
	char *s = NULL, *t = NULL;

	(void) state;
	assert_int_equal(setenv("GRACED_TEST_EXPAND", "a$b${c}", 1), 0);
	assert_int_equal(expand_env_keeping("${GRACED_TEST_EXPAND}:${INSTANCE}:$$", "INSTANCE", &s,
	    NULL), 0);
	assert_string_equal(s, "a$$b$${c}:${INSTANCE}:$$");
	assert_int_equal(expand_instance(s, 3, &t), 0);
	assert_string_equal(t, "a$b${c}:3:$");
	free(s);
	free(t);
	assert_int_equal(expand_env_keeping("${GRACED_TEST_SURELY_UNSET_X:-$$x}", "INSTANCE", &s,
	    NULL), 0);
	assert_string_equal(s, "$$x");
	free(s);
	assert_int_equal(expand_env("$$", &s, NULL), 0);
	assert_string_equal(s, "$");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand_instance),
		cmocka_unit_test(test_has_instance),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_ready_port),
		cmocka_unit_test(test_env_keeping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
