/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the report's data model and JSON (DESIGN.md "Observability"); the supervisor renders it
 * once, at the end, from final state.
 *
 * The shutdown report: what triggered the shutdown, when each step ran, how each worker instance
 * ended, and how many tasks were still pending at exit. Written as JSON, atomically (temporary
 * file + rename), so a reader never sees half a report. Times are milliseconds since the trigger.
 */

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "graced.h"
#include "macro.h"

struct report_step {
	usec_t start; /* 0: the step did not run */
	usec_t end;
};

struct report_worker {
	char *name;
	unsigned instance;
	pid_t pid;             /* the last pid, 0 if it never started */
	enum outcome outcome;
	enum phase step;       /* the step it exited in; _PHASE_INVALID: before the shutdown */
	int exit_code;         /* -1 when it died of a signal or never ended */
	int term_signal;       /* 0 when it exited */
	usec_t exit;           /* when it ended; 0: never */
	usec_t signalled;      /* when graced first signalled it in the shutdown (or in its own
				* stop); 0: never */
	bool stopped_on_request; /* its own stop (gracectl stop) ended it; the shutdown did not */
};

/* A descendant that no worker accounted for (see straggler.h). */
struct report_straggler {
	pid_t pid;
	char *command;
	enum outcome outcome;  /* exited, cancelled, killed or abandoned, as for workers */
	usec_t exit;
};

/* What the intake step did with one [intake:*]. */
struct report_intake {
	char *name;
	const char *type;      /* "socket", "readiness", "exec", "signal" */
	char *action;          /* "shutdown", "503", "run", "SIGTSTP"; NULL: nothing was done */
	char *result;          /* "ok", "exit 0", "timeout", "failed: ..." */
};

struct report {
	char *supervisor;
	char *trigger;         /* "SIGTERM", "critical worker 'db'", "gracectl stop", ... */
	usec_t triggered;      /* the origin of every *_ms in the JSON */
	int exit_code;
	usec_t budget;         /* the plan's worst case (graced --plan) of the workers it stopped */
	struct report_step steps[_PHASE_MAX];
	struct report_worker *workers;
	size_t n_workers;
	struct report_straggler *stragglers;
	size_t n_stragglers;
	size_t tasks_pending_at_exit;
	uint64_t output_dropped_bytes; /* graced's own stdout and stderr (outbuf.h) */
	struct report_intake *intakes;
	size_t n_intakes;
};

const char *outcome_to_string(enum outcome o);
enum outcome outcome_from_string(const char *s);

struct report *report_new(const char *supervisor);
struct report *report_free(struct report *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct report *, report_free);

/* Appends an instance; the returned record stays valid until the next call. NULL on OOM. */
struct report_worker *report_add_worker(struct report *r, const char *name, unsigned instance);

/* Appends a straggler; the returned record stays valid until the next call. NULL on OOM. */
struct report_straggler *report_add_straggler(struct report *r, pid_t pid, const char *command);
/* Appends an intake (nothing done yet); the record stays valid until the next call. NULL on OOM. */
struct report_intake *report_add_intake(struct report *r, const char *name, const char *type);
/* Sets what was done and how it went (copies both); -ENOMEM. */
int report_intake_set(struct report_intake *i, const char *action, const char *result);

/*
 * How the report is written: fields in the order above, indented, and ASCII only (every other
 * character as \uXXXX: C1 controls such as CSI never reach a terminal that shows the report).
 */
#define REPORT_JSON_FLAGS (JSON_PRESERVE_ORDER | JSON_INDENT(2) | JSON_ENSURE_ASCII)

/* The report as a JSON object (a new reference); NULL on OOM. */
json_t *report_to_json(const struct report *r);
/* The report as one JSON object and a newline. */
int report_write_json(const struct report *r, FILE *f);
/* Writes path atomically and safely (write_file_atomic(), mode 0644 less the umask). */
int report_write_file(const struct report *r, const char *path);
