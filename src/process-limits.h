/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A worker's resource limits, scheduling priority and OOM score (limit_nofile, limit_nproc,
 * limit_core, limit_memlock, nice, oom_score_adjust): parsed by config.c, applied by spawn.c in
 * the child before exec. What is not set is inherited from graced.
 */

#include <stdbool.h>
#include <sys/resource.h>

enum process_rlimit {
	PROCESS_RLIMIT_NOFILE,
	PROCESS_RLIMIT_NPROC,
	PROCESS_RLIMIT_CORE,
	PROCESS_RLIMIT_MEMLOCK,
	_PROCESS_RLIMIT_MAX,
};

struct process_limits {
	struct rlimit rlimit[_PROCESS_RLIMIT_MAX]; /* RLIM_INFINITY for infinity */
	bool has_rlimit[_PROCESS_RLIMIT_MAX];
	int nice;                                  /* -20..19 */
	bool has_nice;
	int oom_score_adjust;                      /* -1000..1000 */
	bool has_oom_score_adjust;
};
