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
#include "plan.h"
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

/* What --check and --plan print has no control byte but newlines (util.h's escaping). */
static void
check_printable(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char) text[i];

		if ((ch < 0x20 && ch != '\n') || ch == 0x7f)
			abort();
	}
}

/* Every worker is found by name at its position, and the plan puts each in a level. */
static void
check_plan(const struct config *c)
{
	struct plan *p = NULL;
	char *text = NULL;
	size_t len = 0, placed = 0;
	FILE *f;

	for (size_t i = 0; i < c->n_workers; i++)
		if (config_worker_index(c, c->workers[i]->name) != (ssize_t) i)
			abort();
	if (plan_build(c, &p) < 0)
		return;
	for (size_t l = 0; l < p->n_levels; l++)
		placed += p->levels[l].n_workers;
	if (placed != c->n_workers)
		abort();
	/* A worker is stopped before every worker it is after= (higher level: later). */
	for (size_t i = 0; i < c->n_workers; i++)
		for (char **a = c->workers[i]->after; a && *a; a++)
			if (p->workers[config_worker_index(c, *a)].level <= p->workers[i].level)
				abort();
	if ((f = open_memstream(&text, &len))) {
		plan_print(p, f);
		if (fclose(f) == 0)
			check_printable(text, len);
		free(text);
	}
	plan_free(p);
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
		check_plan(c);
	}
	{
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);

		if (f) {
			config_errors_print(&errors, f);
			if (fclose(f) == 0)
				check_printable(out, len);
			free(out);
		}
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
