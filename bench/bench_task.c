/* SPDX-License-Identifier: MIT */

/*
 * Benchmarks of the task runtime, side by side with CPython's asyncio (bench/asyncio_tasks.py):
 * N tasks spawned, all blocked on one event, then woken (or cancelled) and joined; context
 * switches, raw and through ucontext; warm spawn+join; resident memory per idle task. Not a
 * timed test: it prints figures, the last lines as key=value.
 *
 *   bench_task            everything
 *   bench_task spawn      only the warm spawn+join loop (for strace -c)
 *   bench_task cold [N]   only one cold round of N tasks woken (for perf)
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <event2/event.h>

#include "task-context.h"
#include "task.h"
#include "util.h"

#ifndef ASYNCIO_SCRIPT
#define ASYNCIO_SCRIPT "bench/asyncio_tasks.py"
#endif

static uint64_t
now_ns(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static void
die(const char *what, int r)
{
	fprintf(stderr, "bench_task: %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(1);
}

/* --- raw context switch: two stacks bouncing through task_context_switch() --- */

#define SWITCHES 5000000L

static struct task_context sw_main, sw_co;
static ucontext_t uc_main, uc_co;

static void
switch_co(void *arg)
{
	for (;;)
		task_context_switch(&sw_co, &sw_main);
}

static double
bench_switch(void)
{
	size_t size = 64 * 1024;
	void *stack = malloc(size);
	uint64_t t0;

	if (!stack)
		die("malloc", ENOMEM);
	task_context_make(&sw_co, stack, size, switch_co, NULL);
	task_context_switch(&sw_main, &sw_co);
	t0 = now_ns();
	for (long i = 0; i < SWITCHES; i++)
		task_context_switch(&sw_main, &sw_co);
	/* Each round trip is two switches. The coroutine is abandoned parked; its stack leaks. */
	return (double) (now_ns() - t0) / (2.0 * SWITCHES);
}

static void
uc_co_main(void)
{
	for (;;)
		(void) swapcontext(&uc_co, &uc_main);
}

static double
bench_switch_ucontext(void)
{
	size_t size = 64 * 1024;
	long n = SWITCHES / 10;
	void *stack = malloc(size);
	uint64_t t0;

	if (!stack)
		die("malloc", ENOMEM);
	(void) getcontext(&uc_co);
	uc_co.uc_stack.ss_sp = stack;
	uc_co.uc_stack.ss_size = size;
	uc_co.uc_link = NULL;
	makecontext(&uc_co, uc_co_main, 0);
	(void) swapcontext(&uc_main, &uc_co);
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		(void) swapcontext(&uc_main, &uc_co);
	return (double) (now_ns() - t0) / (2.0 * n);
}

/* --- through the runtime --- */

struct bench {
	struct event_base *base;
	struct task_runtime *rt;
	struct task_group *g;
	struct task_event ev, ping, pong;
	long n;
	double result;
};

static void
bench_setup(struct bench *b)
{
	int r;

	memset(b, 0, sizeof(*b));
	b->base = event_base_new();
	if (!b->base)
		die("event_base_new", ENOMEM);
	r = task_runtime_new(b->base, &b->rt);
	if (r < 0)
		die("task_runtime_new", r);
	r = task_group_new(b->rt, NULL, "bench", &b->g);
	if (r < 0)
		die("task_group_new", r);
	task_event_init(&b->ev, "go");
	task_event_init(&b->ping, "ping");
	task_event_init(&b->pong, "pong");
}

static void
bench_run(struct bench *b)
{
	int r = task_runtime_run_until(b->rt, b->g, USEC_INFINITY);

	if (r < 0)
		die("task_runtime_run_until", r);
}

static void
bench_teardown(struct bench *b)
{
	size_t pending = task_runtime_shutdown(b->rt);

	if (pending > 0)
		die("tasks pending at exit", EBUSY);
	(void) task_group_free(b->g);
	task_runtime_free(b->rt);
	event_base_free(b->base);
}

static int
empty_task(void *arg)
{
	return 0;
}

static int
spawn_join_task(void *arg)
{
	struct bench *b = arg;
	uint64_t t0 = 0;
	int result;

	/* The first 1000 warm the stack cache and malloc. */
	for (long i = -1000; i < b->n; i++) {
		struct task *t;
		int r;

		if (i == 0)
			t0 = now_ns();
		r = task_spawn(b->g, "empty", empty_task, NULL, &t);
		if (r < 0)
			return r;
		r = task_join(t, USEC_INFINITY, &result);
		if (r < 0)
			return r;
	}
	b->result = (double) (now_ns() - t0) / (double) b->n;
	return 0;
}

static double
bench_spawn_join(long n)
{
	struct bench b;

	bench_setup(&b);
	b.n = n;
	if (task_spawn(b.g, "driver", spawn_join_task, &b, NULL) < 0)
		die("task_spawn", ENOMEM);
	bench_run(&b);
	bench_teardown(&b);
	return b.result;
}

static int
pinger_task(void *arg)
{
	struct bench *b = arg;
	uint64_t t0 = now_ns();

	for (long i = 0; i < b->n; i++) {
		task_event_set(&b->ping);
		if (task_event_wait(&b->pong, USEC_INFINITY) < 0)
			return -EIO;
		task_event_reset(&b->pong);
	}
	/* Two hops (task to task) per round. */
	b->result = (double) (now_ns() - t0) / (2.0 * (double) b->n);
	task_event_set(&b->ping);
	return 0;
}

static int
ponger_task(void *arg)
{
	struct bench *b = arg;

	for (long i = 0; i < b->n; i++) {
		if (task_event_wait(&b->ping, USEC_INFINITY) < 0)
			return -EIO;
		task_event_reset(&b->ping);
		task_event_set(&b->pong);
	}
	return 0;
}

static double
bench_event_pingpong(long n)
{
	struct bench b;

	bench_setup(&b);
	b.n = n;
	if (task_spawn(b.g, "ponger", ponger_task, &b, NULL) < 0 ||
	    task_spawn(b.g, "pinger", pinger_task, &b, NULL) < 0)
		die("task_spawn", ENOMEM);
	bench_run(&b);
	bench_teardown(&b);
	return b.result;
}

/* --- N tasks on one event, the asyncio comparison --- */

struct round {
	double spawn_ms, start_ms, finish_ms, total_ms;
	double rss_per_task;
};

struct many {
	struct bench *b;
	struct task_group *workers;
	bool cancel;
	struct round r;
};

static long
rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * sysconf(_SC_PAGESIZE);
}

static int
waiter_task(void *arg)
{
	struct bench *b = arg;

	return task_event_wait(&b->ev, USEC_INFINITY);
}

static int
many_driver_task(void *arg)
{
	struct many *m = arg;
	struct bench *b = m->b;
	uint64_t t0, t1, t2, t3;
	long rss0, rss1;
	int r;

	task_event_reset(&b->ev);
	rss0 = rss_bytes();
	t0 = now_ns();
	for (long i = 0; i < b->n; i++) {
		r = task_spawn(m->workers, "waiter", waiter_task, b, NULL);
		if (r < 0)
			return r;
	}
	t1 = now_ns();
	/* Our yield runs after every spawned task had its first step and blocked. */
	r = task_yield();
	if (r < 0)
		return r;
	t2 = now_ns();
	rss1 = rss_bytes();
	if (m->cancel)
		task_group_cancel(m->workers);
	else
		task_event_set(&b->ev);
	r = task_group_join(m->workers, USEC_INFINITY);
	if (r < 0)
		return r;
	t3 = now_ns();
	m->r.spawn_ms = (double) (t1 - t0) / 1e6;
	m->r.start_ms = (double) (t2 - t1) / 1e6;
	m->r.finish_ms = (double) (t3 - t2) / 1e6;
	m->r.total_ms = (double) (t3 - t0) / 1e6;
	m->r.rss_per_task = (double) (rss1 - rss0) / (double) b->n;
	return 0;
}

static struct round
many_round(struct bench *b, bool cancel)
{
	struct many m = { .b = b, .cancel = cancel };
	int r;

	r = task_group_new(b->rt, b->g, cancel ? "cancelled" : "woken", &m.workers);
	if (r < 0)
		die("task_group_new", r);
	r = task_spawn(b->g, "driver", many_driver_task, &m, NULL);
	if (r < 0)
		die("task_spawn", r);
	bench_run(b);
	if (m.r.total_ms == 0)
		die("driver failed", EIO);
	(void) task_group_free(m.workers);
	return m.r;
}

struct asyncio_result {
	bool ok;
	double cold[2], steady[2]; /* [wake, cancel] total ms */
};

static struct asyncio_result
run_asyncio(long n)
{
	struct asyncio_result a = { 0 };
	char cmd[512], line[256];
	FILE *p;

	(void) snprintf(cmd, sizeof(cmd), "python3 '%s' %ld 2>/dev/null", ASYNCIO_SCRIPT, n);
	p = popen(cmd, "re");
	if (!p)
		return a;
	while (fgets(line, sizeof(line), p)) {
		double v;

		if (sscanf(line, "wake_cold_ms=%lf", &v) == 1)
			a.cold[0] = v;
		else if (sscanf(line, "cancel_cold_ms=%lf", &v) == 1)
			a.cold[1] = v;
		else if (sscanf(line, "wake_steady_ms=%lf", &v) == 1)
			a.steady[0] = v;
		else if (sscanf(line, "cancel_steady_ms=%lf", &v) == 1)
			a.steady[1] = v;
		fputs("    asyncio: ", stdout);
		fputs(line, stdout);
	}
	a.ok = pclose(p) == 0 && a.steady[0] > 0 && a.steady[1] > 0;
	return a;
}

static void
print_round(const char *what, const struct round *r)
{
	printf("    %-16s spawn %8.2f ms  first step %8.2f ms  wake/cancel+join %8.2f ms  "
	       "total %8.2f ms  rss/task %6.0f B\n",
	    what, r->spawn_ms, r->start_ms, r->finish_ms, r->total_ms, r->rss_per_task);
}

/* Returns the steady-state ratio (asyncio / graced), the worse of wake and cancel. */
static double
bench_many(long n, double *ret_rss)
{
	struct round cold[2], steady[2];
	struct asyncio_result a;
	struct bench b;
	double ratio = 0;

	printf("%ld tasks on one event, spawned, woken or cancelled, joined:\n", n);
	bench_setup(&b);
	b.n = n;
	/* Steady state means every stack comes from the warm cache. */
	task_runtime_set_stack_cache(b.rt, (size_t) n + 16);
	cold[0] = many_round(&b, false);
	print_round("graced wake cold", &cold[0]);
	steady[0] = many_round(&b, false);
	print_round("graced wake", &steady[0]);
	bench_teardown(&b);

	bench_setup(&b);
	b.n = n;
	task_runtime_set_stack_cache(b.rt, (size_t) n + 16);
	cold[1] = many_round(&b, true);
	print_round("graced cancel cold", &cold[1]);
	steady[1] = many_round(&b, true);
	print_round("graced cancel", &steady[1]);
	bench_teardown(&b);

	a = run_asyncio(n);
	if (a.ok) {
		double rw = a.steady[0] / steady[0].total_ms, rc = a.steady[1] / steady[1].total_ms;

		ratio = rw < rc ? rw : rc;
		printf("    ratio asyncio/graced: wake %.1fx, cancel %.1fx (cold: %.1fx, %.1fx)\n",
		    rw, rc, a.cold[0] / cold[0].total_ms, a.cold[1] / cold[1].total_ms);
	} else
		printf("    asyncio: python3 or %s not available, no ratio\n", ASYNCIO_SCRIPT);
	*ret_rss = cold[0].rss_per_task;
	return ratio;
}

int
main(int argc, char **argv)
{
	double sw, swu, pp, sj, ratio10k, ratio100k, rss10k, rss100k;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && streq(argv[1], "cold")) {
		struct bench b;
		struct round r;

		bench_setup(&b);
		b.n = argc > 2 ? atol(argv[2]) : 10000;
		r = many_round(&b, false);
		print_round("graced wake cold", &r);
		bench_teardown(&b);
		return 0;
	}
	if (argc > 1 && streq(argv[1], "spawn")) {
		printf("warm_spawn_join_ns=%.1f\n", bench_spawn_join(1000000));
		return 0;
	}

#ifdef TASK_CONTEXT_UCONTEXT
	printf("context switch: built with --with-context=ucontext, the runtime switches with it\n");
#endif
	sw = bench_switch();
	swu = bench_switch_ucontext();
	printf("context switch (one direction, raw): %.1f ns runtime's, %.1f ns swapcontext()\n", sw,
	    swu);
	pp = bench_event_pingpong(1000000);
	printf("task to task through an event (wake, queue, two switches): %.1f ns per hop\n", pp);
	sj = bench_spawn_join(1000000);
	printf("warm spawn+join of an empty task: %.1f ns\n", sj);
	ratio10k = bench_many(10000, &rss10k);
	ratio100k = bench_many(100000, &rss100k);

	printf("switch_ns=%.1f\n", sw);
	printf("switch_ucontext_ns=%.1f\n", swu);
	printf("event_hop_ns=%.1f\n", pp);
	printf("warm_spawn_join_ns=%.1f\n", sj);
	printf("asyncio_ratio_10k=%.1f\n", ratio10k);
	printf("asyncio_ratio_100k=%.1f\n", ratio100k);
	printf("rss_per_task_bytes=%.0f\n", rss100k);
	printf("rss_per_task_10k_bytes=%.0f\n", rss10k);
	return 0;
}
