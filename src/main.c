/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "import-supervisord.h"
#include "log.h"
#include "notify.h"
#include "outbuf.h"
#include "parse.h"
#include "plan.h"
#include "policy.h"
#include "single.h"
#include "supervisor.h"
#include "timeline.h"
#include "util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct event_base *, event_base_free);

/* Exit statuses of config mode (DESIGN.md "Command line"). Single-command mode exits with the
 * child's own status instead. */
#define EXIT_CLEAN 0
#define EXIT_FORCED 1
#define EXIT_INVALID 2

/* After the loop, the last log lines get this long to reach a slow reader. */
#define OUTPUT_FINISH_TIMEOUT (250 * USEC_PER_MSEC)

enum action {
	ACTION_RUN,
	ACTION_CHECK,
	ACTION_PLAN,
	ACTION_IMPORT,
	ACTION_HELP,
	ACTION_VERSION,
	ACTION_LICENSE,
	ACTION_TIMELINE,
};

static enum action arg_action = ACTION_RUN;
static const char *arg_config = NULL;
static const char *arg_import = NULL; /* --import supervisord FILE: FILE */
static char **arg_command = NULL; /* points into argv: single-command mode */
static struct single_options arg_single;
static bool arg_single_set = false;
static int arg_verbosity = 0;
static bool arg_verbosity_set = false;
static int arg_pdeathsig = SIGNAL_NONE;
static int arg_group = -1;           /* -g 1, --single-child 0, -1: not given */
static char *arg_report_path = NULL; /* --report made absolute */
static char *arg_control_socket = NULL; /* --control-socket made absolute */
static char *arg_directory = NULL;   /* graced's directory at start, for the command */
static const char *arg_timeline = NULL; /* --timeline REPORT */
static const char *arg_svg = NULL;      /* --svg FILE */

static void
help(void)
{
	printf("Usage: graced [-c FILE]                 run a configuration (default %s)\n"
	       "       graced -c FILE --check           validate only: exit 0, or 2 and every error\n"
	       "       graced -c FILE --plan            print the ordered shutdown plan\n"
	       "       graced --import supervisord FILE print an equivalent graced.ini\n"
	       "       graced [OPTIONS] -- CMD [ARG...] run one command as a container entrypoint\n"
	       "       graced --timeline REPORT [--svg FILE] [-c FILE]\n"
	       "                                        draw a shutdown report as a timeline\n"
	       "\n"
	       "graced starts a service's workers and, on SIGTERM or SIGINT, stops them through an\n"
	       "ordered shutdown: intake, stop, cancel, join, close, each step bounded in time.\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE        configuration file\n"
	       "      --check              validate the configuration and exit\n"
	       "      --plan               print the shutdown plan and its worst case, and exit\n"
	       "      --timeline REPORT    draw the report's steps and workers (80 columns)\n"
	       "      --svg FILE           ... as an SVG in FILE instead (- for stdout)\n"
	       "      --import supervisord FILE  convert a supervisord.conf to graced.ini (stdout)\n"
	       "  -v, --verbose            log debug messages\n"
	       "  -q, --quiet              log warnings and errors only\n"
	       "  -h, --help               show this help\n"
	       "  -V, --version            show the version\n"
	       "\n"
	       "Single-command mode (graced [OPTIONS] -- CMD [ARG...]):\n"
	       "      --stop-signal SIG    first signal to the command (default SIGTERM)\n"
	       "      --stop-timeout DUR   time to exit after it (default 8s)\n"
	       "      --cancel-signal SIG  second signal, or none (default none)\n"
	       "      --join-timeout DUR   time to exit after the cancel signal (default 5s)\n"
	       "      --kill-signal SIG    signal to the whole process group at last (default SIGKILL)\n"
	       "      --kill-timeout DUR   time to reap after it (default 1s)\n"
	       "      --report FILE        write the JSON shutdown report to FILE\n"
	       "      --control-socket PATH  serve gracectl on PATH (default: no control socket)\n"
	       "  -g                       forward signals to the command's process group\n"
	       "      --single-child       forward signals to the command only (the default)\n"
	       "  -r, --rewrite S:R        the command receives R for signal S (R 0: nothing)\n"
	       "  -e CODE                  exit status CODE counts as 0 (repeatable)\n"
	       "  -p SIG                   SIG to graced when its parent dies\n"
	       "  -w                       warn when reaping zombies\n"
	       "  -s                       subreaper (accepted: graced always is one)\n"
	       "  -l                       show the licence and version\n"
	       "  (quiet: warnings and errors; -v the step log, -vv debug)\n"
	       "\n"
	       "Exit status: 0 clean shutdown; 1 forced (something killed) or run-time failure;\n"
	       "2 invalid configuration or usage. Single-command mode: the command's own status,\n"
	       "or 128+N when it died of signal N.\n"
	       "See graced(8) and graced.ini(5).\n",
	    GRACED_DEFAULT_CONFIG);
}

/* what comes from the command line: escaped (util.h), like everything graced echoes. */
static int
usage_error(const char *fmt, const char *what)
{
	_cleanup_free_ char *e = escape_strdup(what, 0);

	fprintf(stderr, "graced: ");
	fprintf(stderr, fmt, e ? e : "(out of memory)");
	fprintf(stderr, "\nTry 'graced --help'.\n");
	return -EINVAL;
}

enum {
	OPT_CHECK = 0x100,
	OPT_PLAN,
	OPT_IMPORT,
	OPT_STOP_SIGNAL,
	OPT_STOP_TIMEOUT,
	OPT_CANCEL_SIGNAL,
	OPT_JOIN_TIMEOUT,
	OPT_KILL_SIGNAL,
	OPT_KILL_TIMEOUT,
	OPT_REPORT,
	OPT_CONTROL_SOCKET,
	OPT_SINGLE_CHILD,
	OPT_TIMELINE,
	OPT_SVG,
};

/* -r S:R (dumb-init): R may be 0, "drop it". */
static int
parse_rewrite(const char *value)
{
	_cleanup_free_ char *from = NULL;
	const char *colon = strchr(value, ':');
	int s, r;

	if (!colon || !(from = strndup(value, (size_t) (colon - value))))
		return -EINVAL;
	if (parse_signal(from, &s) < 0 || s == SIGNAL_NONE || s >= NSIG)
		return -EINVAL;
	if (streq(colon + 1, "0"))
		r = SIGNAL_NONE;
	else if (parse_signal(colon + 1, &r) < 0 || r >= NSIG)
		return -EINVAL;
	arg_single.forwarding.rewrite[s] = r;
	return 0;
}

static int
parse_exit_code(const char *value)
{
	char *end;
	long code;

	errno = 0;
	code = strtol(value, &end, 10);
	if (errno || end == value || *end || code < 0 || code > 255)
		return -EINVAL;
	arg_single.forwarding.exit_zero[code / 8] |= (uint8_t) (1u << (code % 8));
	return 0;
}

/* A relative --report names a file where graced was started, which it leaves for /. */
static int
absolute_path(const char *path, char **ret)
{
	_cleanup_free_ char *cwd = NULL;

	if (path[0] == '/')
		return (*ret = strdup(path)) ? 0 : -ENOMEM;
	if (!(cwd = getcwd(NULL, 0)))
		return -errno;
	if (asprintf(ret, "%s/%s", streq(cwd, "/") ? "" : cwd, path) < 0)
		return -ENOMEM;
	return 0;
}

static int
parse_single_option(int opt, const char *name, const char *value)
{
	int r = 0;

	arg_single_set = true;
	switch (opt) {
	case OPT_STOP_SIGNAL:
		r = parse_signal(value, &arg_single.stop_signal);
		break;
	case OPT_CANCEL_SIGNAL:
		r = parse_signal(value, &arg_single.cancel_signal);
		break;
	case OPT_KILL_SIGNAL:
		r = parse_signal(value, &arg_single.kill_signal);
		break;
	case OPT_STOP_TIMEOUT:
		r = parse_duration(value, &arg_single.stop_timeout);
		break;
	case OPT_JOIN_TIMEOUT:
		r = parse_duration(value, &arg_single.join_timeout);
		break;
	case OPT_KILL_TIMEOUT:
		r = parse_duration(value, &arg_single.kill_timeout);
		break;
	case OPT_REPORT:
		free(arg_report_path);
		arg_report_path = NULL;
		if ((r = absolute_path(value, &arg_report_path)) < 0) {
			fprintf(stderr, "graced: --report %s: %s\n", value, strerror(-r));
			return -EINVAL;
		}
		arg_single.report = arg_report_path;
		break;
	case OPT_CONTROL_SOCKET:
		free(arg_control_socket);
		arg_control_socket = NULL;
		if ((r = absolute_path(value, &arg_control_socket)) < 0 ||
		    strlen(arg_control_socket) >= 108) {
			fprintf(stderr, "graced: --control-socket %s: %s\n", value,
			    r < 0 ? strerror(-r) : "path too long (at most 107 bytes)");
			return -EINVAL;
		}
		arg_single.control_socket = arg_control_socket;
		break;
	case 'g':
		arg_group = 1;
		break;
	case OPT_SINGLE_CHILD:
		arg_group = 0;
		break;
	case 'w':
		arg_single.forwarding.warn_zombies = true;
		break;
	case 'e':
		if (parse_exit_code(value) < 0)
			return usage_error("-e: invalid exit code '%s' (0 to 255)", value);
		break;
	case 'p':
		if (parse_signal(value, &arg_pdeathsig) < 0)
			return usage_error("-p: invalid signal '%s'", value);
		break;
	case 'r':
		if (parse_rewrite(value) < 0)
			return usage_error("--rewrite: expected S:R, two signals (R may be 0), not '%s'",
			    value);
		break;
	}
	if (opt == OPT_STOP_SIGNAL && r >= 0)
		arg_single.forwarding.stop_signal_set = true;
	if (r < 0) {
		_cleanup_free_ char *e = escape_strdup(value, 0);

		fprintf(stderr, "graced: invalid value '%s' for --%s\n", e ? e : "?", name);
		return usage_error("%s", "expected a signal such as SIGTERM, TERM, 15 or none, "
					 "or a duration such as 250ms, 8s, 1m30s");
	}
	return 0;
}

static int
parse_argv_options(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "plan", no_argument, NULL, OPT_PLAN },
		{ "timeline", required_argument, NULL, OPT_TIMELINE },
		{ "svg", required_argument, NULL, OPT_SVG },
		{ "import", required_argument, NULL, OPT_IMPORT },
		{ "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
		{ "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
		{ "cancel-signal", required_argument, NULL, OPT_CANCEL_SIGNAL },
		{ "join-timeout", required_argument, NULL, OPT_JOIN_TIMEOUT },
		{ "kill-signal", required_argument, NULL, OPT_KILL_SIGNAL },
		{ "kill-timeout", required_argument, NULL, OPT_KILL_TIMEOUT },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ "control-socket", required_argument, NULL, OPT_CONTROL_SOCKET },
		{ "rewrite", required_argument, NULL, 'r' },
		{ "single-child", no_argument, NULL, OPT_SINGLE_CHILD },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	int opt, index = 0, r;

	single_options_init(&arg_single);
	opterr = 0;
	/* "+": the first word that is not an option starts the command, so its own options
	 * ("graced -- ls -l" or "graced ls -l") are never taken for ours. */
	while ((opt = getopt_long(argc, argv, "+:c:vqhVsgwle:p:r:", options, &index)) >= 0) {
		switch (opt) {
		case 'c':
			arg_config = optarg;
			break;
		case OPT_CHECK:
			arg_action = ACTION_CHECK;
			break;
		case OPT_PLAN:
			arg_action = ACTION_PLAN;
			break;
		case OPT_TIMELINE:
			arg_action = ACTION_TIMELINE;
			arg_timeline = optarg;
			break;
		case OPT_SVG:
			arg_svg = optarg;
			break;
		case OPT_IMPORT:
			if (!streq(optarg, "supervisord"))
				return usage_error("--import: the only format is supervisord, not '%s'",
				    optarg);
			arg_action = ACTION_IMPORT;
			break;
		case 'v':
			arg_verbosity++;
			arg_verbosity_set = true;
			break;
		case 'q':
			arg_verbosity--;
			arg_verbosity_set = true;
			break;
		case 's':
			break; /* tini's subreaper: graced always is one */
		case 'l':
			arg_action = ACTION_LICENSE;
			return 0;
		case 'h':
			arg_action = ACTION_HELP;
			return 0;
		case 'V':
			arg_action = ACTION_VERSION;
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		case '?':
			return usage_error("unknown option '%s'", argv[optind - 1]);
		default:
			if ((r = parse_single_option(opt, options[index].name, optarg)) < 0)
				return r;
			break;
		}
	}

	if (arg_action == ACTION_IMPORT) {
		if (optind + 1 != argc || arg_config || arg_single_set)
			return usage_error("%s", "usage: graced --import supervisord FILE");
		arg_import = argv[optind];
		return 0;
	}
	if (optind < argc)
		arg_command = argv + optind;
	if (arg_command && arg_config)
		return usage_error("%s", "-c FILE and a command (-- CMD) exclude each other");
	if (arg_svg && arg_action != ACTION_TIMELINE)
		return usage_error("%s", "--svg FILE goes with --timeline REPORT");
	if (arg_action == ACTION_TIMELINE && arg_command)
		return usage_error("%s", "--timeline REPORT takes no command");
	if (!arg_command && arg_single_set)
		return usage_error("%s",
		    "--stop-signal, --stop-timeout, --cancel-signal, --join-timeout, --kill-signal, "
		    "--kill-timeout, --report, --control-socket, -g, -r, -e, -p, -w and --single-child need a "
		    "command: "
		    "graced [OPTIONS] -- CMD [ARG...]");
	return 0;
}

/* tini's and dumb-init's environment variables, for single-command mode; the command line
 * wins. TINI_SUBREAPER is accepted: graced always is a subreaper. */
static void
entry_environment(void)
{
	const char *e;

	if (arg_group < 0 && (e = getenv("TINI_KILL_PROCESS_GROUP")) && *e)
		arg_group = 1;
	/* dumb-init's setsid mode forwards to the process group; 0 is --single-child. */
	if (arg_group < 0 && (e = getenv("DUMB_INIT_SETSID")) && *e)
		arg_group = !streq(e, "0");
	if (!arg_verbosity_set && (e = getenv("TINI_VERBOSITY")) && *e >= '0' && *e <= '9')
		arg_verbosity = atoi(e) - 1; /* tini's default is 1 */
	arg_single.forwarding.group = arg_group > 0;
}

static enum log_level
verbosity_level(void)
{
	/* Single-command mode is quiet: -v brings the step log (info), -vv debug. */
	if (arg_command) {
		int level = arg_verbosity > 0 ? LOG_LEVEL_INFO + arg_verbosity - 1 :
						LOG_LEVEL_WARNING + arg_verbosity;

		return (enum log_level) MIN(MAX(level, (int) LOG_LEVEL_ERR), (int) LOG_LEVEL_DEBUG);
	}
	if (arg_verbosity > 0)
		return LOG_LEVEL_DEBUG;
	if (arg_verbosity < 0)
		return LOG_LEVEL_WARNING;
	return LOG_LEVEL_INFO;
}

static int
load_config(struct config **ret)
{
	struct config_errors errors = {};
	_cleanup_free_ char *escaped = escape_strdup(arg_command ? "command line" : arg_config, 0);
	const char *source = escaped ? escaped : "configuration";
	int r;

	if (arg_command)
		r = single_config(arg_command, &arg_single, ret, &errors);
	else
		r = config_load(arg_config, ret, &errors);
	if (r < 0) {
		config_errors_print(&errors, stderr);
		if (errors.n == 0)
			fprintf(stderr, "graced: %s: %s\n", source, strerror(-r));
		fprintf(stderr, "graced: %s: %zu error%s, nothing started\n", source, errors.n,
		    errors.n == 1 ? "" : "s");
		config_errors_clear(&errors);
		return r;
	}
	config_errors_clear(&errors);
	return 0;
}

static int
check(const struct config *c, const struct plan *p)
{
	_cleanup_free_ char *source = escape_strdup(arg_command ? "command line" : arg_config, 0);
	size_t instances = 0;
	char d[DURATION_MAX], step[256];
	struct config_errors warnings = {};

	/* What the machine says about the file: warnings, the check still passes. */
	if (config_lint(c, &warnings) < 0)
		log_warning("Out of memory while checking the machine, continuing");
	config_errors_print(&warnings, stderr);
	config_errors_clear(&warnings);
	for (size_t i = 0; i < c->n_workers; i++)
		instances += c->workers[i]->instances;
	printf("%s: OK: %zu worker%s (%zu instance%s), %zu intake%s, %zu resource%s; "
	       "worst-case shutdown %s\n",
	    source ? source : "configuration", c->n_workers, c->n_workers == 1 ? "" : "s",
	    instances, instances == 1 ? "" : "s", c->n_intakes, c->n_intakes == 1 ? "" : "s",
	    c->n_resources, c->n_resources == 1 ? "" : "s",
	    format_duration(d, sizeof(d), p->worst_case));
	if (plan_exceeds_deadline(p)) {
		plan_biggest_step(p, step, sizeof(step));
		fprintf(stderr,
		    "graced: warning: the worst-case shutdown %s exceeds the deadline %s (%s); "
		    "shorten %s (see --plan)\n",
		    format_duration(d, sizeof(d), p->worst_case),
		    format_duration((char[DURATION_MAX]) { 0 }, DURATION_MAX, p->deadline),
		    p->deadline_source, step);
	}
	return EXIT_CLEAN;
}

/* A closed stdin, stdout or stderr would make the next file graced opens a worker's stdout. */
static int
ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		int null;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if ((null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)) < 0)
			return -errno;
		if (null != fd) {
			/* A lower descriptor was free, which cannot be since we go upwards. */
			close(null);
			return -EBADF;
		}
	}
	return 0;
}

static int
run_loop(const struct config *c, struct event_base *base)
{
	struct supervisor *sv = NULL;
	struct run_facts facts = {};
	int r, status;

	if ((r = supervisor_new(base, c, arg_command != NULL, &sv)) < 0) {
		if (r != -EOPNOTSUPP)
			log_error_errno(r, "Failed to set up the supervisor");
		log_error("Nothing was started");
		return EXIT_FORCED;
	}
	if (arg_command)
		sv->forwarding = &arg_single.forwarding;
	sv->log_level_fixed = arg_verbosity != 0;
	r = supervisor_run(sv, &facts);
	supervisor_free(sv);
	/* Nothing ran: a run-time failure of graced's own. Else what the run came to. */
	status = r < 0 ? EXIT_FORCED : policy_exit_status(&facts);
	/* -e CODE: tini's "this exit status is a success". */
	if (arg_command && single_exit_is_zero(&arg_single.forwarding, status))
		return EXIT_CLEAN;
	return status;
}

static int
run(const struct config *c)
{
	_cleanup_(event_base_freep) struct event_base *base = NULL;
	int r, status;

	if (arg_verbosity == 0 && !arg_command)
		log_setup(c->supervisor.log_target, c->supervisor.log_level, "graced");
	else
		log_setup(c->supervisor.log_target, verbosity_level(), "graced");
	if (!(base = event_base_new())) {
		log_error("Failed to create the event loop");
		return EXIT_FORCED;
	}
	/* From here on, a stuck reader of graced's output never blocks the loop. */
	if ((r = outbuf_setup(base)) < 0) {
		log_error_errno(r, "Failed to set up graced's output");
		return EXIT_FORCED;
	}
	status = run_loop(c, base);
	/* What the close step could not write is dropped and counted; this is the last chance
	 * of the lines logged after it. */
	outbuf_finish(usec_add(now_usec(), OUTPUT_FINISH_TIMEOUT));
	return status;
}

int
main(int argc, char **argv)
{
	_cleanup_(config_freep) struct config *c = NULL;
	_cleanup_(plan_freep) struct plan *p = NULL;
	int r;

	log_setup(LOG_TARGET_STDERR, LOG_LEVEL_INFO, "graced");
	log_libevent_setup();
	if (ensure_std_fds() < 0)
		return EXIT_FORCED;
	if (parse_argv_options(argc, argv) < 0)
		return EXIT_INVALID;
	if (arg_command) {
		entry_environment();
		/* The command starts here; graced goes to / so that it holds no mount. */
		arg_directory = getcwd(NULL, 0);
		arg_single.directory = arg_directory;
	}
	log_set_level(verbosity_level());

	switch (arg_action) {
	case ACTION_HELP:
		help();
		return EXIT_CLEAN;
	case ACTION_VERSION:
		printf("%s\n", PACKAGE_STRING);
		return EXIT_CLEAN;
	case ACTION_LICENSE:
		printf("%s\nLicence: MIT (SPDX-License-Identifier: MIT)\n", PACKAGE_STRING);
		return EXIT_CLEAN;
	case ACTION_TIMELINE:
		return timeline_run(arg_timeline, arg_svg, arg_config);
	case ACTION_IMPORT:
		r = import_supervisord(arg_import, stdout, stderr);
		return r == -ENOMEM ? EXIT_FORCED : r < 0 ? EXIT_INVALID : EXIT_CLEAN;
	default:
		break;
	}

	if (!arg_command && !arg_config)
		arg_config = GRACED_DEFAULT_CONFIG;
	if ((r = load_config(&c)) < 0)
		return r == -ENOMEM ? EXIT_FORCED : EXIT_INVALID;
	if ((r = plan_build(c, &p)) < 0) {
		log_error_errno(r, "Failed to build the shutdown plan");
		return EXIT_FORCED;
	}
	plan_resolve_deadline(p, getpid() == 1);
	if (arg_action != ACTION_RUN && !c->shutdown.deadline_set) {
		usec_t timeout_stop;

		/* Under systemd the unit's own stop timeout is the deadline; without a bus, none. */
		if (notify_unit_stop_timeout(NOTIFY_BUS_TIMEOUT, &timeout_stop) >= 0)
			plan_set_systemd_deadline(p, timeout_stop);
	}

	switch (arg_action) {
	case ACTION_CHECK:
		return check(c, p);
	case ACTION_PLAN:
		plan_print(p, stdout);
		return EXIT_CLEAN;
	default:
		break;
	}

	if (arg_command) {
		if (arg_pdeathsig != SIGNAL_NONE && prctl(PR_SET_PDEATHSIG, arg_pdeathsig) < 0)
			log_warning_errno(errno, "Failed to set the parent-death signal, continuing");
		if (arg_directory && chdir("/") < 0)
			log_warning_errno(errno, "Failed to change to /, continuing");
	}
	r = run(c);
	free(arg_report_path);
	free(arg_control_socket);
	free(arg_directory);
	return r;
}
