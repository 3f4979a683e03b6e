/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-diff.h"
#include "config.h"
#include "control.h"
#include "intake.h"
#include "log.h"
#include "notify.h"
#include "reload.h"
#include "resource.h"
#include "supervisor.h"
#include "task.h"
#include "util.h"
#include "worker.h"

/* Layer: the supervisor. See reload.h for what this file holds of DESIGN.md. */

/* How often the reload's waits look again besides the workers' changed event. */
#define RELOAD_POLL_INTERVAL (50 * USEC_PER_MSEC)
/* How long a stopped worker's tasks (its output drained) may take to end before it is removed. */
#define RELOAD_REMOVE_TIMEOUT (5 * USEC_PER_SEC)

struct reload {
	unsigned n_ref;
	struct supervisor *sv;        /* NULL once its task ended */
	struct config *old;           /* the configuration it replaced */
	bool own_old;                 /* the supervisor owned old (else main() does) */
	bool retain_old;              /* something still points into old: keep it until graced exits */
	struct config_diff *diff;     /* old -> the supervisor's config; freed when the task ends */
	struct intake **detached;     /* moved intakes' old sockets, closed once their workers stopped */
	size_t n_detached;
	json_t *changes;              /* config_diff_to_json() */
	char *text;                   /* config_diff_print() */
	json_t *failed;               /* [{"worker", "error"}] */
	bool interrupted;             /* a shutdown took over */
	bool ended;
	struct task_event done;
};

struct reload *
reload_unref(struct reload *rl)
{
	if (!rl || --rl->n_ref > 0)
		return NULL;
	json_decref(rl->changes);
	json_decref(rl->failed);
	free(rl->text);
	free(rl->detached);
	free(rl);
	return NULL;
}

static bool
stopping(const struct supervisor *sv)
{
	return sv->shutdown.stopping || task_event_is_set(&sv->shutdown.trigger);
}

static void
fail(struct reload *rl, const char *worker, const char *fmt, ...) _printf_(3, 4);

static void
fail(struct reload *rl, const char *worker, const char *fmt, ...)
{
	char error[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error, sizeof(error), fmt, ap);
	va_end(ap);
	log_fields(LOG_ERR, 0, LOG_FIELDS({ "worker", worker }, { "event", "reload-failed" }),
	    "Reload: worker '%s': %s", worker, error);
	(void) json_array_append_new(rl->failed,
	    json_pack("{s:s, s:s}", "worker", worker, "error", error));
}

/* The difference as text, for the log and the reply. */
static char *
diff_text(const struct config_diff *d)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	if (!f)
		return NULL;
	config_diff_print(d, f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Logs each error as FILE:LINE (the refusal changes nothing). */
static void
log_refusal(const struct config_errors *errors, const char *why)
{
	for (size_t i = 0; i < errors->n; i++) {
		const struct config_error *e = &errors->items[i];
		_cleanup_free_ char *file = e->file ? escape_strdup(e->file, 0) : NULL;

		if (file && e->line)
			log_error("Reload refused: %s:%u: %s", file, e->line, e->message);
		else if (file)
			log_error("Reload refused: %s: %s", file, e->message);
		else
			log_error("Reload refused: %s", e->message);
	}
	log_fields(LOG_ERR, 0, LOG_FIELDS({ "event", "reload-refused" }),
	    "Reload refused (%s), nothing changed", why);
}

/* Puts back what open_intakes() did, in reverse. */
static void
close_intakes(struct supervisor *sv, struct reload *rl, size_t n_done)
{
	const struct config_diff *d = rl->diff;

	for (size_t k = n_done; k-- > 0;) {
		const struct config_diff_intake *di = &d->intakes[k];

		if (di->change == CONFIG_ADDED)
			(void) intake_remove(&sv->intakes, di->name);
	}
	for (size_t k = rl->n_detached; k-- > 0;) {
		struct intake *moved = NULL;

		/* The old one back in its place, the new one closed. */
		if (intake_replace_back(&sv->intakes, rl->detached[k], &moved) == 0)
			intake_free_detached(moved);
	}
	rl->n_detached = 0;
}

/*
 * Opens the sockets of added and moved intakes before anything else changes, so that a busy
 * address refuses the reload as a wrong file does.
 */
static int
open_intakes(struct supervisor *sv, struct reload *rl, struct config_errors *errors)
{
	const struct config_diff *d = rl->diff;
	size_t k;
	int r = 0;

	if (!(rl->detached = calloc(MAX(d->n_intakes, 1U), sizeof(*rl->detached))))
		return -ENOMEM;
	for (k = 0; k < d->n_intakes; k++) {
		const struct config_diff_intake *di = &d->intakes[k];
		const struct config_location *at;

		if (di->change == CONFIG_ADDED)
			r = intake_add(&sv->intakes, di->new);
		else if (di->change == CONFIG_CHANGED &&
		    (r = intake_replace(&sv->intakes, di->new, &rl->detached[rl->n_detached])) == 0)
			rl->n_detached++;
		if (r >= 0)
			continue;
		at = di->new->has_listen ? &di->new->listen_at : &di->new->at;
		(void) config_errors_add(errors, at->file, at->line, "intake '%s': cannot open: %s",
		    di->name,
		    r == -EOPNOTSUPP ? "listen = systemd: sockets are taken at start only" :
				       strerror(-r));
		close_intakes(sv, rl, k);
		return r;
	}
	return 0;
}

/* The new configuration is the supervisor's from here on: nothing here may fail half-way. */
static void
commit(struct supervisor *sv, struct reload *rl, struct config *new)
{
	const struct config_diff *d = rl->diff;
	const struct supervisor_config *c = &new->supervisor;
	int r;

	rl->old = (struct config *) sv->config;
	rl->own_old = sv->own_config != NULL;
	sv->config = new;
	sv->own_config = new;
	sv->status.name = c->name;
	sv->stragglers.settings = &new->shutdown.defaults;
	log_setup(c->log_target, sv->log_level_fixed ? log_get_level() : c->log_level, NULL);
	task_runtime_set_slow_step(sv->rt, c->debug ? c->slow_step : 0);

	for (size_t k = 0; k < d->n_workers; k++) {
		const struct config_diff_worker *dw = &d->workers[k];
		struct worker *w = worker_find(sv->workers, dw->name);

		if (!w || (dw->change != CONFIG_UNCHANGED && dw->change != CONFIG_UPDATED))
			continue;
		if ((r = worker_set_config(w, dw->new)) < 0) {
			/* Its own stop runs (gracectl stop): it goes on with the old settings. */
			rl->retain_old = true;
			if (dw->change == CONFIG_UPDATED)
				fail(rl, dw->name, "new settings not applied: %s",
				    r == -EBUSY ? "its own stop or restart is in progress" : strerror(-r));
		}
	}
	for (size_t k = 0; k < d->n_intakes; k++) {
		const struct config_diff_intake *di = &d->intakes[k];

		if ((di->change == CONFIG_UNCHANGED || di->change == CONFIG_UPDATED) &&
		    (r = intake_update(&sv->intakes, di->new)) < 0)
			log_warning_errno(r, "Reload: intake '%s': not every change applied, continuing",
			    di->name);
	}
	intake_sort(&sv->intakes, new);
	/* Resources are acted on in the close step only: the new file's, in its order. */
	resources_free(&sv->resources);
	for (size_t k = 0; k < new->n_resources; k++)
		if ((r = resources_add(&sv->resources, new->resources[k])) < 0)
			log_error_errno(r, "Reload: resource '%s' not recorded, continuing",
			    new->resources[k]->name);
	/* Added workers start now, each after its after= (worker.c waits for them). */
	for (size_t k = 0; k < d->n_start_order; k++) {
		const struct config_diff_worker *dw = d->start_order[k];

		if ((r = workers_add(sv->workers, dw->new, NULL)) < 0)
			fail(rl, dw->name, "not added: %s", strerror(-r));
	}
	if ((r = supervisor_replan(sv)) < 0)
		log_error_errno(r, "Reload: the shutdown plan was not recomputed, continuing");
}

/* The changed workers, one after the other. */
static void
restart_changed(struct supervisor *sv, struct reload *rl)
{
	const struct config_diff *d = rl->diff;

	for (size_t k = 0; k < d->n_restart_order && !stopping(sv); k++) {
		const struct config_diff_worker *dw = d->restart_order[k];
		struct worker *w = worker_find(sv->workers, dw->name);
		int r;

		if (!w)
			continue;
		r = worker_restart(w, dw->new);
		if (r == -ESRCH) {
			/* Nothing of it runs (stopped, gave up, autostart = no): it starts, when it
			 * does, as the new file says. */
			if ((r = worker_set_config(w, dw->new)) < 0) {
				rl->retain_old = true;
				fail(rl, dw->name, "new settings not applied: %s", strerror(-r));
			}
			continue;
		}
		if (r >= 0)
			r = worker_wait_restarted(w, USEC_INFINITY);
		if (r >= 0)
			continue;
		if (r == -ECANCELED || stopping(sv)) {
			rl->retain_old = true; /* the replaced ones may still stop as it says */
			return;
		}
		if (r != -EPROTO)
			rl->retain_old = true; /* not begun: it still points at the old file */
		/* The new settings are the worker's all the same (worker_restart()): the instances
		 * not replaced run the old ones until `gracectl restart` tries again. */
		if (r == -EPROTO)
			fail(rl, dw->name, "%s; the instances not replaced keep running as before, "
					   "with the new settings from their next start (gracectl restart %s "
					   "tries again)",
			    worker_restart_error(w) ? worker_restart_error(w) :
						      "a replacement was not ready in time",
			    dw->name);
		else
			fail(rl, dw->name, "%s",
			    r == -EBUSY ? "its own stop or restart is in progress" : strerror(-r));
	}
}

/* Removes a stopped worker once its tasks have ended (its output drained). */
static int
remove_when_idle(struct supervisor *sv, const char *name)
{
	usec_t deadline = usec_add(now_usec(), RELOAD_REMOVE_TIMEOUT);
	int r;

	for (;;) {
		/* Never while the shutdown's stoppers walk the set. */
		if (stopping(sv))
			return -ESHUTDOWN;
		if ((r = supervisor_remove_worker(sv, name)) != -EBUSY || now_usec() >= deadline)
			return r;
		if ((r = task_sleep_until(usec_add(now_usec(), RELOAD_POLL_INTERVAL))) < 0)
			return r;
	}
}

/* The removed workers: their own stop, all at once (each after its dependents), then gone. */
static void
stop_removed(struct supervisor *sv, struct reload *rl)
{
	const struct config_diff *d = rl->diff;
	_cleanup_free_ char **names = calloc(MAX(d->n_stop_order, 1U), sizeof(char *));
	size_t n = 0;
	int r;

	if (!names) {
		rl->retain_old = true;
		return;
	}
	for (size_t k = 0; k < d->n_stop_order; k++)
		names[n++] = (char *) d->stop_order[k]->name;
	for (size_t k = 0; k < n && !stopping(sv); k++) {
		struct worker *w = worker_find(sv->workers, names[k]);

		if (!w)
			continue;
		r = worker_halt(w, names, n);
		if (r < 0 && r != -ESRCH && r != -EALREADY) {
			fail(rl, names[k], "not stopped: %s",
			    r == -EBUSY ? "a worker after= it still runs" : strerror(-r));
			names[k] = NULL; /* not removed */
		}
	}
	for (size_t k = 0; k < n; k++) {
		struct worker *w = names[k] ? worker_find(sv->workers, names[k]) : NULL;

		if (!w)
			continue;
		if (!stopping(sv) && (r = worker_wait_halted(w, USEC_INFINITY)) < 0 && r != -ESRCH) {
			fail(rl, names[k], "its stop did not end: %s", strerror(-r));
			continue;
		}
		if ((r = remove_when_idle(sv, names[k])) < 0 && r != -ESHUTDOWN && r != -ECANCELED)
			fail(rl, names[k], "not removed: %s", strerror(-r));
	}
	for (size_t k = 0; k < n; k++)
		if (names[k] && worker_find(sv->workers, names[k]))
			rl->retain_old = true; /* still in the set, with its old configuration */
}

/* Closes what only the old file had: removed intakes (their workers are gone now). */
static void
close_removed_intakes(struct supervisor *sv, struct reload *rl)
{
	const struct config_diff *d = rl->diff;

	for (size_t k = 0; k < d->n_intakes; k++) {
		const struct config_diff_intake *di = &d->intakes[k];

		if (di->change != CONFIG_REMOVED)
			continue;
		/* During the shutdown the close step closes it: its workers still stop. */
		if (stopping(sv) || intake_remove(&sv->intakes, di->name) < 0) {
			rl->retain_old = true;
			continue;
		}
		log_fields(LOG_INFO, 0, LOG_FIELDS({ "intake", di->name }, { "event", "close" }),
		    "Reload: closed intake '%s'", di->name);
	}
}

static bool
any_starting(struct supervisor *sv, const struct config_diff *d)
{
	for (size_t k = 0; k < d->n_start_order; k++) {
		struct worker *w = worker_find(sv->workers, d->start_order[k]->name);

		for (unsigned i = 0; w && i < worker_n_instances(w); i++) {
			struct worker_instance_info in;

			worker_instance_info(w, i, &in);
			if (policy_instance_starting(in.readiness) && !in.stopped)
				return true;
		}
	}
	return false;
}

/* Until no added worker is starting: each instance is bounded by its start_timeout, and a chain
 * of after= by the sum of theirs. */
static void
wait_added(struct supervisor *sv, struct reload *rl)
{
	const struct config_diff *d = rl->diff;
	usec_t budget = 0, deadline;

	for (size_t k = 0; k < d->n_start_order; k++)
		budget = usec_add(budget, d->start_order[k]->new->start_timeout);
	deadline = usec_add(now_usec(), budget);
	while (!stopping(sv) && any_starting(sv, d) && now_usec() < deadline) {
		struct task_clause c[] = {
			{ .kind = TASK_CLAUSE_EVENT, .event = &sv->wake },
			{ .kind = TASK_CLAUSE_EVENT, .event = &sv->shutdown.trigger },
		};

		if (task_wait_any(c, ELEMENTSOF(c),
			MIN(deadline, usec_add(now_usec(), RELOAD_POLL_INTERVAL))) == -ECANCELED)
			return;
		/* The supervisor resets its wake event; this task looks again on its own. */
		if (task_sleep_until(usec_add(now_usec(), RELOAD_POLL_INTERVAL / 5)) < 0)
			return;
	}
}

/* The end: what the old file still holds is freed (or kept while something points into it). */
static void
finish(struct supervisor *sv, struct reload *rl)
{
	char status[128];
	size_t n_failed = json_array_size(rl->failed);

	for (size_t k = 0; k < rl->n_detached; k++) {
		const char *name = rl->detached[k]->config->name;

		log_fields(LOG_INFO, 0, LOG_FIELDS({ "intake", name }, { "event", "close" }),
		    "Reload: closed the old socket of intake '%s'", name);
		intake_free_detached(rl->detached[k]);
	}
	rl->n_detached = 0;
	rl->diff = config_diff_free(rl->diff);
	rl->interrupted = stopping(sv);
	/* Cut short, the workers it did not get to (changed, removed) still run as the old file
	 * says, and the shutdown stops them as it does. */
	if (rl->interrupted)
		rl->retain_old = true;
	if (rl->retain_old && rl->own_old) {
		struct config **m = reallocarray(sv->retained, sv->n_retained + 1, sizeof(*m));

		if (m) {
			sv->retained = m;
			sv->retained[sv->n_retained++] = rl->old;
		} /* else: leaked rather than freed under a worker that points into it */
	} else if (rl->own_old)
		config_free(rl->old);
	rl->old = NULL;
	if (!rl->interrupted)
		(void) supervisor_replan(sv);

	if (rl->interrupted)
		log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "event", "reload-end" }),
		    "Reload interrupted by the shutdown");
	else if (n_failed)
		log_fields(LOG_WARNING, 0, LOG_FIELDS({ "event", "reload-end" }),
		    "Reload applied, %zu worker%s failed", n_failed, n_failed == 1 ? "" : "s");
	else
		log_fields(LOG_INFO, 0, LOG_FIELDS({ "event", "reload-end" }), "Reload applied");
	if (!rl->interrupted) {
		snprintf(status, sizeof(status), "running: reloaded%s", n_failed ? " with failures" : "");
		notify_reloaded(&sv->notify, status);
	}
	sv->reload = NULL;
	rl->sv = NULL;
	rl->ended = true;
	task_event_set(&rl->done);
	task_event_set(&sv->wake);
}

static int
reload_task(void *arg)
{
	struct reload *rl = arg; /* holds a reference until finish() */
	struct supervisor *sv = rl->sv;

	restart_changed(sv, rl);
	stop_removed(sv, rl);
	close_removed_intakes(sv, rl);
	wait_added(sv, rl);
	finish(sv, rl);
	reload_unref(rl);
	return 0;
}

int
reload_begin(struct supervisor *sv, struct config_errors *errors, struct reload **ret)
{
	_cleanup_(config_freep) struct config *new = NULL;
	struct reload *rl;
	const char *path;
	int r;

	if (sv->single || !sv->config->files || !sv->config->files[0])
		return -EOPNOTSUPP;
	if (stopping(sv))
		return -ESHUTDOWN;
	if (!sv->workers_started)
		return -EAGAIN;
	if (sv->reload)
		return -EALREADY;
	path = sv->config->files[0];
	log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "event", "reload" }), "Reloading '%s'", path);
	if ((r = config_load(path, &new, errors)) < 0) {
		if (errors->n == 0)
			(void) config_errors_add(errors, path, 0, "%s", strerror(-r));
		log_refusal(errors, "the file is not valid");
		return r == -ENOMEM ? r : -EINVAL;
	}
	if (!(rl = calloc(1, sizeof(*rl))))
		return -ENOMEM;
	*rl = (struct reload) { .n_ref = 1, .sv = sv };
	task_event_init(&rl->done, "reload applied");
	if ((r = config_diff_build(sv->config, new, &rl->diff)) < 0 ||
	    !(rl->changes = config_diff_to_json(rl->diff)) || !(rl->text = diff_text(rl->diff)) ||
	    !(rl->failed = json_array())) {
		rl->diff = config_diff_free(rl->diff);
		reload_unref(rl);
		return -ENOMEM;
	}
	if ((r = config_diff_check(rl->diff, errors)) != 0) {
		log_refusal(errors, "a key cannot change while graced runs");
		rl->diff = config_diff_free(rl->diff);
		reload_unref(rl);
		return r < 0 ? r : -EINVAL;
	}
	/* What can still fail, last: then nothing else has changed yet. */
	if ((r = open_intakes(sv, rl, errors)) >= 0 &&
	    (r = control_set_group(sv->control, new->supervisor.control_group)) < 0) {
		struct config_location at = config_key_location(new, &new->supervisor,
		    "control_group");

		close_intakes(sv, rl, rl->diff->n_intakes);
		(void) config_errors_add(errors, at.file, at.line, "control_group '%s': %s",
		    new->supervisor.control_group,
		    r == -ESRCH ? "no such group" : strerror(-r));
	}
	if (r < 0) {
		log_refusal(errors, "what the file opens could not be opened");
		rl->diff = config_diff_free(rl->diff);
		reload_unref(rl);
		return r;
	}

	commit(sv, rl, TAKE_PTR(new));
	sv->reload = rl;
	/* What it is about to do, a line each (as gracectl prints it). */
	for (const char *p = rl->text, *e; (e = strchr(p, '\n')); p = e + 1)
		log_info("Reload: %.*s", (int) (e - p), p);
	notify_reloading(&sv->notify, "reloading");
	log_fields(LOG_NOTICE, 0, LOG_FIELDS({ "event", "reload-begin" }), "%s",
	    config_diff_is_empty(rl->diff) ? "Reload: the file is valid and changes nothing" :
					     "Reload: the file is valid, applying the difference");
	rl->n_ref++; /* the task's */
	if ((r = task_spawn(sv->reloads, "reload", reload_task, rl, NULL)) < 0) {
		log_error_errno(r, "Reload: failed to start applying it, continuing");
		rl->retain_old = true;
		finish(sv, rl);
		reload_unref(rl);
	}
	if (ret)
		*ret = rl;
	else
		reload_unref(rl);
	return 0;
}

int
reload_wait(struct reload *rl, usec_t deadline)
{
	if (rl->ended)
		return 0;
	return task_event_wait(&rl->done, deadline);
}

bool
reload_failed(const struct reload *rl)
{
	return json_array_size(rl->failed) > 0;
}

json_t *
reload_to_json(const struct reload *rl)
{
	return json_pack("{s:O, s:s, s:O, s:b}", "changes", rl->changes, "text", rl->text, "failed",
	    rl->failed, "interrupted", rl->interrupted);
}
