/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: config_load_string() on any input must neither crash nor leak, and must
 * keep two promises checked here: inih itself never rejects a line (the reader hides every line
 * inih would reject, after reporting it), and every location points into config->files.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_location(const struct config *c, const struct config_location *at)
{
	if (!at->file)
		return;
	for (char **f = c->files; f && *f; f++)
		if (*f == at->file)
			return;
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errors = {};
	struct config *c = NULL;
	char *text;
	int r;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	r = config_load_string("fuzz.ini", text, &c, &errors);
	if (r == 0) {
		for (size_t i = 0; i < c->n_workers; i++) {
			check_location(c, &c->workers[i]->at);
			check_location(c, &c->workers[i]->after_at);
		}
		for (size_t i = 0; i < c->n_intakes; i++)
			check_location(c, &c->intakes[i]->at);
	}
	for (size_t i = 0; i < errors.n; i++)
		/* The reader's fallback message when inih reports a line we let through. */
		if (streq(errors.items[i].message, "syntax error"))
			abort();
	config_free(c);
	config_errors_clear(&errors);
	free(text);
	return 0;
}
