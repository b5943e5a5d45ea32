/* The fast path into the dispatcher. At link time the build rewrites each
 *     movl $N, %eax ; syscall          (b8 imm32 0f 05, 7 bytes)
 * in the app's code (found by objdump, never by a byte search) into
 *     call kiln_syscall_thunks + 16*N ; 2-byte nop
 * (src/build/fastpath.ts). Thunk N sets %eax = N (as the mov did) and jumps to
 * kiln_syscall_fast, which keeps the syscall ABI: every register but rax, rcx and r11 is
 * preserved, xmm0-15 too (the caller may hold values there across the instruction, and the C
 * dispatcher may use them), and the caller's red zone is skipped. Unlike the LSTAR stub it
 * saves no x87 state: the kernel's C code never uses x87 or changes MXCSR. */
	.section .text.kiln_syscall_fast, "axR", @progbits
	.globl kiln_syscall_fast
	.type kiln_syscall_fast, @function
	.balign 16
kiln_syscall_fast:
	leaq -128(%rsp), %rsp		/* below the caller's red zone (the call wrote 8 bytes of it: */
					/* the build rewrites only functions that do not use theirs) */
	pushq %rbp
	movq %rsp, %rbp
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %r10
	pushq %r8
	pushq %r9
	andq $-16, %rsp
	subq $256, %rsp
	movaps %xmm0, 0(%rsp)
	movaps %xmm1, 16(%rsp)
	movaps %xmm2, 32(%rsp)
	movaps %xmm3, 48(%rsp)
	movaps %xmm4, 64(%rsp)
	movaps %xmm5, 80(%rsp)
	movaps %xmm6, 96(%rsp)
	movaps %xmm7, 112(%rsp)
	movaps %xmm8, 128(%rsp)
	movaps %xmm9, 144(%rsp)
	movaps %xmm10, 160(%rsp)
	movaps %xmm11, 176(%rsp)
	movaps %xmm12, 192(%rsp)
	movaps %xmm13, 208(%rsp)
	movaps %xmm14, 224(%rsp)
	movaps %xmm15, 240(%rsp)
	subq $8, %rsp
	pushq %r9			/* a6: the 7th C argument */
	movq %r8, %r9
	movq %r10, %r8
	movq %rdx, %rcx
	movq %rsi, %rdx
	movq %rdi, %rsi
	movq %rax, %rdi			/* the number */
	call kiln_syscall_dispatch
	/* posix-thread's clone finds this return address on the stack: it then knows the frame
	 * (the caller's rbp at 0(%rbp), its return address at 136(%rbp)). Keep them in step. */
	.globl kiln_syscall_fast_ret
kiln_syscall_fast_ret:
	addq $16, %rsp
	movaps 0(%rsp), %xmm0
	movaps 16(%rsp), %xmm1
	movaps 32(%rsp), %xmm2
	movaps 48(%rsp), %xmm3
	movaps 64(%rsp), %xmm4
	movaps 80(%rsp), %xmm5
	movaps 96(%rsp), %xmm6
	movaps 112(%rsp), %xmm7
	movaps 128(%rsp), %xmm8
	movaps 144(%rsp), %xmm9
	movaps 160(%rsp), %xmm10
	movaps 176(%rsp), %xmm11
	movaps 192(%rsp), %xmm12
	movaps 208(%rsp), %xmm13
	movaps 224(%rsp), %xmm14
	movaps 240(%rsp), %xmm15
	leaq -48(%rbp), %rsp
	popq %r9
	popq %r8
	popq %r10
	popq %rdx
	popq %rsi
	popq %rdi
	popq %rbp
	leaq 128(%rsp), %rsp
	ret
	.size kiln_syscall_fast, . - kiln_syscall_fast

/* Thunk N at kiln_syscall_thunks + 16*N: movl $N, %eax; jmp kiln_syscall_fast. */
	.section .text.kiln_syscall_thunks, "axR", @progbits	/* R: kept by --gc-sections (the build calls it) */
	.globl kiln_syscall_thunks
	.type kiln_syscall_thunks, @function
	.balign 16
kiln_syscall_thunks:
	.set nr, 0
	.rept 451
	.balign 16
	movl $nr, %eax
	jmp kiln_syscall_fast
	.set nr, nr + 1
	.endr
	.size kiln_syscall_thunks, . - kiln_syscall_thunks
	.globl kiln_syscall_thunks_end
kiln_syscall_thunks_end:

/* For sites whose number is in a register (musl's syscall(), __syscall_cp): the build rewrites
 *     movq %REG, %rax ; syscall      (3 + 2 bytes)
 * into `call kiln_syscall_reg_thunks + 16*R`, R being REG's number in the ModRM encoding
 * (rcx 1, rdx 2, rbx 3, rbp 5, rsi 6, rdi 7, r8-r15 8-15; 0 and 4 are unused). */
	.globl kiln_syscall_reg_thunks
	.type kiln_syscall_reg_thunks, @function
	.balign 16
kiln_syscall_reg_thunks:
	.irp reg, rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15
	.balign 16
	movq %\reg, %rax
	jmp kiln_syscall_fast
	.endr
	.size kiln_syscall_reg_thunks, . - kiln_syscall_reg_thunks

	.section .note.GNU-stack, "", @progbits
