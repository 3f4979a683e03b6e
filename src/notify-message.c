/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "notify.h"

static bool
key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool
value_is(const char *v, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(v, s, n) == 0;
}

/* A decimal number without sign or spaces, at most max. */
static int
parse_decimal(const char *v, size_t n, uint64_t max, uint64_t *ret)
{
	uint64_t x = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		d = (unsigned) (v[i] - '0');
		if (x > (max - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
	}
	*ret = x;
	return 0;
}

static bool
key_is(const char *k, size_t n, const char *s)
{
	return value_is(k, n, s);
}

/* Applies one KEY=VALUE to m. */
static int
assign(struct notify_message *m, const char *k, size_t kn, const char *v, size_t vn)
{
	uint64_t x;

	if (key_is(k, kn, "READY")) {
		if (!value_is(v, vn, "1"))
			return -EINVAL;
		m->ready = true;
	} else if (key_is(k, kn, "STOPPING")) {
		if (!value_is(v, vn, "1"))
			return -EINVAL;
		m->stopping = true;
	} else if (key_is(k, kn, "WATCHDOG")) {
		if (value_is(v, vn, "1"))
			m->watchdog = true;
		else if (value_is(v, vn, "trigger"))
			m->watchdog_trigger = true;
		else
			return -EINVAL;
	} else if (key_is(k, kn, "STATUS")) {
		m->status = v;
		m->status_len = vn;
	} else if (key_is(k, kn, "EXTEND_TIMEOUT_USEC")) {
		if (parse_decimal(v, vn, UINT64_MAX - 1, &x) < 0)
			return -EINVAL;
		m->extend_timeout = x;
	} else if (key_is(k, kn, "MAINPID")) {
		if (parse_decimal(v, vn, INT_MAX, &x) < 0 || x == 0)
			return -EINVAL;
		m->main_pid = (pid_t) x;
	} else {
		if (m->unknown++ == 0) {
			m->first_unknown = k;
			m->first_unknown_len = kn;
		}
	}
	return 0;
}

int
notify_message_parse(const char *buf, size_t n, struct notify_message *ret)
{
	struct notify_message m = {
		.extend_timeout = USEC_INFINITY,
	};
	const char *p = buf, *end = buf + n;

	if (n == 0 || n > NOTIFY_MESSAGE_MAX)
		return -EMSGSIZE;
	/* Text only: a NUL or another control byte than newline and tab is a binary message. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) buf[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			return -EBADMSG;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *line_end = nl ? nl : end;
		const char *eq = memchr(p, '=', (size_t) (line_end - p));
		int r;

		if (line_end == p) {
			p = nl ? nl + 1 : end;
			continue;
		}
		if (!eq || eq == p)
			return -EBADMSG;
		for (const char *k = p; k < eq; k++)
			if (!key_char(*k))
				return -EBADMSG;
		if ((r = assign(&m, p, (size_t) (eq - p), eq + 1, (size_t) (line_end - eq - 1))) < 0)
			return r;
		p = nl ? nl + 1 : end;
	}
	*ret = m;
	return 0;
}
