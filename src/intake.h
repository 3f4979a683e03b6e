/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the intake objects (beside the worker objects, below the supervisor).
 *
 * The [intake:*] objects: how the service stops taking new work (DESIGN.md "The ordered shutdown",
 * step 1). Before any worker starts, graced opens what it owns: the listening sockets of
 * type = socket (bound here, or taken from systemd socket activation with listen = systemd:NAME)
 * and the HTTP endpoint of type = readiness. At the intake step it announces (readiness answers
 * 503, exec hooks run, intake signals go out, all bounded by intake_timeout), waits drain_delay
 * (the supervisor does), then shuts the owned sockets down, and closes everything in the close
 * step.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "graced.h"

/* Descriptors kept free for everything but readiness clients: for graced's own needs and what
 * a spawn or a command holds for a moment, and per worker instance what graced keeps open for
 * it (output pipes, stop pipe, notify socket, a ready = tcp: probe: 5 today, 8 to be safe). */
#define INTAKE_FD_RESERVE 64U
#define INTAKE_FD_PER_INSTANCE 8U

struct command_reaper;
struct listener;
struct listener_conn;
struct report;
struct shutdown;
struct status_source;
struct task_group;
struct task_runtime;
struct workers;

struct intake {
	struct intakes *set;
	const struct intake_config *config;
	int fd;                /* the listening socket (socket; readiness until its listener owns it) */
	bool created_path;     /* unix: graced bound the file: remove it at close */
	dev_t dev;             /* the socket file graced created, so only that one is removed */
	ino_t ino;
	bool shut;             /* shutdown() was called: accept fails everywhere from now on */
	struct listener *listener; /* readiness: the endpoint, once serving; owns the socket */
	char *action;          /* what the intake step did: "shutdown", "503", "run", "SIGTSTP" */
	char *result;          /* and how it went: "ok", "exit 0", "failed: ..." */
};

/* Every [intake:*], in config order, and what they need from around them (set by the
 * supervisor, which outlives them). */
struct intakes {
	struct intake **items;        /* each its own allocation: a listener keeps its pointer */
	size_t n;
	bool serving;                 /* intake_serve_all() ran: an intake added now serves at once */
	struct shutdown *shutdown;
	struct workers *workers;      /* intake signals go to them */
	const struct status_source *status; /* what /ready, /status and /metrics answer (status.h) */
	struct task_runtime *rt;      /* set before intake_serve_all() */
	const struct command_reaper *reaper;
};

/*
 * Opens a listening socket for a tcp: or unix: address as the intake says (backlog, reuseport,
 * SO_REUSEADDR; for unix: a stale socket file is removed first, then mode, owner and group).
 * Blocking and close-on-exec: workers get it as it is. *ret_created tells whether a socket file
 * was created. Never logs; -errno.
 */
int intake_open_socket(const struct intake_config *c, int *ret_fd, bool *ret_created);

/*
 * Opens every socket and readiness intake of c into is->items, logging what fails (naming the
 * intake and its address). Called before anything starts: a failure closes what was opened.
 */
int intake_open_all(struct intakes *is, const struct config *c);
/*
 * Starts serving the readiness endpoints (the task runtime runs by now). Their connection limits
 * together are lowered, with a warning, where the descriptor limit could not hold them and keep
 * a reserve for the workers (INTAKE_FD_RESERVE plus INTAKE_FD_PER_INSTANCE per worker instance).
 */
int intake_serve_all(struct intakes *is);
/* The intake called name, or NULL. */
struct intake *intake_find(const struct intakes *is, const char *name);
/*
 * Adds an intake while graced runs: its socket is opened (and a readiness endpoint served) at
 * once. c must outlive it. -EEXIST for a name taken, -EOPNOTSUPP for listen = systemd: (socket
 * activation hands its sockets over at start only), or the error of opening it (logged).
 */
int intake_add(struct intakes *is, const struct intake_config *c);
/* Closes an intake and forgets it (its socket file is removed): -ENOENT. */
int intake_remove(struct intakes *is, const char *name);
/*
 * A reload keeps the intake called c->name open and makes c its configuration (c has the same
 * type, listen and reuseport: config-diff.h). What differs is applied at once: a new backlog
 * (listen() again), a unix: socket file's mode, owner and group. A readiness endpoint keeps the
 * max_connections and request_timeout it was served with. 0; -ENOENT; or the first error of
 * applying (c is taken anyway, the rest still applied).
 */
int intake_update(struct intakes *is, const struct intake_config *c);
/*
 * A reload that moves the intake called c->name (another type, listen or reuseport): a new
 * intake for c is opened and takes its place in the set, so that workers started from now on get
 * the new socket. The old one is handed back still open in *ret_old, out of the set (no step
 * touches it), for intake_free_detached() once the processes that use it have stopped. -ENOENT,
 * or the error of opening the new one (nothing changed then).
 */
int intake_replace(struct intakes *is, const struct intake_config *c, struct intake **ret_old);
/* Undoes intake_replace(): old takes its place again; the one it replaced is handed back in
 * *ret_new (for intake_free_detached()). -ENOENT. */
int intake_replace_back(struct intakes *is, struct intake *old, struct intake **ret_new);
/* Closes and frees an intake that intake_replace() handed back (NULL is fine). */
void intake_free_detached(struct intake *i);
/* Puts the set in the order of the intakes of c (those not in c last): the order the intake
 * step announces them in, and the reverse of the close step's. */
void intake_sort(struct intakes *is, const struct config *c);
/* The listening socket of the intake called name, or -ENOENT. */
int intake_socket_fd(const struct intakes *is, const char *name);
/*
 * Announces the shutdown: readiness endpoints answer 503 from now on, exec intakes run
 * concurrently, intake signals go to their workers. Returns once every exec intake ended or was
 * killed at deadline (or at once when a second signal asks to skip the wait).
 */
void intake_announce_all(struct intakes *is, usec_t deadline);
/* Closes the door: shutdown(SHUT_RDWR) of every listening socket graced owns. */
void intake_shutdown_all(struct intakes *is);
/* The close step: closes the sockets and endpoints, and removes the socket files graced created. */
void intake_close_all(struct intakes *is);
/* Frees what is left (any step may have been skipped). */
void intake_free_all(struct intakes *is);
/* Adds what each intake did to the report (at the end). -ENOMEM. */
int intake_report(const struct intakes *is, struct report *r);

/* Serves one client of a readiness endpoint (readiness.c; userdata: its struct intake). */
int readiness_serve(struct listener_conn *conn, int fd, usec_t deadline, void *userdata);
/* The body of GET /status: one JSON object and a newline. -ENOMEM, -EIO. */
int readiness_status_write(const struct status_source *src, FILE *f);
/* The body of GET /ready: "ready", "starting", "stopping" or "failed: NAME[, NAME...]" (the
 * instances that gave up), and a newline. -EIO. */
int readiness_ready_text(const struct status_source *src, FILE *f);
