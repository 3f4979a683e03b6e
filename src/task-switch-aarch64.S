/* SPDX-License-Identifier: MIT */

/*
 * void task_context_swap(void **from_sp, void *to_sp)
 *
 * Saves the AAPCS64 callee-saved registers (x19-x28, the frame pointer x29, the link register
 * x30 and the low halves d8-d15 of v8-v15) in a 160-byte frame on the current stack, stores sp
 * in *from_sp, switches to to_sp, restores the frame saved there and returns through its x30.
 */
	.text
	.globl	task_context_swap
	.hidden	task_context_swap
	.type	task_context_swap, %function
	.p2align 4
task_context_swap:
	sub	sp, sp, #160
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mov	x2, sp
	str	x2, [x0]
	mov	sp, x1
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	add	sp, sp, #160
	ret
	.size	task_context_swap, .-task_context_swap

/*
 * First code run on a new stack: calls entry(arg) from x20 and x19 with a zero frame pointer.
 * entry never returns; brk traps if it did.
 */
	.globl	task_context_trampoline
	.hidden	task_context_trampoline
	.type	task_context_trampoline, %function
	.p2align 4
task_context_trampoline:
	mov	x0, x19
	mov	x29, #0
	blr	x20
	brk	#0
	.size	task_context_trampoline, .-task_context_trampoline

	.section .note.GNU-stack, "", %progbits
