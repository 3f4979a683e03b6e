/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "http.h"
#include "listener.h"
#include "task.h"
#include "util.h"

/* Lingering after the reply never holds a connection longer than this, nor reads more. */
#define HTTP_LINGER_MAX (1 * USEC_PER_SEC)
#define HTTP_LINGER_BYTES (64 * 1024)

/* RFC 9110 token characters (method and header names). */
static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* The length of the head (through its blank line) in buf, or 0 while it is incomplete. A line
 * may end in CRLF or a bare LF. */
static size_t
head_length(const char *buf, size_t len, size_t from)
{
	for (size_t k = from; k < len; k++) {
		if (buf[k] != '\n' || k == 0)
			continue;
		if (buf[k - 1] == '\n')
			return k + 1;
		if (buf[k - 1] == '\r' && k >= 2 && buf[k - 2] == '\n')
			return k + 1;
	}
	return 0;
}

/* Cuts the line starting at p (ending before end) and returns where the next one starts, or
 * NULL without a newline. */
static char *
cut_line(char *p, char *end, size_t *ret_len)
{
	char *nl = memchr(p, '\n', (size_t) (end - p));
	size_t n;

	if (!nl)
		return NULL;
	n = (size_t) (nl - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	p[n] = '\0';
	*ret_len = n;
	return nl + 1;
}

static int
parse_header_line(const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);

	/* No name, or obsolete line folding (RFC 9112 lets a server refuse it). */
	if (!colon || colon == p)
		return -EBADMSG;
	for (const char *q = p; q < colon; q++)
		if (!is_tchar((unsigned char) *q))
			return -EBADMSG;
	for (const char *q = colon + 1; q < p + n; q++)
		if ((unsigned char) *q < ' ' && *q != '\t')
			return -EBADMSG;
	return 0;
}

int
http_parse_request(char *buf, size_t len, struct http_request *ret)
{
	char *end = buf + len, *p = buf, *next, *method, *target, *version;
	const char *path;
	size_t n;

	if (!(next = cut_line(p, end, &n)))
		return -EBADMSG;
	/* method SP request-target SP HTTP-version */
	method = p;
	while (is_tchar((unsigned char) *p))
		p++;
	if (p == method || *p != ' ')
		return -EBADMSG;
	*p++ = '\0';
	target = p;
	while ((unsigned char) *p > ' ' && *p != 0x7f)
		p++;
	if (p == target || *p != ' ')
		return -EBADMSG;
	*p++ = '\0';
	version = p;
	if (strncmp(version, "HTTP/1.", 7) != 0 || version[7] < '0' || version[7] > '9' ||
	    version[8] != '\0')
		return -EBADMSG;

	for (p = next; p < end; p = next) {
		if (!(next = cut_line(p, end, &n)))
			return -EBADMSG;
		if (n == 0)
			break;
		if (parse_header_line(p, n) < 0)
			return -EBADMSG;
	}

	/* The path of an absolute-form target (http://host/path), origin-form as it is; "*" (for
	 * OPTIONS) stays itself. */
	path = target;
	target[strcspn(target, "?#")] = '\0';
	if (strncasecmp(target, "http://", 7) == 0 || strncasecmp(target, "https://", 8) == 0) {
		const char *slash = strchr(strstr(target, "//") + 2, '/');

		path = slash ? slash : "/";
	} else if (target[0] != '/' && !streq(target, "*"))
		return -EBADMSG;

	*ret = (struct http_request) {
		.method = method,
		.path = path,
		.minor = (unsigned) (version[7] - '0'),
	};
	return 0;
}

int
http_read_request(int fd, char *buf, size_t size, usec_t deadline, struct http_request *ret)
{
	size_t len = 0, head = 0;
	ssize_t n;
	int r;

	while (!head) {
		if (len == size)
			return -EMSGSIZE;
		n = recv(fd, buf + len, size - len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			if ((r = task_wait_fd(fd, TASK_FD_READ, deadline)) < 0)
				return r;
			continue;
		}
		if (n == 0)
			return -ENODATA;
		/* A terminator may straddle two reads. */
		head = head_length(buf, len + (size_t) n, len >= 3 ? len - 3 : 0);
		len += (size_t) n;
	}
	return http_parse_request(buf, head, ret);
}

int
http_reply(int fd, usec_t deadline, int code, const char *reason, const char *extra_headers,
    const char *type, const char *body, size_t body_len, bool head_only)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head),
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "Connection: close\r\n"
	    "%s\r\n",
	    code, reason, type, body_len, strempty(extra_headers));
	if (n < 0 || (size_t) n >= sizeof(head))
		return -ENOBUFS;
	return listener_write_all(fd,
	    (struct iovec[]) {
		{ .iov_base = head, .iov_len = (size_t) n },
		{ .iov_base = (void *) body, .iov_len = head_only ? 0 : body_len },
	    },
	    2, deadline);
}

int
http_linger(int fd, usec_t deadline)
{
	char sink[256];
	size_t total = 0;
	ssize_t n;
	int r;

	if (shutdown(fd, SHUT_WR) < 0)
		return -errno;
	deadline = MIN(deadline, usec_add(now_usec(), HTTP_LINGER_MAX));
	for (;;) {
		n = recv(fd, sink, sizeof(sink), 0);
		if (n == 0)
			return 0;
		if (n > 0) {
			if ((total += (size_t) n) >= HTTP_LINGER_BYTES)
				return 0;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		if ((r = task_wait_fd(fd, TASK_FD_READ, deadline)) < 0)
			return r == -ETIMEDOUT ? 0 : r;
	}
}
