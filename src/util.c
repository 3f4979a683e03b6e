/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

usec_t
now_usec(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer. */
	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

usec_t
usec_add(usec_t a, usec_t b)
{
	if (a == USEC_INFINITY || b == USEC_INFINITY || a > USEC_INFINITY - b)
		return USEC_INFINITY;
	return a + b;
}

int
fd_cloexec(int fd, bool on)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0)
		return -errno;
	flags = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
	if (fcntl(fd, F_SETFD, flags) < 0)
		return -errno;
	return 0;
}

int
fd_nonblock(int fd, bool on)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -errno;
	flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	if (fcntl(fd, F_SETFL, flags) < 0)
		return -errno;
	return 0;
}

char **
strv_free(char **l)
{
	if (!l)
		return NULL;
	for (char **p = l; *p; p++)
		free(*p);
	free(l);
	return NULL;
}

size_t
strv_length(char *const *l)
{
	size_t n = 0;

	if (l)
		while (l[n])
			n++;
	return n;
}

bool
strv_contains(char *const *l, const char *s)
{
	if (l)
		for (; *l; l++)
			if (streq(*l, s))
				return true;
	return false;
}

int
strv_push(char ***l, char *s)
{
	size_t n = strv_length(*l);
	char **m = realloc(*l, (n + 2) * sizeof(char *));

	if (!m)
		return -ENOMEM;
	m[n] = s;
	m[n + 1] = NULL;
	*l = m;
	return 0;
}

int
strv_extend(char ***l, const char *s)
{
	char *copy = strdup(s);

	if (!copy)
		return -ENOMEM;
	if (strv_push(l, copy) < 0) {
		free(copy);
		return -ENOMEM;
	}
	return 0;
}

char **
strv_copy(char *const *l)
{
	size_t n = strv_length(l);
	char **m = calloc(n + 1, sizeof(char *));

	if (!m)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(m[i] = strdup(l[i])))
			return strv_free(m);
	return m;
}

char *
strv_join(char *const *l, const char *sep)
{
	size_t n = 0, k = strlen(sep);
	char *s, *p;

	for (size_t i = 0; l && l[i]; i++)
		n += strlen(l[i]) + (i ? k : 0);
	if (!(s = p = malloc(n + 1)))
		return NULL;
	for (size_t i = 0; l && l[i]; i++) {
		if (i)
			p = stpcpy(p, sep);
		p = stpcpy(p, l[i]);
	}
	*p = '\0';
	return s;
}

static bool
word_is_plain(const char *w)
{
	if (!*w)
		return false;
	for (; *w; w++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-", *w))
			return false;
	return true;
}

char *
strv_join_quoted(char *const *l)
{
	size_t n = 1;
	char *s, *p;

	/* Worst case: every byte is a quote, which becomes the four bytes '\'' */
	for (size_t i = 0; l && l[i]; i++)
		n += 4 * strlen(l[i]) + 3;
	if (!(s = p = malloc(n)))
		return NULL;
	for (size_t i = 0; l && l[i]; i++) {
		if (i)
			*p++ = ' ';
		if (word_is_plain(l[i])) {
			p = stpcpy(p, l[i]);
			continue;
		}
		*p++ = '\'';
		for (const char *c = l[i]; *c; c++)
			if (*c == '\'')
				p = stpcpy(p, "'\\''");
			else
				*p++ = *c;
		*p++ = '\'';
	}
	*p = '\0';
	return s;
}
