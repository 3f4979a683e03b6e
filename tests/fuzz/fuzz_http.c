/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a crash, so that libFuzzer keeps the input. */
#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

/* The parser of the readiness endpoint's request heads: any bytes a client sends. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	char *buf;

	if (size > HTTP_HEAD_MAX)
		return 0;
	/* Exactly size bytes: a read past the head is an ASan error. */
	if (!(buf = malloc(size ? size : 1)))
		return 0;
	memcpy(buf, data, size);
	if (http_parse_request(buf, size, &req) == 0) {
		CHECK(req.method >= buf && req.method < buf + size && req.method[0] != '\0');
		CHECK(req.path[0] == '/' || req.path[0] == '*');
		CHECK(strlen(req.path) < size);
		CHECK(!strpbrk(req.path, "?# \r\n"));
		CHECK(req.minor <= 9);
	}
	free(buf);
	return 0;
}
