/* SPDX-License-Identifier: MIT */

/*
 * Benchmark of what `graced --check` and `graced --plan` do with a long after= chain: N workers,
 * each after= the one before it (one level per worker), read from an in-memory file, validated
 * (references, cycles), planned (levels, worst case) and the plan printed to /dev/null. A second
 * shape: the same chain closed into a cycle at its end (the error path of --check). Not a timed
 * test: it prints figures, the last lines as key=value.
 *
 *   bench_config          N = 1,000, 2,000, 5,000, 10,000
 *   bench_config N...     only these
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "plan.h"
#include "util.h"

static double
now_ms(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static char *
chain_text(size_t n, bool cycle)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "[worker:w%zu]\ncommand = /bin/true\n", i);
		if (i)
			fprintf(f, "after = w%zu\n", i - 1);
		else if (cycle)
			fprintf(f, "after = w%zu\n", n - 1);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* One run: ms to load and validate (what --check does before its summary), ms to build and
 * print the plan (what --plan adds). */
static int
run(size_t n, bool cycle, double *ret_check, double *ret_plan)
{
	_cleanup_free_ char *text = chain_text(n, cycle);
	struct config_errors errors = {};
	struct config *c = NULL;
	struct plan *p = NULL;
	double t0, t1, t2;
	FILE *null;
	int r;

	if (!text)
		return -ENOMEM;
	t0 = now_ms();
	r = config_load_string("chain.ini", text, &c, &errors);
	t1 = now_ms();
	if (cycle != (r == -EINVAL) || (!cycle && r < 0)) {
		config_errors_print(&errors, stderr);
		config_errors_clear(&errors);
		return r < 0 ? r : -EINVAL;
	}
	config_errors_clear(&errors);
	*ret_check = t1 - t0;
	*ret_plan = 0;
	if (cycle)
		return 0;
	if (!(null = fopen("/dev/null", "w"))) {
		config_free(c);
		return -errno;
	}
	r = plan_build(c, &p);
	if (r >= 0) {
		plan_print(p, null);
		t2 = now_ms();
		*ret_plan = t2 - t1;
		if (p->n_levels != n)
			r = -EINVAL;
	}
	fclose(null);
	plan_free(p);
	config_free(c);
	return r;
}

int
main(int argc, char **argv)
{
	static const size_t sizes[] = { 1000, 2000, 5000, 10000 };
	size_t n_sizes = argc > 1 ? (size_t) argc - 1 : ELEMENTSOF(sizes);

	printf("%8s %12s %12s %14s\n", "workers", "check ms", "plan ms", "cycle ms");
	for (size_t i = 0; i < n_sizes; i++) {
		size_t n = argc > 1 ? strtoul(argv[i + 1], NULL, 10) : sizes[i];
		double check = 0, plan = 0, cyc = 0, unused;
		int r;

		/* The best of three: the machine is shared. */
		for (int k = 0; k < 3; k++) {
			double a, b, d;

			if ((r = run(n, false, &a, &b)) < 0 || (r = run(n, true, &d, &unused)) < 0) {
				fprintf(stderr, "bench_config: %zu workers: %s\n", n, strerror(-r));
				return 1;
			}
			check = k == 0 || a < check ? a : check;
			plan = k == 0 || b < plan ? b : plan;
			cyc = k == 0 || d < cyc ? d : cyc;
		}
		printf("%8zu %12.2f %12.2f %14.2f\n", n, check, plan, cyc);
		printf("chain_%zu_check_ms=%.2f\nchain_%zu_plan_ms=%.2f\nchain_%zu_cycle_check_ms=%.2f\n",
		    n, check, n, plan, n, cyc);
	}
	return 0;
}
