/* SPDX-License-Identifier: MIT */
/*
 * gnotify: a worker that speaks the sd_notify protocol to $NOTIFY_SOCKET, for the integration
 * tests. It runs its arguments as a script of actions, in order, and records each one as a line
 * "<CLOCK_MONOTONIC ms> <name> <event> [detail]" in the --log file:
 *
 *   --name NAME  --log FILE     (before the actions)
 *   send TEXT          one datagram; "\n" in TEXT is a newline       -> "sent TEXT"
 *   sleep MS                                                         -> "slept"
 *   ping MS N          WATCHDOG=1 every MS ms, N times (0: forever)  -> "ping" each
 *   big N              a datagram of N bytes "WATCHDOG=trigger\nSTATUS=xxx..."
 *   binary             "WATCHDOG=trigger" followed by NUL and control bytes
 *   fds TEXT           TEXT with two descriptors attached (SCM_RIGHTS); records whether the
 *                      receiver closed them: "fds-closed" once the pipe's read end sees EOF
 *   child TEXT         a forked child (same process group) sends TEXT and exits
 *   env                records "env NOTIFY_SOCKET=..."
 *   wait               waits for SIGTERM (records "signal SIGTERM") and exits 0
 *
 * Without "wait" it exits 0 after the last action.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "event.h"

static const char *name = "gnotify";
static int log_fd = -1;

static void
event(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	event_write(log_fd, name, fmt, ap);
	va_end(ap);
}

static int
connect_notify(void)
{
	const char *e = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n;
	int fd;

	if (!e || !*e || (n = strlen(e)) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "gnotify: no usable NOTIFY_SOCKET\n");
		exit(3);
	}
	memcpy(sa.sun_path, e, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *) &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n)) < 0) {
		perror("gnotify: connect NOTIFY_SOCKET");
		exit(3);
	}
	return fd;
}

static void
send_raw(const void *buf, size_t n)
{
	int fd = connect_notify();

	if (send(fd, buf, n, MSG_NOSIGNAL) < 0)
		event("send-failed %s", strerror(errno));
	close(fd);
}

/* "\n" escapes become newlines, in place. */
static size_t
unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] == 'n') {
			*w++ = '\n';
			r++;
		} else
			*w++ = *r;
	}
	*w = '\0';
	return (size_t) (w - s);
}

static void
send_fds(char *text)
{
	size_t n = unescape(text);
	int p[2], fd = connect_notify(), fds[2];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(fds))];
	} control = { 0 };
	struct iovec iov = { .iov_base = text, .iov_len = n };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = &control,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	struct pollfd pfd;

	if (pipe(p) < 0)
		exit(3);
	fds[0] = p[1];
	fds[1] = p[1];
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
		event("send-failed %s", strerror(errno));
	close(fd);
	close(p[1]);
	/* The read end sees EOF only once every copy of the write end is closed, ours included. */
	pfd = (struct pollfd) { .fd = p[0], .events = POLLIN };
	if (poll(&pfd, 1, 5000) == 1)
		event("fds-closed");
	else
		event("fds-kept");
	close(p[0]);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
main(int argc, char **argv)
{
	sigset_t set;
	int i = 1;

	for (; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--name") == 0)
			name = argv[i + 1];
		else if (strcmp(argv[i], "--log") == 0)
			log_fd = open(argv[i + 1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		else
			break;
	}
	event("start pid=%ld", (long) getpid());

	for (; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "send") == 0 && i + 1 < argc) {
			char *t = argv[++i];
			size_t n;

			event("sent %s", t);
			n = unescape(t);
			send_raw(t, n);
		} else if (strcmp(a, "sleep") == 0 && i + 1 < argc) {
			sleep_ms(atol(argv[++i]));
			event("slept");
		} else if (strcmp(a, "ping") == 0 && i + 2 < argc) {
			long ms = atol(argv[++i]), count = atol(argv[++i]);

			for (long k = 0; count == 0 || k < count; k++) {
				send_raw("WATCHDOG=1", 10);
				event("ping");
				sleep_ms(ms);
			}
		} else if (strcmp(a, "big") == 0 && i + 1 < argc) {
			size_t n = (size_t) atol(argv[++i]);
			static const char head[] = "WATCHDOG=trigger\nSTATUS=";
			char *b = malloc(n);

			if (!b || n < sizeof(head))
				return 3;
			memcpy(b, head, sizeof(head) - 1);
			memset(b + sizeof(head) - 1, 'x', n - (sizeof(head) - 1));
			send_raw(b, n);
			free(b);
			event("sent big %zu", n);
		} else if (strcmp(a, "binary") == 0) {
			static const char bin[] = "WATCHDOG=trigger\n\0\x01\x02\xff\xfeSTATUS=\x1b[31m";

			send_raw(bin, sizeof(bin) - 1);
			event("sent binary");
		} else if (strcmp(a, "fds") == 0 && i + 1 < argc) {
			event("sent fds");
			send_fds(argv[++i]);
		} else if (strcmp(a, "child") == 0 && i + 1 < argc) {
			char *t = argv[++i];
			pid_t pid = fork();

			if (pid == 0) {
				size_t n;

				event("child-sent pid=%ld %s", (long) getpid(), t);
				n = unescape(t);
				send_raw(t, n);
				/* Stay until the message is surely read: the pid must still exist. */
				sleep_ms(300);
				_exit(0);
			}
			if (pid < 0 || waitpid(pid, NULL, 0) < 0)
				return 3;
		} else if (strcmp(a, "env") == 0) {
			event("env NOTIFY_SOCKET=%s", getenv("NOTIFY_SOCKET") ? getenv("NOTIFY_SOCKET") : "");
		} else if (strcmp(a, "wait") == 0) {
			int sig = 0;

			sigemptyset(&set);
			sigaddset(&set, SIGTERM);
			sigaddset(&set, SIGINT);
			sigprocmask(SIG_BLOCK, &set, NULL);
			sigwait(&set, &sig);
			event("signal %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			event("exit 0");
			/* _exit: in a sanitizer build LeakSanitizer's exit-time scan of a process with
			 * TERM and INT blocked was seen to hang until graced's kill signal. */
			_exit(0);
		} else {
			fprintf(stderr, "gnotify: bad action '%s'\n", a);
			return 2;
		}
	}
	event("exit 0");
	return 0;
}
