/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The event line the test helpers append to their --log file: "<CLOCK_MONOTONIC ms> <name>
 * <text>\n", with one write() so that lines of concurrent processes never mix. Truncated to
 * 512 bytes.
 */

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static inline void
event_write(int fd, const char *name, const char *fmt, va_list ap)
{
	char line[512];
	struct timespec ts;
	int n;

	if (fd < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "%lld %s ", (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
	    name);
	if (n < 0 || n > (int) sizeof(line) - 2)
		n = (int) sizeof(line) - 2;
	n += vsnprintf(line + n, sizeof(line) - (size_t) n - 1, fmt, ap);
	if (n > (int) sizeof(line) - 2)
		n = (int) sizeof(line) - 2;
	line[n++] = '\n';
	(void) !write(fd, line, (size_t) n);
}
