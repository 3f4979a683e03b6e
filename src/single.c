/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "single.h"
#include "util.h"

void
single_options_init(struct single_options *o)
{
	*o = (struct single_options) {
		.stop_signal = SIGTERM,
		.stop_timeout = 8 * USEC_PER_SEC,
		.cancel_signal = SIGNAL_NONE,
		.join_timeout = 5 * USEC_PER_SEC,
		.kill_signal = SIGKILL,
		.kill_timeout = 1 * USEC_PER_SEC,
	};
	for (int sig = 0; sig < NSIG; sig++)
		o->forwarding.rewrite[sig] = sig;
}

/* What the command receives for a signal graced passes on, after -r S:R; 0: nothing. */
int
single_rewrite(const struct single_forwarding *f, int sig)
{
	if (sig <= 0 || sig >= NSIG)
		return sig;
	return f->rewrite[sig];
}

bool
single_exit_is_zero(const struct single_forwarding *f, int status)
{
	return status >= 0 && status < 256 && (f->exit_zero[status / 8] & (1u << (status % 8)));
}

/* The worker is named after the command's basename, reduced to the characters a name may hold,
 * so logs say "worker 'nginx'" rather than something generic. */
static void
worker_name(const char *cmd, char *buf, size_t n)
{
	const char *base = strrchr(cmd, '/');
	size_t k = 0;

	base = base ? base + 1 : cmd;
	for (const char *p = base; *p && k + 1 < n && k < 64; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || (c == '-' && k > 0);

		buf[k++] = ok ? c : '_';
	}
	buf[k] = '\0';
	if (!name_is_valid(buf))
		snprintf(buf, n, "main");
}

int
single_config(char *const *argv, const struct single_options *o, struct config **ret,
    struct config_errors *errors)
{
	_cleanup_(config_freep) struct config *c = NULL;
	struct worker_config *w;
	char name[65];
	int r;

	if (!argv || !argv[0])
		return -EINVAL;
	if (!(c = config_new()))
		return -ENOMEM;
	if (o->report && !(c->supervisor.report = strdup(o->report)))
		return -ENOMEM;
	/* No control socket unless --control-socket asks for one. */
	c->supervisor.control_socket_none = !o->control_socket;
	if (o->control_socket && !(c->supervisor.control_socket = strdup(o->control_socket)))
		return -ENOMEM;
	/* Quiet like tini and dumb-init: warnings and errors; -v brings the step log. */
	c->supervisor.log_level = LOG_LEVEL_WARNING;

	/* The command line sets the defaults too: stragglers the command leaves behind are
	 * stopped with them, within the same budget. */
	c->shutdown.defaults.stop_signal = o->stop_signal;
	c->shutdown.defaults.stop_timeout = o->stop_timeout;
	c->shutdown.defaults.cancel_signal = o->cancel_signal;
	c->shutdown.defaults.join_timeout = o->join_timeout;
	c->shutdown.defaults.kill_signal = o->kill_signal;
	c->shutdown.defaults.kill_timeout = o->kill_timeout;

	worker_name(argv[0], name, sizeof(name));
	if (!(w = config_add_worker(c, name)))
		return -ENOMEM;
	if (!(w->argv = strv_copy(argv)) || !(w->command = strv_join(argv, " ")))
		return -ENOMEM;
	w->critical = true;
	/* graced itself goes to / once it runs (main.c), so that it holds no mount; the command
	 * starts where graced was started. */
	if (o->directory && !(w->directory = strdup(o->directory)))
		return -ENOMEM;
	if (!(c->supervisor.exit_code_from = strdup(name)))
		return -ENOMEM;

	if ((r = config_validate(c, errors)) < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}
