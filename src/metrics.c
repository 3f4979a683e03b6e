/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/wait.h>

#include "exposition.h"
#include "macro.h"
#include "metrics.h"
#include "status.h"
#include "util.h"

/* Per instance, gathered in one walk of the view and written family by family (the format
 * wants a family's samples together). */
struct gather {
	FILE *f;
	usec_t now;
	unsigned by_state[_INSTANCE_STATE_MAX];
	/* Which family the walk writes this time round. */
	enum { STATE, RESTARTS, LAST_EXIT, UPTIME } family;
};

static void
instance_cb(const struct instance_view *v, void *userdata)
{
	struct gather *g = userdata;
	/* Not "instance": Prometheus sets that label to the scraped target. */
	struct exposition_label l[3] = {
		{ "worker", v->worker },
		{ "name", v->name },
	};

	switch (g->family) {
	case STATE:
		g->by_state[v->state]++;
		/* One series per state, 1 for the instance's own (the usual form of an enum). */
		for (enum instance_state s = 0; s < _INSTANCE_STATE_MAX; s++) {
			l[2] = (struct exposition_label) { "state", instance_state_to_string(s) };
			exposition_sample(g->f, "graced_instance_state", l, 3, s == v->state);
		}
		break;
	case RESTARTS:
		exposition_sample(g->f, "graced_instance_restarts_total", l, 2, v->restarts);
		break;
	case LAST_EXIT:
		/* As a shell says it: the exit code, or 128+N for a death by signal N. */
		if (v->exited)
			exposition_sample(g->f, "graced_instance_last_exit_status", l, 2,
			    WIFSIGNALED(v->last_status) ? 128U + (unsigned) WTERMSIG(v->last_status) :
							  (unsigned) WEXITSTATUS(v->last_status));
		break;
	case UPTIME:
		if (v->pid > 0 && v->started > 0)
			exposition_sample_seconds(g->f, "graced_instance_uptime_seconds", l, 2,
			    g->now > v->started ? g->now - v->started : 0);
		break;
	}
}

static void
walk(const struct status_source *src, struct gather *g, int family)
{
	g->family = family;
	status_instances(src, NULL, instance_cb, g);
}

int
metrics_write(const struct status_source *src, FILE *f)
{
	struct gather g = { .f = f, .now = now_usec() };
	struct step_view steps[_PHASE_MAX];
	struct supervisor_state st;

	status_state(src, &st);

	exposition_family(f, "graced_instance_state", EXPOSITION_GAUGE,
	    "1 for the state each worker instance is in (starting, ready, stopping, exited, failed, "
	    "backoff), 0 for the others.");
	walk(src, &g, STATE);
	exposition_family(f, "graced_instances", EXPOSITION_GAUGE,
	    "Worker instances in each state.");
	for (enum instance_state s = 0; s < _INSTANCE_STATE_MAX; s++)
		exposition_sample(f, "graced_instances",
		    &(struct exposition_label) { "state", instance_state_to_string(s) }, 1,
		    g.by_state[s]);
	exposition_family(f, "graced_instance_restarts_total", EXPOSITION_COUNTER,
	    "Starts of each worker instance after its first.");
	walk(src, &g, RESTARTS);
	exposition_family(f, "graced_instance_last_exit_status", EXPOSITION_GAUGE,
	    "How the last process of each worker instance ended: its exit code, or 128+N for "
	    "signal N (instances with an ended process only).");
	walk(src, &g, LAST_EXIT);
	exposition_family(f, "graced_instance_uptime_seconds", EXPOSITION_GAUGE,
	    "How long the running process of each worker instance has run.");
	walk(src, &g, UPTIME);

	exposition_family(f, "graced_uptime_seconds", EXPOSITION_GAUGE,
	    "How long graced has run since it started the workers.");
	if (st.started > 0)
		exposition_sample_seconds(f, "graced_uptime_seconds", NULL, 0,
		    g.now > st.started ? g.now - st.started : 0);
	exposition_family(f, "graced_shutdown_active", EXPOSITION_GAUGE,
	    "1 while the ordered shutdown runs.");
	exposition_sample(f, "graced_shutdown_active", NULL, 0, st.stopping);
	exposition_family(f, "graced_shutdown_step_duration_seconds", EXPOSITION_GAUGE,
	    "How long each step of the shutdown took, for the steps done so far (a later step "
	    "began).");
	status_steps(src, steps);
	for (enum phase p = 0; p < _PHASE_MAX; p++)
		if (steps[p].done)
			exposition_sample_seconds(f, "graced_shutdown_step_duration_seconds",
			    &(struct exposition_label) { "step", steps[p].name }, 1,
			    steps[p].duration);
	exposition_family(f, "graced_stragglers", EXPOSITION_GAUGE,
	    "Descendants no worker accounted for, found by the shutdown so far.");
	exposition_sample(f, "graced_stragglers", NULL, 0, status_stragglers(src));
	exposition_family(f, "graced_output_dropped_bytes_total", EXPOSITION_COUNTER,
	    "Output bytes dropped: to graced's own stdout and stderr when they did not take it "
	    "(to=\"stdio\"), on write errors to the workers' log files (to=\"logfile\").");
	exposition_sample(f, "graced_output_dropped_bytes_total",
	    &(struct exposition_label) { "to", "stdio" }, 1, status_dropped_stdio());
	exposition_sample(f, "graced_output_dropped_bytes_total",
	    &(struct exposition_label) { "to", "logfile" }, 1,
	    status_dropped_logfiles());
	return ferror(f) ? -EIO : 0;
}
