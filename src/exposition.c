/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "exposition.h"

static const char *const type_table[_EXPOSITION_TYPE_MAX] = {
	[EXPOSITION_COUNTER] = "counter",
	[EXPOSITION_GAUGE] = "gauge",
};

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names (colon: false for label names, which have none). */
static bool
name_is_valid(const char *s, bool colon)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '_' || (colon && *s == ':')))
			return false;
	return true;
}

void
exposition_escape(FILE *f, const char *s, bool quote)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && quote)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

void
exposition_family(FILE *f, const char *name, enum exposition_type type, const char *help)
{
	assert(name_is_valid(name, true));
	assert(type >= 0 && type < _EXPOSITION_TYPE_MAX);
	fprintf(f, "# HELP %s ", name);
	exposition_escape(f, help, false);
	fprintf(f, "\n# TYPE %s %s\n", name, type_table[type]);
}

static void
sample_head(FILE *f, const char *name, const struct exposition_label *labels, size_t n_labels)
{
	assert(name_is_valid(name, true));
	fputs(name, f);
	if (n_labels == 0)
		return;
	fputc('{', f);
	for (size_t i = 0; i < n_labels; i++) {
		assert(name_is_valid(labels[i].name, false));
		fprintf(f, "%s%s=\"", i > 0 ? "," : "", labels[i].name);
		exposition_escape(f, labels[i].value, true);
		fputc('"', f);
	}
	fputc('}', f);
}

void
exposition_sample(FILE *f, const char *name, const struct exposition_label *labels,
    size_t n_labels, uint64_t value)
{
	sample_head(f, name, labels, n_labels);
	fprintf(f, " %" PRIu64 "\n", value);
}

void
exposition_sample_seconds(FILE *f, const char *name, const struct exposition_label *labels,
    size_t n_labels, usec_t value)
{
	sample_head(f, name, labels, n_labels);
	fprintf(f, " %" PRIu64 ".%06" PRIu64 "\n", (uint64_t) (value / USEC_PER_SEC),
	    (uint64_t) (value % USEC_PER_SEC));
}
