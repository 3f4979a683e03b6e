/* SPDX-License-Identifier: MIT */
/*
 * src/sd-compat.c, graced's own sd-daemon (both builds): NOTIFY_SOCKET as a path and as an abstract '@' name, WATCHDOG_USEC/WATCHDOG_PID, LISTEN_PID/
 * LISTEN_FDS/LISTEN_FDNAMES, sd_is_socket().
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
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

#include "macro.h"
#include "sd-compat.h"

/* A datagram receiver at addr (len bytes of it). */
static int
receiver(const struct sockaddr_un *sa, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (const struct sockaddr *) sa, len), 0);
	return fd;
}

static void
expect_datagram(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void
test_notify_path(void **state)
{
	char dir[] = "/tmp/sd-compat.XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
	fd = receiver(&sa, sizeof(sa));
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	assert_true(sd_notify(0, "READY=1\nSTATUS=up") > 0);
	expect_datagram(fd, "READY=1\nSTATUS=up");
	assert_non_null(getenv("NOTIFY_SOCKET"));
	assert_true(sd_notify(1, "STOPPING=1") > 0);
	expect_datagram(fd, "STOPPING=1");
	assert_null(getenv("NOTIFY_SOCKET"));
	/* Nobody to tell: 0, nothing sent. */
	assert_int_equal(sd_notify(0, "READY=1"), 0);
	safe_close(fd);
	unlink(sa.sun_path);
	rmdir(dir);
}

static void
test_notify_abstract(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char name[64];
	int fd, n;

	/* "@name": the address is a NUL and the name, without a terminator. */
	n = snprintf(name, sizeof(name), "@graced-sd-compat-%d", (int) getpid());
	memcpy(sa.sun_path + 1, name + 1, (size_t) n - 1);
	fd = receiver(&sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + (size_t) n));
	setenv("NOTIFY_SOCKET", name, 1);
	assert_true(sd_notify(0, "WATCHDOG=1") > 0);
	expect_datagram(fd, "WATCHDOG=1");
	setenv("NOTIFY_SOCKET", "vsock:2:9", 1);
	assert_true(sd_notify(0, "READY=1") < 0);
	unsetenv("NOTIFY_SOCKET");
	safe_close(fd);
}

static void
test_watchdog(void **state)
{
	char pid[32];
	uint64_t usec = 0;

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(sd_watchdog_enabled(0, &usec), 0);
	setenv("WATCHDOG_USEC", "2000000", 1);
	assert_int_equal(sd_watchdog_enabled(0, &usec), 1);
	assert_int_equal(usec, 2000000);
	snprintf(pid, sizeof(pid), "%d", (int) getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sd_watchdog_enabled(0, &usec), 0); /* another process's */
	snprintf(pid, sizeof(pid), "%d", (int) getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sd_watchdog_enabled(0, &usec), 1);
	setenv("WATCHDOG_USEC", "2s", 1);
	assert_true(sd_watchdog_enabled(0, &usec) < 0);
	setenv("WATCHDOG_USEC", "0", 1);
	assert_true(sd_watchdog_enabled(1, &usec) < 0);
	assert_null(getenv("WATCHDOG_USEC"));
	assert_null(getenv("WATCHDOG_PID"));
}

/* Two descriptors at 3 and 4 (moved there), as systemd passes them. */
static void
pass_two(int *a, int *b)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), d = socket(AF_UNIX, SOCK_DGRAM, 0);
	char pid[32];

	assert_true(l >= 0 && d >= 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(dup2(l, SD_LISTEN_FDS_START), SD_LISTEN_FDS_START);
	assert_int_equal(dup2(d, SD_LISTEN_FDS_START + 1), SD_LISTEN_FDS_START + 1);
	if (l != SD_LISTEN_FDS_START && l != SD_LISTEN_FDS_START + 1)
		close(l);
	if (d != SD_LISTEN_FDS_START && d != SD_LISTEN_FDS_START + 1)
		close(d);
	snprintf(pid, sizeof(pid), "%d", (int) getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "2", 1);
	*a = SD_LISTEN_FDS_START;
	*b = SD_LISTEN_FDS_START + 1;
}

static void
free_names(char **names)
{
	for (char **n = names; n && *n; n++)
		free(*n);
	free(names);
}

static void
test_listen_fds(void **state)
{
	char **names = NULL;
	int a, b;

	unsetenv("LISTEN_PID");
	assert_int_equal(sd_listen_fds_with_names(0, &names), 0);

	pass_two(&a, &b);
	setenv("LISTEN_FDNAMES", "web:stats", 1);
	assert_int_equal(sd_listen_fds_with_names(0, &names), 2);
	assert_string_equal(names[0], "web");
	assert_string_equal(names[1], "stats");
	assert_null(names[2]);
	free_names(names);
	assert_int_equal(fcntl(a, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(sd_is_socket(a, AF_UNSPEC, SOCK_STREAM, 1), 1);
	assert_int_equal(sd_is_socket(a, AF_INET, SOCK_STREAM, 1), 1);
	assert_int_equal(sd_is_socket(a, AF_UNIX, SOCK_STREAM, 1), 0);
	assert_int_equal(sd_is_socket(b, AF_UNSPEC, SOCK_STREAM, 1), 0);
	assert_int_equal(sd_is_socket(b, AF_UNIX, SOCK_DGRAM, -1), 1);
	{
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		assert_int_equal(sd_is_socket(null, AF_UNSPEC, 0, -1), 0);
		close(null);
	}

	/* One name for two descriptors: refused, as libsystemd does. */
	setenv("LISTEN_FDNAMES", "web", 1);
	assert_int_equal(sd_listen_fds_with_names(0, &names), -EINVAL);
	/* No names: "unknown" each; unset_environment takes all three variables away. */
	unsetenv("LISTEN_FDNAMES");
	names = NULL;
	assert_int_equal(sd_listen_fds_with_names(1, &names), 2);
	assert_string_equal(names[0], "unknown");
	assert_string_equal(names[1], "unknown");
	free_names(names);
	assert_null(getenv("LISTEN_PID"));
	assert_null(getenv("LISTEN_FDS"));

	/* Meant for another process: none. */
	pass_two(&a, &b);
	setenv("LISTEN_PID", "1", 1);
	assert_int_equal(sd_listen_fds_with_names(1, &names), 0);
	close(a);
	close(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_path),
		cmocka_unit_test(test_notify_abstract),
		cmocka_unit_test(test_watchdog),
		cmocka_unit_test(test_listen_fds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
