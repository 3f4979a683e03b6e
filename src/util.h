/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the base, below everything.
 *
 * Small helpers: time, descriptors, NULL-terminated string vectors.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "graced.h"
#include "macro.h"

/* CLOCK_MONOTONIC now, in microseconds. Unit tests wrap it. */
usec_t now_usec(void);

/* now + d without overflow; USEC_INFINITY stays infinite. */
usec_t usec_add(usec_t a, usec_t b);

int fd_cloexec(int fd, bool on);
int fd_nonblock(int fd, bool on);

/* Replaces path with the len bytes of data, all or nothing: they go to a new file of a name
 * nobody can guess, in path's directory, created with O_EXCL|O_NOFOLLOW and mode (less the umask),
 * which is fsynced and renamed over path; then the directory is fsynced. Nothing that already
 * exists is ever opened or written through: not a planted file, not a symlink (a symlink at path
 * itself is replaced, not followed). On failure path is as it was and the new file is gone.
 * Blocks on the disk: for the report and the pidfile, not for a path on a slow network disk. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Text from outside (config values, command lines, worker notifications, HTTP requests) is
 * escaped with this one rule wherever graced shows it, so that nothing it echoes can act on a
 * terminal or forge a line: a backslash becomes \\, newline, tab and carriage return \n \t
 * \r, every other control byte (below 0x20, and 0x7f) \xNN, and so does each byte that is not
 * part of valid UTF-8 or that encodes a C1 control (U+0080..U+009F, e.g. the one-character
 * CSI). Everything else, valid UTF-8 included, is copied as it is.
 */
enum {
	ESCAPE_QUOTE = 1 << 0,        /* '"' too, as \" (inside a quoted logfmt value) */
	ESCAPE_KEEP_NEWLINE = 1 << 1, /* '\n' stays: multi-line text whose lines are ours */
};
/* Writes the escaped s[0..len) to buf, always NUL-terminated when n > 0 and never cut inside an
 * escape or a UTF-8 character. Returns the length of the whole escaped text, as snprintf()
 * does: n or more means it was cut. */
size_t escape_buf(char *buf, size_t n, const char *s, size_t len, unsigned flags);
/* The escaped string, newly allocated; NULL on OOM. */
char *escape_strdup(const char *s, unsigned flags);
/* Writes the escaped s to f; -EIO on a write error. */
int escape_fputs(const char *s, unsigned flags, FILE *f);
/* True when escaping would change s (so that a caller can keep the original). */
bool escape_needed(const char *s, unsigned flags);

/* A hash index from names to positions (in an array kept beside it): lookups in O(1), so that
 * resolving every after= of a config is linear. The names are not copied: each must outlive the
 * index. Zeroed memory is an empty index. */
struct name_index {
	struct name_index_entry {
		const char *name;
		size_t pos;
	} *slots;
	size_t n;
	size_t mask; /* slots - 1, a power of two minus one */
};
/* Adds name -> pos; a name already there keeps its first position (returns 0 too). -ENOMEM. */
int name_index_put(struct name_index *x, const char *name, size_t pos);
/* The position of name, or -1. */
ssize_t name_index_get(const struct name_index *x, const char *name);
void name_index_done(struct name_index *x);

/* A strv is a NULL-terminated array of strings it owns. */
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)
size_t strv_length(char *const *l);
bool strv_contains(char *const *l, const char *s);
/* Appends a copy of s; -ENOMEM leaves *l unchanged. */
int strv_extend(char ***l, const char *s);
/* Appends s itself, taking ownership only on success. */
int strv_push(char ***l, char *s);
char **strv_copy(char *const *l);
/* Joins with sep; NULL on OOM. */
char *strv_join(char *const *l, const char *sep);
/* Joins argv into one line a shell would split back the same way: words quoted only when needed
 * (sh -c 'echo "hi"'). NULL on OOM. */
char *strv_join_quoted(char *const *l);

static inline bool
streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* Both NULL, or the same string. */
static inline bool
streq_ptr(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static inline const char *
strempty(const char *s)
{
	return s ? s : "";
}
