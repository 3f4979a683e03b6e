/* SPDX-License-Identifier: MIT */

/*
 * Benchmark of what a reload does before it touches anything: read and validate the new file
 * (config_load of a real file, as SIGHUP will) and compare it with the running config
 * (config_diff_build), for N workers of which one changed. The target is under 50 ms to
 * apply a reload of 1,000 workers; this part must be a small fraction of it. Each worker is
 * after= one of the 10 before it and has a socket, environment and shutdown keys, so that the
 * diff compares real sections. Not a timed test: it prints figures, the last lines as key=value.
 *
 *   bench_reload          N = 1,000 and 4,000 (a file is at most 1 MiB: about 5,000 of these)
 *   bench_reload N...     only these
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config-diff.h"
#include "config.h"
#include "util.h"

#define ROUNDS 20

static double
now_ms(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

/* N workers; worker `changed` (if < n) gets another command. */
static int
write_config(const char *path, size_t n, size_t changed)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fprintf(f, "[supervisor]\nname = bench\n\n[shutdown]\nstop_timeout = 20s\n\n"
		   "[intake:http]\nlisten = tcp://127.0.0.1:18080\n\n"
		   "[intake:ready]\ntype = readiness\nlisten = tcp://127.0.0.1:18081\n\n");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "[worker:w%zu]\ncommand = /usr/bin/app --id %zu --port 9%zu%s\n", i, i,
		    i % 1000, i == changed ? " --new" : "");
		fprintf(f, "instances = %zu\nsockets = http\nenvironment = ID=%zu MODE=prod\n",
		    1 + i % 3, i);
		if (i)
			fprintf(f, "after = w%zu\n", i - 1 - (i * 7) % MIN(i, (size_t) 10));
		fprintf(f, "restart = on-failure\nstop_timeout = %zus\n\n", 5 + i % 10);
	}
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

static struct config *
load(const char *path)
{
	struct config_errors errors = {};
	struct config *c = NULL;

	if (config_load(path, &c, &errors) < 0) {
		config_errors_print(&errors, stderr);
		c = NULL;
	}
	config_errors_clear(&errors);
	return c;
}

static int
compare_doubles(const void *x, const void *y)
{
	double a = *(const double *) x, b = *(const double *) y;

	return a < b ? -1 : a > b;
}

static int
run(size_t n, const char *dir)
{
	_cleanup_free_ char *old_path = NULL, *new_path = NULL;
	double load_ms[ROUNDS], diff_ms[ROUNDS], total_ms[ROUNDS];
	struct config *old = NULL;
	int r;

	if (asprintf(&old_path, "%s/old.ini", dir) < 0 || asprintf(&new_path, "%s/new.ini", dir) < 0)
		return -ENOMEM;
	if ((r = write_config(old_path, n, SIZE_MAX)) < 0 ||
	    (r = write_config(new_path, n, n / 2)) < 0)
		return r;
	if (!(old = load(old_path)))
		return -EINVAL;

	for (int k = 0; k < ROUNDS; k++) {
		struct config *new;
		struct config_diff *d = NULL;
		double t0, t1, t2;

		t0 = now_ms();
		new = load(new_path);
		t1 = now_ms();
		if (!new) {
			r = -EINVAL;
			break;
		}
		r = config_diff_build(old, new, &d);
		t2 = now_ms();
		if (r >= 0 && (d->n_by_change[CONFIG_DIFF_WORKERS][CONFIG_CHANGED] != 1 ||
				  d->n_by_change[CONFIG_DIFF_WORKERS][CONFIG_UNCHANGED] != n - 1))
			r = -EBADMSG; /* the diff is wrong: no figure for it */
		config_diff_free(d);
		config_free(new);
		if (r < 0)
			break;
		load_ms[k] = t1 - t0;
		diff_ms[k] = t2 - t1;
		total_ms[k] = t2 - t0;
	}
	config_free(old);
	(void) unlink(old_path);
	(void) unlink(new_path);
	if (r < 0)
		return r;
	/* The median: the machine is shared, and the first round also faults the heap in. */
	qsort(load_ms, ROUNDS, sizeof(double), compare_doubles);
	qsort(diff_ms, ROUNDS, sizeof(double), compare_doubles);
	qsort(total_ms, ROUNDS, sizeof(double), compare_doubles);
	printf("%8zu %12.2f %12.2f %12.2f %12.2f\n", n, load_ms[ROUNDS / 2], diff_ms[ROUNDS / 2],
	    total_ms[ROUNDS / 2], total_ms[ROUNDS - 1]);
	printf("reload_%zu_load_ms=%.2f\nreload_%zu_diff_ms=%.3f\nreload_%zu_load_diff_ms=%.2f\n"
	       "reload_%zu_load_diff_max_ms=%.2f\n",
	    n, load_ms[ROUNDS / 2], n, diff_ms[ROUNDS / 2], n, total_ms[ROUNDS / 2], n,
	    total_ms[ROUNDS - 1]);
	return 0;
}

int
main(int argc, char **argv)
{
	static const size_t sizes[] = { 1000, 4000 };
	size_t n_sizes = argc > 1 ? (size_t) argc - 1 : ELEMENTSOF(sizes);
	char dir[] = "/tmp/graced-bench-reload-XXXXXX";
	int rc = 0;

	if (!mkdtemp(dir)) {
		perror("bench_reload: mkdtemp");
		return 1;
	}
	printf("%8s %12s %12s %12s %12s   (median of %d; max)\n", "workers", "load ms", "diff ms",
	    "load+diff", "max", ROUNDS);
	for (size_t i = 0; i < n_sizes; i++) {
		size_t n = argc > 1 ? strtoul(argv[i + 1], NULL, 10) : sizes[i];
		int r = n ? run(n, dir) : -EINVAL;

		if (r < 0) {
			fprintf(stderr, "bench_reload: %zu workers: %s\n", n, strerror(-r));
			rc = 1;
			break;
		}
	}
	(void) rmdir(dir);
	return rc;
}
