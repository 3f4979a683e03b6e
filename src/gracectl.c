/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "control-protocol.h"
#include "macro.h"
#include "parse.h"
#include "util.h"

/*
 * gracectl: asks a running graced through its control socket (gracectl(1)). One request per run,
 * written as one JSON line; the reply printed for people, or as it came with --json.
 *
 * Exit status: 0 done; 1 graced answered that the action failed; 2 usage, or a configuration
 * (-c) graced would reject; 3 graced cannot be reached (no socket, refused, no answer).
 * `shutdown --wait` exits with graced's own exit status.
 */

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
};

/* How long graced may take to answer (its own request deadline is 10s). */
#define REPLY_TIMEOUT_SEC 30

static const char *arg_socket = NULL;
static const char *arg_config = NULL;
static bool arg_json = false;

static void
help(void)
{
	printf("Usage: gracectl [-s SOCKET | -c FILE] [--json] COMMAND [ARG...]\n"
	       "\n"
	       "Commands:\n"
	       "  status [WORKER...]     state, pid, uptime, restarts, last exit of each instance\n"
	       "  dump                   graced's task table\n"
	       "  signal WORKER SIG      send SIG to every running instance of WORKER\n"
	       "  start WORKER...        start workers that are not running (autostart = no, or\n"
	       "                         one that gave up)\n"
	       "  stop WORKER...         stop workers (their stop, cancel and join steps) and keep\n"
	       "                         them down until start; replies once they are down\n"
	       "  restart WORKER...      rolling restart: each instance in turn is replaced by a\n"
	       "                         new process, stopped only once that one is ready\n"
	       "  shutdown [--wait]      start the ordered shutdown (as SIGTERM); --wait prints its\n"
	       "                         steps and exits with graced's exit status\n"
	       "  reload                 read the configuration again and apply what changed\n"
	       "                         (as SIGHUP); prints the changes, or every error as\n"
	       "                         FILE:LINE and changes nothing\n"
	       "  reopen-logs            open the workers' log files (output = file:) again by path\n"
	       "\n"
	       "Options:\n"
	       "  -s, --socket PATH      the control socket (default: $GRACED_SOCKET, else the one\n"
	       "                         the configuration names)\n"
	       "  -c, --config FILE      find the socket in graced's configuration (default %s)\n"
	       "      --json             print graced's replies as they came (one JSON object a line)\n"
	       "  -h, --help             show this help\n"
	       "  -V, --version          show the version\n"
	       "\n"
	       "Exit status: 0 done; 1 the action failed; 2 usage or a rejected configuration;\n"
	       "3 graced cannot be reached. See gracectl(1).\n",
	    GRACED_DEFAULT_CONFIG);
}

static int
usage_error(const char *fmt, ...) _printf_(1, 2);

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("gracectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'gracectl --help'.\n", stderr);
	return -EXIT_USAGE;
}

/* The socket's path: -s, else -c's configuration, else $GRACED_SOCKET, else the default
 * configuration's (or, without that file, the default name's). Returns an exit status on
 * failure, negated. */
static int
find_socket(char **ret)
{
	_cleanup_(config_freep) struct config *c = NULL;
	struct config_errors errors = {};
	const char *path = arg_config;
	bool is_default;
	int r;

	if (arg_socket)
		return (*ret = strdup(arg_socket)) ? 0 : -EXIT_FAILED;
	if (!path && getenv("GRACED_SOCKET") && *getenv("GRACED_SOCKET"))
		return (*ret = strdup(getenv("GRACED_SOCKET"))) ? 0 : -EXIT_FAILED;
	if (!path && access(GRACED_DEFAULT_CONFIG, F_OK) == 0)
		path = GRACED_DEFAULT_CONFIG;
	if (path) {
		if ((r = config_load(path, &c, &errors)) < 0) {
			config_errors_print(&errors, stderr);
			config_errors_clear(&errors);
			fprintf(stderr, "gracectl: %s: invalid configuration\n", path);
			return -EXIT_USAGE;
		}
	} else if (!(c = config_new()))
		return -EXIT_FAILED;
	if ((r = control_socket_path(&c->supervisor, ret, &is_default)) < 0) {
		fprintf(stderr, "gracectl: no default control socket for name '%s': %s\n",
		    c->supervisor.name, strerror(-r));
		return -EXIT_UNREACHABLE;
	}
	if (!*ret) {
		fprintf(stderr, "gracectl: %s has no control socket (%s)\n",
		    path ? path : "the default configuration",
		    c->supervisor.control_socket_none ? "control_socket = none"
						      : "no XDG_RUNTIME_DIR for its default");
		return -EXIT_UNREACHABLE;
	}
	return 0;
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_SEC };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "gracectl: %s: path too long for a socket\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
		fprintf(stderr, "gracectl: cannot reach graced at %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	(void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* The next reply line as JSON; NULL at the end (*ret_line NULL) or on garbage. */
static json_t *
next_reply(FILE *f, char **line, size_t *size)
{
	ssize_t n = getline(line, size, f);
	json_error_t error;

	if (n < 0)
		return NULL;
	if (arg_json) {
		fputs(*line, stdout);
		if (n > 0 && (*line)[n - 1] != '\n')
			putchar('\n');
		fflush(stdout);
	}
	return json_loadb(*line, (size_t) n, 0, &error);
}

static void
format_ms(json_int_t ms, char *buf, size_t n)
{
	(void) format_duration(buf, n, (usec_t) (ms > 0 ? ms : 0) * USEC_PER_MSEC);
}

static const char *
str(json_t *o, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : fallback;
}

static void
print_status(json_t *r)
{
	json_t *list = json_object_get(r, "instances"), *in;
	char up[DURATION_MAX];
	size_t i;

	format_ms(json_integer_value(json_object_get(r, "uptime_ms")), up, sizeof(up));
	printf("graced '%s' (pid %lld): %s", str(r, "name", "?"),
	    (long long) json_integer_value(json_object_get(r, "pid")), str(r, "step", "?"));
	if (json_is_true(json_object_get(r, "stopping")))
		printf(" (shutdown, trigger: %s)", str(r, "trigger", "?"));
	else
		printf(", up %s", up);
	printf("\n%-24s %-9s %8s %10s %8s  %-12s %s\n", "INSTANCE", "STATE", "PID", "UPTIME",
	    "RESTARTS", "LAST EXIT", "STEP");
	json_array_foreach(list, i, in) {
		json_t *last = json_object_get(in, "last_exit");
		char exit[48] = "-", pid[16] = "-";

		strcpy(up, "-");
		if (json_object_get(in, "uptime_ms"))
			format_ms(json_integer_value(json_object_get(in, "uptime_ms")), up, sizeof(up));
		if (json_integer_value(json_object_get(in, "pid")) > 0)
			snprintf(pid, sizeof(pid), "%lld",
			    (long long) json_integer_value(json_object_get(in, "pid")));
		if (json_object_get(last, "status"))
			snprintf(exit, sizeof(exit), "status %lld",
			    (long long) json_integer_value(json_object_get(last, "status")));
		else if (json_object_get(last, "signal"))
			snprintf(exit, sizeof(exit), "%s", str(last, "signal", "?"));
		printf("%-24s %-9s %8s %10s %8lld  %-12s %s%s\n", str(in, "name", "?"),
		    str(in, "state", "?"), pid, up,
		    (long long) json_integer_value(json_object_get(in, "restarts")), exit,
		    str(in, "step", "-"), streq(str(in, "type", "longrun"), "oneshot") ?
			"  (one-shot)" : "");
	}
}

static void
print_dump(json_t *r)
{
	json_t *list = json_object_get(r, "tasks"), *t;
	size_t i;

	printf("%6s %-24s %-16s %-8s %10s  %s\n", "ID", "TASK", "GROUP", "STATE", "FOR", "AWAITS");
	json_array_foreach(list, i, t) {
		char since[DURATION_MAX], awaits[160];

		format_ms(json_integer_value(json_object_get(t, "for_ms")), since, sizeof(since));
		snprintf(awaits, sizeof(awaits), "%s", str(t, "awaits", "-"));
		if (json_integer_value(json_object_get(t, "child")) > 0)
			snprintf(awaits + strlen(awaits), sizeof(awaits) - strlen(awaits),
			    " (child %lld)", (long long) json_integer_value(json_object_get(t, "child")));
		printf("%6lld %-24s %-16s %-8s %10s  %s%s%s%s\n",
		    (long long) json_integer_value(json_object_get(t, "id")), str(t, "name", "?"),
		    str(t, "group", "?"), str(t, "state", "?"), since, awaits,
		    json_is_true(json_object_get(t, "cancelled")) ? " (cancelled: " : "",
		    json_is_true(json_object_get(t, "cancelled")) ? str(t, "reason", "?") : "",
		    json_is_true(json_object_get(t, "cancelled")) ? ")" : "");
	}
}

/* The reply to reload: the changes, or why nothing changed (every FILE:LINE), or what failed.
 * Returns the exit status: 2 for a file graced rejected. */
static int
print_reload(json_t *r)
{
	json_t *list, *v;
	size_t i;

	if (!json_is_true(json_object_get(r, "ok")) && !json_object_get(r, "changes")) {
		if (arg_json)
			return json_is_true(json_object_get(r, "rejected")) ? EXIT_USAGE : EXIT_FAILED;
		json_array_foreach(json_object_get(r, "errors"), i, v)
			fprintf(stderr, "%s\n", json_string_value(v));
		fprintf(stderr, "gracectl: %s\n", str(r, "error", "graced did not reload"));
		if (json_is_true(json_object_get(r, "rejected")))
			return EXIT_USAGE;
		return str(r, "error", NULL) && strstr(str(r, "error", ""), "permission denied") ?
		    EXIT_UNREACHABLE : EXIT_FAILED;
	}
	list = json_object_get(r, "failed");
	if (!arg_json) {
		fputs(str(r, "text", ""), stdout);
		json_array_foreach(list, i, v)
			fprintf(stderr, "gracectl: worker '%s': %s\n", str(v, "worker", "?"),
			    str(v, "error", "?"));
		if (json_is_true(json_object_get(r, "interrupted")))
			fprintf(stderr, "gracectl: the shutdown began before the reload was applied\n");
		fflush(stdout);
	}
	return json_array_size(list) > 0 || json_is_true(json_object_get(r, "interrupted")) ?
	    EXIT_FAILED : EXIT_OK;
}

/* Builds the request of argv (the command and its arguments). Returns an exit status, negated,
 * on a usage error. */
static int
build_request(int argc, char **argv, json_t **ret, bool *ret_wait)
{
	const char *cmd = argv[0];
	json_t *o = json_object(), *list;
	int sig;

	*ret_wait = false;
	if (!o)
		return -EXIT_FAILED;
	json_object_set_new(o, "command", json_string(cmd));
	if (streq(cmd, "status") || streq(cmd, "start") || streq(cmd, "stop") ||
	    streq(cmd, "restart")) {
		if (!streq(cmd, "status") && argc < 2) {
			json_decref(o);
			return usage_error("usage: gracectl %s WORKER...", cmd);
		}
		if (!(list = json_array()))
			return -EXIT_FAILED;
		for (int i = 1; i < argc; i++) {
			if (!name_is_valid(argv[i])) {
				json_decref(list);
				json_decref(o);
				return usage_error("invalid worker name '%s'", argv[i]);
			}
			json_array_append_new(list, json_string(argv[i]));
		}
		if (argc > 1)
			json_object_set_new(o, "workers", list);
		else
			json_decref(list);
	} else if (streq(cmd, "dump") || streq(cmd, "reopen-logs") || streq(cmd, "reload")) {
		if (argc > 1) {
			json_decref(o);
			return usage_error("%s takes no argument", cmd);
		}
	} else if (streq(cmd, "signal")) {
		if (argc != 3) {
			json_decref(o);
			return usage_error("usage: gracectl signal WORKER SIG");
		}
		if (!name_is_valid(argv[1])) {
			json_decref(o);
			return usage_error("invalid worker name '%s'", argv[1]);
		}
		if (parse_signal(argv[2], &sig) < 0 || sig == SIGNAL_NONE) {
			json_decref(o);
			return usage_error("invalid signal '%s'", argv[2]);
		}
		json_object_set_new(o, "worker", json_string(argv[1]));
		json_object_set_new(o, "signal", json_integer(sig));
	} else if (streq(cmd, "shutdown")) {
		for (int i = 1; i < argc; i++) {
			if (!streq(argv[i], "--wait")) {
				json_decref(o);
				return usage_error("usage: gracectl shutdown [--wait]");
			}
			*ret_wait = true;
		}
		if (*ret_wait)
			json_object_set_new(o, "wait", json_true());
	} else {
		json_decref(o);
		return usage_error("unknown command '%s'", cmd);
	}
	*ret = o;
	return 0;
}

/* After the reply to `shutdown --wait`: each step, then graced's exit status. */
static int
follow_shutdown(FILE *f, char **line, size_t *size, int fd)
{
	struct timeval none = {};
	json_t *ev;

	/* The shutdown takes as long as its plan says: no timeout from here on. */
	(void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	while ((ev = next_reply(f, line, size))) {
		const char *what = str(ev, "event", "");

		if (streq(what, "step") && !arg_json)
			printf("step %s\n", str(ev, "step", "?"));
		else if (streq(what, "exit")) {
			int status = (int) json_integer_value(json_object_get(ev, "exit_status"));

			if (!arg_json)
				printf("graced exited with status %d\n", status);
			json_decref(ev);
			return status;
		}
		fflush(stdout);
		json_decref(ev);
	}
	fprintf(stderr, "gracectl: graced went away before telling its exit status\n");
	return EXIT_UNREACHABLE;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	_cleanup_free_ char *path = NULL, *line = NULL, *text = NULL;
	json_t *req = NULL, *reply;
	size_t size = 0;
	bool wait;
	FILE *f;
	int opt, fd, r;

	/* A reader that went away is an error of the write, not a death. */
	signal(SIGPIPE, SIG_IGN);
	/* '+': options end at the command, so `shutdown --wait` is the command's. */
	while ((opt = getopt_long(argc, argv, "+s:c:hV", options, NULL)) >= 0) {
		switch (opt) {
		case 's':
			arg_socket = optarg;
			break;
		case 'c':
			arg_config = optarg;
			break;
		case 'j':
			arg_json = true;
			break;
		case 'h':
			help();
			return EXIT_OK;
		case 'V':
			printf("gracectl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			fputs("Try 'gracectl --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (arg_socket && arg_config)
		return -usage_error("-s and -c exclude each other");
	if (optind >= argc)
		return -usage_error("no command");
	if ((r = build_request(argc - optind, argv + optind, &req, &wait)) < 0)
		return -r;
	if ((r = find_socket(&path)) < 0) {
		json_decref(req);
		return -r;
	}
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!text)
		return EXIT_FAILED;
	if ((fd = connect_to(path)) < 0)
		return EXIT_UNREACHABLE;
	/* A write graced cut short (it refused the peer at once) still leaves its reply to read. */
	if ((dprintf(fd, "%s\n", text) < 0 && errno != EPIPE && errno != ECONNRESET) ||
	    !(f = fdopen(fd, "r"))) {
		fprintf(stderr, "gracectl: cannot reach graced at %s: %s\n", path, strerror(errno));
		close(fd);
		return EXIT_UNREACHABLE;
	}
	/* graced replies to stop once the workers are down, to restart once they are replaced and
	 * to reload once it is applied, which the workers' own budgets bound (graced extends its
	 * own deadline for them): no timeout of ours. */
	if (streq(argv[optind], "stop") || streq(argv[optind], "restart") ||
	    streq(argv[optind], "reload"))
		(void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval) {},
		    sizeof(struct timeval));
	if (!(reply = next_reply(f, &line, &size))) {
		if (ferror(f))
			fprintf(stderr, "gracectl: no answer from graced at %s: %s\n", path,
			    errno == EAGAIN ? "timed out" : strerror(errno));
		else
			fprintf(stderr, "gracectl: no answer from graced at %s\n", path);
		fclose(f);
		return EXIT_UNREACHABLE;
	}
	if (streq(argv[optind], "reload")) {
		r = print_reload(reply);
		json_decref(reply);
		fclose(f);
		return r;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		const char *error = str(reply, "error", "graced refused the request");
		json_t *failed = json_object_get(reply, "failed"), *v;
		size_t i;

		if (!arg_json && json_is_array(failed)) {
			/* restart: what was replaced, then each worker whose replacement failed. */
			json_array_foreach(json_object_get(reply, "restarted"), i, v)
				printf("Restarted worker '%s'\n", json_string_value(v));
			fflush(stdout);
			json_array_foreach(failed, i, v)
				fprintf(stderr, "gracectl: worker '%s' not restarted: %s\n",
				    str(v, "worker", "?"), str(v, "error", "?"));
		} else if (!arg_json)
			fprintf(stderr, "gracectl: %s\n", error);
		/* A peer graced does not let in cannot reach it, as with the socket's mode. */
		r = streq(error, "permission denied") ? EXIT_UNREACHABLE : EXIT_FAILED;
		json_decref(reply);
		fclose(f);
		return r;
	}
	r = EXIT_OK;
	if (!arg_json) {
		const char *cmd = argv[optind];

		if (streq(cmd, "status"))
			print_status(reply);
		else if (streq(cmd, "dump"))
			print_dump(reply);
		else if (streq(cmd, "signal"))
			printf("Sent %s to %lld instance%s of '%s'\n", str(reply, "signal", "?"),
			    (long long) json_integer_value(json_object_get(reply, "signalled")),
			    json_integer_value(json_object_get(reply, "signalled")) == 1 ? "" : "s",
			    str(reply, "worker", "?"));
		else if (streq(cmd, "reopen-logs"))
			printf("Log files reopened\n");
		else if (streq(cmd, "start")) {
			json_t *started = json_object_get(reply, "started"), *v;
			size_t i;

			json_array_foreach(started, i, v)
				printf("Started worker '%s'\n", json_string_value(v));
		} else if (streq(cmd, "stop")) {
			json_t *stopped = json_object_get(reply, "stopped"), *v;
			size_t i;

			json_array_foreach(stopped, i, v)
				printf("Stopped worker '%s'\n", json_string_value(v));
		} else if (streq(cmd, "restart")) {
			json_t *restarted = json_object_get(reply, "restarted"), *v;
			size_t i;

			json_array_foreach(restarted, i, v)
				printf("Restarted worker '%s'\n", json_string_value(v));
		}
		else if (streq(cmd, "shutdown"))
			printf("%s\n", json_is_true(json_object_get(reply, "started"))
				? "Shutdown started"
				: "The shutdown was already under way");
		fflush(stdout);
	}
	json_decref(reply);
	if (wait)
		r = follow_shutdown(f, &line, &size, fd);
	fclose(f);
	return r;
}
