/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: process plumbing (below the supervisor).
 *
 * The loop's signal events: every catchable signal becomes a call of the owner's callback from
 * the loop (never from the handler), in both modes (DESIGN.md "Signals in config mode", and the
 * single-command mode's forwarding set); what each one means is the supervisor's business.
 */

struct event_base;
struct signals;

/* Called from the loop for every signal received (SIGCHLD and SIGPIPE sent by another process
 * included). */
typedef void (*signals_fn)(int sig, void *userdata);

int signals_setup(struct event_base *base, signals_fn fn, void *userdata, struct signals **ret);
struct signals *signals_free(struct signals *s);
