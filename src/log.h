/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the base (graced's own log: DESIGN.md "Observability", logs).
 *
 * Logging: one logfmt line per event on stderr ("level=info worker=web.0 event=stop msg=..."), or
 * the same fields as journal fields (GRACED_WORKER=, GRACED_EVENT=...). Log calls keep errno.
 */

#include <stdbool.h>
#include <syslog.h>

#include "graced.h"
#include "macro.h"

struct log_field {
	const char *key;
	const char *value;
};

/* LOG_FIELDS({"worker", "web.0"}, {"event", "stop"}) */
#define LOG_FIELDS(...) ((const struct log_field[]) { __VA_ARGS__, { NULL, NULL } })

/* Picks the target (auto: the journal only when stderr is connected to it) and the threshold. */
void log_setup(enum log_target target, enum log_level level, const char *ident);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* The target log_setup() settled on: LOG_TARGET_STDERR or LOG_TARGET_JOURNAL. */
enum log_target log_get_target(void);
/* True when stderr is the journal's stream (JOURNAL_STREAM matches it). */
bool log_stderr_is_journal(void);

/* Logs at a syslog priority; error (an errno, either sign, or 0) appends ": strerror". Returns
 * -|error|. */
int log_fields(int priority, int error, const struct log_field *fields, const char *format, ...)
    _printf_(4, 5);

#define log_debug(...) log_fields(LOG_DEBUG, 0, NULL, __VA_ARGS__)
#define log_info(...) log_fields(LOG_INFO, 0, NULL, __VA_ARGS__)
#define log_notice(...) log_fields(LOG_NOTICE, 0, NULL, __VA_ARGS__)
#define log_warning(...) log_fields(LOG_WARNING, 0, NULL, __VA_ARGS__)
#define log_error(...) log_fields(LOG_ERR, 0, NULL, __VA_ARGS__)
#define log_debug_errno(e, ...) log_fields(LOG_DEBUG, (e), NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) log_fields(LOG_WARNING, (e), NULL, __VA_ARGS__)
#define log_error_errno(e, ...) log_fields(LOG_ERR, (e), NULL, __VA_ARGS__)

/* Sends libevent's own messages to the log, rate-limited (log-libevent.c). */
void log_libevent_setup(void);
