/* The two register-level halves of clone (thread.c explains the design).
 *
 * posix_thread_sys_clone is clone's handler as the dispatcher calls it. kiln_syscall_dispatch
 * ends in a tail call (`return fn(...)` compiles to a jmp after its epilogue), so on entry
 * here rbx, r12-r15 still hold the app's values (the syscall stubs never touch them), rbp is
 * the stub's frame pointer and (%rsp) is the return address into the stub. These are stored
 * in posix_thread_entry_regs for the C handler (one CPU, cooperative: nothing runs between
 * here and the C handler's copy), which checks the return address against the stubs' labels
 * and refuses the call when it is anything else (a dispatcher that stopped tail-calling). */
	.section .text.posix_thread_sys_clone, "ax", @progbits
	.globl posix_thread_sys_clone
	.type posix_thread_sys_clone, @function
posix_thread_sys_clone:
	movq %rbx, posix_thread_entry_regs+0(%rip)
	movq %r12, posix_thread_entry_regs+8(%rip)
	movq %r13, posix_thread_entry_regs+16(%rip)
	movq %r14, posix_thread_entry_regs+24(%rip)
	movq %r15, posix_thread_entry_regs+32(%rip)
	movq %rbp, posix_thread_entry_regs+40(%rip)
	movq (%rsp), %rax
	movq %rax, posix_thread_entry_regs+48(%rip)
	jmp posix_thread_clone		/* the same six arguments */
	.size posix_thread_sys_clone, . - posix_thread_sys_clone

/* _Noreturn void posix_thread_enter(const struct posix_uregs *r): the child's return from
 * clone. Loads every register of *r (layout in thread.c), rax = 0, and jumps to r->rip with
 * rsp = r->rsp, as if the syscall instruction had just completed in the child. rcx and r11 are
 * what `syscall` leaves there (the return address, rflags), as Linux. */
	.section .text.posix_thread_enter, "ax", @progbits
	.globl posix_thread_enter
	.type posix_thread_enter, @function
posix_thread_enter:
	movq 0(%rdi), %rbx
	movq 8(%rdi), %r12
	movq 16(%rdi), %r13
	movq 24(%rdi), %r14
	movq 32(%rdi), %r15
	movq 40(%rdi), %rbp
	movq 56(%rdi), %rsi
	movq 64(%rdi), %rdx
	movq 72(%rdi), %r10
	movq 80(%rdi), %r8
	movq 88(%rdi), %r9
	movq 96(%rdi), %rsp
	movq 48(%rdi), %rcx		/* rip */
	pushfq
	popq %r11
	movq 104(%rdi), %rdi
	xorl %eax, %eax
	jmp *%rcx
	.size posix_thread_enter, . - posix_thread_enter

	.section .note.GNU-stack, "", @progbits
