/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

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

/* 64 bits nobody else can predict; the clock and our pid only if the kernel's pool is not ready
 * yet (early boot), in which case O_EXCL still keeps us from writing through anything. */
static uint64_t
random_u64(void)
{
	static uint64_t fallback;
	uint64_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t) sizeof(v))
		return v;
	fallback += now_usec() ^ ((uint64_t) getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
	fallback ^= fallback >> 31;
	fallback *= 0xbf58476d1ce4e5b9ULL;
	return fallback ^ (fallback >> 29);
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

/* fsync()s the directory that holds path, so that the rename survives a crash. */
static int
fsync_parent(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	_cleanup_close_ int fd = -1;
	char *slash;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Some file systems cannot sync a directory; the rename is all they offer. */
	if (fsync(fd) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

int
write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	/* O_EXCL: a name that exists, whoever made it and whatever it is, is never opened; with
	 * O_NOFOLLOW, not even a dangling symlink. A few tries, in case someone guessed one. */
	for (int attempt = 0; fd < 0; attempt++) {
		free(tmp);
		if (asprintf(&tmp, "%s.tmp.%016" PRIx64, path, random_u64()) < 0) {
			tmp = NULL;
			return -ENOMEM;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0 && (errno != EEXIST || attempt >= 16))
			return -errno;
	}
	r = write_all(fd, data, len);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (close(TAKE_FD(fd)) < 0 && errno != EINTR && r >= 0)
		r = -errno;
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		(void) unlink(tmp);
		return r;
	}
	return fsync_parent(path);
}

/*
 * The length of the valid UTF-8 character at s (at most len bytes), or 0 when s does not start
 * one: a stray continuation byte, a truncated sequence, an overlong form, a surrogate, or
 * beyond U+10FFFF. *ret_cp is the code point.
 */
static size_t
utf8_char(const unsigned char *s, size_t len, uint32_t *ret_cp)
{
	size_t n;
	uint32_t cp, min;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

/* Appends the k bytes of unit to buf unless that would cut it; once one unit did not fit,
 * nothing more is written (the text stays a prefix), but the length is still counted. */
static void
escape_put(char *buf, size_t n, size_t *len, bool *full, const char *unit, size_t k)
{
	if (!*full && *len + k < n) {
		memcpy(buf + *len, unit, k);
		buf[*len + k] = '\0';
	} else
		*full = true;
	*len += k;
}

size_t
escape_buf(char *buf, size_t n, const char *s, size_t len, unsigned flags)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t out = 0, i = 0;
	bool full = false;

	if (n > 0)
		buf[0] = '\0';
	while (i < len) {
		unsigned char c = p[i];
		char unit[16];
		uint32_t cp;
		size_t k;

		if (c == '\\' || (c == '"' && (flags & ESCAPE_QUOTE))) {
			unit[0] = '\\';
			unit[1] = (char) c;
			escape_put(buf, n, &out, &full, unit, 2);
			i++;
		} else if (c == '\n' && (flags & ESCAPE_KEEP_NEWLINE)) {
			escape_put(buf, n, &out, &full, "\n", 1);
			i++;
		} else if (c == '\n' || c == '\t' || c == '\r') {
			escape_put(buf, n, &out, &full, c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r", 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(unit, sizeof(unit), "\\x%02x", c);
			escape_put(buf, n, &out, &full, unit, 4);
			i++;
		} else if ((k = utf8_char(p + i, len - i, &cp)) == 0) {
			/* Not UTF-8: this byte alone, then try again at the next one. */
			snprintf(unit, sizeof(unit), "\\x%02x", c);
			escape_put(buf, n, &out, &full, unit, 4);
			i++;
		} else if (cp >= 0x80 && cp <= 0x9f) {
			/* A C1 control: both of its bytes. */
			snprintf(unit, sizeof(unit), "\\x%02x\\x%02x", p[i], p[i + 1]);
			escape_put(buf, n, &out, &full, unit, 8);
			i += 2;
		} else {
			escape_put(buf, n, &out, &full, (const char *) p + i, k);
			i += k;
		}
	}
	return out;
}

char *
escape_strdup(const char *s, unsigned flags)
{
	size_t len = strlen(s), n = escape_buf(NULL, 0, s, len, flags);
	char *e = malloc(n + 1);

	if (!e)
		return NULL;
	(void) escape_buf(e, n + 1, s, len, flags);
	return e;
}

int
escape_fputs(const char *s, unsigned flags, FILE *f)
{
	_cleanup_free_ char *e = NULL;

	if (!escape_needed(s, flags))
		return fputs(s, f) < 0 ? -EIO : 0;
	if (!(e = escape_strdup(s, flags)))
		return -ENOMEM;
	return fputs(e, f) < 0 ? -EIO : 0;
}

bool
escape_needed(const char *s, unsigned flags)
{
	size_t len = strlen(s);

	return escape_buf(NULL, 0, s, len, flags) != len;
}

/* FNV-1a: short names, no adversary who gains anything from collisions but time, and a
 * config is checked before it runs. */
static size_t
name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 0x100000001b3ULL;
	return (size_t) (h ^ (h >> 32));
}

static int
name_index_grow(struct name_index *x)
{
	size_t cap = x->slots ? (x->mask + 1) * 2 : 16;
	struct name_index_entry *n = calloc(cap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; x->slots && i <= x->mask; i++) {
		size_t j;

		if (!x->slots[i].name)
			continue;
		for (j = name_hash(x->slots[i].name) & (cap - 1); n[j].name; j = (j + 1) & (cap - 1))
			;
		n[j] = x->slots[i];
	}
	free(x->slots);
	x->slots = n;
	x->mask = cap - 1;
	return 0;
}

int
name_index_put(struct name_index *x, const char *name, size_t pos)
{
	size_t j;

	/* At most half full, so that a probe ends soon at an empty slot. */
	if ((!x->slots || (x->n + 1) * 2 > x->mask + 1) && name_index_grow(x) < 0)
		return -ENOMEM;
	for (j = name_hash(name) & x->mask; x->slots[j].name; j = (j + 1) & x->mask)
		if (streq(x->slots[j].name, name))
			return 0;
	x->slots[j] = (struct name_index_entry) { name, pos };
	x->n++;
	return 0;
}

ssize_t
name_index_get(const struct name_index *x, const char *name)
{
	if (!x->slots)
		return -1;
	for (size_t j = name_hash(name) & x->mask; x->slots[j].name; j = (j + 1) & x->mask)
		if (streq(x->slots[j].name, name))
			return (ssize_t) x->slots[j].pos;
	return -1;
}

void
name_index_done(struct name_index *x)
{
	free(x->slots);
	*x = (struct name_index) {};
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
