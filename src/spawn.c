/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "spawn.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct spawn_failure {
	int stage;
	int error;
};

static const char *const stage_table[_SPAWN_STAGE_MAX] = {
	[SPAWN_STAGE_NONE] = "none",
	[SPAWN_STAGE_SETUP] = "setup",
	[SPAWN_STAGE_ENVIRONMENT] = "environment",
	[SPAWN_STAGE_DIRECTORY] = "directory",
	[SPAWN_STAGE_USER] = "user",
	[SPAWN_STAGE_EXEC] = "exec",
};

const char *
spawn_stage_to_string(enum spawn_stage s)
{
	return s >= 0 && s < _SPAWN_STAGE_MAX ? stage_table[s] : NULL;
}

static int
parse_id(const char *s, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v >= UINT_MAX)
		return -EINVAL;
	*ret = (unsigned) v;
	return 0;
}

int
spawn_resolve_user(const char *user, const char *group, uid_t *ret_uid, gid_t *ret_gid)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	unsigned id;

	if (user) {
		struct passwd *pw;

		errno = 0;
		pw = parse_id(user, &id) >= 0 ? getpwuid(id) : getpwnam(user);
		if (pw) {
			uid = pw->pw_uid;
			gid = pw->pw_gid;
		} else if (parse_id(user, &id) >= 0) {
			uid = id; /* a numeric id without a passwd entry is fine, as in containers */
		} else
			return errno ? -errno : -ESRCH;
	}
	if (group) {
		struct group *gr;

		errno = 0;
		gr = parse_id(group, &id) >= 0 ? getgrgid(id) : getgrnam(group);
		if (gr)
			gid = gr->gr_gid;
		else if (parse_id(group, &id) >= 0)
			gid = id;
		else
			return errno ? -errno : -ESRCH;
	}
	*ret_uid = uid;
	*ret_gid = gid;
	return 0;
}

_noreturn_ static void
child_fail(int errfd, enum spawn_stage stage, int error)
{
	struct spawn_failure f = { .stage = stage, .error = error };

	/* A short write cannot happen on a fresh pipe; if it fails there is nobody to tell. */
	(void) !write(errfd, &f, sizeof(f));
	/* The statuses a shell uses: 127 for a command that was not found, 126 otherwise. */
	_exit(stage == SPAWN_STAGE_EXEC && error == ENOENT ? 127 : 126);
}

/*
 * glibc refuses sigaction() on the two real-time signals it reserves for itself (32 and 33), yet
 * an ignored disposition of those is inherited across exec like any other, so they are reset
 * with the system call itself. The kernel's struct sigaction has this layout on x86-64 and
 * aarch64; elsewhere they keep whatever graced inherited.
 */
static void
reset_reserved_signal(int sig)
{
#if defined(__x86_64__) || defined(__aarch64__)
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} ksa = { .handler = SIG_DFL };

	(void) syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
#else
	(void) sig;
#endif
}

static int
child_reset_signals(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, &sa, NULL) < 0)
			reset_reserved_signal(sig);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		return -errno;
	return 0;
}

/* The terminal's foreground group becomes ours, so Ctrl+C and Ctrl+Z reach the child. A process
 * in a background group that calls tcsetpgrp() gets SIGTTOU, hence the block around it. */
static void
child_take_terminal(void)
{
	sigset_t ttou, old;

	if (!isatty(STDIN_FILENO))
		return;
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	(void) sigprocmask(SIG_BLOCK, &ttou, &old);
	(void) tcsetpgrp(STDIN_FILENO, getpid());
	(void) sigprocmask(SIG_SETMASK, &old, NULL);
}

/*
 * Puts each source descriptor at its target: stdio at 0-2, passed ones at 3, 4, ... Sources are
 * first moved above every target so that placing one never overwrites another that is still to
 * be placed. dup2() leaves the targets without FD_CLOEXEC: exactly these are inherited.
 */
static int
child_place_fds(const struct spawn_params *p, int *errfd)
{
	int base = 3 + (int) p->n_fds;
	int stdio[3] = { p->stdin_fd, p->stdout_fd, p->stderr_fd };
	int moved[3 + 64];

	if (p->n_fds > 64)
		return -E2BIG;
	if ((*errfd = fcntl(*errfd, F_DUPFD_CLOEXEC, base)) < 0)
		return -errno;
	for (int i = 0; i < 3; i++)
		if (stdio[i] >= 0 && (moved[i] = fcntl(stdio[i], F_DUPFD_CLOEXEC, base)) < 0)
			return -errno;
	for (size_t i = 0; i < p->n_fds; i++)
		if ((moved[3 + i] = fcntl(p->fds[i], F_DUPFD_CLOEXEC, base)) < 0)
			return -errno;

	for (int i = 0; i < 3; i++)
		if (stdio[i] >= 0 && dup2(moved[i], i) < 0)
			return -errno;
	for (size_t i = 0; i < p->n_fds; i++)
		if (dup2(moved[3 + i], 3 + (int) i) < 0)
			return -errno;
	/* Whatever else is open (ours are all O_CLOEXEC already, a library's may not be) stays
	 * behind at exec. */
	if (close_range((unsigned) base, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		long max = sysconf(_SC_OPEN_MAX);

		for (int fd = base; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			(void) fd_cloexec(fd, true);
	}
	return 0;
}

static int
child_environment(const struct spawn_params *p)
{
	char buf[32];

	/* graced's own activation and notify variables are for graced, not for its workers. */
	(void) unsetenv("LISTEN_PID");
	(void) unsetenv("LISTEN_FDS");
	(void) unsetenv("LISTEN_FDNAMES");
	(void) unsetenv("NOTIFY_SOCKET");
	(void) unsetenv("WATCHDOG_PID");
	(void) unsetenv("WATCHDOG_USEC");
	(void) unsetenv("GRACED_STOP_FD");

	for (char *const *e = p->environment; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		char name[256];

		if (!eq || eq == *e || (size_t) (eq - *e) >= sizeof(name))
			return -EINVAL;
		memcpy(name, *e, (size_t) (eq - *e));
		name[eq - *e] = '\0';
		if (setenv(name, eq + 1, 1) < 0)
			return -errno;
	}
	if (p->listen_fds > 0) {
		snprintf(buf, sizeof(buf), "%ld", (long) getpid());
		if (setenv("LISTEN_PID", buf, 1) < 0)
			return -errno;
		snprintf(buf, sizeof(buf), "%zu", p->listen_fds);
		if (setenv("LISTEN_FDS", buf, 1) < 0)
			return -errno;
		if (p->listen_fdnames && setenv("LISTEN_FDNAMES", p->listen_fdnames, 1) < 0)
			return -errno;
	}
	if (p->stop_fd_index >= 0) {
		snprintf(buf, sizeof(buf), "%d", 3 + p->stop_fd_index);
		if (setenv("GRACED_STOP_FD", buf, 1) < 0)
			return -errno;
	}
	return 0;
}

static int
child_user(const struct spawn_params *p, uid_t uid, gid_t gid)
{
	if (!p->user && !p->group)
		return 0;
	if (p->user) {
		struct passwd *pw = getpwuid(uid);

		/* Supplementary groups of the user, or none for a bare numeric id. */
		if (pw ? initgroups(pw->pw_name, gid) < 0 : setgroups(0, NULL) < 0)
			return -errno;
	} else if (setgroups(0, NULL) < 0)
		return -errno;
	if (setresgid(gid, gid, gid) < 0)
		return -errno;
	if (p->user && setresuid(uid, uid, uid) < 0)
		return -errno;
	return 0;
}

_noreturn_ static void
child(const struct spawn_params *p, int errfd, uid_t uid, gid_t gid)
{
	int r;

	/* Signals are still blocked (see spawn_process()); the reset unblocks them last. */
	if (setpgid(0, 0) < 0)
		child_fail(errfd, SPAWN_STAGE_SETUP, errno);
	if (p->foreground)
		child_take_terminal();
	if ((r = child_reset_signals()) < 0 || (r = child_place_fds(p, &errfd)) < 0)
		child_fail(errfd, SPAWN_STAGE_SETUP, -r);
	if ((r = child_environment(p)) < 0)
		child_fail(errfd, SPAWN_STAGE_ENVIRONMENT, -r);
	if (p->set_umask)
		umask(p->umask);
	if (p->directory && chdir(p->directory) < 0)
		child_fail(errfd, SPAWN_STAGE_DIRECTORY, errno);
	if ((r = child_user(p, uid, gid)) < 0)
		child_fail(errfd, SPAWN_STAGE_USER, -r);
	execvp(p->argv[0], p->argv);
	child_fail(errfd, SPAWN_STAGE_EXEC, errno);
}

int
spawn_process(const struct spawn_params *p, pid_t *ret_pid, int *ret_errfd)
{
	sigset_t all, old;
	int pipefd[2];
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int r;

	if (!p->argv || !p->argv[0] || p->n_fds > 64 || p->listen_fds > p->n_fds)
		return -EINVAL;
	if ((r = spawn_resolve_user(p->user, p->group, &uid, &gid)) < 0)
		return r;
	/* Non-blocking: the parent polls the read end; 8 bytes always fit the write end. */
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;

	/* Every signal stays blocked across fork() until the child has reset the dispositions:
	 * until then a signal for the child would run graced's handlers in it, and those write to
	 * the pipe libevent shares with graced, as if graced had received it. */
	sigfillset(&all);
	(void) sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		safe_close(pipefd[0]);
		child(p, pipefd[1], uid, gid);
	}
	r = -errno;
	(void) sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		safe_close(pipefd[0]);
		safe_close(pipefd[1]);
		return r;
	}

	/* Set the group from the parent side too, so a signal to -pid cannot race the child's own
	 * setpgid(). EACCES (the child already exec'd) and ESRCH (it already failed) are fine. */
	(void) setpgid(pid, pid);
	safe_close(pipefd[1]);
	*ret_pid = pid;
	*ret_errfd = pipefd[0];
	return 0;
}

int
spawn_read_error(int errfd, enum spawn_stage *ret_stage)
{
	struct spawn_failure f;
	ssize_t n;

	do
		n = read(errfd, &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if ((size_t) n != sizeof(f) || f.stage <= SPAWN_STAGE_NONE || f.stage >= _SPAWN_STAGE_MAX ||
	    f.error <= 0)
		return -EPROTO;
	*ret_stage = (enum spawn_stage) f.stage;
	return -f.error;
}
