/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control-protocol.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a crash, so that libFuzzer keeps the input. */
#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

/* The control socket's request parser: any line a client sends (a peer graced let in). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_request req;
	const char *error = NULL;
	char *buf;

	if (size > CONTROL_LINE_MAX + 64)
		return 0;
	/* Exactly size bytes, no NUL after them: a read past the line is an ASan error. */
	if (!(buf = malloc(size ? size : 1)))
		return 0;
	memcpy(buf, data, size);
	if (control_request_parse(buf, size, &req, &error) == 0) {
		CHECK(size <= CONTROL_LINE_MAX);
		CHECK(req.command >= 0 && req.command < _CONTROL_COMMAND_MAX);
		CHECK(req.n_workers <= CONTROL_WORKERS_MAX);
		for (size_t i = 0; i < req.n_workers; i++)
			CHECK(name_is_valid(req.workers[i]));
		if (req.command == CONTROL_SIGNAL)
			CHECK(req.n_workers == 1 && req.signal > 0);
		control_request_done(&req);
	} else
		CHECK(error && *error);
	free(buf);
	return 0;
}
