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
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "spawn.h"
#include "task-sanitizer.h"
#include "userdb.h"
#include "util.h"

/* Code run by the child on graced's memory: left out of ASan's instrumentation, so it leaves
 * no marks in the shared shadow and makes no __asan_handle_no_return() on graced's stack. */
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
 * an ignored disposition of those is inherited across exec like any other, so they are reset
 * with the system call itself. The kernel's struct sigaction has this layout on x86-64 and
 * aarch64; elsewhere they keep whatever graced inherited.
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

/*
 * Puts each source descriptor at its target: stdio at 0-2, passed ones at 3, 4, ... Sources are
 * first moved above every target so that placing one never overwrites another that is still to
 * be placed. dup2() leaves the targets without FD_CLOEXEC: exactly these are inherited.
 */
_child_ static int
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

/*
 * Everything the child needs, prepared by the parent: the child shares graced's memory until it
 * execs (see spawn_process()), so it must not allocate, and must not change anything graced
 * keeps. Its only write is its own pid into listen_pid, a buffer made for it.
 */
struct child_args {
	const struct spawn_params *p;
	char **envp;
	char **sh_argv;      /* "/bin/sh", (the file), argv[1], ...: for a file without #! */
	char *strings;       /* LISTEN_* and GRACED_STOP_FD entries of envp */
	char *listen_pid;    /* the digits of LISTEN_PID=, filled in by the child, or NULL */
	const char *path;    /* where argv[0] is looked up */
	gid_t *groups;
	int n_groups;        /* -1: leave the supplementary groups alone */
	uid_t uid;
	gid_t gid;
	int errfd;
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

	/* The lookup of argv[0] uses the child's PATH, as execvp() after setenv() would. */
	a->path = "/bin:/usr/bin";
	for (char **e = a->envp; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			a->path = *e + 5;
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

_child_ static void
child_write_pid(char *digits)
{
	char buf[PID_DIGITS];
	size_t n = 0;

	for (unsigned long v = (unsigned long) getpid(); v || n == 0; v /= 10)
		buf[n++] = (char) ('0' + v % 10);
	while (n > 0)
		*digits++ = buf[--n];
	*digits = '\0';
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

/* What execvp() does with a file without #!: /bin/sh runs it. sh_argv was made by the parent,
 * the child only fills in the file. On failure errno is ENOEXEC again. */
_child_ static void
child_exec_script(const struct child_args *a, const char *file)
{
	a->sh_argv[1] = (char *) file;
	execve("/bin/sh", a->sh_argv, a->envp);
	errno = ENOEXEC;
}

/* execvp() without its allocations: argv[0] in each directory of PATH; EACCES wins over ENOENT
 * and a file without #! is run by /bin/sh, as with execvp(). */
_child_ static int
child_exec(const struct child_args *a)
{
	const char *name = a->p->argv[0], *dir = a->path;
	size_t len = strlen(name);
	bool denied = false;

	if (len == 0)
		return -ENOENT; /* as execvp() */
	if (strchr(name, '/')) {
		execve(name, a->p->argv, a->envp);
		if (errno == ENOEXEC)
			child_exec_script(a, name);
		return -errno;
	}
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	for (;;) {
		size_t d = strcspn(dir, ":");
		char file[PATH_MAX + NAME_MAX + 2];

		if (d <= PATH_MAX) {
			/* An empty entry is the current directory. */
			memcpy(file, d ? dir : ".", d ? d : 1);
			file[d ? d : 1] = '/';
			memcpy(file + (d ? d : 1) + 1, name, len + 1);
			execve(file, a->p->argv, a->envp);
			if (errno == ENOEXEC)
				child_exec_script(a, file);
			if (errno == EACCES)
				denied = true;
			else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE &&
			    errno != ENODEV && errno != ETIMEDOUT)
				return -errno;
		}
		if (!dir[d])
			return denied ? -EACCES : -ENOENT;
		dir += d + 1;
	}
}

_child_ static int
child(void *arg)
{
	const struct child_args *a = arg;
	const struct spawn_params *p = a->p;
	int errfd = a->errfd, r;

	/* Signals are still blocked (see spawn_process()); the reset unblocks them last. */
	if (setpgid(0, 0) < 0)
		child_fail(errfd, SPAWN_STAGE_SETUP, errno);
	if (p->foreground)
		child_take_terminal();
	if ((r = child_reset_signals()) < 0 || (r = child_place_fds(p, &errfd)) < 0)
		child_fail(errfd, SPAWN_STAGE_SETUP, -r);
	if (a->listen_pid)
		child_write_pid(a->listen_pid);
	if (p->set_umask)
		umask(p->umask);
	if (p->directory && chdir(p->directory) < 0)
		child_fail(errfd, SPAWN_STAGE_DIRECTORY, errno);
	if ((r = child_user(a)) < 0)
		child_fail(errfd, SPAWN_STAGE_USER, -r);
	child_fail(errfd, SPAWN_STAGE_EXEC, -child_exec(a));
}

/* The child's stack, used by one child at a time: graced is suspended until it execs. */
#define CHILD_STACK_SIZE (256 * 1024)

static void *
child_stack_top(void)
{
	static uint8_t *stack;
	long page = sysconf(_SC_PAGESIZE);

	if (!stack) {
		void *m = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

		if (m == MAP_FAILED)
			return NULL;
		/* A guard page below it: an overflow faults instead of writing over graced. */
		(void) mprotect(m, (size_t) page, PROT_NONE);
		stack = m;
	}
	return stack + CHILD_STACK_SIZE;
}

static void
child_args_free(struct child_args *a)
{
	free(a->envp);
	free(a->sh_argv);
	free(a->strings);
	free(a->groups);
}

/*
 * CLONE_VFORK holds graced until the child execs, and a child stopped before that (SIGSTOP,
 * SIGTSTP) would hold it indefinitely. Only graced's own user can stop a child that runs as
 * graced's user, and that user can stop graced itself anyway; a child that switches to another
 * user, or that is given the terminal (Ctrl+Z), is forked instead.
 */
static bool
borrow_memory(const struct spawn_params *p, const struct child_args *a)
{
	return a->uid == getuid() && !p->foreground;
}

/*
 * clone(CLONE_VM | CLONE_VFORK), as posix_spawn() does: the child borrows graced's memory
 * instead of copying its page tables, and graced resumes once the child has exec'd or failed.
 * A fork() of a graced with a thousand tasks cost milliseconds a child. Everything the child
 * needs is made before (build_environment(), resolve_groups()), so the same child() also runs
 * after a plain fork() where borrow_memory() says no.
 */
int
spawn_process(const struct spawn_params *p, pid_t *ret_pid, int *ret_errfd)
{
	_cleanup_(child_args_free) struct child_args a = { .p = p };
	sigset_t all, old;
	int pipefd[2];
	void *stack;
	pid_t pid;
	int r;

	if (!p->argv || !p->argv[0] || p->n_fds > 64 || p->listen_fds > p->n_fds)
		return -EINVAL;
	if ((r = spawn_resolve_user(p->user, p->group, &a.uid, &a.gid)) < 0)
		return r;
	if ((r = resolve_groups(p, &a)) < 0 || (r = build_environment(p, &a)) < 0)
		return r;
	if (!(a.sh_argv = calloc(strv_length(p->argv) + 2, sizeof(char *))))
		return -ENOMEM;
	a.sh_argv[0] = (char *) "/bin/sh";
	for (size_t i = 1; p->argv[i]; i++)
		a.sh_argv[i + 1] = p->argv[i];
	if (!(stack = child_stack_top()))
		return -ENOMEM;
	/* Non-blocking: the parent polls the read end; 8 bytes always fit the write end. */
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	a.errfd = pipefd[1];

	/* Every signal stays blocked until the child has reset the dispositions: until then a
	 * signal for the child would run graced's handlers in it, and those write to the pipe
	 * libevent shares with graced, as if graced had received it. */
	sigfillset(&all);
	(void) sigprocmask(SIG_BLOCK, &all, &old);
	if (borrow_memory(p, &a))
		pid = clone(child, stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	else if ((pid = fork()) == 0)
		_exit(child(&a));
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
