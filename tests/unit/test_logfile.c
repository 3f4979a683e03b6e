/* SPDX-License-Identifier: MIT */
#include <errno.h>
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

#include "logfile.h"
#include "util.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_logfile.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/w.log", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The whole content of path ("" when missing), in a static buffer. */
static const char *
slurp(const char *path)
{
	static char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return "";
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static const char *
file_n(const struct fixture *f, unsigned n)
{
	static char p[160];

	snprintf(p, sizeof(p), "%s.%u", f->path, n);
	return p;
}

static void
test_must_rotate(void **state)
{
	(void) state;
	/* No limit, or an empty file: never. */
	assert_false(logfile_must_rotate(100, 50, 0));
	assert_false(logfile_must_rotate(0, 500, 100));
	/* Up to the limit exactly, then past it. */
	assert_false(logfile_must_rotate(90, 10, 100));
	assert_true(logfile_must_rotate(90, 11, 100));
	assert_true(logfile_must_rotate(100, 1, 100));
	/* A file already past the limit (opened so, or a failed rotation): rotate. */
	assert_true(logfile_must_rotate(150, 1, 100));
	/* No overflow near the top. */
	assert_false(logfile_must_rotate(1, UINT64_MAX - 1, UINT64_MAX));
	assert_true(logfile_must_rotate(2, UINT64_MAX - 1, UINT64_MAX));
}

static void
test_rotation_at_line_boundary(void **state)
{
	struct fixture *f = *state;
	struct logfile *l;

	assert_int_equal(logfile_open(f->path, 10, 2, &l), 0);
	/* "aaaa\nbbbb\n" fills 10 bytes exactly; "cc\n" goes to a fresh file. A partial line is
	 * left to the caller. */
	assert_int_equal(logfile_put(l, "aaaa\nbbbb\ncc\ndd", 15, false), 13);
	assert_string_equal(slurp(f->path), "cc\n");
	assert_string_equal(slurp(file_n(f, 1)), "aaaa\nbbbb\n");
	/* The rest, flushed, with a newline added: "cc\ndd\n" is 6 bytes. */
	assert_int_equal(logfile_put(l, "dd", 2, true), 2);
	assert_string_equal(slurp(f->path), "cc\ndd\n");
	/* A line longer than the limit gets a file of its own. */
	assert_int_equal(logfile_put(l, "0123456789abc\nx\n", 16, false), 16);
	assert_string_equal(slurp(f->path), "x\n");
	assert_string_equal(slurp(file_n(f, 1)), "0123456789abc\n");
	assert_string_equal(slurp(file_n(f, 2)), "cc\ndd\n");
	/* The oldest backup goes: two backups are kept. */
	assert_int_equal(logfile_put(l, "yyyyyyyyy\n", 10, false), 10);
	assert_string_equal(slurp(f->path), "yyyyyyyyy\n");
	assert_string_equal(slurp(file_n(f, 1)), "x\n");
	assert_string_equal(slurp(file_n(f, 2)), "0123456789abc\n");
	assert_int_equal(access(file_n(f, 3), F_OK), -1);
	logfile_unref(l);
}

static void
test_no_backups_and_no_limit(void **state)
{
	struct fixture *f = *state;
	struct logfile *l;

	/* Without backups the file is emptied. */
	assert_int_equal(logfile_open(f->path, 8, 0, &l), 0);
	assert_int_equal(logfile_put(l, "1234567\n890\n", 12, false), 12);
	assert_string_equal(slurp(f->path), "890\n");
	assert_int_equal(access(file_n(f, 1), F_OK), -1);
	logfile_unref(l);
	/* Reopened: appends to what is there and counts it. */
	assert_int_equal(logfile_open(f->path, 8, 0, &l), 0);
	assert_int_equal(logfile_put(l, "abc\n", 4, false), 4);
	assert_string_equal(slurp(f->path), "890\nabc\n");
	assert_int_equal(logfile_put(l, "d\n", 2, false), 2);
	assert_string_equal(slurp(f->path), "d\n");
	logfile_unref(l);
	/* No limit: never rotated. */
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(logfile_open(f->path, 0, 3, &l), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(logfile_put(l, "0123456789\n", 11, false), 11);
	assert_int_equal(access(file_n(f, 1), F_OK), -1);
	logfile_unref(l);
}

static void
test_shared_and_mode(void **state)
{
	struct fixture *f = *state;
	struct logfile *a, *b;
	struct stat st;
	mode_t old = umask(022);

	assert_int_equal(logfile_open(f->path, 0, 5, &a), 0);
	assert_int_equal(logfile_open(f->path, 0, 5, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	umask(old);
	logfile_put(a, "a\n", 2, false);
	logfile_unref(a);
	logfile_put(b, "b\n", 2, false);
	logfile_unref(b);
	assert_string_equal(slurp(f->path), "a\nb\n");
}

static void
test_reopen_all(void **state)
{
	struct fixture *f = *state;
	char moved[160], other[160];
	struct logfile *l, *m;

	snprintf(moved, sizeof(moved), "%s/moved.log", f->dir);
	snprintf(other, sizeof(other), "%s/other.log", f->dir);
	assert_int_equal(logfile_open(f->path, 0, 1, &l), 0);
	assert_int_equal(logfile_open(other, 0, 1, &m), 0);
	logfile_put(l, "before\n", 7, false);
	/* logrotate's move: graced writes on to the moved file until told to reopen. */
	assert_int_equal(rename(f->path, moved), 0);
	logfile_put(l, "still\n", 6, false);
	assert_int_equal(logfile_reopen_all(), 0);
	logfile_put(l, "after\n", 6, false);
	assert_string_equal(slurp(moved), "before\nstill\n");
	assert_string_equal(slurp(f->path), "after\n");
	/* A path that cannot be opened again keeps the old descriptor and is reported; the others
	 * are reopened all the same. */
	assert_int_equal(unlink(other), 0);
	assert_int_equal(mkdir(other, 0700), 0);
	assert_int_equal(rename(f->path, moved), 0);
	assert_int_equal(logfile_reopen_all(), -EISDIR);
	logfile_put(l, "new\n", 4, false);
	assert_string_equal(slurp(f->path), "new\n");
	logfile_put(m, "kept\n", 5, false);
	assert_int_equal(rmdir(other), 0);
	logfile_unref(l);
	logfile_unref(m);
}

static void
test_write_error(void **state)
{
	struct logfile *l;
	uint64_t before = logfile_dropped();

	(void) state;
	/* Every write fails with ENOSPC: the lines are taken (the pump must not stall), dropped and
	 * counted. No limit: nothing to rotate. */
	assert_int_equal(logfile_open("/dev/full", 0, 0, &l), 0);
	assert_int_equal(logfile_put(l, "one\ntwo\nrest", 12, false), 8);
	assert_int_equal(logfile_put(l, "rest", 4, true), 4);
	assert_true(logfile_dropped() == before + 8 + 5);
	logfile_unref(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_must_rotate),
		cmocka_unit_test_setup_teardown(test_rotation_at_line_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_backups_and_no_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_and_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_all, setup, teardown),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
