/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * environment_file = [-]PATH: systemd's EnvironmentFile= syntax. One KEY=VALUE per line; lines
 * starting with # or ; are comments; space around the key and around an unquoted value is
 * dropped; a value may be 'single quoted' (literal) or "double quoted" (\" \\ \` \$ escapes,
 * backslash-newline continues the line); outside quotes a backslash escapes the next character
 * and a backslash at the end of a line continues it.
 */

#include <stddef.h>

/* Where and why a file did not parse: line (1-based) and a static message. */
struct envfile_error {
	unsigned line;
	const char *message;
};

/* Parses text (len bytes; NUL bytes are an error) into a NULL-terminated NAME=VALUE list, the
 * last setting of a name winning. -EINVAL with *ret_error set for a malformed file. */
int envfile_parse(const char *text, size_t len, char ***ret, struct envfile_error *ret_error);

/* Reads and parses spec ("PATH" or "-PATH"). A missing "-PATH" gives an empty list; a missing
 * PATH is -ENOENT. Other read errors are -errno; a malformed file -EINVAL with *ret_error. */
int envfile_read(const char *spec, char ***ret, struct envfile_error *ret_error);

/* The path part of a spec, and whether it may be missing. */
const char *envfile_path(const char *spec);
