/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * graced --timeline REPORT [--svg FILE] [-c CONFIG]: the last shutdown's report (report.h) drawn
 * as a timeline, one row per step, per worker instance and per straggler, on a time axis that
 * starts at the trigger. As text for a terminal (80 columns) or as an SVG to attach to an
 * incident. The report records when each step began and ended and when each process ended, but
 * not when each worker was sent its signals: an instance's bar runs from the trigger to its exit.
 * The report has no budgets either: with -c, the plan's worst case (and the deadline, when the
 * configuration sets one) is marked.
 */

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "macro.h"

enum timeline_kind {
	TIMELINE_STEP,
	TIMELINE_INSTANCE,
	TIMELINE_STRAGGLER,
};

struct timeline_row {
	enum timeline_kind kind;
	char *label;           /* "stop", "web.0", "pid 77": as in the report, not escaped */
	int64_t start_ms;      /* a step's start; an instance's first signal (signal_ms) when the
				* report has it; else 0 (the trigger) */
	int64_t end_ms;        /* the end or exit; -1: none in the report (alive at its end) */
	char *note;            /* "killed by SIGKILL in join", "12 ms" */
	char *outcome;         /* instances and stragglers: "exited", "killed", ... */
};

struct timeline {
	char *supervisor;
	char *trigger;
	int64_t exit_code;
	struct timeline_row *rows;
	size_t n_rows;
	int64_t end_ms;        /* the latest time the report holds */
	int64_t budget_ms;     /* the plan's worst case; -1: unknown */
	int64_t deadline_ms;   /* the outside deadline; -1: unknown */
};

/* Reads a parsed report. -EBADMSG with a reason in err when it is not a graced report. */
int timeline_from_json(const json_t *j, struct timeline **ret, char *err, size_t n);
/* Reads the report at path; -errno or -EBADMSG, with a reason in err. */
int timeline_load(const char *path, struct timeline **ret, char *err, size_t n);
struct timeline *timeline_free(struct timeline *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct timeline *, timeline_free);

/* The time the axis covers: the report's end and the budget, at least 1 ms. A deadline beyond
 * it is named, not drawn (a 30 s deadline would squeeze a 600 ms shutdown into two columns). */
int64_t timeline_span(const struct timeline *t);
/* The column (0..width-1) of ms on an axis of width columns covering 0..span ms. */
unsigned timeline_column(int64_t ms, int64_t span, unsigned width);

/* The text timeline, every line within 80 columns. -EIO on a write error. */
int timeline_print(const struct timeline *t, FILE *f);
/* The SVG timeline. -EIO on a write error. */
int timeline_write_svg(const struct timeline *t, FILE *f);

/* graced --timeline: prints the report's timeline or writes it to svg ("-": stdout), with the
 * budget of config when not NULL. Returns the exit status: 0, 1 (writing failed) or 2 (no
 * readable report, or an invalid configuration). */
int timeline_run(const char *report, const char *svg, const char *config);
