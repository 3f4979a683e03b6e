/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the task runtime.
 *
 * Task stacks: fixed-size, each with a guard page below it, carved from chunk mappings and kept
 * in a warm LIFO cache when freed. See task.h for the vm.max_map_count decision.
 */

#include <stdbool.h>
#include <stddef.h>

struct task_stack {
	void *lo; /* lowest usable byte; the guard page is right below */
	size_t size;
	struct task_stack *next; /* free list */
	bool warm;		 /* has been used and still holds its pages */
	unsigned valgrind_id;
};

struct task_stack_pool;

/* size is rounded up to whole pages; cache is how many freed stacks stay warm. */
int task_stack_pool_new(size_t size, size_t cache, struct task_stack_pool **ret);
/* Unmaps everything, stacks in use included. Returns NULL. */
struct task_stack_pool *task_stack_pool_free(struct task_stack_pool *p);
void task_stack_pool_set_cache(struct task_stack_pool *p, size_t cache);
size_t task_stack_pool_stack_size(const struct task_stack_pool *p);
/* -ENOMEM (mmap failed) or -EAGAIN (mapping budget spent); task_stack_pool_error() says why. */
int task_stack_get(struct task_stack_pool *p, struct task_stack **ret);
void task_stack_put(struct task_stack_pool *p, struct task_stack *s);
/* Makes sure n stacks are cached with their top page faulted in. */
int task_stack_prefault(struct task_stack_pool *p, size_t n);
const char *task_stack_pool_error(const struct task_stack_pool *p);
/* Caps the mappings stacks may take (default: half of vm.max_map_count) and, with
 * force_mprotect, makes guard pages with mprotect() as kernels before 6.13 must. */
void task_stack_pool_limit(struct task_stack_pool *p, size_t max_mappings, bool force_mprotect);
/* Mappings the pool has created (an estimate of its share of /proc/self/maps). */
size_t task_stack_pool_mappings(const struct task_stack_pool *p);
