/* arch_setjmp / arch_longjmp: save and resume a CPL-3 context (callee-saved registers, stack,
 * return address), as setjmp/longjmp do. The guest tests use them to come back from a fault
 * they provoke on purpose (<test/test.h> kt_catch_fault). Plain CPL-3 code. */
	.section .text.arch_setjmp, "ax", @progbits
	.globl arch_setjmp
	.type arch_setjmp, @function
arch_setjmp:				/* int (struct arch_jmp_buf *b) */
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	leaq 8(%rsp), %rax		/* the caller's rsp after this returns */
	movq %rax, 48(%rdi)
	movq (%rsp), %rax		/* the return address */
	movq %rax, 56(%rdi)
	xorl %eax, %eax
	ret
	.size arch_setjmp, . - arch_setjmp

	.section .text.arch_longjmp, "ax", @progbits
	.globl arch_longjmp
	.type arch_longjmp, @function
arch_longjmp:				/* _Noreturn void (struct arch_jmp_buf *b, int v) */
	movl %esi, %eax
	testl %eax, %eax
	jnz 1f
	incl %eax			/* setjmp never appears to return 0 twice */
1:	movq 0(%rdi), %rbx
	movq 8(%rdi), %rbp
	movq 16(%rdi), %r12
	movq 24(%rdi), %r13
	movq 32(%rdi), %r14
	movq 40(%rdi), %r15
	movq 48(%rdi), %rsp
	jmp *56(%rdi)
	.size arch_longjmp, . - arch_longjmp

	.section .note.GNU-stack, "", @progbits
