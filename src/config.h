/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: parsing and configuration. The [supervisor], [shutdown], [intake:*], [worker:*] and
 * [resource:*] keys of DESIGN.md "Configuration", validated before anything starts.
 *
 * The configuration: read from an INI file (or built by single.c from the command line), fully
 * validated, then immutable. A reload parses into a new struct config and swaps it only on success.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "graced.h"
#include "macro.h"
#include "parse.h"
#include "process-limits.h"
#include "util.h"

/* Where a section or key was written, for FILE:LINE messages. file points into config->files. */
struct config_location {
	const char *file;
	unsigned line;
};

/* The shutdown keys a worker inherits from [shutdown] and may override. */
struct shutdown_settings {
	usec_t stop_timeout;
	usec_t join_timeout;
	usec_t kill_timeout;
	int intake_signal; /* SIGNAL_NONE when unset */
	int stop_signal;
	int cancel_signal;
	int kill_signal;
	enum kill_mode kill_mode;
	enum signal_target signal_target; /* where the stop and cancel signals go: main */
	bool stop_fd;
};

struct supervisor_config {
	char *name;                   /* default "graced" */
	enum log_level log_level;     /* info */
	enum log_target log_target;   /* auto */
	char *pidfile;                /* NULL: none */
	char *report;                 /* NULL: none */
	char *control_socket;         /* NULL: the default path (control_socket_path()) */
	bool control_socket_none;     /* control_socket = none; single-command mode by default */
	char *control_group;          /* NULL: none; its members may use the control socket */
	bool subreaper;               /* yes */
	bool debug;                   /* no */
	usec_t slow_step;             /* 100ms, for debug = yes */
	char *exit_code_from;         /* NULL, or a worker name */
	struct config_location exit_code_from_at;
	enum when_empty when_empty;   /* shutdown: once nothing runs and nothing will start */
};

struct shutdown_config {
	usec_t intake_timeout;        /* 5s */
	usec_t drain_delay;           /* 0 */
	usec_t close_timeout;         /* 5s */
	usec_t deadline;              /* USEC_INFINITY: unset */
	bool deadline_set;
	enum second_signal second_signal;
	usec_t second_signal_window;  /* 200ms: the same signal again within it is one request */
	struct shutdown_settings defaults; /* 10s 5s 5s none TERM INT KILL group no */
};

struct intake_config {
	char *name;
	struct config_location at;
	enum intake_type type;
	struct listen_address listen;      /* socket, readiness */
	struct config_location listen_at;
	bool has_listen;
	unsigned backlog;                  /* 511 */
	bool reuseport;                    /* no */
	mode_t mode;                       /* unix: 0666 unless set, whatever the umask */
	bool has_mode;
	char *owner;
	char *group;
	unsigned max_connections;          /* readiness: 256 */
	usec_t request_timeout;            /* readiness: 5s, from accept to the end of the reply */
	char **argv;                       /* exec */
	int signal;                        /* signal */
	char **workers;                    /* signal: the workers it goes to */
	struct config_location workers_at;
};

enum {
	INSTANCE_IN_COMMAND = 1 << 0,
	INSTANCE_IN_ENVIRONMENT = 1 << 1,
	INSTANCE_IN_DIRECTORY = 1 << 2,
};

struct worker_config {
	char *name;
	struct config_location at;
	char **argv;
	char *command;                     /* as written, for the plan and logs */
	enum worker_type type;             /* longrun */
	bool autostart;                    /* yes; no: started by `gracectl start` only */
	unsigned instances;                /* 1..1024, default 1 */
	char **after;
	struct config_location after_at;
	char **sockets;
	struct config_location sockets_at;
	struct ready_spec ready;           /* none */
	usec_t start_timeout;              /* 30s */
	enum restart_policy restart;       /* no */
	usec_t restart_delay;              /* 1s */
	usec_t restart_delay_max;          /* 30s: the backoff's cap */
	unsigned start_limit_burst;        /* 5 */
	usec_t start_limit_interval;       /* 60s */
	struct shutdown_settings shutdown; /* [shutdown] defaults, then overrides */
	char *user;
	char *group;
	char *directory;
	char **environment;                /* NAME=VALUE */
	char *environment_file;            /* "[-]PATH", read at each start of an instance */
	struct config_location environment_file_at;
	unsigned instance_templates;       /* INSTANCE_IN_*: which of these hold ${INSTANCE}
					    * (and "$$" for "$"), to expand for each instance */
	char *ready_template;              /* ready = tcp:...${INSTANCE}..., else NULL */
	struct config_location ready_at;
	mode_t umask;
	bool has_umask;
	enum output_mode output;           /* inherit */
	char *output_file;                 /* output = file:PATH */
	struct config_location output_at;
	enum stderr_mode stderr_mode;      /* auto: see worker_config_stderr() */
	char *stderr_file;                 /* stderr = file:PATH */
	struct config_location stderr_at;
	uint64_t output_max_size;          /* 10M; 0: never rotate */
	unsigned output_backups;           /* 5: PATH.1 ... PATH.5 */
	bool critical;                     /* no */
	int *success_status;               /* extra clean exit codes (0..255) */
	size_t n_success_status;
	int *success_signal;               /* extra clean death signals */
	size_t n_success_signal;
	usec_t watchdog;                   /* USEC_INFINITY: off */
	struct process_limits limits;      /* limit_*, nice, oom_score_adjust: graced's unless set */
	char **on_exit;                    /* run after each exit of an instance; NULL: none */
	usec_t hook_timeout;               /* 10s: on_exit is killed then */
};

/* Where the worker's stderr goes, auto resolved: stdout with output = file:, else separate. */
static inline enum stderr_mode
worker_config_stderr(const struct worker_config *w)
{
	if (w->stderr_mode != STDERR_AUTO)
		return w->stderr_mode;
	return w->output == OUTPUT_FILE ? STDERR_STDOUT : STDERR_SEPARATE;
}

struct resource_config {
	char *name;
	struct config_location at;
	enum resource_type type;
	char *path;                        /* file */
	char **argv;                       /* exec */
	usec_t close_timeout;              /* [shutdown] close_timeout unless set */
};

/* Where a key was set: obj is the section's struct, key the table's (static) name. */
struct config_key_location {
	const void *obj;
	const char *section;  /* "worker", "intake", "supervisor", ... */
	const char *key;
	struct config_location at;
};

struct config {
	struct config_key_location *key_locations; /* every key read from a file, in order */
	size_t n_key_locations;
	char **files;                      /* every file read, main file first; locations point here */
	struct supervisor_config supervisor;
	struct shutdown_config shutdown;
	struct intake_config **intakes;    /* in file order */
	size_t n_intakes;
	struct worker_config **workers;    /* in file order */
	size_t n_workers;
	struct name_index worker_index;    /* name -> position in workers, kept by config_add_worker() */
	struct resource_config **resources; /* in file order, i.e. order of opening */
	size_t n_resources;
};

/* Every problem found while loading, in file order. */
struct config_error {
	char *file;
	unsigned line;
	char *message;
};

struct config_errors {
	struct config_error *items;
	size_t n;
};

/*
 * Reads and validates path (and its includes). On success *ret is a new config and errors is
 * empty; on failure returns -EINVAL (or -ENOMEM) with every problem in errors. Warnings do not
 * fail the load.
 */
int config_load(const char *path, struct config **ret, struct config_errors *errors);
/* The same for an in-memory file, named name in messages; its includes are relative to the
 * directory part of name (the working directory for a bare name). */
int config_load_string(const char *name, const char *text, struct config **ret,
    struct config_errors *errors);

/* A config with all defaults and nothing in it; single.c adds its one worker. */
struct config *config_new(void);
/* A worker with the [shutdown] defaults of c, appended to c. NULL on OOM. */
struct worker_config *config_add_worker(struct config *c, const char *name);
/* Checks the cross references and the dependency graph of a config built in memory. */
int config_validate(struct config *c, struct config_errors *errors);

struct config *config_free(struct config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct config *, config_free);

/* Appends "FILE:LINE: message" (file NULL: none; line 0: the file as a whole). -ENOMEM. */
int config_errors_add(struct config_errors *errors, const char *file, unsigned line,
    const char *fmt, ...) _printf_(4, 5);
void config_errors_clear(struct config_errors *errors);
/* Prints each as "FILE:LINE: message\n"; "FILE: message\n" for line 0 (a problem with the
 * file as a whole); just "message\n" without a file (a config built in memory). FILE and message
 * are escaped (util.h): they quote the input. */
void config_errors_print(const struct config_errors *errors, FILE *f);

/*
 * What --check can see beyond the file: unknown users and groups, missing directories, commands
 * not found in the worker's PATH, unwritable directories for the files graced writes, listen
 * addresses in use, a missing environment_file. Each is added to warnings as "warning: ...";
 * nothing is started or changed. Returns 0 or -ENOMEM.
 */
int config_lint(const struct config *c, struct config_errors *warnings);

/* Where c sets key in the section whose struct is obj (the last time); a zero location (file
 * NULL) when it does not. */
struct config_location config_key_location(const struct config *c, const void *obj,
    const char *key);
const struct worker_config *config_find_worker(const struct config *c, const char *name);
/* The worker's position in c->workers (and so in anything kept parallel to it), or -1. */
ssize_t config_worker_index(const struct config *c, const char *name);
const struct intake_config *config_find_intake(const struct config *c, const char *name);
