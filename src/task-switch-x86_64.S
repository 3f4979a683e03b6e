/* SPDX-License-Identifier: MIT */

/*
 * void task_context_swap(void **from_sp, void *to_sp)
 *
 * Saves the System V callee-saved registers (rbx, rbp, r12-r15) on the current stack, stores the
 * stack pointer in *from_sp, switches to to_sp and restores the registers saved there. The
 * return address pushed by our caller is the resume point. Caller-saved registers need no care:
 * the caller already assumes a call clobbers them.
 */
	.text
	.globl	task_context_swap
	.hidden	task_context_swap
	.type	task_context_swap, @function
	.p2align 4
task_context_swap:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.cfi_endproc
	.size	task_context_swap, .-task_context_swap

/*
 * First code run on a new stack (task_context_make() puts its address where the swap's ret
 * finds it): calls entry(arg) from r13 and r12. entry never returns; ud2 traps if it did.
 */
	.globl	task_context_trampoline
	.hidden	task_context_trampoline
	.type	task_context_trampoline, @function
	.p2align 4
task_context_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	movq	%r12, %rdi
	callq	*%r13
	ud2
	.cfi_endproc
	.size	task_context_trampoline, .-task_context_trampoline

	.section .note.GNU-stack, "", @progbits
