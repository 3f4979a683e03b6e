/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if HAVE_VALGRIND_VALGRIND_H
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#endif

#include "macro.h"
#include "task-sanitizer.h"
#include "task-stack.h"

/* Linux >= 6.13; glibc 2.36's headers do not know it yet. */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

/* Linux >= 5.14. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Stacks per chunk mapping: 64 x (64 KiB + 4 KiB) is 4.25 MiB of address space, no memory. */
#define CHUNK_STACKS 64

enum guard_mode {
	GUARD_UNKNOWN,
	GUARD_MADVISE,	/* page-table guard markers: one mapping per chunk */
	GUARD_MPROTECT, /* PROT_NONE pages: two mappings per stack */
};

struct chunk {
	struct chunk *next;
	void *mem;
	size_t len;
	struct task_stack stacks[CHUNK_STACKS];
};

struct task_stack_pool {
	size_t page;
	size_t size; /* usable bytes per stack */
	size_t cache_max;
	size_t warm;
	struct task_stack *free; /* warm ones first, LIFO */
	struct task_stack *free_cold;
	struct chunk *chunks;
	enum guard_mode guard;
	bool no_populate;
	size_t mappings;	/* created by us */
	size_t mapping_budget;	/* how many we allow ourselves */
	size_t max_map_count;
	char error[256];
};

static size_t
read_max_map_count(void)
{
	unsigned long v = 0;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	/* The kernel's default when /proc is not there to ask. */
	return v > 0 ? (size_t) v : 65530;
}

int
task_stack_pool_new(size_t size, size_t cache, struct task_stack_pool **ret)
{
	struct task_stack_pool *p;
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0)
		page = 4096;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->page = (size_t) page;
	p->size = (size + p->page - 1) / p->page * p->page;
	if (p->size < 4 * p->page)
		p->size = 4 * p->page;
	p->cache_max = cache;
	p->max_map_count = read_max_map_count();
	/* Half of the process's mappings for stacks; libc, libevent, malloc and the supervisor's
	 * own files get the rest. */
	p->mapping_budget = p->max_map_count / 2;
	*ret = p;
	return 0;
}

struct task_stack_pool *
task_stack_pool_free(struct task_stack_pool *p)
{
	if (!p)
		return NULL;
	while (p->chunks) {
		struct chunk *c = p->chunks;

		p->chunks = c->next;
#if HAVE_VALGRIND_VALGRIND_H
		for (size_t i = 0; i < CHUNK_STACKS; i++)
			VALGRIND_STACK_DEREGISTER(c->stacks[i].valgrind_id);
#endif
		(void) munmap(c->mem, c->len);
		free(c);
	}
	free(p);
	return NULL;
}

void
task_stack_pool_set_cache(struct task_stack_pool *p, size_t cache)
{
	p->cache_max = cache;
}

size_t
task_stack_pool_stack_size(const struct task_stack_pool *p)
{
	return p->size;
}

const char *
task_stack_pool_error(const struct task_stack_pool *p)
{
	return p->error;
}

size_t
task_stack_pool_mappings(const struct task_stack_pool *p)
{
	return p->mappings;
}

void
task_stack_pool_limit(struct task_stack_pool *p, size_t max_mappings, bool force_mprotect)
{
	p->mapping_budget = max_mappings;
	if (force_mprotect)
		p->guard = GUARD_MPROTECT;
}

static int
guard_install(struct task_stack_pool *p, void *guard)
{
	if (p->guard != GUARD_MPROTECT) {
		if (madvise(guard, p->page, MADV_GUARD_INSTALL) == 0) {
			p->guard = GUARD_MADVISE;
			return 0;
		}
		/* EINVAL: a kernel before 6.13. Anything else is as unexpected, and mprotect() gives
		 * the same protection. */
		if (p->guard == GUARD_MADVISE)
			return -errno;
		p->guard = GUARD_MPROTECT;
	}
	if (mprotect(guard, p->page, PROT_NONE) < 0)
		return -errno;
	return 0;
}

/*
 * Faults in the top page of a stack, where every task's first frames go. A page fault costs
 * several microseconds (tens in some VMs); one madvise() per stack at chunk creation is much
 * cheaper than the trap on first use. Best effort: the page faults in later otherwise.
 */
static void
populate_top(struct task_stack_pool *p, struct task_stack *s)
{
	if (p->no_populate)
		return;
	if (madvise((char *) s->lo + s->size - p->page, p->page, MADV_POPULATE_WRITE) < 0)
		p->no_populate = errno == EINVAL;
}

static int
chunk_add(struct task_stack_pool *p)
{
	size_t slot = p->page + p->size;
	size_t cost = p->guard == GUARD_MPROTECT ? 2 * CHUNK_STACKS : 1;
	struct chunk *c;
	int r;

	if (p->mappings + cost > p->mapping_budget) {
		(void) snprintf(p->error, sizeof(p->error),
		    "no more task stacks: guard pages made with mprotect() take 2 mappings per stack "
		    "(kernel without MADV_GUARD_INSTALL), %zu of the %zu allowed (half of "
		    "vm.max_map_count=%zu) are used; raise vm.max_map_count or use Linux >= 6.13",
		    p->mappings, p->mapping_budget, p->max_map_count);
		return -EAGAIN;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto oom;
	c->len = slot * CHUNK_STACKS;
	/* MAP_NORESERVE: address space only; pages arrive on first touch. */
	c->mem = mmap(NULL, c->len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c->mem == MAP_FAILED) {
		r = -errno;
		free(c);
		(void) snprintf(p->error, sizeof(p->error),
		    "cannot map %zu bytes for task stacks: %s", slot * CHUNK_STACKS, strerror(-r));
		return r == -EAGAIN ? r : -ENOMEM;
	}
	for (size_t i = 0; i < CHUNK_STACKS; i++) {
		struct task_stack *s = &c->stacks[i];
		char *guard = (char *) c->mem + i * slot;

		r = guard_install(p, guard);
		if (r < 0) {
			(void) munmap(c->mem, c->len);
			free(c);
			(void) snprintf(p->error, sizeof(p->error),
			    "cannot install a guard page below a task stack: %s", strerror(-r));
			return r == -ENOMEM ? r : -EAGAIN;
		}
		s->lo = guard + p->page;
		s->size = p->size;
		populate_top(p, s);
	}
#if HAVE_VALGRIND_VALGRIND_H
	for (size_t i = 0; i < CHUNK_STACKS; i++) {
		struct task_stack *s = &c->stacks[i];

		s->valgrind_id = VALGRIND_STACK_REGISTER(s->lo, (char *) s->lo + s->size);
	}
#endif
	/* Lowest address last, so they are handed out top-down like the kernel places mmaps. */
	for (size_t i = 0; i < CHUNK_STACKS; i++) {
		c->stacks[i].next = p->free_cold;
		p->free_cold = &c->stacks[i];
	}
	p->mappings += p->guard == GUARD_MPROTECT ? 2 * CHUNK_STACKS : 1;
	c->next = p->chunks;
	p->chunks = c;
	return 0;

oom:
	(void) snprintf(p->error, sizeof(p->error), "out of memory for a task stack chunk");
	return -ENOMEM;
}

/* A stack from the cold list, mapping a new chunk when it is empty. */
static int
pop_cold(struct task_stack_pool *p, struct task_stack **ret)
{
	int r;

	if (!p->free_cold && (r = chunk_add(p)) < 0)
		return r;
	*ret = p->free_cold;
	p->free_cold = (*ret)->next;
	return 0;
}

int
task_stack_get(struct task_stack_pool *p, struct task_stack **ret)
{
	struct task_stack *s;

	if (_likely_(p->free)) {
		s = p->free;
		p->free = s->next;
		p->warm--;
#if HAVE_VALGRIND_VALGRIND_H
		/* memcheck marked the ended task's frames no-access as its stack pointer rose; the
		 * spawner writes the new task's first frame there. */
		VALGRIND_MAKE_MEM_UNDEFINED(s->lo, s->size);
#endif
		*ret = s;
		return 0;
	}
	return pop_cold(p, ret);
}

void
task_stack_put(struct task_stack_pool *p, struct task_stack *s)
{
	/* Under ASan the last frames of the ended task stay poisoned; the next task must not trip
	 * on them. */
	fiber_unpoison(s->lo, s->size);
	if (_likely_(p->warm < p->cache_max)) {
		s->warm = true;
		s->next = p->free;
		p->free = s;
		p->warm++;
		return;
	}
	/* Over the cache: give the memory back, keep the address range for later. */
	(void) madvise(s->lo, s->size, MADV_DONTNEED);
	s->warm = false;
	s->next = p->free_cold;
	p->free_cold = s;
}

int
task_stack_prefault(struct task_stack_pool *p, size_t n)
{
	while (p->warm < n) {
		struct task_stack *s;
		int r;

		if ((r = pop_cold(p, &s)) < 0)
			return r;
		/* The top page holds the first frames of every task. */
		populate_top(p, s);
		((volatile char *) s->lo)[s->size - 1] = 0;
		s->warm = true;
		s->next = p->free;
		p->free = s;
		p->warm++;
	}
	return 0;
}
