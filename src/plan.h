/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: parsing and configuration (the plan: DESIGN.md, the worst case and --plan; the
 * supervisor recomputes it from the current workers).
 *
 * The ordered shutdown plan of a configuration, and its worst case, computed before anything
 * runs: intake_timeout (when there is something to announce) + drain_delay + the sum over
 * dependency levels of the longest stop + join + kill budget in that level + the close commands.
 * `graced --plan` prints it, `--check` warns when it exceeds the outside killer's deadline, and the
 * supervisor stops workers level by level in the same order.
 */

#include <stdbool.h>
#include <stdio.h>

#include "graced.h"
#include "macro.h"

/* One worker's part of the stop, cancel and join steps. A step that tells the worker nothing
 * does not wait for it (DESIGN.md), so its budget is 0. */
struct plan_worker {
	const struct worker_config *worker;
	unsigned level;
	usec_t stop;    /* stop_timeout, or 0 with stop_signal = none and no stop_fd */
	usec_t join;    /* join_timeout, or 0 with cancel_signal = none */
	usec_t kill;    /* kill_timeout, or 0 with kill_signal = none */
	usec_t hook;    /* hook_timeout with on_exit: the worker is joined once its exit hooks
			 * ended; else 0 */
	usec_t total;
};

/* One worker's budgets (level 0): what its stopper waits in each step. */
void plan_worker_budget(const struct worker_config *w, struct plan_worker *ret);

/* Workers stopped together: level 0 is stopped first (nobody is after= them). */
struct plan_level {
	struct plan_worker **workers;
	size_t n_workers;
	struct plan_worker *longest; /* the one whose budget is the level's */
	usec_t budget;
};

struct plan {
	const struct config *config;
	bool announces;       /* readiness, exec or signal intakes, or an intake_signal */
	usec_t intake;        /* intake_timeout when announcing, else 0 */
	usec_t drain;         /* drain_delay */
	struct plan_worker *workers; /* one per [worker:*], in config order */
	size_t n_workers;
	struct plan_level *levels;
	size_t n_levels;
	usec_t close;         /* the exec resources' close_timeouts, run one after another */
	usec_t worst_case;
	usec_t deadline;      /* USEC_INFINITY: no outside deadline known */
	const char *deadline_source;
};

/* Builds the plan of a validated config. The plan points into c, which must outlive it. */
int plan_build(const struct config *c, struct plan **ret);
/* The same for another set of workers than c's (those running now: the supervisor recomputes
 * its plan when one is added or removed); [shutdown], intakes and resources come from c. */
int plan_build_workers(const struct config *c, const struct worker_config *const *workers, size_t n,
    struct plan **ret);
struct plan *plan_free(struct plan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct plan *, plan_free);

/*
 * Sets the outside deadline: [shutdown] deadline when configured, else the PID 1 default (docker
 * stop's 10 s) when graced is PID 1, else none.
 */
void plan_resolve_deadline(struct plan *p, bool pid1);

/*
 * Under systemd: the unit's TimeoutStopUSec (read over D-Bus) becomes the outside deadline unless
 * [shutdown] deadline is set. 0 and USEC_INFINITY (no stop timeout) change nothing.
 */
void plan_set_systemd_deadline(struct plan *p, usec_t timeout_stop);

/* True when the worst case is longer than a known deadline. */
bool plan_exceeds_deadline(const struct plan *p);

/* Names the biggest contributor to the worst case: "level 1 (worker 'web': stop_timeout 20s)". */
void plan_biggest_step(const struct plan *p, char *buf, size_t n);

/* The plan as a person reads it: steps in order, levels, per-worker signals and budgets, intakes,
 * resources, and the worst case with its sum spelled out. What it quotes from the config is
 * escaped (util.h). */
void plan_print(const struct plan *p, FILE *f);
