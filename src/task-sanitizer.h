/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the task runtime.
 *
 * What AddressSanitizer needs to hear about task stacks: every switch between stacks is
 * announced (start before, finish after), or it takes the new stack for a wild pointer and
 * reports bogus stack-buffer errors; and a reused stack starts unpoisoned. Without ASan these
 * compile to nothing.
 */

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define TASK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TASK_ASAN 1
#endif
#endif

#ifdef TASK_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>

static inline void
fiber_start_switch(void **fake_stack_save, const void *bottom, size_t size)
{
	__sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
}

static inline void
fiber_finish_switch(void *fake_stack_save, const void **bottom_old, size_t *size_old)
{
	__sanitizer_finish_switch_fiber(fake_stack_save, bottom_old, size_old);
}

static inline void
fiber_unpoison(void *p, size_t size)
{
	ASAN_UNPOISON_MEMORY_REGION(p, size);
}
#else
static inline void
fiber_start_switch(void **fake_stack_save, const void *bottom, size_t size)
{
}

static inline void
fiber_finish_switch(void *fake_stack_save, const void **bottom_old, size_t *size_old)
{
}

static inline void
fiber_unpoison(void *p, size_t size)
{
}
#endif
