/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the base, below everything.
 *
 * Shared vocabulary of graced: time, the enums that name configuration values, and forward
 * declarations of the core structs. Includes none of our own headers.
 */

#include <errno.h>
#include <stdint.h>

typedef uint64_t usec_t;

#define USEC_INFINITY ((usec_t) UINT64_MAX)
#define USEC_PER_MSEC ((usec_t) 1000ULL)
#define USEC_PER_SEC ((usec_t) 1000000ULL)
#define USEC_PER_MINUTE (60ULL * USEC_PER_SEC)
#define USEC_PER_HOUR (60ULL * USEC_PER_MINUTE)

/* A signal key set to "none": that step is skipped for the worker. */
#define SIGNAL_NONE 0

/* The default configuration file of config mode. */
#define GRACED_DEFAULT_CONFIG "/etc/graced/graced.ini"

/* The outside killer's deadline as PID 1 when none is configured: docker stop's 10 s. */
#define GRACED_PID1_DEADLINE (10 * USEC_PER_SEC)

struct config;
struct worker_config;
struct intake_config;
struct resource_config;
struct plan;

enum phase {
	PHASE_INTAKE,
	PHASE_STOP,
	PHASE_CANCEL,
	PHASE_JOIN,
	PHASE_CLOSE,
	_PHASE_MAX,
	_PHASE_INVALID = -EINVAL,
};

enum log_level {
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	_LOG_LEVEL_MAX,
	_LOG_LEVEL_INVALID = -EINVAL,
};

enum log_target {
	LOG_TARGET_AUTO,
	LOG_TARGET_STDERR,
	LOG_TARGET_JOURNAL,
	_LOG_TARGET_MAX,
	_LOG_TARGET_INVALID = -EINVAL,
};

enum second_signal {
	SECOND_SIGNAL_ESCALATE,
	SECOND_SIGNAL_IGNORE,
	_SECOND_SIGNAL_MAX,
	_SECOND_SIGNAL_INVALID = -EINVAL,
};

enum when_empty {
	WHEN_EMPTY_SHUTDOWN,
	WHEN_EMPTY_STAY,
	_WHEN_EMPTY_MAX,
	_WHEN_EMPTY_INVALID = -EINVAL,
};

enum intake_type {
	INTAKE_SOCKET,
	INTAKE_READINESS,
	INTAKE_EXEC,
	INTAKE_SIGNAL,
	_INTAKE_TYPE_MAX,
	_INTAKE_TYPE_INVALID = -EINVAL,
};

enum ready_kind {
	READY_NONE,
	READY_NOTIFY,
	READY_TCP,
	READY_DELAY,
	_READY_KIND_MAX,
	_READY_KIND_INVALID = -EINVAL,
};

enum restart_policy {
	RESTART_NO,
	RESTART_ON_FAILURE,
	RESTART_ALWAYS,
	_RESTART_POLICY_MAX,
	_RESTART_POLICY_INVALID = -EINVAL,
};

/* type = longrun | oneshot: a service, or a task that runs to completion before its dependents. */
enum worker_type {
	WORKER_LONGRUN,
	WORKER_ONESHOT,
	_WORKER_TYPE_MAX,
	_WORKER_TYPE_INVALID = -EINVAL,
};

enum kill_mode {
	KILL_MODE_GROUP,
	KILL_MODE_MAIN,
	_KILL_MODE_MAX,
	_KILL_MODE_INVALID = -EINVAL,
};

/* Where the stop and cancel signals go (the kill signal's is kill_mode). */
enum signal_target {
	SIGNAL_TARGET_MAIN,
	SIGNAL_TARGET_GROUP,
	_SIGNAL_TARGET_MAX,
	_SIGNAL_TARGET_INVALID = -EINVAL,
};

enum output_mode {
	OUTPUT_INHERIT,
	OUTPUT_PREFIX,
	OUTPUT_JOURNAL,
	OUTPUT_FILE,      /* output = file:PATH (logfile.c) */
	_OUTPUT_MODE_MAX,
	_OUTPUT_MODE_INVALID = -EINVAL,
};

/* stderr = stdout | separate | file:PATH; auto (unset) is stdout with output = file:, else
 * separate. */
enum stderr_mode {
	STDERR_AUTO,
	STDERR_STDOUT,
	STDERR_SEPARATE,
	STDERR_FILE,
	_STDERR_MODE_MAX,
	_STDERR_MODE_INVALID = -EINVAL,
};

enum resource_type {
	RESOURCE_FILE,
	RESOURCE_EXEC,
	_RESOURCE_TYPE_MAX,
	_RESOURCE_TYPE_INVALID = -EINVAL,
};

enum listen_kind {
	LISTEN_TCP,
	LISTEN_UNIX,
	LISTEN_SYSTEMD,
	_LISTEN_KIND_MAX,
	_LISTEN_KIND_INVALID = -EINVAL,
};

/* How a worker instance ended, as the report says it (DESIGN.md "Observability"). */
enum outcome {
	OUTCOME_EXITED,    /* exited on its own or on the stop signal */
	OUTCOME_CANCELLED, /* exited in the cancel or join step */
	OUTCOME_KILLED,    /* needed kill_signal */
	OUTCOME_ABANDONED, /* survived even kill_signal and kill_timeout */
	OUTCOME_FAILED,    /* failed to start, or died with a failure status before the shutdown */
	_OUTCOME_MAX,
	_OUTCOME_INVALID = -EINVAL,
};
