/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void
test_write_file_atomic(void **state)
{
	char dir[] = "/tmp/graced-test-util.XXXXXX", path[64], sub[64], buf[16];
	const char data[] = { 'a', '\0', 'b', '\n' };
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, n;
	mode_t u = umask(022);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/file", dir);
	/* Binary data, whole, with the mode asked for (less the umask). */
	assert_int_equal(write_file_atomic(path, data, sizeof(data), 0640), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_true((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0);
	assert_int_equal(n = read(fd, buf, sizeof(buf)), sizeof(data));
	assert_memory_equal(buf, data, sizeof(data));
	close(fd);
	/* Replaced by an empty file. */
	assert_int_equal(write_file_atomic(path, "", 0, 0644), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	/* A rename that fails (a directory in the way) leaves no temporary file behind. */
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(write_file_atomic(sub, "x", 1, 0644), -EISDIR);
	snprintf(sub, sizeof(sub), "%s/missing/file", dir);
	assert_int_equal(write_file_atomic(sub, "x", 1, 0644), -ENOENT);
	assert_non_null(d = opendir(dir));
	n = 0;
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			n++;
	closedir(d);
	assert_int_equal(n, 2); /* file and sub, nothing else */

	/* A path without a directory: the current one. */
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(write_file_atomic("file", "y", 1, 0644), 0);
	assert_int_equal(chdir("/"), 0);

	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	umask(u);
}

static void
check_escape(const char *in, unsigned flags, const char *want)
{
	_cleanup_free_ char *e = escape_strdup(in, flags);

	assert_non_null(e);
	assert_string_equal(e, want);
	assert_int_equal(escape_needed(in, flags), !streq(in, want));
}

static void
test_escape(void **state)
{
	char buf[8];

	check_escape("", 0, "");
	check_escape("plain text, 'quoted' = ok", 0, "plain text, 'quoted' = ok");
	/* ESC, DEL, BEL, NUL-free C0, backslash. */
	check_escape("a\x1b[31mred\x7f\x07", 0, "a\\x1b[31mred\\x7f\\x07");
	check_escape("x\\y", 0, "x\\\\y");
	check_escape("l1\nl2\tt\rr", 0, "l1\\nl2\\tt\\rr");
	check_escape("l1\nl2\x01", ESCAPE_KEEP_NEWLINE, "l1\nl2\\x01");
	check_escape("say \"hi\"", 0, "say \"hi\"");
	check_escape("say \"hi\"", ESCAPE_QUOTE, "say \\\"hi\\\"");
	/* Valid UTF-8 stays, C1 controls and bytes that are not UTF-8 do not. */
	check_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0,
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	check_escape("csi\xc2\x9b" "31m", 0, "csi\\xc2\\x9b" "31m");
	check_escape("\xff\xfe", 0, "\\xff\\xfe");
	check_escape("\xc3", 0, "\\xc3");                         /* truncated */
	check_escape("\xc3(", 0, "\\xc3(");                       /* bad continuation */
	check_escape("\xc0\xaf", 0, "\\xc0\\xaf");                  /* overlong '/' */
	check_escape("\xed\xa0\x80", 0, "\\xed\\xa0\\x80");           /* surrogate */
	check_escape("\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80");   /* > U+10FFFF */

	/* Cut at the buffer, never inside an escape; the return value is the whole length. */
	assert_int_equal(escape_buf(buf, sizeof(buf), "abcdef\x1b", 7, 0), 10);
	assert_string_equal(buf, "abcdef");
	assert_int_equal(escape_buf(buf, sizeof(buf), "ab\x1b" "cd", 5, 0), 8);
	assert_string_equal(buf, "ab\\x1bc");
	assert_int_equal(escape_buf(buf, 3, "\xc3\xa9\xc3\xa9", 4, 0), 4);
	assert_string_equal(buf, "\xc3\xa9");
	assert_int_equal(escape_buf(buf, 1, "abc", 3, 0), 3);
	assert_string_equal(buf, "");
	assert_int_equal(escape_buf(NULL, 0, "a\x1b", 2, 0), 5);
	/* Bytes after a NUL are text like any other when a length is given. */
	assert_int_equal(escape_buf(buf, sizeof(buf), "a\0b", 3, 0), 6);
	assert_string_equal(buf, "a\\x00b");
}

static void
test_name_index(void **state)
{
	struct name_index x = {};
	char names[1000][8];

	assert_int_equal(name_index_get(&x, "a"), -1);
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		snprintf(names[i], sizeof(names[i]), "n%zu", i);
		assert_int_equal(name_index_put(&x, names[i], i), 0);
	}
	/* A name already there keeps its first position. */
	assert_int_equal(name_index_put(&x, "n7", 999), 0);
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		assert_int_equal(name_index_get(&x, names[i]), (ssize_t) i);
	assert_int_equal(name_index_get(&x, "n1000"), -1);
	assert_int_equal(name_index_get(&x, ""), -1);
	name_index_done(&x);
	assert_int_equal(name_index_get(&x, "n1"), -1);
	name_index_done(&x);
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
		cmocka_unit_test(test_write_file_atomic),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_name_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
