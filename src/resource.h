/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: process plumbing used by the close step (below the supervisor).
 *
 * The pidfile and the [resource:*] sections (DESIGN.md step 5, close): written at start, closed
 * in reverse order of opening (remove a file, run a close command under close_timeout).
 */

#include <sys/queue.h>

struct command_reaper;
struct resource;
struct resource_config;
struct task_runtime;

/* The resources opened, by name, the last opened first. Zeroed and TAILQ_INIT()ed: empty. */
struct resources {
	TAILQ_HEAD(, resource) list;
};

/* Records c as opened (c must outlive it); -EEXIST for a name there already, -ENOMEM. */
int resources_add(struct resources *rs, const struct resource_config *c);
const struct resource_config *resources_find(const struct resources *rs, const char *name);
/* Forgets one without closing it: -ENOENT. */
int resources_remove(struct resources *rs, const char *name);
void resources_free(struct resources *rs);

int resource_write_pidfile(const char *path);
/* Closes every resource in reverse order of opening, then removes the pidfile; shielded, best
 * effort. Runs in a task. */
void resource_close_all(const struct resources *rs, const char *pidfile, struct task_runtime *rt,
    const struct command_reaper *reaper);
