/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: the task runtime.
 *
 * The context switch of the task runtime, one job: save the callee-saved registers of the
 * running stack and resume another one. x86-64 and aarch64 use task-switch-*.S (a switch is a
 * few pushes and pops, no system call); other CPUs, or --with-context=ucontext, use
 * makecontext()/swapcontext(), which also saves the signal mask with a system call per switch.
 *
 * The hand-written switches do not save MXCSR and the x87 control word: graced never changes
 * the rounding mode or exception masks, so every stack sees the same values.
 */

#include <stddef.h>

#ifdef TASK_CONTEXT_UCONTEXT
#include <ucontext.h>

struct task_context {
	ucontext_t uc;
};
#else
struct task_context {
	void *sp;
};

/* In task-switch-<cpu>.S: pushes the callee-saved registers, stores the stack pointer in
 * *from_sp, loads to_sp and pops what it saved there. */
void task_context_swap(void **from_sp, void *to_sp);
#endif

/* Prepares ctx to call entry(arg) on the stack [stack, stack + size). entry must never return:
 * it ends by switching away for the last time. */
void task_context_make(struct task_context *ctx, void *stack, size_t size, void (*entry)(void *),
    void *arg);

static inline void
task_context_switch(struct task_context *from, struct task_context *to)
{
#ifdef TASK_CONTEXT_UCONTEXT
	/* Only fails for an invalid context, which would be our bug. */
	(void) swapcontext(&from->uc, &to->uc);
#else
	task_context_swap(&from->sp, to->sp);
#endif
}
