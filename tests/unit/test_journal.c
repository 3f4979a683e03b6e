/* SPDX-License-Identifier: MIT */
/*
 * journal_send(): the native protocol's two field forms, and that a journald that does not read
 * costs entries (-EAGAIN), never a blocked graced.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"
#include "util.h"

#define FIELD(s) { .iov_base = (void *) (s), .iov_len = sizeof(s) - 1 }

struct fixture {
	char dir[64];
	char path[96];
	int fd;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_journal.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/socket", f->dir);
	strcpy(sa.sun_path, f->path);
	assert_true((f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(bind(f->fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	close(f->fd);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
test_fields(void **state)
{
	struct fixture *f = *state;
	const struct iovec fields[] = { FIELD("PRIORITY=6"), FIELD("MESSAGE=two\nlines") };
	uint64_t len = htole64(9);
	char want[64], got[256];
	size_t n = 0;

	assert_int_equal(journal_send(f->path, fields, 2), 0);
	/* A plain field as it is; one with a newline as KEY, newline, length, value. */
	n += (size_t) sprintf(want, "PRIORITY=6\nMESSAGE\n");
	memcpy(want + n, &len, sizeof(len));
	n += sizeof(len);
	n += (size_t) sprintf(want + n, "two\nlines\n");
	assert_int_equal(recv(f->fd, got, sizeof(got), 0), n);
	assert_memory_equal(got, want, n);
}

static void
test_stuck_journald_never_blocks(void **state)
{
	struct fixture *f = *state;
	const struct iovec fields[] = { FIELD("PRIORITY=6"), FIELD("MESSAGE=nobody reads this") };
	int r = 0;

	/* Blocking would end the test here, by SIGALRM. */
	alarm(10);
	for (int i = 0; i < 1000000 && r == 0; i++)
		r = journal_send(f->path, fields, 2);
	alarm(0);
	assert_int_equal(r, -EAGAIN);
}

static void
test_errors(void **state)
{
	struct fixture *f = *state;
	const struct iovec bad[] = { FIELD("no equals sign") }, ok[] = { FIELD("MESSAGE=x") };
	char gone[128];

	assert_int_equal(journal_send(f->path, bad, 1), -EINVAL);
	snprintf(gone, sizeof(gone), "%s/nothing", f->dir);
	assert_int_equal(journal_send(gone, ok, 1), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_journald_never_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
