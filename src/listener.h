/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: process plumbing (bounded accept: DESIGN.md "Reliability rules", connection limit,
 * request deadline, EMFILE back-off).
 *
 * A bounded listener: accepts clients on a listening socket graced owns and serves each in a
 * task of its own (DESIGN.md, "Reliability rules": every endpoint that accepts clients has a
 * connection limit, a request deadline and an accept back-off on EMFILE). Used by the readiness
 * endpoint, and meant for the control socket.
 *
 * - At most max_connections clients are held at once. When a new client waits in the accept
 *   queue and the limit is reached, the oldest connection that is not answering (still reading
 *   its request, or lingering after the reply) loses its slot: its task is cancelled and its
 *   descriptor closed before the new one is accepted. Only when every connection is answering
 *   does the oldest of them go. A fresh client is therefore never left waiting behind slow ones.
 * - Each connection has one absolute deadline, request_timeout from its accept: it covers the
 *   whole request (reading, answering, lingering), not each read. The serve function gets it
 *   and must pass it to every wait; the connection is closed when the function returns.
 * - accept() failing with EMFILE, ENFILE, ENOBUFS or ENOMEM pauses accepting for
 *   LISTENER_PAUSE (the clients wait in the kernel's queue) instead of spinning; one warning is
 *   logged per episode (at most one per LISTENER_WARN_INTERVAL), with how many pauses it took.
 *
 * Descriptors: a listener holds its listening socket plus at most max_connections client
 * sockets; listener_fd_budget() says how many of them the process can afford.
 */

#include <stdbool.h>
#include <stddef.h>

#include "graced.h"

struct iovec;
struct listener;
struct listener_conn;
struct task_runtime;

#define LISTENER_PAUSE (200 * USEC_PER_MSEC)
#define LISTENER_WARN_INTERVAL (10 * USEC_PER_SEC)

/*
 * Serves one client in the connection's own task. fd is non-blocking and close-on-exec; every
 * wait must use deadline (or an earlier one). Returns 0 or -errno (not logged: a client going
 * away is not graced's problem). The listener closes fd afterwards.
 */
typedef int (*listener_serve_fn)(struct listener_conn *conn, int fd, usec_t deadline,
    void *userdata);

/*
 * Starts accepting on fd (a listening stream socket; made non-blocking here and owned by the
 * listener from now on, even on failure). label names it in log lines ("intake 'ready'").
 * max_connections >= 1, request_timeout finite. userdata outlives the listener.
 */
int listener_new(struct task_runtime *rt, int fd, const char *label, unsigned max_connections,
    usec_t request_timeout, listener_serve_fn serve, void *userdata, struct listener **ret);
/* Cancels every connection and the acceptor, closes their descriptors and the listening socket.
 * Works inside a task and outside the loop. Returns NULL. */
struct listener *listener_free(struct listener *l);
/* The listening socket (for shutdown(2)), or -1. */
int listener_fd(const struct listener *l);
/* How many clients are held now. */
unsigned listener_count(const struct listener *l);

/* While answering, a connection is evicted only when no other connection could be. */
void listener_conn_set_answering(struct listener_conn *conn, bool answering);
/* Writes all of iov to a connection's socket, waiting for room up to deadline (the task's wait,
 * never the loop's). The reply of the readiness endpoint and of the control socket. -errno,
 * -ETIMEDOUT at the deadline. iov is consumed. */
int listener_write_all(int fd, struct iovec *iov, int n_iov, usec_t deadline);

/*
 * How many client connections the process can hold in all its listeners together while keeping
 * reserve descriptors free for everything else (workers' pipes, notify sockets, spawns): the
 * soft RLIMIT_NOFILE less the descriptors open now, less reserve (0 when nothing is left).
 */
unsigned listener_fd_budget(unsigned reserve);
