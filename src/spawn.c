/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#if HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "spawn.h"
#include "task-sanitizer.h"
#include "userdb.h"
#include "util.h"

/* Code run by a forked child, which may still be on a task's stack: left out of ASan's
 * instrumentation, so it makes no __asan_handle_no_return() on a stack ASan does not know. */
#ifdef TASK_ASAN
#define _child_ __attribute__((no_sanitize_address))
#else
#define _child_
#endif

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
	[SPAWN_STAGE_DIRECTORY] = "directory",
	[SPAWN_STAGE_LIMITS] = "limits",
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
		pw = parse_id(user, &id) >= 0 ? userdb_user_by_uid(id) : userdb_user_by_name(user);
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
		gr = parse_id(group, &id) >= 0 ? userdb_group_by_gid(id) : userdb_group_by_name(group);
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

_child_ _noreturn_ static void
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
 * an ignored disposition of those is inherited across exec like any other, so the forked child
 * resets them with the system call itself (posix_spawn() does it inside glibc, see
 * spawn_posix()). The kernel's struct sigaction has this layout on x86-64 and aarch64;
 * elsewhere they keep whatever graced inherited.
 */
_child_ static void
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

/* Every disposition back to the default, then the mask emptied: in this order, because until
 * then a signal would run graced's handlers, which write to the pipe libevent shares with
 * graced, as if graced had received it. */
_child_ static int
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
_child_ static void
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

/* graced's own activation and notify variables are for graced, not for its workers. */
static const char *const graced_only[] = {
	"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "WATCHDOG_PID",
	"WATCHDOG_USEC", "GRACED_STOP_FD",
};

/* True when entry is NAME=... for other's NAME (other is NAME or NAME=VALUE). */
static bool
same_name(const char *entry, const char *other)
{
	size_t n = strcspn(other, "=");

	return strncmp(entry, other, n) == 0 && entry[n] == '=';
}

static bool
graced_own(const char *entry)
{
	for (size_t i = 0; i < ELEMENTSOF(graced_only); i++)
		if (same_name(entry, graced_only[i]))
			return true;
	return false;
}

/* Drops every entry that a later one sets again: the last one wins, as with setenv(). */
static void
drop_shadowed(char **envp)
{
	size_t k = 0;

	for (size_t i = 0; envp[i]; i++) {
		bool shadowed = false;

		for (size_t j = i + 1; envp[j] && !shadowed; j++)
			shadowed = same_name(envp[i], envp[j]);
		if (!shadowed)
			envp[k++] = envp[i];
	}
	envp[k] = NULL;
}

#define MAX_TARGETS (3 + 64)

/* Everything the child needs, prepared by the parent before the child exists. */
struct child_args {
	const struct spawn_params *p;
	char **envp;
	char *strings;       /* LISTEN_* and GRACED_STOP_FD entries of envp */
	char *listen_pid;    /* the digits of LISTEN_PID=, filled in by the forked child, or NULL */
	int source[MAX_TARGETS]; /* what becomes descriptor 0, 1, 2, 3, ...; -1: graced's own */
	int n_targets;       /* 3 + n_fds */
	int lifted[MAX_TARGETS + 1]; /* duplicates made by lift(), closed after the spawn */
	size_t n_lifted;
	gid_t *groups;
	int n_groups;        /* -1: leave the supplementary groups alone */
	uid_t uid;
	gid_t gid;
	int errfd;           /* the forked child's end of the error pipe */
};

#define PID_DIGITS 20

/* graced's environment without its own variables, then environment=, then the LISTEN_* and
 * GRACED_STOP_FD that graced sets: each name once, the last setting wins. */
static int
build_environment(const struct spawn_params *p, struct child_args *a)
{
	size_t n = 0, k = 0, extra = strv_length(p->environment);
	char *s;

	for (char *const *e = p->environment; e && *e; e++) {
		const char *eq = strchr(*e, '=');

		if (!eq || eq == *e)
			return -EINVAL;
	}
	for (char **e = environ; e && *e; e++)
		n++;
	/* Room for four entries: LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES and GRACED_STOP_FD. */
	if (!(a->envp = calloc(n + extra + 5, sizeof(char *))) ||
	    !(a->strings = s = malloc(4 * 32 + PID_DIGITS + strlen(strempty(p->listen_fdnames)))))
		return -ENOMEM;
	for (char **e = environ; e && *e; e++)
		if (!graced_own(*e))
			a->envp[k++] = *e;
	for (char *const *e = p->environment; e && *e; e++)
		a->envp[k++] = *e;
	if (p->listen_fds > 0) {
		a->envp[k++] = s;
		s += sprintf(s, "LISTEN_PID=") + 1;
		a->listen_pid = s - 1;
		s += PID_DIGITS + 1;
		a->envp[k++] = s;
		s += sprintf(s, "LISTEN_FDS=%zu", p->listen_fds) + 1;
		if (p->listen_fdnames) {
			a->envp[k++] = s;
			s += sprintf(s, "LISTEN_FDNAMES=%s", p->listen_fdnames) + 1;
		}
	}
	if (p->stop_fd_index >= 0) {
		a->envp[k++] = s;
		s += sprintf(s, "GRACED_STOP_FD=%d", 3 + p->stop_fd_index) + 1;
	}
	a->envp[k] = NULL;
	drop_shadowed(a->envp);
	return 0;
}

/* The user's supplementary groups (what initgroups() would set), or none for a bare id. */
static int
resolve_groups(const struct spawn_params *p, struct child_args *a)
{
	struct passwd *pw;
	int n = 32;

	a->n_groups = -1;
	if (!p->user && !p->group)
		return 0;
	a->n_groups = 0;
	if (!p->user || !(pw = userdb_user_by_uid(a->uid)))
		return 0;
	for (;;) {
		gid_t *m = realloc(a->groups, (size_t) n * sizeof(gid_t));
		int got = n;

		if (!m)
			return -ENOMEM;
		a->groups = m;
		if (userdb_grouplist(pw->pw_name, a->gid, a->groups, &got) >= 0) {
			long max = sysconf(_SC_NGROUPS_MAX);

			/* As initgroups(): the groups past the kernel's limit are left out. */
			a->n_groups = max > 0 && got > max ? (int) max : got;
			return 0;
		}
		if (got <= n)
			return -EIO;
		n = got;
	}
}

/*
 * Placing descriptor after descriptor must never overwrite one that is still to be placed, so
 * a source below the last target (and the error pipe) is first duplicated above every target.
 * Then each dup2() in the child lands on a target that holds nothing still needed.
 */
static int
lift(struct child_args *a, int *fd)
{
	int d;

	if (*fd < 0 || *fd >= a->n_targets)
		return 0;
	if ((d = fcntl(*fd, F_DUPFD_CLOEXEC, a->n_targets)) < 0)
		return -errno;
	a->lifted[a->n_lifted++] = *fd = d;
	return 0;
}

static int
collect_sources(const struct spawn_params *p, struct child_args *a)
{
	int r;

	a->n_targets = 3 + (int) p->n_fds;
	a->source[0] = p->stdin_fd;
	a->source[1] = p->stdout_fd;
	a->source[2] = p->stderr_fd;
	for (size_t i = 0; i < p->n_fds; i++)
		a->source[3 + i] = p->fds[i];
	for (int i = 0; i < a->n_targets; i++)
		if ((r = lift(a, &a->source[i])) < 0)
			return r;
	return 0;
}

/* dup2() leaves the targets without FD_CLOEXEC: exactly these are inherited. Whatever else is
 * open (ours are all O_CLOEXEC already, a library's may not be) stays behind at exec; the error
 * pipe, close-on-exec too, is still there for a failure until then. */
_child_ static int
child_place_fds(const struct child_args *a)
{
	for (int i = 0; i < a->n_targets; i++)
		if (a->source[i] >= 0 && dup2(a->source[i], i) < 0)
			return -errno;
	if (close_range((unsigned) a->n_targets, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		long max = sysconf(_SC_OPEN_MAX);

		for (int fd = a->n_targets; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			(void) fd_cloexec(fd, true);
	}
	return 0;
}

static const int rlimit_resource[_PROCESS_RLIMIT_MAX] = {
	[PROCESS_RLIMIT_NOFILE] = RLIMIT_NOFILE,
	[PROCESS_RLIMIT_NPROC] = RLIMIT_NPROC,
	[PROCESS_RLIMIT_CORE] = RLIMIT_CORE,
	[PROCESS_RLIMIT_MEMLOCK] = RLIMIT_MEMLOCK,
};

static bool
limits_set(const struct process_limits *l)
{
	if (!l)
		return false;
	for (int i = 0; i < _PROCESS_RLIMIT_MAX; i++)
		if (l->has_rlimit[i])
			return true;
	return l->has_nice || l->has_oom_score_adjust;
}

/* Before the user switch: raising a hard limit, lowering nice or the OOM score needs
 * privileges the worker's user may not have. */
_child_ static int
child_limits(const struct process_limits *l)
{
	if (!l)
		return 0;
	for (int i = 0; i < _PROCESS_RLIMIT_MAX; i++)
		if (l->has_rlimit[i] && setrlimit(rlimit_resource[i], &l->rlimit[i]) < 0)
			return -errno;
	if (l->has_nice && setpriority(PRIO_PROCESS, 0, l->nice) < 0)
		return -errno;
	if (l->has_oom_score_adjust) {
		char buf[16];
		int fd, n = snprintf(buf, sizeof(buf), "%d\n", l->oom_score_adjust);
		bool ok;

		if ((fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC)) < 0)
			return -errno;
		ok = write(fd, buf, (size_t) n) == n;
		if (!ok) {
			int e = errno;

			(void) close(fd);
			return -e;
		}
		(void) close(fd);
	}
	return 0;
}

_child_ static int
child_user(const struct child_args *a)
{
	if (a->n_groups < 0)
		return 0;
	if (setgroups((size_t) a->n_groups, a->groups) < 0 || setresgid(a->gid, a->gid, a->gid) < 0)
		return -errno;
	if (a->p->user && setresuid(a->uid, a->uid, a->uid) < 0)
		return -errno;
	return 0;
}

/* The forked child: its own copy of graced's memory, so it may write what it likes. */
_child_ _noreturn_ static void
child(const struct child_args *a)
{
	const struct spawn_params *p = a->p;
	int errfd = a->errfd, r;

	/* Signals are still blocked (see spawn_fork()); the reset unblocks them last. */
	if (setpgid(0, 0) < 0)
		child_fail(errfd, SPAWN_STAGE_SETUP, errno);
	if (p->foreground)
		child_take_terminal();
	if ((r = child_reset_signals()) < 0 || (r = child_place_fds(a)) < 0)
		child_fail(errfd, SPAWN_STAGE_SETUP, -r);
	if (a->listen_pid)
		snprintf(a->listen_pid, PID_DIGITS + 1, "%ld", (long) getpid());
	if (p->set_umask)
		umask(p->umask);
	if (p->directory && chdir(p->directory) < 0)
		child_fail(errfd, SPAWN_STAGE_DIRECTORY, errno);
	if ((r = child_limits(p->limits)) < 0)
		child_fail(errfd, SPAWN_STAGE_LIMITS, -r);
	if ((r = child_user(a)) < 0)
		child_fail(errfd, SPAWN_STAGE_USER, -r);
	/* execvp() looks argv[0] up in the child's PATH and runs a file without #! with /bin/sh. */
	environ = a->envp;
	execvp(p->argv[0], p->argv);
	child_fail(errfd, SPAWN_STAGE_EXEC, errno);
}

static void
child_args_free(struct child_args *a)
{
	free(a->envp);
	free(a->strings);
	free(a->groups);
	for (size_t i = 0; i < a->n_lifted; i++)
		safe_close(a->lifted[i]);
}

/*
 * What posix_spawn() cannot do, or not without a child of our own: switch user, set the umask
 * or limits, write the child's own pid into LISTEN_PID, or hand over the terminal (a child
 * stopped by Ctrl+Z before exec would hold graced, which posix_spawn() suspends until the exec).
 * Under valgrind, which runs a CLONE_VFORK child as a fork(), posix_spawn() returns before the
 * exec and cannot report its failure: every child is forked there.
 */
static bool
needs_fork(const struct spawn_params *p)
{
	return p->user || p->group || p->set_umask || p->foreground || p->listen_fds > 0 ||
	    limits_set(p->limits) || RUNNING_ON_VALGRIND;
}

/*
 * glibc's posix_spawnp(): the child borrows graced's memory (CLONE_VM | CLONE_VFORK) instead of
 * copying its page tables, so a spawn costs the same whatever graced's size, and the call
 * returns once the child has exec'd. 0, or the positive error of posix_spawnp().
 */
static int
spawn_posix(const struct child_args *a, pid_t *ret_pid)
{
	const struct spawn_params *p = a->p;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t actions;
	sigset_t all, none;
	char **saved;
	int r;

	if ((r = posix_spawnattr_init(&attr)) != 0)
		return r;
	if ((r = posix_spawn_file_actions_init(&actions)) != 0) {
		(void) posix_spawnattr_destroy(&attr);
		return r;
	}
	/* sigfillset() leaves out the two real-time signals glibc reserves (32 and 33), and glibc's
	 * posix_spawn() sets those to SIG_IGN in the child unless they are in the default set: an
	 * ignored disposition survives exec, so the set has every bit on. */
	memset(&all, 0xff, sizeof(all));
	sigemptyset(&none);
	r = posix_spawnattr_setflags(&attr,
	    POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	if (r == 0)
		r = posix_spawnattr_setpgroup(&attr, 0);
	if (r == 0)
		r = posix_spawnattr_setsigdefault(&attr, &all);
	if (r == 0)
		r = posix_spawnattr_setsigmask(&attr, &none);
	for (int i = 0; r == 0 && i < a->n_targets; i++)
		if (a->source[i] >= 0)
			r = posix_spawn_file_actions_adddup2(&actions, a->source[i], i);
	if (r == 0)
		r = posix_spawn_file_actions_addclosefrom_np(&actions, a->n_targets);
	if (r == 0 && p->directory)
		r = posix_spawn_file_actions_addchdir_np(&actions, p->directory);
	if (r == 0) {
		/* posix_spawnp() looks argv[0] up in the PATH of the environment it runs in, graced's
		 * (the child shares its memory until the exec); the worker's own PATH is the one
		 * that counts, as for execvp() after the child's setenv(). graced has one thread. */
		saved = environ;
		environ = a->envp;
		r = posix_spawnp(ret_pid, p->argv[0], &actions, &attr, p->argv, a->envp);
		environ = saved;
	}
	(void) posix_spawn_file_actions_destroy(&actions);
	(void) posix_spawnattr_destroy(&attr);
	return r;
}

/* fork(): the child runs child() on its own copy of graced and reports a failure before exec
 * over a close-on-exec pipe whose read end is returned. */
static int
spawn_fork(struct child_args *a, pid_t *ret_pid, int *ret_errfd)
{
	sigset_t all, old;
	int pipefd[2], r;
	pid_t pid;

	/* Non-blocking: the parent polls the read end; 8 bytes always fit the write end. */
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	a->errfd = pipefd[1];
	if ((r = lift(a, &a->errfd)) < 0) {
		safe_close(pipefd[0]);
		safe_close(pipefd[1]);
		return r;
	}

	/* Every signal stays blocked until the child has reset the dispositions (see
	 * child_reset_signals()). */
	sigfillset(&all);
	(void) sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0)
		child(a);
	r = -errno;
	(void) sigprocmask(SIG_SETMASK, &old, NULL);
	safe_close(pipefd[1]);
	if (pid < 0) {
		safe_close(pipefd[0]);
		return r;
	}

	/* Set the group from the parent side too, so a signal to -pid cannot race the child's own
	 * setpgid(). EACCES (the child already exec'd) and ESRCH (it already failed) are fine. */
	(void) setpgid(pid, pid);
	*ret_pid = pid;
	*ret_errfd = pipefd[0];
	return 0;
}

/*
 * posix_spawn() where it covers the child, fork() where it does not. posix_spawn() reports a
 * failed exec (or chdir) itself, without its stage, and reaps that child itself: graced's
 * callers need a child whose failure they read with its stage and whose exit status (126,
 * 127) they reap like any other, so a failed posix_spawn() is done again with fork(), whose
 * child fails the same way (or, if the file appeared meanwhile, runs it). A file without #!
 * takes that path too: posix_spawnp() does not hand it to /bin/sh, execvp() does.
 */
int
spawn_process(const struct spawn_params *p, pid_t *ret_pid, int *ret_errfd)
{
	_cleanup_(child_args_free) struct child_args a = { .p = p };
	pid_t pid;
	int r;

	if (!p->argv || !p->argv[0] || p->n_fds > 64 || p->listen_fds > p->n_fds)
		return -EINVAL;
	if ((r = spawn_resolve_user(p->user, p->group, &a.uid, &a.gid)) < 0)
		return r;
	if ((r = resolve_groups(p, &a)) < 0 || (r = build_environment(p, &a)) < 0 ||
	    (r = collect_sources(p, &a)) < 0)
		return r;
	if (!needs_fork(p) && spawn_posix(&a, &pid) == 0) {
		*ret_pid = pid;
		*ret_errfd = -1;
		return 0;
	}
	return spawn_fork(&a, ret_pid, ret_errfd);
}

int
spawn_read_error(int errfd, enum spawn_stage *ret_stage)
{
	struct spawn_failure f;
	ssize_t n;

	if (errfd < 0)
		return 0; /* posix_spawn() returned after the exec */
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
