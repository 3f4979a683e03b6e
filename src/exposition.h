/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Writes the Prometheus text exposition format, version 0.0.4 (EXPOSITION_CONTENT_TYPE): a
 * family's "# HELP" and "# TYPE" lines, then its samples "name{label="value",...} value". Pure
 * functions on a FILE, no state: metrics.c decides what to write. Names are graced's own
 * (checked by assert); label values and help texts are escaped as the format says: a backslash
 * as \\, a newline as \n and, in label values, a double quote as \".
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "graced.h"

#define EXPOSITION_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum exposition_type {
	EXPOSITION_COUNTER,
	EXPOSITION_GAUGE,
	_EXPOSITION_TYPE_MAX,
};

struct exposition_label {
	const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]* */
	const char *value; /* any text */
};

/* "# HELP name help" and "# TYPE name type". */
void exposition_family(FILE *f, const char *name, enum exposition_type type, const char *help);
/* A sample with an integer value; labels may be NULL when n_labels is 0. */
void exposition_sample(FILE *f, const char *name, const struct exposition_label *labels,
    size_t n_labels, uint64_t value);
/* A sample of a duration, in seconds with microsecond precision ("1.250000"). */
void exposition_sample_seconds(FILE *f, const char *name, const struct exposition_label *labels,
    size_t n_labels, usec_t value);
/* Writes s escaped as a label value (quote true) or a help text (quote false). */
void exposition_escape(FILE *f, const char *s, bool quote);
