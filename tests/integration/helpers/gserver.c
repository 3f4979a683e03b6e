/* SPDX-License-Identifier: MIT */
/*
 * gserver: a tiny server for the integration tests that serves on the sockets passed with the
 * systemd convention (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, fds from 3). It accepts on the
 * first one (or the one named by --fdname) and answers each connection with one line,
 * "served by PID\n", then closes it. Events go to the --log file like gworker's,
 * "<CLOCK_MONOTONIC ms> <name> <event> [detail]":
 *
 *   start pid=N listen_fds=N fdnames=a:b   accept fd=N   reply   accept-failed errno=...
 *   signal SIGTERM   exit CODE
 *
 *   --name NAME     tag of its lines (default: its pid)
 *   --log FILE      where events go (default: nowhere)
 *   --fdname NAME   serve on the passed socket called NAME
 *   --slow MS       wait MS after accepting before replying (a slow request)
 *
 * On SIGTERM or SIGINT it finishes the connection it holds (its full reply) and exits 0. When
 * accept fails because the socket was shut down (EINVAL), it records that and keeps waiting for
 * its stop signal, as a real server would.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "event.h"

static const char *name;
static int log_fd = -1;

static void
event(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	event_write(log_fd, name, fmt, ap);
	va_end(ap);
}

/* The passed socket to serve on: the one called fdname, else the first. */
static int
passed_socket(const char *fdname)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	int n, k = 0;

	if (!pid || !fds || atol(pid) != (long) getpid() || (n = atoi(fds)) < 1) {
		fprintf(stderr, "gserver: no sockets passed (LISTEN_PID/LISTEN_FDS)\n");
		exit(2);
	}
	event("start pid=%ld listen_fds=%d fdnames=%s", (long) getpid(), n, names ? names : "");
	if (!fdname)
		return 3;
	for (const char *p = names; p && *p; k++) {
		size_t len = strcspn(p, ":");

		if (len == strlen(fdname) && strncmp(p, fdname, len) == 0 && k < n)
			return 3 + k;
		p += len;
		if (*p == ':')
			p++;
	}
	fprintf(stderr, "gserver: no passed socket named %s\n", fdname);
	exit(2);
}

static void
finish(int code)
{
	event("exit %d", code);
	_exit(code);
}

int
main(int argc, char **argv)
{
	const char *fdname = NULL;
	char pidbuf[16], line[64];
	int slow = 0, sfd, fd;
	bool stopping = false, door_shut = false;
	sigset_t all;

	snprintf(pidbuf, sizeof(pidbuf), "%ld", (long) getpid());
	name = pidbuf;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--name") == 0)
			name = argv[i + 1];
		else if (strcmp(argv[i], "--log") == 0)
			log_fd = open(argv[i + 1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		else if (strcmp(argv[i], "--fdname") == 0)
			fdname = argv[i + 1];
		else if (strcmp(argv[i], "--slow") == 0)
			slow = atoi(argv[i + 1]);
		else {
			fprintf(stderr, "gserver: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	fd = passed_socket(fdname);

	sigemptyset(&all);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGINT);
	sigprocmask(SIG_BLOCK, &all, NULL);
	sfd = signalfd(-1, &all, SFD_CLOEXEC);
	(void) signal(SIGPIPE, SIG_IGN);

	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
			{ .fd = door_shut ? -1 : fd, .events = POLLIN } };
		struct signalfd_siginfo si;
		int c;

		if (poll(p, 2, -1) < 0)
			continue;
		/* The listener first: a door shut just before the stop signal is seen as such. */
		c = p[1].revents ? accept4(fd, NULL, NULL, SOCK_CLOEXEC) : -1;
		if (c < 0 && p[1].revents && errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED) {
			event("accept-failed errno=%s", strerrorname_np(errno));
			door_shut = true;
		}
		if (p[0].revents && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			event("signal %s", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			stopping = true;
		}
		if (c < 0) {
			if (stopping)
				finish(0);
			continue;
		}
		event("accept fd=%d", c);
		if (slow > 0) {
			struct timespec ts = { slow / 1000, (slow % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
		snprintf(line, sizeof(line), "served by %ld\n", (long) getpid());
		if (write(c, line, strlen(line)) == (ssize_t) strlen(line))
			event("reply");
		else
			event("reply-failed errno=%s", strerrorname_np(errno));
		close(c);
		if (stopping)
			finish(0);
	}
}
