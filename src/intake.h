/* SPDX-License-Identifier: MIT */
#pragma once

/*
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

struct listener;
struct listener_conn;
struct supervisor;
struct task_group;

struct intake {
	struct supervisor *sv;
	const struct intake_config *config;
	int fd;                /* the listening socket (socket; readiness until its listener owns it) */
	bool created_path;     /* unix: graced bound the file: remove it at close */
	dev_t dev;             /* the socket file graced created, so only that one is removed */
	ino_t ino;
	bool shut;             /* shutdown() was called: accept fails everywhere from now on */
	struct listener *listener; /* readiness: the endpoint, once serving; owns the socket */
	size_t record;         /* its entry in the report */
};

/*
 * Opens a listening socket for a tcp: or unix: address as the intake says (backlog, reuseport,
 * SO_REUSEADDR; for unix: a stale socket file is removed first, then mode, owner and group).
 * Blocking and close-on-exec: workers get it as it is. *ret_created tells whether a socket file
 * was created. Never logs; -errno.
 */
int intake_open_socket(const struct intake_config *c, int *ret_fd, bool *ret_created);

/*
 * Opens every socket and readiness intake of sv's config into sv->intakes, logging what fails
 * (naming the intake and its address). Called before anything starts: a failure closes what was
 * opened.
 */
int intake_open_all(struct supervisor *sv);
/*
 * Starts serving the readiness endpoints (the task runtime runs by now). Their connection limits
 * together are lowered, with a warning, where the descriptor limit could not hold them and keep
 * a reserve for the workers (INTAKE_FD_RESERVE plus INTAKE_FD_PER_INSTANCE per worker instance).
 */
int intake_serve_all(struct supervisor *sv);
/* The listening socket of the intake called name, or -ENOENT. */
int intake_socket_fd(struct supervisor *sv, const char *name);
/*
 * Announces the shutdown: readiness endpoints answer 503 from now on, exec intakes run
 * concurrently, intake signals go to their workers. Returns once every exec intake ended or was
 * killed at deadline (or at once when a second signal asks to skip the wait).
 */
void intake_announce_all(struct supervisor *sv, usec_t deadline);
/* Closes the door: shutdown(SHUT_RDWR) of every listening socket graced owns. */
void intake_shutdown_all(struct supervisor *sv);
/* The close step: closes the sockets and endpoints, and removes the socket files graced created. */
void intake_close_all(struct supervisor *sv);
/* Frees what is left (any step may have been skipped). */
void intake_free_all(struct supervisor *sv);

/* Serves one client of a readiness endpoint (readiness.c; userdata: its struct intake). */
int readiness_serve(struct listener_conn *conn, int fd, usec_t deadline, void *userdata);
/* The body of GET /status: one JSON object and a newline. -ENOMEM, -EIO. */
int readiness_status_write(const struct supervisor *sv, FILE *f);
/* The body of GET /ready: "ready", "starting", "stopping" or "failed: NAME[, NAME...]" (the
 * instances that gave up), and a newline. -EIO. */
int readiness_ready_text(const struct supervisor *sv, FILE *f);
