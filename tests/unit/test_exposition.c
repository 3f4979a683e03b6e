/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus text format writer (exposition.c): HELP and TYPE lines, samples with and
 * without labels, label values and help texts escaped as the format says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exposition.h"
#include "macro.h"

struct out {
	char *text;
	size_t len;
	FILE *f;
};

static void
out_open(struct out *o)
{
	*o = (struct out) {};
	o->f = open_memstream(&o->text, &o->len);
	assert_non_null(o->f);
}

static void
out_expect(struct out *o, const char *want)
{
	assert_int_equal(fclose(o->f), 0);
	assert_string_equal(o->text, want);
	free(o->text);
}

static void
test_family(void **state)
{
	struct out o;

	out_open(&o);
	exposition_family(o.f, "graced_x_total", EXPOSITION_COUNTER, "Things counted.");
	exposition_family(o.f, "graced_y", EXPOSITION_GAUGE, "A \\ backslash\nand a \"quote\".");
	out_expect(&o, "# HELP graced_x_total Things counted.\n"
		       "# TYPE graced_x_total counter\n"
		       /* In help texts a quote stays as it is. */
		       "# HELP graced_y A \\\\ backslash\\nand a \"quote\".\n"
		       "# TYPE graced_y gauge\n");
}

static void
test_samples(void **state)
{
	const struct exposition_label l[] = { { "worker", "web" }, { "instance", "web.0" } };
	struct out o;

	out_open(&o);
	exposition_sample(o.f, "graced_a", NULL, 0, 0);
	exposition_sample(o.f, "graced_b", l, 2, UINT64_MAX);
	exposition_sample(o.f, "graced_c", l, 1, 7);
	exposition_sample_seconds(o.f, "graced_d", NULL, 0, 0);
	exposition_sample_seconds(o.f, "graced_e", l + 1, 1, 1250000);
	exposition_sample_seconds(o.f, "graced_f", NULL, 0, 3 * USEC_PER_SEC + 7);
	out_expect(&o, "graced_a 0\n"
		       "graced_b{worker=\"web\",instance=\"web.0\"} 18446744073709551615\n"
		       "graced_c{worker=\"web\"} 7\n"
		       "graced_d 0.000000\n"
		       "graced_e{instance=\"web.0\"} 1.250000\n"
		       "graced_f 3.000007\n");
}

static void
test_escape(void **state)
{
	/* Names graced refuses today, but a label value must survive whatever it holds. */
	const struct exposition_label l[] = { { "name", "a\"b\\c\nd\te{}=,#" }, { "empty", "" } };
	struct out o;

	out_open(&o);
	exposition_sample(o.f, "graced_x", l, 2, 1);
	exposition_escape(o.f, "q\"\\\n", true);
	fputc('|', o.f);
	exposition_escape(o.f, "q\"\\\n", false);
	fputc('|', o.f);
	exposition_escape(o.f, NULL, true);
	out_expect(&o, "graced_x{name=\"a\\\"b\\\\c\\nd\te{}=,#\",empty=\"\"} 1\n"
		       "q\\\"\\\\\\n|q\"\\\\\\n|");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
