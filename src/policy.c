/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <sys/wait.h>

#include "config.h"
#include "policy.h"
#include "util.h"

bool
policy_exit_is_clean(const struct worker_config *c, int status)
{
	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) == 0)
			return true;
		for (size_t i = 0; i < c->n_success_status; i++)
			if (c->success_status[i] == WEXITSTATUS(status))
				return true;
		return false;
	}
	for (size_t i = 0; WIFSIGNALED(status) && i < c->n_success_signal; i++)
		if (c->success_signal[i] == WTERMSIG(status))
			return true;
	return false;
}

enum outcome
policy_exit_outcome(const struct worker_config *c, int status, bool stopping, enum phase step,
    bool killed, int stop_signal)
{
	const struct shutdown_settings *s = &c->shutdown;
	bool clean = policy_exit_is_clean(c, status);

	if (killed)
		return OUTCOME_KILLED;
	/* Only the signals graced sent count: the same death before the shutdown is a failure. */
	if (WIFSIGNALED(status) && stopping) {
		int sig = WTERMSIG(status);

		clean = clean || sig == stop_signal || sig == s->intake_signal ||
		    (step >= PHASE_CANCEL && sig == s->cancel_signal);
	}
	if (!stopping || step < PHASE_STOP)
		return clean ? OUTCOME_EXITED : OUTCOME_FAILED;
	if (!clean)
		return OUTCOME_FAILED;
	return step == PHASE_STOP ? OUTCOME_EXITED : OUTCOME_CANCELLED;
}

int
policy_give_up_signal(const struct worker_config *c)
{
	return c->shutdown.kill_signal != SIGNAL_NONE ? c->shutdown.kill_signal : SIGKILL;
}

usec_t
policy_restart_backoff(const struct worker_config *c, unsigned failures)
{
	usec_t d = c->restart_delay;

	for (unsigned i = 1; i < failures && d < c->restart_delay_max; i++)
		d = d > USEC_INFINITY / 2 ? USEC_INFINITY : d * 2;
	return MIN(d, MAX(c->restart_delay_max, c->restart_delay));
}

bool
policy_start_limit_hit(const struct worker_config *c, const usec_t *starts, unsigned n_starts,
    usec_t at)
{
	unsigned burst = c->start_limit_burst;

	return burst > 0 && n_starts >= burst &&
	    at - starts[n_starts % burst] < c->start_limit_interval;
}

enum instance_readiness
policy_instance_readiness(bool running, bool ready, bool failed, bool finished)
{
	if (failed)
		return READINESS_FAILED;
	if (finished)
		return READINESS_DONE;
	if (ready)
		return running ? READINESS_SERVING : READINESS_GONE;
	return READINESS_STARTING;
}

bool
policy_instance_serving(enum instance_readiness s)
{
	return s == READINESS_SERVING || s == READINESS_DONE || s == READINESS_INACTIVE;
}

bool
policy_instance_over(enum instance_readiness s, bool running)
{
	return !running &&
	    (s == READINESS_DONE || s == READINESS_FAILED || s == READINESS_INACTIVE);
}

bool
policy_dependency_met(enum worker_type type, enum instance_readiness s)
{
	if (type == WORKER_ONESHOT)
		return s == READINESS_DONE;
	return s == READINESS_SERVING || s == READINESS_DONE;
}

bool
policy_service_ready(bool stopping, bool every_instance_serving)
{
	return !stopping && every_instance_serving;
}

bool
policy_instance_starting(enum instance_readiness s)
{
	return s == READINESS_STARTING;
}

int
policy_exit_status(const struct run_facts *f)
{
	int status;

	if (!f->completed)
		return 1;
	if (!f->status_from_worker)
		status = f->forced ? 1 : 0;
	else if (f->worker_ended && WIFEXITED(f->worker_status))
		status = WEXITSTATUS(f->worker_status);
	else if (f->worker_ended && WIFSIGNALED(f->worker_status))
		status = 128 + WTERMSIG(f->worker_status);
	else
		status = 1;
	if (f->report_failed && status == 0)
		status = 1;
	return status;
}

enum signal_action
policy_shutdown_signal(bool stopping, int sig, int last_sig, usec_t last_at, usec_t now,
    usec_t window, enum second_signal second)
{
	if (stopping && sig == last_sig && now - last_at < window)
		return SIGNAL_ACTION_REPEAT;
	if (!stopping)
		return SIGNAL_ACTION_TRIGGER;
	return second == SECOND_SIGNAL_IGNORE ? SIGNAL_ACTION_IGNORE : SIGNAL_ACTION_ESCALATE;
}
