/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "spawn.h"
#include "util.h"

struct result {
	int error;              /* spawn_read_error() */
	enum spawn_stage stage;
	int status;             /* waitpid() status */
	pid_t pid;
	char out[4096];         /* the child's stdout */
};

/* Spawns p with stdout into a temporary file, waits for the error pipe and the exit. */
static int
run(struct spawn_params *p, struct result *res)
{
	char path[] = "/tmp/graced-test-spawn.XXXXXX";
	int out = mkostemp(path, O_CLOEXEC), errfd = -1, r;
	struct pollfd pfd;
	ssize_t n;

	assert_true(out >= 0);
	(void) unlink(path);
	p->stdout_fd = out;
	memset(res, 0, sizeof(*res));
	r = spawn_process(p, &res->pid, &errfd);
	if (r < 0) {
		safe_close(out);
		return r;
	}
	/* -1: posix_spawn() returned after the exec; else the pipe says when. */
	pfd = (struct pollfd) { .fd = errfd, .events = POLLIN };
	if (errfd >= 0)
		assert_int_equal(poll(&pfd, 1, 10000), 1);
	res->error = spawn_read_error(errfd, &res->stage);
	safe_close(errfd);
	assert_int_equal(waitpid(res->pid, &res->status, 0), res->pid);
	n = pread(out, res->out, sizeof(res->out) - 1, 0);
	assert_true(n >= 0);
	res->out[n] = '\0';
	safe_close(out);
	return 0;
}

static struct spawn_params
params(char **argv)
{
	return (struct spawn_params) {
		.argv = argv,
		.stdin_fd = -1,
		.stdout_fd = -1,
		.stderr_fd = -1,
		.stop_fd_index = -1,
	};
}

static void
test_exec_success_in_own_group(void **state)
{
	struct spawn_params p = params((char *[]) { "sh", "-c", "echo $$ $(ps -o pgid= -p $$)", NULL });
	struct result res;
	long pid, pgid;

	assert_int_equal(run(&p, &res), 0);
	assert_int_equal(res.error, 0);
	assert_true(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0);
	assert_int_equal(sscanf(res.out, "%ld %ld", &pid, &pgid), 2);
	assert_int_equal(pid, res.pid);
	assert_int_equal(pgid, res.pid);
}

static void
test_missing_binary_is_enoent_127(void **state)
{
	struct spawn_params p = params((char *[]) { "/nonexistent/graced-test-binary", NULL });
	struct result res;

	assert_int_equal(run(&p, &res), 0);
	assert_int_equal(res.error, -ENOENT);
	assert_int_equal(res.stage, SPAWN_STAGE_EXEC);
	assert_true(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 127);

	p = params((char *[]) { "graced-test-no-such-command-in-path", NULL });
	assert_int_equal(run(&p, &res), 0);
	assert_int_equal(res.error, -ENOENT);

	/* An empty name is not looked up in PATH: ENOENT, as execvp() says. */
	p = params((char *[]) { "", NULL });
	assert_int_equal(run(&p, &res), 0);
	assert_int_equal(res.error, -ENOENT);
	assert_true(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 127);
}

static void
test_not_executable_is_eacces_126(void **state)
{
	char path[] = "/tmp/graced-test-noexec.XXXXXX";
	int fd = mkstemp(path);
	struct spawn_params p = params((char *[]) { path, NULL });
	struct result res;

	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);
	assert_int_equal(run(&p, &res), 0);
	unlink(path);
	assert_int_equal(res.error, -EACCES);
	assert_int_equal(res.stage, SPAWN_STAGE_EXEC);
	assert_true(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 126);
}

static void
test_missing_directory(void **state)
{
	struct spawn_params p = params((char *[]) { "true", NULL });
	struct result res;

	p.directory = "/nonexistent/graced-test-dir";
	assert_int_equal(run(&p, &res), 0);
	assert_int_equal(res.error, -ENOENT);
	assert_int_equal(res.stage, SPAWN_STAGE_DIRECTORY);
	assert_string_equal(spawn_stage_to_string(res.stage), "directory");
}

static void
test_unknown_user_fails_before_fork(void **state)
{
	struct spawn_params p = params((char *[]) { "true", NULL });
	struct result res;
	uid_t uid;
	gid_t gid;

	p.user = "graced-test-no-such-user";
	assert_int_equal(run(&p, &res), -ESRCH);
	assert_int_equal(spawn_resolve_user(NULL, "graced-test-no-such-group", &uid, &gid), -ESRCH);
	assert_int_equal(spawn_resolve_user("0", "0", &uid, &gid), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(gid, 0);
	/* A numeric id without a passwd entry is accepted, as in containers. */
	assert_int_equal(spawn_resolve_user("4242424", NULL, &uid, &gid), 0);
	assert_int_equal(uid, 4242424);
}

static void
test_signals_reset_and_mask_empty(void **state)
{
	struct spawn_params p = params(
	    (char *[]) { "grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status", NULL });
	struct result res;
	sigset_t block, old;

	/* graced itself blocks and ignores signals; its children must not inherit either. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(run(&p, &res), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR2, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);

	assert_int_equal(res.error, 0);
	assert_string_equal(res.out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

/* The same through fork() (a umask is more than posix_spawn() does): graced's handlers and its
 * blocked signals stay behind there too, also the two signals glibc reserves, which only a
 * system call can reset. */
static void
test_signals_reset_when_forked(void **state)
{
	struct spawn_params p = params(
	    (char *[]) { "grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status", NULL });
	struct result res;
	sigset_t block, old;

	p.set_umask = true;
	p.umask = 022;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(run(&p, &res), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGPIPE, SIG_DFL);

	assert_int_equal(res.error, 0);
	assert_string_equal(res.out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

/* Sources that sit where other descriptors go: fds = { 4, 3 } swaps them, and neither is lost
 * to the other's placing, with posix_spawn() and with fork(). */
static void
test_sources_in_target_range(void **state)
{
	struct spawn_params p = params((char *[]) { "sh", "-c", "cat <&3; cat <&4", NULL });
	struct result res;
	int a[2], b[2];

	for (int i = 0; i < 2; i++) {
		assert_int_equal(pipe2(a, O_CLOEXEC), 0);
		assert_int_equal(pipe2(b, O_CLOEXEC), 0);
		assert_int_equal(write(a[1], "three\n", 6), 6);
		assert_int_equal(write(b[1], "four\n", 5), 5);
		close(a[1]);
		close(b[1]);
		/* Out of the way first: a pipe may have got 3 or 4 itself. */
		a[1] = fcntl(a[0], F_DUPFD_CLOEXEC, 100);
		b[1] = fcntl(b[0], F_DUPFD_CLOEXEC, 100);
		close(a[0]);
		close(b[0]);
		assert_int_equal(dup3(a[1], 3, O_CLOEXEC), 3);
		assert_int_equal(dup3(b[1], 4, O_CLOEXEC), 4);
		close(a[1]);
		close(b[1]);
		p.fds = (int[]) { 4, 3 };
		p.n_fds = 2;
		p.set_umask = i == 1;
		p.umask = 022;
		assert_int_equal(run(&p, &res), 0);
		close(3);
		close(4);
		assert_int_equal(res.error, 0);
		assert_string_equal(res.out, "four\nthree\n");
	}
}

static void
test_only_meant_descriptors_inherited(void **state)
{
	/* Only builtins: a pipeline's pipe would show up in the shell's own list for a moment. */
	struct spawn_params p = params((char *[]) { "sh", "-c",
	    "i=0; while [ $i -lt 64 ]; do [ -e /proc/$$/fd/$i ] && printf '%s ' $i; i=$((i+1)); done",
	    NULL });
	struct result res;
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int leak = fcntl(null, F_DUPFD, 20); /* deliberately without FD_CLOEXEC */
	int passed[2];

	assert_true(leak >= 20);
	close(null);
	assert_int_equal(pipe2(passed, O_CLOEXEC), 0);
	p.fds = (int[]) { passed[0], passed[1] };
	p.n_fds = 2;
	assert_int_equal(run(&p, &res), 0);
	close(leak);
	close(passed[0]);
	close(passed[1]);
	assert_int_equal(res.error, 0);
	assert_string_equal(res.out, "0 1 2 3 4 ");
}

static void
test_environment_and_listen_fds(void **state)
{
	struct spawn_params p = params((char *[]) { "sh", "-c",
	    "echo \"$LISTEN_FDS $LISTEN_FDNAMES $GRACED_STOP_FD ${NOTIFY_SOCKET:-unset} $MODE\"; "
	    "[ \"$LISTEN_PID\" = $$ ] && echo pid-ok; umask; pwd",
	    NULL });
	struct result res;
	int a[2], b[2];

	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(pipe2(b, O_CLOEXEC), 0);
	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	setenv("MODE", "inherited", 1);
	/* Set twice, the last one wins; LISTEN_FDS is graced's to set. */
	p.environment = (char *[]) { "MODE=first", "LISTEN_FDS=9", "MODE=prod with spaces", NULL };
	p.fds = (int[]) { a[0], b[0] };
	p.n_fds = 2;
	p.listen_fds = 1;
	p.listen_fdnames = "http";
	p.stop_fd_index = 1;
	p.set_umask = true;
	p.umask = 027;
	p.directory = "/tmp";
	assert_int_equal(run(&p, &res), 0);
	/* graced's own environment is untouched by the child's. */
	assert_string_equal(getenv("MODE"), "inherited");
	assert_string_equal(getenv("NOTIFY_SOCKET"), "/run/systemd/notify");
	assert_null(getenv("LISTEN_PID"));
	unsetenv("NOTIFY_SOCKET");
	unsetenv("MODE");
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);

	assert_int_equal(res.error, 0);
	assert_string_equal(res.out, "1 http 4 unset prod with spaces\npid-ok\n0027\n/tmp\n");
}

/* Writes an executable (or not) script at dir/name that prints what it is; says "-" makes
 * one without #! that prints its arguments. */
static void
make_script(const char *dir, const char *name, const char *says, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "we"));
	if (strcmp(says, "-") == 0)
		fprintf(f, "echo \"no #!: $*\"\n");
	else
		fprintf(f, "#!/bin/sh\necho %s\n", says);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_path_lookup(void **state)
{
	char a[] = "/tmp/graced-test-path-a.XXXXXX", b[] = "/tmp/graced-test-path-b.XXXXXX";
	char path[128], script[128], cleanup[192];
	struct spawn_params p = params((char *[]) { "graced-test-cmd", NULL });
	const char *saved;
	struct result res;

	assert_non_null(mkdtemp(a));
	assert_non_null(mkdtemp(b));
	make_script(a, "graced-test-cmd", "a", 0644); /* not executable: skipped */
	make_script(b, "graced-test-cmd", "b", 0755);

	/* The worker's own PATH (environment=) is where argv[0] is looked up, not graced's. */
	snprintf(path, sizeof(path), "PATH=/nonexistent::%s:%s", a, b);
	p.environment = (char *[]) { path, NULL };
	saved = getenv("PATH");
	assert_int_equal(run(&p, &res), 0);
	assert_int_equal(res.error, 0);
	assert_string_equal(res.out, "b\n");
	/* graced's own PATH is its own again. */
	assert_ptr_equal(getenv("PATH"), saved);

	/* Found only where it may not run: EACCES, not ENOENT, as execvp() says. */
	snprintf(path, sizeof(path), "PATH=%s:/nonexistent", a);
	assert_int_equal(run(&p, &res), 0);
	assert_int_equal(res.error, -EACCES);
	assert_int_equal(res.stage, SPAWN_STAGE_EXEC);

	/* A file without #! is run by /bin/sh, found in PATH or named with a slash (execvp()). */
	make_script(b, "graced-test-noshebang", "-", 0755);
	p = params((char *[]) { "graced-test-noshebang", "x", "y", NULL });
	snprintf(path, sizeof(path), "PATH=%s", b);
	p.environment = (char *[]) { path, NULL };
	assert_int_equal(run(&p, &res), 0);
	assert_int_equal(res.error, 0);
	assert_string_equal(res.out, "no #!: x y\n");
	snprintf(script, sizeof(script), "%s/graced-test-noshebang", b);
	p = params((char *[]) { script, "z", NULL });
	assert_int_equal(run(&p, &res), 0);
	assert_int_equal(res.error, 0);
	assert_string_equal(res.out, "no #!: z\n");

	snprintf(cleanup, sizeof(cleanup), "rm -rf '%s' '%s'", a, b);
	assert_int_equal(system(cleanup), 0);
}

static void
test_user_and_groups(void **state)
{
	struct spawn_params p = params((char *[]) { "sh", "-c",
	    "id -u; id -g; grep '^Groups:' /proc/self/status | tr -d '\\t '", NULL });
	struct result res;

	if (geteuid() != 0)
		skip();
	/* A numeric id without a passwd entry: that uid, graced's gid, no supplementary group. */
	p.user = "4242424";
	assert_int_equal(run(&p, &res), 0);
	assert_int_equal(res.error, 0);
	assert_string_equal(res.out, "4242424\n0\nGroups:\n");

	/* A group alone: that gid, and no supplementary group of graced's left behind. */
	p.user = NULL;
	p.group = "4343";
	assert_int_equal(run(&p, &res), 0);
	assert_int_equal(res.error, 0);
	assert_string_equal(res.out, "0\n4343\nGroups:\n");

	/* A named user: its groups, as initgroups() makes them (Debian's nobody is in nogroup). */
	if (!getpwnam("nobody") || getpwnam("nobody")->pw_gid != 65534)
		return;
	p.user = "nobody";
	p.group = NULL;
	assert_int_equal(run(&p, &res), 0);
	assert_int_equal(res.error, 0);
	assert_string_equal(res.out, "65534\n65534\nGroups:65534\n");
}

static void
test_limits(void **state)
{
	struct spawn_params p = params((char *[]) { "sh", "-c",
	    "ulimit -Sl; ulimit -Hl; ulimit -Sc; cut -d' ' -f19 /proc/$$/stat; "
	    "cat /proc/$$/oom_score_adj", NULL });
	/* Not RLIMIT_NOFILE: valgrind keeps that one to itself. */
	struct process_limits l = {
		.rlimit[PROCESS_RLIMIT_MEMLOCK] = { 65536, 131072 },
		.has_rlimit[PROCESS_RLIMIT_MEMLOCK] = true,
		.rlimit[PROCESS_RLIMIT_CORE] = { 0, 0 },
		.has_rlimit[PROCESS_RLIMIT_CORE] = true,
		.nice = 3,
		.has_nice = true,
		.oom_score_adjust = 50,
		.has_oom_score_adjust = true,
	};
	struct result res;

	p.limits = &l;
	assert_int_equal(run(&p, &res), 0);
	assert_int_equal(res.error, 0);
	assert_string_equal(res.out, "64\n128\n0\n3\n50\n");

	/* Above the kernel's nr_open: refused even to root, at the stage that says so. */
	l = (struct process_limits) {
		.rlimit[PROCESS_RLIMIT_NOFILE] = { RLIM_INFINITY, RLIM_INFINITY },
		.has_rlimit[PROCESS_RLIMIT_NOFILE] = true,
	};
	assert_int_equal(run(&p, &res), 0);
	assert_int_equal(res.error, -EPERM);
	assert_int_equal(res.stage, SPAWN_STAGE_LIMITS);
	assert_string_equal(spawn_stage_to_string(res.stage), "limits");
	assert_true(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 126);
}

static void
test_bad_params(void **state)
{
	struct spawn_params p = params((char *[]) { NULL });
	pid_t pid;
	int fd;

	assert_int_equal(spawn_process(&p, &pid, &fd), -EINVAL);
	p = params((char *[]) { "true", NULL });
	p.listen_fds = 1; /* more sockets than descriptors */
	assert_int_equal(spawn_process(&p, &pid, &fd), -EINVAL);
	p = params((char *[]) { "true", NULL });
	p.environment = (char *[]) { "NO_EQUALS_SIGN", NULL };
	assert_int_equal(spawn_process(&p, &pid, &fd), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_success_in_own_group),
		cmocka_unit_test(test_missing_binary_is_enoent_127),
		cmocka_unit_test(test_not_executable_is_eacces_126),
		cmocka_unit_test(test_missing_directory),
		cmocka_unit_test(test_unknown_user_fails_before_fork),
		cmocka_unit_test(test_signals_reset_and_mask_empty),
		cmocka_unit_test(test_signals_reset_when_forked),
		cmocka_unit_test(test_sources_in_target_range),
		cmocka_unit_test(test_only_meant_descriptors_inherited),
		cmocka_unit_test(test_environment_and_listen_fds),
		cmocka_unit_test(test_path_lookup),
		cmocka_unit_test(test_user_and_groups),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
