/* Cooperative context switch: a plain function call from each thread's point of view, so
 * only the callee-saved registers (SysV: rbx rbp r12-r15) and rsp need saving. No CPL 0.
 * The %fs base is switched in C (arch_set_fsbase) only when it differs.
 * MXCSR and the x87 control word are shared by all threads (nobody changes them). */

	.section .text.sched_coop_switch, "ax", @progbits

/* void sched_coop_switch(uint64_t *save_sp, uint64_t new_sp) */
	.globl sched_coop_switch
	.type sched_coop_switch, @function
	.balign 16
sched_coop_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size sched_coop_switch, . - sched_coop_switch

/* First code of a new thread: the switch above "returned" here with r12 = the thread and
 * rbp = 0 (ends frame-pointer backtraces). Calls sched_coop_thread_main(thread), which never
 * returns. */
	.globl sched_coop_thread_start
	.type sched_coop_thread_start, @function
sched_coop_thread_start:
	movq %r12, %rdi
	andq $-16, %rsp
	call sched_coop_thread_main
	ud2
	.size sched_coop_thread_start, . - sched_coop_thread_start

	.section .note.GNU-stack, "", @progbits
