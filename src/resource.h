/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: process plumbing used by the close step (below the supervisor).
 *
 * The pidfile and the [resource:*] sections (DESIGN.md step 5, close): written at start, closed
 * in reverse order of opening (remove a file, run a close command under close_timeout).
 */

struct command_reaper;
struct config;
struct task_runtime;

int resource_write_pidfile(const char *path);
/* Closes every resource in reverse order, then removes the pidfile; shielded, best effort. Runs
 * in a task. */
void resource_close_all(const struct config *c, struct task_runtime *rt,
    const struct command_reaper *reaper);
