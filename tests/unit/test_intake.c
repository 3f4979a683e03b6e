/* SPDX-License-Identifier: MIT */
/*
 * intake_open_socket() without the loop: tcp: and unix: sockets as the intake keys say, the
 * descriptor flags workers rely on, stale socket files, and the kernel behaviour the intake step
 * is built on (shutdown() of a listening socket refuses new connections).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "intake.h"
#include "parse.h"
#include "util.h"

static char dir[] = "/tmp/test_intake.XXXXXX";

static int
setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	return rmdir(dir);
}

static struct intake_config
intake(const char *listen)
{
	struct intake_config c = { .name = (char *) "t", .type = INTAKE_SOCKET, .backlog = 16 };

	assert_int_equal(parse_listen(listen, &c.listen), 0);
	c.has_listen = true;
	return c;
}

static int
connect_to(const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r;

	assert_true(fd >= 0);
	r = connect(fd, sa, len) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static void
test_unix_mode_and_flags(void **state)
{
	char path[256], listen[300];
	struct intake_config c;
	struct stat st;
	bool created = false;
	int fd = -1, one = 0;
	socklen_t len = sizeof(one);

	snprintf(path, sizeof(path), "%s/a.sock", dir);
	snprintf(listen, sizeof(listen), "unix:%s", path);
	c = intake(listen);
	c.mode = 0604;
	c.has_mode = true;
	assert_int_equal(intake_open_socket(&c, &fd, &created), 0);
	assert_true(created);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0604);
	/* Close-on-exec (workers get it only through spawn's dup2) and blocking (as systemd passes
	 * sockets: a worker's blocking accept() must work). */
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &one, &len), 0);
	assert_int_equal(one, 1);
	assert_int_equal(connect_to(&c.listen.addr.sa, c.listen.addr_len), 0);

	/* The intake step's premise: after shutdown() new connections are refused. */
	assert_int_equal(shutdown(fd, SHUT_RDWR), 0);
	assert_int_equal(connect_to(&c.listen.addr.sa, c.listen.addr_len), -ECONNREFUSED);
	close(fd);

	/* The file is left behind (graced removes it at close): a second open replaces it. */
	assert_int_equal(intake_open_socket(&c, &fd, &created), 0);
	close(fd);
	assert_int_equal(unlink(path), 0);
}

/* Without mode=, the socket file is 0666 whatever the umask, as graced.ini(5) says: not 0777
 * under a permissive umask, not 0600 under a strict one. */
static void
test_unix_default_mode(void **state)
{
	static const mode_t umasks[] = { 0000, 0022, 0077 };
	char path[256], listen[300];
	struct intake_config c;
	struct stat st;
	bool created = false;
	int fd = -1;

	snprintf(path, sizeof(path), "%s/d.sock", dir);
	snprintf(listen, sizeof(listen), "unix:%s", path);
	for (size_t k = 0; k < ELEMENTSOF(umasks); k++) {
		mode_t old = umask(umasks[k]);

		c = intake(listen);
		assert_int_equal(intake_open_socket(&c, &fd, &created), 0);
		assert_int_equal(umask(old), umasks[k]);
		assert_int_equal(lstat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0666);
		close(fd);
		assert_int_equal(unlink(path), 0);
	}
}

static void
test_unix_refuses_other_files(void **state)
{
	char path[256], listen[300];
	struct intake_config c;
	bool created = false;
	int fd = -1, f;

	snprintf(path, sizeof(path), "%s/file", dir);
	snprintf(listen, sizeof(listen), "unix:%s", path);
	assert_true((f = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) >= 0);
	close(f);
	c = intake(listen);
	assert_int_equal(intake_open_socket(&c, &fd, &created), -EEXIST);
	assert_int_equal(fd, -1);
	assert_int_equal(unlink(path), 0);

	/* A missing directory is the bind's own error. */
	snprintf(listen, sizeof(listen), "unix:%s/missing/x.sock", dir);
	c = intake(listen);
	assert_int_equal(intake_open_socket(&c, &fd, &created), -ENOENT);
}

static void
test_unix_unknown_owner(void **state)
{
	char path[256], listen[300];
	struct intake_config c;
	bool created = false;
	int fd = -1;

	snprintf(path, sizeof(path), "%s/o.sock", dir);
	snprintf(listen, sizeof(listen), "unix:%s", path);
	c = intake(listen);
	c.owner = (char *) "no-such-user-graced";
	assert_true(intake_open_socket(&c, &fd, &created) < 0);
	assert_int_equal(fd, -1);
	/* Nothing is left at the path when the socket could not be set up as asked. */
	assert_int_equal(access(path, F_OK), -1);
}

static void
test_tcp(void **state)
{
	struct intake_config c = intake("tcp://127.0.0.1:1");
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	bool created = true;
	int fd = -1, fd2 = -1, on = 0;
	socklen_t olen = sizeof(on);

	/* Port 0: let the kernel pick, then open a second one there. */
	c.listen.addr.in.sin_port = 0;
	assert_int_equal(intake_open_socket(&c, &fd, &created), 0);
	assert_false(created);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, &olen), 0);
	assert_int_equal(on, 1);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, &olen), 0);
	assert_int_equal(on, 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
	c.listen.addr.in.sin_port = a.sin_port;
	assert_int_equal(connect_to(&c.listen.addr.sa, c.listen.addr_len), 0);

	/* Port in use: EADDRINUSE, reported by the caller with the intake's name. */
	assert_int_equal(intake_open_socket(&c, &fd2, &created), -EADDRINUSE);
	close(fd);

	/* reuseport = yes: two sockets on one port. */
	c.reuseport = true;
	assert_int_equal(intake_open_socket(&c, &fd, &created), 0);
	assert_int_equal(intake_open_socket(&c, &fd2, &created), 0);
	close(fd);
	close(fd2);
}

static void
test_systemd_is_not_bound(void **state)
{
	struct intake_config c = intake("systemd:web");
	bool created = false;
	int fd = -1;

	assert_int_equal(intake_open_socket(&c, &fd, &created), -EAFNOSUPPORT);
}

/* Intakes come and go by name while graced runs: opened at once, closed (their socket file
 * removed) on removal; socket activation's are taken at start only. */
static void
test_add_remove_by_name(void **state)
{
	char path[256], listen[300];
	struct intakes is = { 0 };
	struct intake_config c, d = intake("systemd:web");
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/add.sock", dir);
	snprintf(listen, sizeof(listen), "unix:%s", path);
	c = intake(listen);
	c.name = (char *) "http";
	assert_int_equal(intake_add(&is, &c), 0);
	assert_int_equal(intake_add(&is, &c), -EEXIST);
	assert_non_null(intake_find(&is, "http"));
	assert_true((fd = intake_socket_fd(&is, "http")) >= 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(intake_socket_fd(&is, "other"), -ENOENT);

	d.name = (char *) "web";
	assert_int_equal(intake_add(&is, &d), -EOPNOTSUPP);
	assert_null(intake_find(&is, "web"));

	assert_int_equal(intake_remove(&is, "http"), 0);
	assert_int_equal(lstat(path, &st), -1);
	assert_null(intake_find(&is, "http"));
	assert_int_equal(intake_remove(&is, "http"), -ENOENT);
	assert_int_equal(is.n, 0);
	intake_free_all(&is);
}

/* What a reload does to intakes: update keeps the socket and applies a new backlog and a unix
 * socket file's new mode; replace opens the new socket in the old one's place and hands the old
 * one back still open (replace_back undoes it); sort follows the new file's order. */
static void
test_reload_update_replace_sort(void **state)
{
	char path[256], path2[256], path3[256], listen[300], listen2[300], listen3[300];
	struct intakes is = { 0 };
	struct intake_config a, a2, moved, b;
	struct intake *old = NULL, *back = NULL;
	struct intake_config *order[2];
	struct config cfg = { .intakes = order, .n_intakes = 2 };
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/a.sock", dir);
	snprintf(path2, sizeof(path2), "%s/a2.sock", dir);
	snprintf(listen, sizeof(listen), "unix:%s", path);
	snprintf(listen2, sizeof(listen2), "unix:%s", path2);
	snprintf(path3, sizeof(path3), "%s/b.sock", dir);
	snprintf(listen3, sizeof(listen3), "unix:%s", path3);
	a = intake(listen);
	a.name = (char *) "a";
	b = intake(listen3);
	b.name = (char *) "b";
	assert_int_equal(intake_add(&is, &a), 0);
	assert_int_equal(intake_add(&is, &b), 0);
	fd = intake_socket_fd(&is, "a");

	/* Same address, another backlog and mode: the same descriptor, the new mode on the file. */
	a2 = a;
	a2.backlog = 64;
	a2.mode = 0600;
	a2.has_mode = true;
	assert_int_equal(intake_update(&is, &a2), 0);
	assert_int_equal(intake_socket_fd(&is, "a"), fd);
	assert_ptr_equal(intake_find(&is, "a")->config, &a2);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* Moved: a new socket in its place; the old one handed back, still open. */
	moved = intake(listen2);
	moved.name = (char *) "a";
	assert_int_equal(intake_replace(&is, &moved, &old), 0);
	assert_non_null(old);
	assert_int_equal(old->fd, fd);
	assert_true(intake_socket_fd(&is, "a") != fd);
	assert_int_equal(stat(path2, &st), 0);
	assert_ptr_equal(is.items[0]->config, &moved);
	/* Undone: the old one back, the new one handed out and closed (its file removed). */
	assert_int_equal(intake_replace_back(&is, old, &back), 0);
	assert_int_equal(intake_socket_fd(&is, "a"), fd);
	intake_free_detached(back);
	assert_int_equal(stat(path2, &st), -1);
	/* Done for good: the old socket closes when freed, its file with it. */
	assert_int_equal(intake_replace(&is, &moved, &old), 0);
	intake_free_detached(old);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(stat(path2, &st), 0);
	assert_int_equal(intake_replace(&is, &(struct intake_config) { .name = (char *) "none" }, &old),
	    -ENOENT);

	/* The new file lists b first. */
	order[0] = &b;
	order[1] = &moved;
	intake_sort(&is, &cfg);
	assert_string_equal(is.items[0]->config->name, "b");
	assert_string_equal(is.items[1]->config->name, "a");
	intake_free_all(&is);
	assert_int_equal(stat(path2, &st), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unix_mode_and_flags),
		cmocka_unit_test(test_unix_default_mode),
		cmocka_unit_test(test_unix_refuses_other_files),
		cmocka_unit_test(test_unix_unknown_owner),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_systemd_is_not_bound),
		cmocka_unit_test(test_add_remove_by_name),
		cmocka_unit_test(test_reload_update_replace_sort),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
