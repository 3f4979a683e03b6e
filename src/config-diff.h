/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What a reload must do: the difference between the running configuration and a newly loaded
 * (and so already valid) one. Pure: it reads two configs, changes neither, starts and stops
 * nothing; the reload that applies it (supervisor side) acts on what it says.
 *
 * Sections are matched by name, never by position: reordering sections or moving them between
 * included files changes nothing, and a renamed section is one removed plus one added.
 * Values are compared as parsed (after ${VAR} expansion and with what a worker inherits from
 * [shutdown]), not as written: "10s" and "10000ms" are the same, and a [shutdown] default that
 * changes changes every worker that does not set the key itself. Where a key was written (its
 * line) is not compared.
 *
 * Workers. A worker is changed by its configuration only: environment_file is compared as a
 * path, never by content (the file is read again at each start of an instance, so a restart picks
 * up a new content on its own). A changed worker is either
 *   - CONFIG_UPDATED: only keys that need no restart differ. Those are the keys graced alone
 *     reads, and only when it orders, stops or judges an instance, never handed to the process:
 *     after, start_timeout, restart, restart_delay, restart_delay_max, start_limit, critical,
 *     success_status, stop_timeout, join_timeout, kill_timeout, intake_signal, stop_signal,
 *     cancel_signal, kill_signal, kill_mode, signal_target, autostart, on_exit, hook_timeout.
 *     They apply to the running instances (their next start, stop or exit) once the reload
 *     points them at the new config.
 *   - CONFIG_CHANGED: any other key differs (the command, instances, type, environment, ready, stop_fd
 *     — a pipe made at start —, output, limits, ...: what the process is started with), or the
 *     worker uses an intake whose socket is reopened (config_diff_worker.socket). It is
 *     restarted, rolling.
 * Dependents are not restarted with what they are after= (as systemd's After=).
 *
 * Intakes. An intake's socket stays open (its workers keep their descriptor) when type, listen
 * and reuseport are the same: the address it is bound to and how. Then a difference in any other
 * key (backlog: listen() again; mode, owner, group: chmod/chown of the unix path;
 * max_connections, request_timeout; an exec intake's command; a signal intake's signal and
 * workers) is CONFIG_UPDATED. A different type, listen or reuseport is CONFIG_CHANGED: the socket
 * is closed and a new one opened, and every worker with it in sockets= is CONFIG_CHANGED.
 * exec and signal intakes have no socket: any difference is CONFIG_UPDATED.
 *
 * Resources are only acted on in the close step (remove a file, run a command), so a difference
 * in any key is CONFIG_UPDATED; the close order is the new file's order, and
 * resource_order_changed says whether that moved a resource kept across the reload.
 *
 * [shutdown]: every key applies to the next shutdown. [supervisor]: log_level, log_target,
 * report, control_group, debug, slow_step, exit_code_from and when_empty apply at run time;
 * name, pidfile, control_socket and subreaper cannot (the control socket's default path and the
 * pidfile are made at start; subreaper is a property of the process). config_diff_check() turns
 * each of those into "FILE:LINE: cannot change at run time: KEY" at the new file's line.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "config.h"
#include "macro.h"

enum config_change {
	CONFIG_UNCHANGED,
	CONFIG_ADDED,
	CONFIG_REMOVED,
	CONFIG_CHANGED,   /* worker: restart it; intake: reopen its socket; resource: never */
	CONFIG_UPDATED,   /* only keys that apply in place differ */
	_CONFIG_CHANGE_MAX,
	_CONFIG_CHANGE_INVALID = -EINVAL,
};

const char *config_change_to_string(enum config_change c);
enum config_change config_change_from_string(const char *s);

/* One [worker:*], [intake:*] or [resource:*] section of either config. keys lists the keys
 * whose values differ (static strings, in the key tables' order; none unless CHANGED/UPDATED). */
struct config_diff_worker {
	const char *name;
	enum config_change change;
	const struct worker_config *old;  /* NULL when added */
	const struct worker_config *new;  /* NULL when removed */
	const char **keys;
	size_t n_keys;
	const char *socket;               /* CHANGED (also) because it uses this intake, whose socket
					   * is reopened; else NULL */
};

struct config_diff_intake {
	const char *name;
	enum config_change change;
	const struct intake_config *old;
	const struct intake_config *new;
	const char **keys;
	size_t n_keys;
};

struct config_diff_resource {
	const char *name;
	enum config_change change;
	const struct resource_config *old;
	const struct resource_config *new;
	const char **keys;
	size_t n_keys;
};

/* A [supervisor] or [shutdown] key whose value differs. */
struct config_diff_setting {
	const char *section;  /* "supervisor" or "shutdown" */
	const char *key;
	bool live;            /* applies at run time (or to the next shutdown) */
	struct config_location at; /* where the new config sets it; file NULL when it is back to its
				    * default there */
};

/* The first index of config_diff.n_by_change. */
enum config_diff_kind {
	CONFIG_DIFF_WORKERS,
	CONFIG_DIFF_INTAKES,
	CONFIG_DIFF_RESOURCES,
	_CONFIG_DIFF_KIND_MAX,
};

struct config_diff {
	const struct config *old;
	const struct config *new;
	/* Every section of either config: the new config's in file order, then the removed ones
	 * in the old config's order. */
	struct config_diff_worker *workers;
	size_t n_workers;
	struct config_diff_intake *intakes;
	size_t n_intakes;
	struct config_diff_resource *resources;
	size_t n_resources;
	bool resource_order_changed;       /* kept resources close in another order */
	struct config_diff_setting *settings;  /* [supervisor] keys, then [shutdown] keys */
	size_t n_settings;
	size_t n_by_change[_CONFIG_DIFF_KIND_MAX][_CONFIG_CHANGE_MAX]; /* how many of each */
	/* Into workers[]: the added ones in the order to start them (every worker after the ones
	 * it is after=, in the new config), the CHANGED ones in the same order for their rolling
	 * restart, the removed ones in the order to stop them (every worker before the ones it is
	 * after=, in the old config). The order of plan.c's levels, read backwards to start. */
	const struct config_diff_worker **start_order;
	size_t n_start_order;
	const struct config_diff_worker **restart_order;
	size_t n_restart_order;
	const struct config_diff_worker **stop_order;
	size_t n_stop_order;
};

/*
 * Compares two validated configs (old: the running one). *ret points into both, which must
 * outlive it. 0, or -ENOMEM.
 */
int config_diff_build(const struct config *old, const struct config *new, struct config_diff **ret);
struct config_diff *config_diff_free(struct config_diff *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct config_diff *, config_diff_free);

/* Nothing differs at all (not even a key that applies in place). */
bool config_diff_is_empty(const struct config_diff *d);

/*
 * Adds to errors one "cannot change at run time: KEY (restart graced to apply it)" for each
 * [supervisor] key of the diff that cannot, at its FILE:LINE in the new config (FILE of the new
 * main file when the key is no longer set). A reload with any of them changes nothing (as any
 * invalid configuration). Returns how many it added, or -ENOMEM.
 */
int config_diff_check(const struct config_diff *d, struct config_errors *errors);

/*
 * The difference as a person reads it, one line per section or key that differs, then a summary
 * line ("workers: 1 added, 1 changed, 998 unchanged; ..."); just "no changes" when empty.
 * Names are safe as they are (name_is_valid()); file names are escaped (util.h).
 */
void config_diff_print(const struct config_diff *d, FILE *f);

/*
 * The same as JSON, for the control socket's reply to reload:
 *   {"changed": BOOL,
 *    "workers": [{"name", "change", "keys": [...], "socket"?}...],   differing ones only
 *    "intakes": [...], "resources": [...],                             the same
 *    "unchanged": {"workers": N, "intakes": N, "resources": N},
 *    "resource_order_changed": BOOL,
 *    "settings": [{"section", "key", "live", "file"?, "line"?}...],
 *    "start_order": [NAME...], "restart_order": [NAME...], "stop_order": [NAME...]}
 * Differing sections are listed in workers[] order. NULL on OOM.
 */
json_t *config_diff_to_json(const struct config_diff *d);
