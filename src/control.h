/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The control socket (DESIGN.md, "Control and live change"; gracectl(1)): a unix stream socket
 * served by a bounded listener (listener.h: connection limit, request deadline, eviction, EMFILE
 * back-off), one task per connection, newline-delimited JSON (control-protocol.h). It asks the
 * supervisor only through supervisor-view.h.
 *
 * The supervisor calls three things (its hooks, a few lines in supervisor.c):
 *   control_new()           before the workers start, after the readiness endpoints;
 *   control_step_changed()  when the shutdown enters a step (wakes `shutdown --wait` clients);
 *   control_close()         at the end of the close step, with the exit status, and (again, a
 *                           no-op then) when the supervisor is freed.
 */

struct control;
struct supervisor;
struct supervisor_config;
struct task_runtime;

/* How many clients at once, and how long one connection may take (reading, answering). */
#define CONTROL_MAX_CONNECTIONS 16
#define CONTROL_REQUEST_TIMEOUT (10 * USEC_PER_SEC)
/* At the end, how long `shutdown --wait` clients get to receive the exit status. */
#define CONTROL_CLOSE_TIMEOUT (500 * USEC_PER_MSEC)

/*
 * Opens and serves the control socket c names (control_socket_path()). *ret = NULL when there is
 * none. An explicitly configured socket that cannot be opened is an error (logged, -errno); the
 * default one is best effort (a warning, *ret = NULL, 0): another graced of the same name may
 * hold it.
 */
int control_new(struct supervisor *sv, struct task_runtime *rt, const struct supervisor_config *c,
    struct control **ret);
void control_step_changed(struct control *ctl);
/* A reload's control_group (NULL: none) from now on: -ESRCH for an unknown group (then nothing
 * changed). 0 without a control socket. */
int control_set_group(struct control *ctl, const char *group);
/*
 * Sends exit_status to the `shutdown --wait` clients and lets them read it (up to
 * CONTROL_CLOSE_TIMEOUT, when called in a task), then closes every connection and the socket and
 * removes its file (if it is still the one graced made). Returns NULL.
 */
struct control *control_close(struct control *ctl, int exit_status);
