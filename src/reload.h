/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the supervisor.
 *
 * The reload (SIGHUP, `gracectl reload`): the configuration file is read again and, when it is
 * valid, applied as a difference (config-diff.h) while graced runs. DESIGN.md's one rule for it:
 * a file with anything wrong changes nothing.
 *
 * reload_begin() does what must be decided at once, without yielding: it reads and validates the
 * whole file, refuses keys that cannot change at run time, and opens the sockets of added and
 * moved intakes (a failure closes them again). Every problem is a FILE:LINE in errors, and
 * nothing has changed. Then it commits: the new configuration becomes the supervisor's,
 * unchanged and updated workers and intakes point at it (same processes, same sockets), added
 * workers start (each after its after=, as at start-up), [shutdown] and the live [supervisor]
 * keys apply to what comes next, and systemd hears RELOADING=1.
 *
 * The rest takes time and runs as the reload's task: changed workers are restarted one after
 * the other, rolling (worker_restart()); then removed workers go through their own stop
 * (worker_halt()) and are removed; the intakes only they used close after that; added workers
 * are waited for until none is starting; then READY=1. A shutdown that comes meanwhile takes
 * over: the task stops where it is, and what it has not removed is stopped by the shutdown.
 * One reload at a time.
 */

#include <stdbool.h>

#include <jansson.h>

#include "graced.h"

struct config_errors;
struct reload;
struct supervisor;

/*
 * Begins a reload of the supervisor's configuration file. 0: committed, and *ret (when not NULL)
 * a reference to follow it (reload_unref() it). Else nothing changed: -EINVAL, the file is wrong
 * or changes a key that cannot change at run time; -EADDRINUSE (or another -errno) an added or
 * moved intake could not be opened (errors says which, at its FILE:LINE); -ESHUTDOWN during the
 * shutdown; -EALREADY while another reload applies; -EAGAIN before the workers started;
 * -EOPNOTSUPP in single-command mode (no file); -ENOMEM. Every error is logged with its FILE:LINE.
 */
int reload_begin(struct supervisor *sv, struct config_errors *errors, struct reload **ret);
/* Waits until the reload's task has ended (deadline: -ETIMEDOUT). */
int reload_wait(struct reload *rl, usec_t deadline);
/* Once it ended: whether some part failed (a replacement not ready, a worker not removed). */
bool reload_failed(const struct reload *rl);
/*
 * What it did, for the control socket's reply:
 *   {"changes": config_diff_to_json(), "text": "the difference as a person reads it",
 *    "failed": [{"worker": NAME, "error": TEXT}...], "interrupted": BOOL (a shutdown took over)}
 * NULL on OOM.
 */
json_t *reload_to_json(const struct reload *rl);
struct reload *reload_unref(struct reload *rl);
