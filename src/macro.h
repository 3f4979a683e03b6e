/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the base, below everything.
 *
 * Cleanup helpers and small macros used everywhere.
 */

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _unused_ __attribute__((__unused__))
#define _cleanup_(f) __attribute__((__cleanup__(f)))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))
#define _printf_(a, b) __attribute__((__format__(printf, a, b)))
#define _noreturn_ __attribute__((__noreturn__))
#define _warn_unused_result_ __attribute__((__warn_unused_result__))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Return the pointer and forget it, so a _cleanup_ attribute does not free it. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p_ = (p);                                                           \
		(p) = NULL;                                                                        \
		_p_;                                                                               \
	})

#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd_ = (fd);                                                                   \
		(fd) = -1;                                                                         \
		_fd_;                                                                              \
	})

static inline void
freep(void *p)
{
	free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Closes fd if it is valid, keeps errno, and returns -1 for "fd = safe_close(fd);". */
static inline int
safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		(void) close(fd);
		errno = saved;
	}
	return -1;
}

static inline void
closep(int *fd)
{
	safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* Defines name##p(type **) calling func on *p, for _cleanup_(name##p). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
	static inline void func##p(type *p)                                                        \
	{                                                                                          \
		if (*p)                                                                            \
			func(*p);                                                                  \
	}
