/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "envfile.h"
#include "util.h"

/* Parses text and compares with expected, a NULL-terminated list. */
static void
check(const char *text, const char *const *expected)
{
	struct envfile_error e = {};
	char **l = NULL;
	size_t i;

	if (envfile_parse(text, strlen(text), &l, &e) != 0)
		fail_msg("envfile_parse(\"%s\") failed at line %u: %s", text, e.line, e.message);
	for (i = 0; expected[i]; i++) {
		if (!l[i])
			fail_msg("\"%s\": missing \"%s\"", text, expected[i]);
		assert_string_equal(l[i], expected[i]);
	}
	assert_null(l[i]);
	strv_free(l);
}

static void
check_error(const char *text, size_t len, unsigned line)
{
	struct envfile_error e = {};
	char **l = NULL;

	assert_int_equal(envfile_parse(text, len, &l, &e), -EINVAL);
	assert_null(l);
	if (e.line != line)
		fail_msg("\"%s\": error at line %u (%s), expected %u", text, e.line, e.message, line);
	assert_non_null(e.message);
}

#define L(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void
test_plain(void **state)
{
	(void) state;
	check("", L(NULL));
	check("\n\n  \n", L(NULL));
	check("A=1", L("A=1"));
	check("A=1\nB=2\n", L("A=1", "B=2"));
	check("  A  =  1  \n", L("A=1"));
	check("A=\n", L("A="));
	check("A=1\nA=2\n", L("A=2"));
	check("A=a b  c\n", L("A=a b  c"));
	check("A=x=y\n", L("A=x=y"));
	check("_a9=1\n", L("_a9=1"));
	check("A=1\r\n", L("A=1"));
	check("A=#not a comment\n", L("A=#not a comment"));
}

static void
test_comments(void **state)
{
	(void) state;
	check("# c\n; c\nA=1\n  # indented\n", L("A=1"));
	/* As systemd: a comment ending in a backslash swallows the next line. */
	check("# c \\\nB=2\nA=1\n", L("A=1"));
}

static void
test_quotes(void **state)
{
	(void) state;
	check("A='a  b'\n", L("A=a  b"));
	check("A='$x \\n \"'\n", L("A=$x \\n \""));
	check("A=\"a \\\"q\\\" \\\\ \\$ \\` \\n\"\n", L("A=a \"q\" \\ $ ` \\n"));
	check("A=\"  \"\n", L("A=  "));
	check("A=\"multi\nline\"\n", L("A=multi\nline"));
	check("A=\"cont\\\ninued\"\n", L("A=continued"));
	check("A='a'\"b\"c\n", L("A=abc"));
	check("A=x'y'\n", L("A=x'y'"));
	check("A=''\n", L("A="));
}

static void
test_escapes(void **state)
{
	(void) state;
	check("A=a\\ \n", L("A=a "));
	check("A=a\\\\b\n", L("A=a\\b"));
	check("A=one \\\n  two\n", L("A=one   two"));
	check("A=\\\"x\\\"\n", L("A=\"x\""));
}

static void
test_errors(void **state)
{
	(void) state;
	check_error("A\n", 2, 1);
	check_error("A=1\nB C=2\n", 8, 2);
	check_error("A=1\n\n=3\n", 7, 3);
	check_error("1A=1\n", 5, 1);
	check_error("A-B=1\n", 6, 1);
	check_error("A='open\n", 8, 1);
	check_error("A=\"open\nB=2\n", 12, 1);
	check_error("A=1\\", 4, 1);
	check_error("A=1\0B=2\n", 8, 1);
	check_error("export A=1\n", 11, 1);
}

static void
test_read(void **state)
{
	char path[] = "/tmp/test_envfile.XXXXXX", spec[64];
	struct envfile_error e = {};
	char **l = NULL;
	int fd;

	(void) state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "A='1'\n", 6), 6);
	close(fd);
	assert_int_equal(envfile_read(path, &l, &e), 0);
	assert_string_equal(l[0], "A=1");
	strv_free(l);
	snprintf(spec, sizeof(spec), "-%s", path);
	assert_string_equal(envfile_path(spec), path);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(envfile_read(spec, &l, &e), 0);
	assert_null(l[0]);
	strv_free(l);
	assert_int_equal(envfile_read(path, &l, &e), -ENOENT);
	assert_int_equal(envfile_read("/", &l, &e), -EISDIR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
