/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "util.h"

/*
 * Character classes of our own: the <ctype.h> ones depend on the locale, and a configuration
 * file must mean the same thing whatever LANG says.
 */
static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* [A-Za-z_][A-Za-z0-9_]*: a name a shell would accept for a variable. */
static bool
env_name_char(char c, bool first)
{
	return is_alpha(c) || c == '_' || (!first && is_digit(c));
}

/* Parses the decimal digits in [s, e) into *ret; -EINVAL if there are none or another char. */
static int
parse_decimal(const char *s, const char *e, uint64_t *ret)
{
	uint64_t v = 0;

	if (s == e)
		return -EINVAL;
	for (const char *p = s; p < e; p++)
		if (!is_digit(*p))
			return -EINVAL;
	for (const char *p = s; p < e; p++) {
		unsigned d = (unsigned) (*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

/* Durations. Units in the only order they may appear in: largest first. */
static const struct {
	const char *suffix;
	usec_t usec;
} duration_units[] = {
	{ "d", 24 * USEC_PER_HOUR },
	{ "h", USEC_PER_HOUR },
	{ "m", USEC_PER_MINUTE },
	{ "s", USEC_PER_SEC },
	{ "ms", USEC_PER_MSEC },
	{ "us", 1 },
};

/*
 * A duration is "infinity", a bare "0", or one or more NUMBER UNIT components with no space
 * between them ("1m30s"), each unit at most once and larger units first, so that every value
 * has one obvious spelling. Space around the whole value is ignored.
 */
int
parse_duration(const char *s, usec_t *ret)
{
	const char *b = s, *e;
	usec_t total = 0;
	size_t next_unit = 0;
	bool range = false;

	while (is_space(*b))
		b++;
	e = b + strlen(b);
	while (e > b && is_space(e[-1]))
		e--;
	if (b == e)
		return -EINVAL;

	if ((size_t) (e - b) == strlen("infinity") && strncmp(b, "infinity", e - b) == 0) {
		*ret = USEC_INFINITY;
		return 0;
	}
	if (e - b == 1 && *b == '0') {
		*ret = 0;
		return 0;
	}

	/* Out of range is reported only once the whole value is known to be well formed. */
	for (const char *p = b; p < e;) {
		const char *start = p, *n = p, *u;
		uint64_t v;
		size_t i, ulen;

		while (n < e && is_digit(*n))
			n++;
		u = n;
		while (u < e && is_alpha(*u))
			u++;
		if (n == p || u == n)
			return -EINVAL;
		ulen = (size_t) (u - n);
		for (i = 0; i < ELEMENTSOF(duration_units); i++)
			if (strlen(duration_units[i].suffix) == ulen &&
			    strncmp(duration_units[i].suffix, n, ulen) == 0)
				break;
		if (i >= ELEMENTSOF(duration_units) || i < next_unit)
			return -EINVAL;
		next_unit = i + 1;
		p = u;

		if (range)
			continue;
		/* USEC_INFINITY itself is reserved for "infinity". */
		if (parse_decimal(start, n, &v) < 0 ||
		    v > (USEC_INFINITY - 1) / duration_units[i].usec ||
		    v * duration_units[i].usec >= USEC_INFINITY - total)
			range = true;
		else
			total += v * duration_units[i].usec;
	}
	if (range)
		return -ERANGE;

	*ret = total;
	return 0;
}

char *
format_duration(char *buf, size_t n, usec_t d)
{
	size_t len = 0;

	if (n == 0)
		return buf;
	buf[0] = '\0';
	if (d == USEC_INFINITY) {
		(void) snprintf(buf, n, "infinity");
		return buf;
	}
	if (d == 0) {
		(void) snprintf(buf, n, "0");
		return buf;
	}
	for (size_t i = 0; i < ELEMENTSOF(duration_units) && d > 0; i++) {
		usec_t v = d / duration_units[i].usec;
		int k;

		if (v == 0)
			continue;
		d %= duration_units[i].usec;
		k = snprintf(buf + len, n - len, "%" PRIu64 "%s", v, duration_units[i].suffix);
		if (k < 0 || (size_t) k >= n - len)
			break; /* truncated; snprintf has terminated it */
		len += (size_t) k;
	}
	return buf;
}

/* Signals. The first entry for a number is its canonical name. */
static const struct {
	int sig;
	const char *name;
} signal_names[] = {
	{ SIGHUP, "SIGHUP" },
	{ SIGINT, "SIGINT" },
	{ SIGQUIT, "SIGQUIT" },
	{ SIGILL, "SIGILL" },
	{ SIGTRAP, "SIGTRAP" },
	{ SIGABRT, "SIGABRT" },
	{ SIGBUS, "SIGBUS" },
	{ SIGFPE, "SIGFPE" },
	{ SIGKILL, "SIGKILL" },
	{ SIGUSR1, "SIGUSR1" },
	{ SIGSEGV, "SIGSEGV" },
	{ SIGUSR2, "SIGUSR2" },
	{ SIGPIPE, "SIGPIPE" },
	{ SIGALRM, "SIGALRM" },
	{ SIGTERM, "SIGTERM" },
#ifdef SIGSTKFLT
	{ SIGSTKFLT, "SIGSTKFLT" },
#endif
	{ SIGCHLD, "SIGCHLD" },
	{ SIGCONT, "SIGCONT" },
	{ SIGSTOP, "SIGSTOP" },
	{ SIGTSTP, "SIGTSTP" },
	{ SIGTTIN, "SIGTTIN" },
	{ SIGTTOU, "SIGTTOU" },
	{ SIGURG, "SIGURG" },
	{ SIGXCPU, "SIGXCPU" },
	{ SIGXFSZ, "SIGXFSZ" },
	{ SIGVTALRM, "SIGVTALRM" },
	{ SIGPROF, "SIGPROF" },
	{ SIGWINCH, "SIGWINCH" },
	{ SIGIO, "SIGIO" },
#ifdef SIGPOLL
	{ SIGPOLL, "SIGPOLL" },
#endif
#ifdef SIGPWR
	{ SIGPWR, "SIGPWR" },
#endif
	{ SIGSYS, "SIGSYS" },
	{ SIGIOT, "SIGIOT" },
};

/* "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N" (s without "SIG"), within SIGRTMIN..SIGRTMAX. */
static int
parse_rt_signal(const char *s, int *ret)
{
	int base, sign;
	uint64_t off = 0;
	int r;

	if (strncmp(s, "RTMIN", 5) == 0) {
		base = SIGRTMIN;
		sign = '+';
	} else if (strncmp(s, "RTMAX", 5) == 0) {
		base = SIGRTMAX;
		sign = '-';
	} else
		return -EINVAL;
	s += 5;
	if (*s) {
		if (*s != sign)
			return -EINVAL;
		r = parse_decimal(s + 1, s + strlen(s), &off);
		if (r < 0)
			return r;
		if (off > (uint64_t) (SIGRTMAX - SIGRTMIN))
			return -ERANGE;
	}
	*ret = sign == '+' ? base + (int) off : base - (int) off;
	return 0;
}

/*
 * Names are case-sensitive and upper case, as kill(1) and systemd's KillSignal= spell them,
 * with or without "SIG": "SIGTERM", "TERM". "term" is rejected rather than guessed at, so that
 * one spelling is used throughout a configuration. Numbers 1.._NSIG-1 and "none" are accepted.
 */
int
parse_signal(const char *s, int *ret)
{
	const char *name = s;
	uint64_t v;
	int r;

	if (streq(s, "none")) {
		*ret = SIGNAL_NONE;
		return 0;
	}
	if (is_digit(*s)) {
		r = parse_decimal(s, s + strlen(s), &v);
		if (r < 0)
			return r;
		/* 0 is not a signal to send: "none" says that. */
		if (v == 0)
			return -EINVAL;
		if (v >= (uint64_t) _NSIG)
			return -ERANGE;
		*ret = (int) v;
		return 0;
	}
	if (strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
		if (streq(name, signal_names[i].name + 3)) {
			*ret = signal_names[i].sig;
			return 0;
		}
	return parse_rt_signal(name, ret);
}

const char *
signal_to_string(int sig)
{
	static __thread char buf[sizeof("SIGRTMIN+") + 3 * sizeof(int)];

	if (sig == SIGNAL_NONE)
		return "none";
	for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
		if (signal_names[i].sig == sig)
			return signal_names[i].name;
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		if (sig == SIGRTMIN)
			return "SIGRTMIN";
		(void) snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
		return buf;
	}
	(void) snprintf(buf, sizeof(buf), "%d", sig);
	return buf;
}

int
parse_boolean(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

int
parse_unsigned(const char *s, unsigned min, unsigned max, unsigned *ret)
{
	uint64_t v;
	int r;

	r = parse_decimal(s, s + strlen(s), &v);
	if (r < 0)
		return r;
	if (v < min || v > max)
		return -ERANGE;
	*ret = (unsigned) v;
	return 0;
}

int
parse_size(const char *s, uint64_t *ret)
{
	const char *e = s + strlen(s), *u = s;
	uint64_t v, mult = 1;
	int r;

	while (u < e && is_digit(*u))
		u++;
	if (u < e) {
		switch (*u) {
		case 'K': case 'k': mult = UINT64_C(1) << 10; break;
		case 'M': case 'm': mult = UINT64_C(1) << 20; break;
		case 'G': case 'g': mult = UINT64_C(1) << 30; break;
		default: return -EINVAL;
		}
		/* "10MB" as supervisord writes it; nothing else may follow the unit. */
		if (e - u > 2 || (e - u == 2 && u[1] != 'B' && u[1] != 'b'))
			return -EINVAL;
	}
	r = parse_decimal(s, u, &v);
	if (r < 0)
		return r;
	if (v > SIZE_LIMIT / mult)
		return -ERANGE;
	*ret = v * mult;
	return 0;
}

int
parse_mode(const char *s, mode_t *ret)
{
	unsigned v = 0;

	if (!*s)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '7')
			return -EINVAL;
	for (const char *p = s; *p; p++) {
		v = v * 8 + (unsigned) (*p - '0');
		if (v > 07777)
			return -ERANGE;
	}
	*ret = (mode_t) v;
	return 0;
}

int
parse_int(const char *s, int min, int max, int *ret)
{
	bool negative = *s == '-';
	uint64_t v;
	int64_t x;
	int r;

	r = parse_decimal(s + negative, s + strlen(s), &v);
	if (r < 0)
		return r;
	if (v > (uint64_t) INT64_MAX)
		return -ERANGE;
	x = negative ? -(int64_t) v : (int64_t) v;
	if (x < min || x > max)
		return -ERANGE;
	*ret = (int) x;
	return 0;
}

/* One side of a limit: digits, or "infinity". */
static int
parse_rlim(const char *s, const char *e, rlim_t *ret)
{
	uint64_t v;
	int r;

	if ((size_t) (e - s) == strlen("infinity") && strncmp(s, "infinity", (size_t) (e - s)) == 0) {
		*ret = RLIM_INFINITY;
		return 0;
	}
	if ((r = parse_decimal(s, e, &v)) < 0)
		return r;
	if (v >= (uint64_t) RLIM_INFINITY)
		return -ERANGE;
	*ret = (rlim_t) v;
	return 0;
}

int
parse_rlimit(const char *s, struct rlimit *ret)
{
	const char *colon = strchr(s, ':'), *end = s + strlen(s);
	struct rlimit l;
	int r;

	if ((r = parse_rlim(s, colon ? colon : end, &l.rlim_cur)) < 0)
		return r;
	l.rlim_max = l.rlim_cur;
	if (colon && (r = parse_rlim(colon + 1, end, &l.rlim_max)) < 0)
		return r;
	/* RLIM_INFINITY is the largest value: infinity:N is above N too. */
	if (l.rlim_cur > l.rlim_max)
		return -EDOM;
	*ret = l;
	return 0;
}

/* Listen addresses. */

static int
parse_listen_tcp(const char *s, struct listen_address *a)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *h = s;
	size_t hlen;
	unsigned port;
	int r;

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = s + 1;
		hlen = (size_t) (rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t) (colon - s);
		/* A bare IPv6 address is ambiguous with its port: brackets are required. */
		if (memchr(s, ':', hlen))
			return -EINVAL;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';

	if (*s == '[') {
		a->addr.in6.sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, host, &a->addr.in6.sin6_addr) != 1)
			return -EINVAL;
		a->addr_len = sizeof(struct sockaddr_in6);
	} else {
		a->addr.in.sin_family = AF_INET;
		if (streq(host, "*"))
			a->addr.in.sin_addr.s_addr = htonl(INADDR_ANY);
		else if (streq(host, "localhost"))
			a->addr.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &a->addr.in.sin_addr) != 1)
			return -EINVAL;
		a->addr_len = sizeof(struct sockaddr_in);
	}

	r = parse_unsigned(colon + 1, 1, 65535, &port);
	if (r < 0)
		return r;
	/* sin_port and sin6_port are at the same offset, but say which one we mean. */
	if (*s == '[')
		a->addr.in6.sin6_port = htons((uint16_t) port);
	else
		a->addr.in.sin_port = htons((uint16_t) port);
	a->kind = LISTEN_TCP;
	return 0;
}

/*
 * unix:/abs/path, or unix:@name for Linux's abstract namespace (sun_path[0] = 0, the name
 * without a trailing NUL, as ss(8) and systemd spell it). Relative paths are rejected: graced
 * may chdir, and workers run in their own directory.
 */
static int
parse_listen_unix(const char *s, struct listen_address *a)
{
	size_t len = strlen(s);

	a->addr.un.sun_family = AF_UNIX;
	if (*s == '/') {
		if (len >= sizeof(a->addr.un.sun_path))
			return -ERANGE;
		memcpy(a->addr.un.sun_path, s, len + 1);
		a->addr_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + 1);
	} else if (*s == '@') {
		if (len < 2)
			return -EINVAL;
		if (len > sizeof(a->addr.un.sun_path))
			return -ERANGE;
		a->addr.un.sun_path[0] = '\0';
		memcpy(a->addr.un.sun_path + 1, s + 1, len - 1);
		a->addr_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len);
	} else
		return -EINVAL;
	a->kind = LISTEN_UNIX;
	return 0;
}

/* As systemd's FileDescriptorName=: 1..255 printable ASCII characters, no ':'. */
static int
parse_listen_systemd(const char *s, struct listen_address *a)
{
	size_t len = strlen(s);

	if (len == 0)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f || *p == ':')
			return -EINVAL;
	if (len >= sizeof(a->name))
		return -ERANGE;
	memcpy(a->name, s, len + 1);
	a->kind = LISTEN_SYSTEMD;
	a->addr_len = 0;
	return 0;
}

int
parse_listen(const char *s, struct listen_address *ret)
{
	struct listen_address a;
	int r;

	memset(&a, 0, sizeof(a));
	if (strncmp(s, "tcp://", 6) == 0)
		r = parse_listen_tcp(s + 6, &a);
	else if (strncmp(s, "unix:", 5) == 0)
		r = parse_listen_unix(s + 5, &a);
	else if (strncmp(s, "systemd:", 8) == 0)
		r = parse_listen_systemd(s + 8, &a);
	else
		r = -EINVAL;
	if (r < 0)
		return r;
	*ret = a;
	return 0;
}

char *
listen_address_to_string(char *buf, size_t n, const struct listen_address *a)
{
	char host[INET6_ADDRSTRLEN];

	if (n == 0)
		return buf;
	buf[0] = '\0';
	switch (a->kind) {
	case LISTEN_TCP:
		if (a->addr.sa.sa_family == AF_INET6) {
			if (!inet_ntop(AF_INET6, &a->addr.in6.sin6_addr, host, sizeof(host)))
				break;
			(void) snprintf(buf, n, "tcp://[%s]:%u", host, ntohs(a->addr.in6.sin6_port));
		} else if (a->addr.sa.sa_family == AF_INET) {
			if (!inet_ntop(AF_INET, &a->addr.in.sin_addr, host, sizeof(host)))
				break;
			(void) snprintf(buf, n, "tcp://%s:%u", host, ntohs(a->addr.in.sin_port));
		}
		break;
	case LISTEN_UNIX:
		if (a->addr.un.sun_path[0] == '\0') {
			size_t off = offsetof(struct sockaddr_un, sun_path) + 1;
			int len = a->addr_len > off ? (int) (a->addr_len - off) : 0;

			len = MIN(len, (int) sizeof(a->addr.un.sun_path) - 1);
			(void) snprintf(buf, n, "unix:@%.*s", len, a->addr.un.sun_path + 1);
		} else
			(void) snprintf(buf, n, "unix:%.*s", (int) sizeof(a->addr.un.sun_path),
			    a->addr.un.sun_path);
		break;
	case LISTEN_SYSTEMD:
		(void) snprintf(buf, n, "systemd:%.*s", (int) sizeof(a->name) - 1, a->name);
		break;
	default:
		break;
	}
	return buf;
}

/*
 * The same kind and the same address bytes. tcp://0.0.0.0:80 and tcp://127.0.0.1:80 are not
 * equal here; listen_address_conflicts() says whether two addresses cannot both be bound.
 */
bool
listen_address_equal(const struct listen_address *a, const struct listen_address *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case LISTEN_TCP:
	case LISTEN_UNIX:
		if (a->addr_len != b->addr_len || a->addr.sa.sa_family != b->addr.sa.sa_family)
			return false;
		if (a->addr.sa.sa_family == AF_INET)
			return a->addr.in.sin_port == b->addr.in.sin_port &&
			    a->addr.in.sin_addr.s_addr == b->addr.in.sin_addr.s_addr;
		if (a->addr.sa.sa_family == AF_INET6)
			return a->addr.in6.sin6_port == b->addr.in6.sin6_port &&
			    memcmp(&a->addr.in6.sin6_addr, &b->addr.in6.sin6_addr,
				sizeof(struct in6_addr)) == 0 &&
			    a->addr.in6.sin6_scope_id == b->addr.in6.sin6_scope_id;
		if (a->addr.sa.sa_family == AF_UNIX) {
			size_t off = offsetof(struct sockaddr_un, sun_path);

			return a->addr_len >= off &&
			    memcmp(a->addr.un.sun_path, b->addr.un.sun_path, a->addr_len - off) == 0;
		}
		return false;
	case LISTEN_SYSTEMD:
		return streq(a->name, b->name);
	default:
		return false;
	}
}

static bool
tcp_is_wildcard(const struct listen_address *a)
{
	if (a->addr.sa.sa_family == AF_INET)
		return a->addr.in.sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&a->addr.in6.sin6_addr);
}

bool
listen_address_conflicts(const struct listen_address *a, const struct listen_address *b)
{
	if (listen_address_equal(a, b))
		return true;
	if (a->kind != LISTEN_TCP || b->kind != LISTEN_TCP ||
	    a->addr.sa.sa_family != b->addr.sa.sa_family)
		return false;
	if (a->addr.sa.sa_family == AF_INET) {
		if (a->addr.in.sin_port != b->addr.in.sin_port)
			return false;
	} else if (a->addr.sa.sa_family == AF_INET6) {
		if (a->addr.in6.sin6_port != b->addr.in6.sin6_port)
			return false;
	} else
		return false;
	return tcp_is_wildcard(a) || tcp_is_wildcard(b);
}

/* none | notify | tcp:PORT | delay:DUR, with DUR finite. */
int
parse_ready(const char *s, struct ready_spec *ret)
{
	struct ready_spec r = { .kind = READY_NONE };
	int k;

	if (streq(s, "none"))
		r.kind = READY_NONE;
	else if (streq(s, "notify"))
		r.kind = READY_NOTIFY;
	else if (strncmp(s, "tcp:", 4) == 0) {
		unsigned port;

		k = parse_unsigned(s + 4, 1, 65535, &port);
		if (k < 0)
			return k;
		r.kind = READY_TCP;
		r.port = (uint16_t) port;
	} else if (strncmp(s, "delay:", 6) == 0) {
		usec_t d;

		k = parse_duration(s + 6, &d);
		if (k < 0)
			return k;
		if (d == USEC_INFINITY)
			return -ERANGE;
		r.kind = READY_DELAY;
		r.delay = d;
	} else
		return -EINVAL;
	*ret = r;
	return 0;
}

/*
 * "BURST in INTERVAL" with BURST >= 1 and a finite INTERVAL > 0, or "none" (no limit), which
 * gives burst 0 and interval 0.
 */
int
parse_start_limit(const char *s, unsigned *ret_burst, usec_t *ret_interval)
{
	_cleanup_free_ char *burst = NULL;
	const char *p = s, *e;
	unsigned b;
	usec_t d;
	int r;

	while (is_space(*p))
		p++;
	e = p;
	while (*e && !is_space(*e))
		e++;
	if ((size_t) (e - p) == 4 && strncmp(p, "none", 4) == 0) {
		while (is_space(*e))
			e++;
		if (*e)
			return -EINVAL;
		*ret_burst = 0;
		*ret_interval = 0;
		return 0;
	}
	burst = strndup(p, (size_t) (e - p));
	if (!burst)
		return -ENOMEM;

	p = e;
	if (!is_space(*p))
		return -EINVAL;
	while (is_space(*p))
		p++;
	if (strncmp(p, "in", 2) != 0 || !is_space(p[2]))
		return -EINVAL;
	p += 2;
	while (is_space(*p))
		p++;
	/* What is left must be one duration token; parse_duration takes the trailing space. */
	for (e = p; *e && !is_space(*e); e++)
		;
	for (const char *q = e; *q; q++)
		if (!is_space(*q))
			return -EINVAL;

	r = parse_duration(p, &d);
	if (r < 0)
		return r;
	r = parse_unsigned(burst, 1, UINT_MAX, &b);
	if (r < 0)
		return r;
	if (d == 0 || d == USEC_INFINITY)
		return -ERANGE;
	*ret_burst = b;
	*ret_interval = d;
	return 0;
}

/*
 * Splits s into words as sh(1) would, minus everything that makes a shell a shell: blanks
 * separate words; '...' is literal; "..." is literal except for \" \\ \$ \` (a backslash before
 * any other character stays, as in POSIX sh); outside quotes a backslash makes the next
 * character literal. Adjacent parts join into one word, so '' is an empty word. There is no
 * line continuation: the INI reader hands us a single line. Always returns a strv, possibly
 * empty.
 */
static int
split_words(const char *s, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	_cleanup_free_ char *w = NULL;
	const char *p = s;
	int r;

	/* No word is longer than the input. */
	w = malloc(strlen(s) + 1);
	l = calloc(1, sizeof(char *));
	if (!w || !l)
		return -ENOMEM;

	for (;;) {
		size_t len = 0;

		while (is_space(*p))
			p++;
		if (!*p)
			break;
		while (*p && !is_space(*p)) {
			if (*p == '\'') {
				for (p++; *p != '\''; p++) {
					if (!*p)
						return -EINVAL;
					w[len++] = *p;
				}
				p++;
			} else if (*p == '"') {
				for (p++; *p != '"'; p++) {
					if (!*p)
						return -EINVAL;
					if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
						p++;
					w[len++] = *p;
				}
				p++;
			} else if (*p == '\\') {
				if (!p[1])
					return -EINVAL;
				w[len++] = p[1];
				p += 2;
			} else
				w[len++] = *p++;
		}
		w[len] = '\0';
		r = strv_extend(&l, w);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

int
parse_argv(const char *s, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	int r;

	r = split_words(s, &l);
	if (r < 0)
		return r;
	if (!l[0])
		return -ENODATA;
	*ret = TAKE_PTR(l);
	return 0;
}

/* An empty value is an empty list, so that "environment =" can clear an inherited setting. */
int
parse_environment(const char *s, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	int r;

	r = split_words(s, &l);
	if (r < 0)
		return r;
	for (char **e = l; *e; e++) {
		const char *p = *e;

		if (!env_name_char(*p, true))
			return -EINVAL;
		for (p++; *p != '='; p++)
			if (!env_name_char(*p, false))
				return -EINVAL;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

int
parse_word_list(const char *s, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	const char *p = s;
	int r;

	l = calloc(1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	for (;;) {
		_cleanup_free_ char *w = NULL;
		const char *e;

		while (*p == ',' || is_space(*p))
			p++;
		if (!*p)
			break;
		for (e = p; *e && *e != ',' && !is_space(*e); e++)
			;
		w = strndup(p, (size_t) (e - p));
		if (!w)
			return -ENOMEM;
		r = strv_push(&l, w);
		if (r < 0)
			return r;
		w = NULL;
		p = e;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

bool
name_is_valid(const char *s)
{
	size_t n = 0;

	if (!s || !*s || *s == '-')
		return false;
	for (const char *p = s; *p; p++, n++)
		if (!is_alpha(*p) && !is_digit(*p) && *p != '_' && *p != '-')
			return false;
	return n <= 64;
}

/* A growable string for expand_env(). */
struct sbuf {
	char *s;
	size_t len, cap;
};

static int
sbuf_append(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = MAX(b->cap * 2, b->len + n + 1);
		char *m = realloc(b->s, cap);

		if (!m)
			return -ENOMEM;
		b->s = m;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

/* Text that must come out of a second expansion as it is: each "$" doubled when keeping. */
static int
sbuf_append_text(struct sbuf *b, const char *s, size_t n, bool keep)
{
	int r;

	if (!keep)
		return sbuf_append(b, s, n);
	for (size_t i = 0; i < n; i++)
		if ((r = sbuf_append(b, s + i, 1)) < 0 ||
		    (s[i] == '$' && (r = sbuf_append(b, "$", 1)) < 0))
			return r;
	return 0;
}

static void
sbuf_done(struct sbuf *b)
{
	free(b->s);
}

/*
 * Appends the text of a default ("${VAR:-text}") from [p, e): "$$" is "$", a lone "$" is literal,
 * and a nested "${" is -EINVAL: defaults are plain text, not expanded.
 */
static int
append_default(struct sbuf *b, const char *p, const char *e, bool keep)
{
	int r;

	while (p < e) {
		if (*p == '$' && p + 1 < e && p[1] == '{')
			return -EINVAL;
		r = sbuf_append_text(b, p, 1, keep);
		if (r < 0)
			return r;
		p += (*p == '$' && p + 1 < e && p[1] == '$') ? 2 : 1;
	}
	return 0;
}

int
expand_env(const char *s, char **ret, char **ret_missing)
{
	return expand_env_keeping(s, NULL, ret, ret_missing);
}

int
expand_env_keeping(const char *s, const char *keep, char **ret, char **ret_missing)
{
	_cleanup_(sbuf_done) struct sbuf b = {};
	const char *p = s;
	int r;

	r = sbuf_append(&b, "", 0);
	if (r < 0)
		return r;

	while (*p) {
		_cleanup_free_ char *name = NULL;
		const char *q, *value, *def = NULL, *end;

		if (*p != '$' || (p[1] != '$' && p[1] != '{')) {
			for (q = p + 1; *q && *q != '$'; q++)
				;
			r = sbuf_append(&b, p, (size_t) (q - p));
			if (r < 0)
				return r;
			p = q;
			continue;
		}
		if (p[1] == '$') {
			/* Kept for the second expansion, which turns it into "$". */
			r = keep ? sbuf_append(&b, "$$", 2) : sbuf_append(&b, "$", 1);
			if (r < 0)
				return r;
			p += 2;
			continue;
		}

		/* "${" NAME ( "}" | ":-" DEFAULT "}" ) */
		q = p + 2;
		if (!env_name_char(*q, true))
			return -EINVAL;
		while (env_name_char(*q, false))
			q++;
		if (q[0] == ':' && q[1] == '-') {
			def = q + 2;
			end = strchr(def, '}');
		} else if (*q == '}')
			end = q;
		else
			return -EINVAL;
		if (!end)
			return -EINVAL;
		name = strndup(p + 2, (size_t) (q - p - 2));
		if (!name)
			return -ENOMEM;

		value = getenv(name);
		if (keep && !def && streq(name, keep))
			r = sbuf_append(&b, p, (size_t) (end + 1 - p));
		else if (def && (!value || !*value))
			r = append_default(&b, def, end, keep);
		else if (!value) {
			if (ret_missing)
				*ret_missing = TAKE_PTR(name);
			return -ENXIO;
		} else
			r = sbuf_append_text(&b, value, strlen(value), keep);
		if (r < 0)
			return r;
		p = end + 1;
	}
	*ret = TAKE_PTR(b.s);
	return 0;
}

/*
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions, the typo
 * "stpo"), with three rows. SIZE_MAX if a string is too long to be worth it.
 */
#define SUGGEST_MAX 128
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t rows[3][SUGGEST_MAX + 1];
	size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];

	if (la > SUGGEST_MAX || lb > SUGGEST_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t d = MIN(prev[j] + 1, cur[j - 1] + 1);

			d = MIN(d, prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				d = MIN(d, pp[j - 2] + 1);
			cur[j] = d;
		}
		t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

/*
 * The candidate within max(1, strlen(s) / 3) edits of s, if exactly one candidate is closest:
 * with a tie we would only be guessing.
 */
const char *
suggest_closest(const char *s, const char *const *candidates, size_t n)
{
	size_t best = SIZE_MAX, limit = MAX((size_t) 1, strlen(s) / 3);
	const char *found = NULL;
	bool tie = false;

	for (size_t i = 0; i < n; i++) {
		size_t d;

		if (!candidates[i])
			continue;
		d = edit_distance(s, candidates[i]);
		if (d == SIZE_MAX)
			continue;
		if (d < best) {
			best = d;
			found = candidates[i];
			tie = false;
		} else if (d == best && !streq(found, candidates[i]))
			tie = true;
	}
	if (!found || best > limit || tie)
		return NULL;
	return found;
}

/* String tables for the enums of graced.h. */

static const char *
table_to_string(const char *const *table, size_t n, int i)
{
	if (i < 0 || (size_t) i >= n)
		return NULL;
	return table[i];
}

static int
table_from_string(const char *const *table, size_t n, const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (table[i] && streq(table[i], s))
			return (int) i;
	return -EINVAL;
}

#define DEFINE_STRING_TABLE(name, type, table)                                                     \
	const char *                                                                               \
	name##_to_string(type v)                                                                   \
	{                                                                                          \
		return table_to_string(table, ELEMENTSOF(table), (int) v);                         \
	}                                                                                          \
	type                                                                                       \
	name##_from_string(const char *s)                                                          \
	{                                                                                          \
		return (type) table_from_string(table, ELEMENTSOF(table), s);                      \
	}

static const char *const phase_table[_PHASE_MAX] = {
	[PHASE_INTAKE] = "intake",
	[PHASE_STOP] = "stop",
	[PHASE_CANCEL] = "cancel",
	[PHASE_JOIN] = "join",
	[PHASE_CLOSE] = "close",
};
DEFINE_STRING_TABLE(phase, enum phase, phase_table)

static const char *const log_level_table[_LOG_LEVEL_MAX] = {
	[LOG_LEVEL_ERR] = "err",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};
DEFINE_STRING_TABLE(log_level, enum log_level, log_level_table)

static const char *const log_target_table[_LOG_TARGET_MAX] = {
	[LOG_TARGET_AUTO] = "auto",
	[LOG_TARGET_STDERR] = "stderr",
	[LOG_TARGET_JOURNAL] = "journal",
};
DEFINE_STRING_TABLE(log_target, enum log_target, log_target_table)

static const char *const second_signal_table[_SECOND_SIGNAL_MAX] = {
	[SECOND_SIGNAL_ESCALATE] = "escalate",
	[SECOND_SIGNAL_IGNORE] = "ignore",
};
DEFINE_STRING_TABLE(second_signal, enum second_signal, second_signal_table)

static const char *const when_empty_table[_WHEN_EMPTY_MAX] = {
	[WHEN_EMPTY_SHUTDOWN] = "shutdown",
	[WHEN_EMPTY_STAY] = "stay",
};
DEFINE_STRING_TABLE(when_empty, enum when_empty, when_empty_table)

static const char *const intake_type_table[_INTAKE_TYPE_MAX] = {
	[INTAKE_SOCKET] = "socket",
	[INTAKE_READINESS] = "readiness",
	[INTAKE_EXEC] = "exec",
	[INTAKE_SIGNAL] = "signal",
};
DEFINE_STRING_TABLE(intake_type, enum intake_type, intake_type_table)

static const char *const ready_kind_table[_READY_KIND_MAX] = {
	[READY_NONE] = "none",
	[READY_NOTIFY] = "notify",
	[READY_TCP] = "tcp",
	[READY_DELAY] = "delay",
};
DEFINE_STRING_TABLE(ready_kind, enum ready_kind, ready_kind_table)

static const char *const restart_policy_table[_RESTART_POLICY_MAX] = {
	[RESTART_NO] = "no",
	[RESTART_ON_FAILURE] = "on-failure",
	[RESTART_ALWAYS] = "always",
};
DEFINE_STRING_TABLE(restart_policy, enum restart_policy, restart_policy_table)

static const char *const worker_type_table[_WORKER_TYPE_MAX] = {
	[WORKER_LONGRUN] = "longrun",
	[WORKER_ONESHOT] = "oneshot",
};
DEFINE_STRING_TABLE(worker_type, enum worker_type, worker_type_table)

static const char *const kill_mode_table[_KILL_MODE_MAX] = {
	[KILL_MODE_GROUP] = "group",
	[KILL_MODE_MAIN] = "main",
};
DEFINE_STRING_TABLE(kill_mode, enum kill_mode, kill_mode_table)

static const char *const signal_target_table[_SIGNAL_TARGET_MAX] = {
	[SIGNAL_TARGET_MAIN] = "main",
	[SIGNAL_TARGET_GROUP] = "group",
};
DEFINE_STRING_TABLE(signal_target, enum signal_target, signal_target_table)

static const char *const output_mode_table[_OUTPUT_MODE_MAX] = {
	[OUTPUT_INHERIT] = "inherit",
	[OUTPUT_PREFIX] = "prefix",
	[OUTPUT_JOURNAL] = "journal",
	[OUTPUT_FILE] = "file",
};
DEFINE_STRING_TABLE(output_mode, enum output_mode, output_mode_table)

static const char *const stderr_mode_table[_STDERR_MODE_MAX] = {
	[STDERR_AUTO] = "auto",
	[STDERR_STDOUT] = "stdout",
	[STDERR_SEPARATE] = "separate",
	[STDERR_FILE] = "file",
};
DEFINE_STRING_TABLE(stderr_mode, enum stderr_mode, stderr_mode_table)

static const char *const resource_type_table[_RESOURCE_TYPE_MAX] = {
	[RESOURCE_FILE] = "file",
	[RESOURCE_EXEC] = "exec",
};
DEFINE_STRING_TABLE(resource_type, enum resource_type, resource_type_table)

static const char *const listen_kind_table[_LISTEN_KIND_MAX] = {
	[LISTEN_TCP] = "tcp",
	[LISTEN_UNIX] = "unix",
	[LISTEN_SYSTEMD] = "systemd",
};
DEFINE_STRING_TABLE(listen_kind, enum listen_kind, listen_kind_table)
