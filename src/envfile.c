/* SPDX-License-Identifier: MIT */
/*
 * The environment_file parser: a state machine over the bytes, in the way systemd reads its
 * EnvironmentFile= (so that a file written for a unit works unchanged), except that what
 * systemd skips with a warning (a line without '=', an invalid name, an unterminated quote) is an
 * error here, with its line: --check reports it before anything runs.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envfile.h"
#include "macro.h"
#include "util.h"

/* Far above any real file; a bigger one is an error, not a memory hog. */
#define ENVFILE_SIZE_MAX (1024 * 1024)

struct buf {
	char *s;
	size_t len, cap;
};

static int
buf_put(struct buf *b, char c)
{
	if (b->len + 2 > b->cap) {
		size_t cap = MAX(b->cap * 2, (size_t) 64);
		char *n = realloc(b->s, cap);

		if (!n)
			return -ENOMEM;
		b->s = n;
		b->cap = cap;
	}
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
	return 0;
}

static bool
name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool
name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Sets NAME=VALUE in *l (replacing an earlier NAME). Takes nothing: copies. */
static int
env_set(char ***l, size_t *n, const char *name, size_t name_len, const char *value)
{
	size_t vlen = strlen(value);
	char *e, **m;

	e = malloc(name_len + 1 + vlen + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e, name, name_len);
	e[name_len] = '=';
	memcpy(e + name_len + 1, value, vlen + 1);
	for (size_t i = 0; i < *n; i++)
		if (strncmp((*l)[i], e, name_len + 1) == 0) {
			free((*l)[i]);
			(*l)[i] = e;
			return 0;
		}
	m = reallocarray(*l, *n + 2, sizeof(char *));
	if (!m) {
		free(e);
		return -ENOMEM;
	}
	m[(*n)++] = e;
	m[*n] = NULL;
	*l = m;
	return 0;
}

enum state {
	PRE_KEY,
	KEY,
	PRE_VALUE,
	VALUE,
	VALUE_ESCAPE,
	SINGLE_QUOTED,
	DOUBLE_QUOTED,
	DOUBLE_QUOTED_ESCAPE,
	COMMENT,
	COMMENT_ESCAPE,
};

#define FAIL(msg)                                                                                  \
	do {                                                                                       \
		err = (struct envfile_error) { line, (msg) };                                      \
		r = -EINVAL;                                                                       \
		goto out;                                                                          \
	} while (0)

int
envfile_parse(const char *text, size_t len, char ***ret, struct envfile_error *ret_error)
{
	struct buf key = {}, value = {};
	struct envfile_error err = {};
	enum state st = PRE_KEY;
	char **l = NULL;
	size_t n = 0, key_end = 0, value_end = 0;
	unsigned line = 1, quote_line = 1;
	int r = 0;

	l = calloc(1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	/* One pass over the bytes and a final '\n', so that the last line ends like the others. */
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? text[i] : '\n';

		if (i < len && c == '\0')
			FAIL("NUL byte in the file");
		switch (st) {
		case PRE_KEY:
			if (c == '#' || c == ';')
				st = COMMENT;
			else if (name_start(c)) {
				key.len = 0;
				value.len = 0;
				if ((r = buf_put(&key, c)) < 0)
					goto out;
				key_end = key.len;
				st = KEY;
			} else if (c != '\n' && !blank(c))
				FAIL("a name must start with a letter or '_' (expected NAME=VALUE)");
			break;
		case KEY:
			if (c == '=') {
				st = PRE_VALUE;
				value_end = 0;
			} else if (c == '\n')
				FAIL("missing '=' (expected NAME=VALUE)");
			else if (blank(c)) {
				/* Space before '=' is dropped; space inside a name is not allowed. */
				if ((r = buf_put(&key, c)) < 0)
					goto out;
			} else if (name_char(c) && key_end == key.len) {
				if ((r = buf_put(&key, c)) < 0)
					goto out;
				key_end = key.len;
			} else
				FAIL("invalid character in a name (expected letters, digits and '_')");
			break;
		case PRE_VALUE:
		case VALUE:
			if (c == '\n') {
				if (!value.s) {
					if ((r = buf_put(&value, 'x')) < 0)
						goto out;
					value.len = 0;
				}
				/* Unquoted trailing space is dropped, quoted or escaped space kept. */
				value.len = st == VALUE ? value_end : value.len;
				value.s[value.len] = '\0';
				if ((r = env_set(&l, &n, key.s, key_end, value.s)) < 0)
					goto out;
				st = PRE_KEY;
			} else if (st == PRE_VALUE && blank(c))
				;
			else if (st == PRE_VALUE && (c == '\'' || c == '"')) {
				st = c == '"' ? DOUBLE_QUOTED : SINGLE_QUOTED;
				quote_line = line;
			}
			else if (c == '\\')
				st = VALUE_ESCAPE;
			else {
				if ((r = buf_put(&value, c)) < 0)
					goto out;
				if (!blank(c))
					value_end = value.len;
				st = VALUE;
			}
			break;
		case VALUE_ESCAPE:
			/* An escaped newline is a continuation: both go. Anything else is literal. */
			if (i == len)
				FAIL("backslash at the end of the file");
			if (c != '\n') {
				if ((r = buf_put(&value, c)) < 0)
					goto out;
				value_end = value.len;
			}
			st = VALUE;
			break;
		case SINGLE_QUOTED:
			if (i == len) {
				line = quote_line;
				FAIL("unterminated single quote");
			}
			if (c == '\'') {
				value_end = value.len;
				st = PRE_VALUE;
			} else if ((r = buf_put(&value, c)) < 0)
				goto out;
			break;
		case DOUBLE_QUOTED:
			if (i == len) {
				line = quote_line;
				FAIL("unterminated double quote");
			}
			if (c == '"') {
				value_end = value.len;
				st = PRE_VALUE;
			} else if (c == '\\')
				st = DOUBLE_QUOTED_ESCAPE;
			else if ((r = buf_put(&value, c)) < 0)
				goto out;
			break;
		case DOUBLE_QUOTED_ESCAPE:
			if (i == len) {
				line = quote_line;
				FAIL("unterminated double quote");
			}
			st = DOUBLE_QUOTED;
			if (c == '\n')
				break;
			if (!strchr("\"\\`$", c) && (r = buf_put(&value, '\\')) < 0)
				goto out;
			if ((r = buf_put(&value, c)) < 0)
				goto out;
			break;
		case COMMENT:
			if (c == '\\')
				st = COMMENT_ESCAPE;
			else if (c == '\n')
				st = PRE_KEY;
			break;
		case COMMENT_ESCAPE:
			/* As systemd: a comment ending in a backslash goes on to the next line. */
			st = COMMENT;
			break;
		}
		if (c == '\n' && i < len)
			line++;
	}
	*ret = TAKE_PTR(l);
out:
	if (r == -EINVAL && ret_error)
		*ret_error = err;
	strv_free(l);
	free(key.s);
	free(value.s);
	return r;
}

const char *
envfile_path(const char *spec)
{
	return spec[0] == '-' ? spec + 1 : spec;
}

int
envfile_read(const char *spec, char ***ret, struct envfile_error *ret_error)
{
	const char *path = envfile_path(spec);
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = 0;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && spec[0] == '-') {
			*ret = calloc(1, sizeof(char *));
			return *ret ? 0 : -ENOMEM;
		}
		return -errno;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EISDIR;
	if (st.st_size > ENVFILE_SIZE_MAX)
		return -EFBIG;
	text = malloc((size_t) st.st_size + 1);
	if (!text)
		return -ENOMEM;
	/* The size can change under us: read what is there, up to the limit. */
	for (;;) {
		ssize_t k = read(fd, text + len, (size_t) st.st_size + 1 - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		len += (size_t) k;
		if (len > (size_t) st.st_size)
			return -EFBIG;
	}
	return envfile_parse(text, len, ret, ret_error);
}
