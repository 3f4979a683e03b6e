/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The only code that makes a child. The child gets its own process group, default signal
 * dispositions and an empty signal mask, its directory, environment, umask, limits and user, and
 * exactly the descriptors meant for it: stdin/out/err and the passed ones at 3, 4, ... Every
 * other descriptor is closed. A failure before exec is reported with its stage, so the parent
 * says "exec 'web': No such file or directory" instead of a silent exit 127.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "process-limits.h"

struct spawn_params {
	char *const *argv;          /* argv[0] is looked up in PATH when it has no '/' */
	char *const *environment;   /* NAME=VALUE set on top of graced's own environment */
	const char *directory;      /* NULL: graced's */
	const char *user;           /* NULL: graced's; a name or a number */
	const char *group;          /* NULL: the user's primary group */
	mode_t umask;
	bool set_umask;
	int stdin_fd;               /* -1: inherit graced's */
	int stdout_fd;
	int stderr_fd;
	const int *fds;             /* passed as 3, 4, ... in this order */
	size_t n_fds;
	const char *listen_fdnames; /* with listen_fds: LISTEN_FDNAMES (colon-separated) */
	size_t listen_fds;          /* the first listen_fds of fds are sockets: LISTEN_FDS/LISTEN_PID */
	int stop_fd_index;          /* >= 0: fds[i] is the stop pipe, announced as GRACED_STOP_FD */
	bool foreground;            /* make the child's group the terminal's foreground group */
	const struct process_limits *limits; /* NULL: graced's */
};

/* Where a child failed before exec. */
enum spawn_stage {
	SPAWN_STAGE_NONE,
	SPAWN_STAGE_SETUP,          /* pgid, signals, descriptors */
	SPAWN_STAGE_DIRECTORY,
	SPAWN_STAGE_LIMITS,         /* rlimits, nice, oom_score_adjust */
	SPAWN_STAGE_USER,
	SPAWN_STAGE_EXEC,
	_SPAWN_STAGE_MAX,
	_SPAWN_STAGE_INVALID = -EINVAL,
};

const char *spawn_stage_to_string(enum spawn_stage s);

/* Resolves user and group (names or numbers) as the child will use them; -ESRCH for an unknown
 * name. spawn_process() calls it before the child exists, so a bad name is the parent's error,
 * as is a malformed environment entry (-EINVAL). */
int spawn_resolve_user(const char *user, const char *group, uid_t *ret_uid, gid_t *ret_gid);

/*
 * Starts the child: with posix_spawn(), which returns once the child has exec'd, where that
 * covers what the child needs; with fork() where it does not (user, umask, limits, the
 * terminal, LISTEN_PID) or where posix_spawn() failed (see spawn.c). On success *ret_pid is the
 * child and *ret_errfd either -1 (the exec is known to have succeeded) or the read end of its
 * error pipe (non-blocking, close-on-exec), at EOF once the exec succeeded or carrying the
 * failure: spawn_read_error() reads both. The child is in its own process group before exec.
 */
int spawn_process(const struct spawn_params *p, pid_t *ret_pid, int *ret_errfd);

/*
 * Reads the outcome from an error pipe that poll() found readable: 0 when the exec succeeded
 * (EOF, or errfd -1), -EAGAIN when nothing is there yet, or the child's -errno with *ret_stage
 * set.
 */
int spawn_read_error(int errfd, enum spawn_stage *ret_stage);
