/* SPDX-License-Identifier: MIT */
/*
 * gworker: a tiny worker for the integration tests. It records what happens to it, one line per
 * event, "<CLOCK_MONOTONIC ms> <name> <event> [detail]", appended with a single write() to the
 * --log file, and behaves as the options say:
 *
 *   --name NAME        tag of its lines (default: its pid)
 *   --log FILE         where events go (default: nowhere)
 *   --exit-on SIGS     exit 0 on these signals (default TERM,INT), after --delay ms
 *   --die-on SIGS      die of these signals (default action, re-raised)
 *   --ignore SIGS      only record these signals (names such as TERM, or numbers)
 *   --delay MS         how long to take to exit after an exit-on signal
 *   --children N       fork N children that stay in its process group and sleep
 *   --lines N          print N lines "line I" on stdout, then exit (--last-partial: the last
 *                      one without a newline); --stderr-lines N likewise on stderr
 *   --list-fds         print its open descriptors ("fds: 0 1 2") on stdout
 *   --listen PORT      listen on 127.0.0.1:PORT (for ready = tcp:PORT)
 *   --exit CODE        exit with CODE at once (after --lines and --list-fds)
 *   --stop-fd          exit 0 when GRACED_STOP_FD reaches EOF
 *   --orphans N        fork N children that each leave behind a grandchild which exits 100 ms
 *                      later, an orphan for PID 1 or the subreaper to reap; then wait (up to
 *                      10 s) until /proc shows no zombie and record "zombies N"
 *   --setsid-child     fork a child that calls setsid() (escapes the process group) and
 *                      behaves like gworker --name NAME.escapee
 *
 *   --cwd              record its working directory ("cwd PATH") at start
 *
 * Every other event: "start pid=N pgid=N", "signal SIGTERM" (real-time ones "signal
 * SIGRTMIN+N"), "exit CODE", "stop-fd eof".
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "event.h"

static const char *name;
static int log_fd = -1;
static int signal_fd = -1; /* its own, left out of --list-fds */

static void
event(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	event_write(log_fd, name, fmt, ap);
	va_end(ap);
}

static int
signal_number(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} table[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "USR1", SIGUSR1 },
		{ "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "CONT", SIGCONT }, { "TSTP", SIGTSTP },
		{ "WINCH", SIGWINCH }, { "ALRM", SIGALRM }, { "PIPE", SIGPIPE },
	};

	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	if (s[0] >= '0' && s[0] <= '9')
		return atoi(s);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(s, table[i].name) == 0)
			return table[i].sig;
	fprintf(stderr, "gworker: unknown signal %s\n", s);
	exit(2);
}

static const char *
signal_name(int sig)
{
	static char buf[32];
	const char *s = sigabbrev_np(sig);

	/* Real-time signals by their offset, as graced and the tests name them. */
	if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
	else if (sig == SIGIO)
		snprintf(buf, sizeof(buf), "SIGIO"); /* not SIGPOLL, as kill -l says */
	else
		snprintf(buf, sizeof(buf), "SIG%s", s ? s : "?");
	return buf;
}

static void
parse_set(char *list, sigset_t *set)
{
	sigemptyset(set);
	for (char *s = strtok(list, ","); s; s = strtok(NULL, ","))
		sigaddset(set, signal_number(s));
}

static void
list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int self = dirfd(d);
	char line[512] = "fds:";

	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) != self && atoi(e->d_name) != signal_fd &&
		    atoi(e->d_name) != log_fd)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s", e->d_name);
	closedir(d);
	printf("%s\n", line);
	fflush(stdout);
}

/* Zombies in this PID namespace's /proc. */
static int
count_zombies(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d))) {
		char path[288], buf[256], *p;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ' && p[2] == 'Z')
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static void
make_orphans(int n)
{
	struct timespec pause_ms = { 0, 20 * 1000000L };
	int zombies = -1;

	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			if (fork() == 0) {
				struct timespec ts = { 0, 100 * 1000000L };

				nanosleep(&ts, NULL);
				_exit(0);
			}
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	event("orphans %d", n);
	for (int i = 0; i < 500 && (zombies = count_zombies()) > 0; i++)
		nanosleep(&pause_ms, NULL);
	event("zombies %d", zombies);
}

static void
finish(int code)
{
	event("exit %d", code);
	fflush(stdout);
	_exit(code);
}

int
main(int argc, char **argv)
{
	sigset_t exit_on, die_on, ignore, all;
	int delay = 0, children = 0, lines = -1, stderr_lines = 0, exit_code = -1, port = 0;
	bool last_partial = false, fds = false, stop_fd = false, setsid_child = false, cwd = false;
	int orphans = 0;
	char pidbuf[16], def_exit[] = "TERM,INT";
	int sfd, stop = -1, listener = -1;

	snprintf(pidbuf, sizeof(pidbuf), "%ld", (long) getpid());
	name = pidbuf;
	parse_set(def_exit, &exit_on);
	sigemptyset(&die_on);
	sigemptyset(&ignore);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "--last-partial") == 0) {
			last_partial = true;
			continue;
		}
		if (strcmp(o, "--list-fds") == 0) {
			fds = true;
			continue;
		}
		if (strcmp(o, "--stop-fd") == 0) {
			stop_fd = true;
			continue;
		}
		if (strcmp(o, "--setsid-child") == 0) {
			setsid_child = true;
			continue;
		}
		if (strcmp(o, "--cwd") == 0) {
			cwd = true;
			continue;
		}
		if (!v) {
			fprintf(stderr, "gworker: %s needs a value\n", o);
			return 2;
		}
		i++;
		if (strcmp(o, "--name") == 0)
			name = v;
		else if (strcmp(o, "--log") == 0)
			log_fd = open(v, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		else if (strcmp(o, "--exit-on") == 0)
			parse_set(v, &exit_on);
		else if (strcmp(o, "--die-on") == 0)
			parse_set(v, &die_on);
		else if (strcmp(o, "--ignore") == 0)
			parse_set(v, &ignore);
		else if (strcmp(o, "--delay") == 0)
			delay = atoi(v);
		else if (strcmp(o, "--children") == 0)
			children = atoi(v);
		else if (strcmp(o, "--lines") == 0)
			lines = atoi(v);
		else if (strcmp(o, "--stderr-lines") == 0)
			stderr_lines = atoi(v);
		else if (strcmp(o, "--exit") == 0)
			exit_code = atoi(v);
		else if (strcmp(o, "--listen") == 0)
			port = atoi(v);
		else if (strcmp(o, "--orphans") == 0)
			orphans = atoi(v);
		else {
			fprintf(stderr, "gworker: unknown option %s\n", o);
			return 2;
		}
	}

	/* Signals are blocked and read from a signalfd before "start" is recorded, so a test that
	 * waits for "start" never races the set-up: every later signal is recorded. */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigprocmask(SIG_BLOCK, &all, NULL);
	sfd = signal_fd = signalfd(-1, &all, SFD_CLOEXEC);

	event("start pid=%ld pgid=%ld", (long) getpid(), (long) getpgrp());
	if (cwd) {
		char dir[256];

		event("cwd %s", getcwd(dir, sizeof(dir)) ? dir : "?");
	}
	if (setsid_child && fork() == 0) {
		static char child_name[64];

		snprintf(child_name, sizeof(child_name), "%s.escapee", name);
		name = child_name;
		setsid();
		event("start pid=%ld pgid=%ld", (long) getpid(), (long) getpgrp());
		/* The escapee only waits for signals, whatever its parent was told to do. */
		orphans = children = stderr_lines = 0;
		lines = exit_code = -1;
		fds = false;
	}
	if (orphans > 0)
		make_orphans(orphans);
	for (int i = 0; i < children; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			char child_name[64];

			snprintf(child_name, sizeof(child_name), "%s.child%d", name, i);
			name = child_name;
			/* Children keep the default dispositions: only SIGKILL to the group ends them. */
			sigprocmask(SIG_UNBLOCK, &all, NULL);
			event("start pid=%ld pgid=%ld", (long) getpid(), (long) getpgrp());
			for (;;)
				pause();
		}
		if (pid > 0)
			event("child pid=%ld", (long) pid);
	}
	if (fds)
		list_fds();
	for (int i = 1; i <= stderr_lines; i++)
		fprintf(stderr, "err %d\n", i);
	fflush(stderr);
	if (lines >= 0) {
		for (int i = 1; i <= lines; i++)
			printf(i == lines && last_partial ? "line %d" : "line %d\n", i);
		finish(exit_code >= 0 ? exit_code : 0);
	}
	if (exit_code >= 0)
		finish(exit_code);

	if (port) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
		int one = 1;

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* "bound" comes before listen(): a connection can succeed the moment listen() returns,
		 * before "listening" is written, so "after it accepts connections" is "after bound". */
		if (bind(listener, (struct sockaddr *) &a, sizeof(a)) < 0) {
			perror("gworker: bind");
			return 1;
		}
		event("bound port=%d", port);
		if (listen(listener, 16) < 0) {
			perror("gworker: listen");
			return 1;
		}
		event("listening port=%d", port);
	}
	if (stop_fd) {
		const char *e = getenv("GRACED_STOP_FD");

		stop = e ? atoi(e) : -1;
	}

	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = stop, .events = POLLIN } };
		struct signalfd_siginfo si;

		if (poll(p, stop >= 0 ? 2 : 1, -1) < 0)
			continue;
		if (stop >= 0 && p[1].revents) {
			char c;

			if (read(stop, &c, 1) == 0) {
				event("stop-fd eof");
				finish(0);
			}
		}
		if (!p[0].revents || read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		event("signal %s", signal_name((int) si.ssi_signo));
		if (sigismember(&ignore, (int) si.ssi_signo))
			continue;
		if (sigismember(&die_on, (int) si.ssi_signo)) {
			event("dying of %s", signal_name((int) si.ssi_signo));
			signal((int) si.ssi_signo, SIG_DFL);
			sigprocmask(SIG_UNBLOCK, &all, NULL);
			raise((int) si.ssi_signo);
		}
		if (sigismember(&exit_on, (int) si.ssi_signo)) {
			if (delay > 0) {
				struct timespec ts = { delay / 1000, (delay % 1000) * 1000000L };

				nanosleep(&ts, NULL);
			}
			finish(0);
		}
	}
}
