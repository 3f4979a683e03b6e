/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: process plumbing (the readiness endpoint's HTTP/1.x).
 *
 * The little HTTP/1.x graced speaks on its readiness endpoint, over a non-blocking socket inside
 * a task: one request per connection (request line and header lines up to the blank line, no
 * body read), one reply with Connection: close. Every call takes the connection's absolute
 * deadline. Never logs.
 */

#include <stdbool.h>
#include <stddef.h>

#include "graced.h"

/* The request head (request line and headers) may not be longer. */
#define HTTP_HEAD_MAX 8192

struct http_request {
	const char *method; /* points into the caller's buffer */
	const char *path;   /* the target's path: no query, no fragment, no scheme or host */
	unsigned minor;     /* HTTP/1.minor */
};

/*
 * Reads a request head into buf (size bytes) and parses it. 0; -EBADMSG when it is not HTTP/1.x;
 * -EMSGSIZE when the head does not fit in buf; -ENODATA when the client closed first;
 * -ETIMEDOUT, -ECANCELED, or the read error.
 */
int http_read_request(int fd, char *buf, size_t size, usec_t deadline, struct http_request *ret);
/* Parses a complete head (as http_read_request() does), modifying buf. 0 or -EBADMSG. */
int http_parse_request(char *buf, size_t len, struct http_request *ret);

/*
 * Writes a whole reply: status line, Content-Type, Content-Length, Cache-Control: no-store,
 * Connection: close, extra_headers (each ending in CRLF, or NULL), then the body unless
 * head_only. 0, -ETIMEDOUT, -ECANCELED or the write error.
 */
int http_reply(int fd, usec_t deadline, int code, const char *reason, const char *extra_headers,
    const char *type, const char *body, size_t body_len, bool head_only);
/* After the reply: half-closes the connection and reads what the client still sends until it
 * closes too (so the reply is not lost to a reset), up to the deadline. */
int http_linger(int fd, usec_t deadline);
