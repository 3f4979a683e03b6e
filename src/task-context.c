/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdlib.h>

#include "task-context.h"

#ifdef TASK_CONTEXT_UCONTEXT

/*
 * makecontext() passes only int arguments: the entry point and its argument travel in a small
 * block at the top of the new stack, whose address is split into two 32-bit halves.
 */
struct ucontext_start {
	void (*entry)(void *);
	void *arg;
};

static void
ucontext_start(unsigned int hi, unsigned int lo)
{
	struct ucontext_start *s = (struct ucontext_start *) (((uintptr_t) hi << 32) | lo);

	s->entry(s->arg);
	/* entry() ends by switching away for good. */
	abort();
}

void
task_context_make(struct task_context *ctx, void *stack, size_t size, void (*entry)(void *),
    void *arg)
{
	uintptr_t top =
	    ((uintptr_t) stack + size - sizeof(struct ucontext_start)) & ~(uintptr_t) 15;
	struct ucontext_start *s = (struct ucontext_start *) top;

	s->entry = entry;
	s->arg = arg;
	/* getcontext() cannot fail for a valid pointer. */
	(void) getcontext(&ctx->uc);
	ctx->uc.uc_stack.ss_sp = stack;
	ctx->uc.uc_stack.ss_size = top - (uintptr_t) stack;
	ctx->uc.uc_link = NULL;
	makecontext(&ctx->uc, (void (*)(void)) ucontext_start, 2,
	    (unsigned int) ((uint64_t) top >> 32), (unsigned int) (top & 0xffffffffU));
}

#else

/* In task-switch-<cpu>.S: moves the registers prepared below into place and calls entry(arg). */
void task_context_trampoline(void);

void
task_context_make(struct task_context *ctx, void *stack, size_t size, void (*entry)(void *),
    void *arg)
{
	uintptr_t top = ((uintptr_t) stack + size) & ~(uintptr_t) 15;
	void **frame;

#if defined(__x86_64__)
	/*
	 * The frame task_context_swap() pops: r15 r14 r13 r12 rbx rbp, then the return address.
	 * r13 and r12 carry entry and arg into the trampoline. After the ret, rsp is 16-byte
	 * aligned, as the trampoline's call needs.
	 */
	frame = (void **) (top - 16 - 7 * sizeof(void *));
	frame[0] = NULL;		/* r15 */
	frame[1] = NULL;		/* r14 */
	frame[2] = (void *) entry;	/* r13 */
	frame[3] = arg;			/* r12 */
	frame[4] = NULL;		/* rbx */
	frame[5] = NULL;		/* rbp: ends frame-pointer walks */
	frame[6] = (void *) task_context_trampoline;
#elif defined(__aarch64__)
	/*
	 * The 160-byte frame task_context_swap() loads: x19..x28, x29, x30, d8..d15. x19 and x20
	 * carry arg and entry, x30 (the link register) is where its ret goes.
	 */
	frame = (void **) (top - 160);
	for (size_t i = 0; i < 20; i++)
		frame[i] = NULL;
	frame[0] = arg;			/* x19 */
	frame[1] = (void *) entry;	/* x20 */
	frame[11] = (void *) task_context_trampoline; /* x30 */
#else
#error "no hand-written context switch for this CPU; configure --with-context=ucontext"
#endif
	ctx->sp = frame;
}

#endif
