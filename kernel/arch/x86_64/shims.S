/* The only code that runs at CPL 0 after boot: one 16-byte stub per vector and a few shims,
 * asm only, no SSE (kvm-pvm cannot emulate it at CPL 0 and emulates everything else at
 * ~1-1.5 us an instruction, an entry and iretq 6-8 us).
 *
 *   0-31     exceptions: save state, iretq to the CPL-3 trap handler (never returns)
 *   4        the shim gate (int $4, DPL 3): command in %r11, see <arch/cpu.h>
 *   3        int3 (DPL 3): reported as a breakpoint
 *   32-95    interrupts: set the pending bit, count, EOI the xAPIC, iretq
 *   255      LAPIC spurious: iretq
 *   others   reported as an unexpected vector (int $N from CPL 3 is #GP under TCG and
 *            hardware: the gates are DPL 0; kvm-pvm makes it #UD)
 *
 * Every frame that returns to CPL 3 has IOPL 0 and IF 0: ports are allowed only by the TSS
 * I/O bitmap, and interrupts are taken only inside the idle shim, on every accelerator alike.
 */
#include "x86_64.h"

/* Every return clears IF and IOPL in the frame it returns through: kvm-pvm pushes the host's
 * flags (IF 1) for an event from CPL 3, and returning them as they are would turn interrupts
 * on at CPL 3 (found on kvm-pvm; TCG pushes the real IF 0). An interrupt nested in the idle
 * shim returns with IF 0 too: the shim then returns at once. One instruction per return. */
#define RETURN_IF0 andq $~(RFLAGS_IF | RFLAGS_IOPL), 16(%rsp); iretq

	.section .text.kiln_shims, "ax", @progbits
	.code64
	.balign VECTOR_STUB_SIZE
	.globl kiln_vector_stubs
kiln_vector_stubs:
	vec = 0
	.rept 256
	.balign VECTOR_STUB_SIZE
	.if vec == SHIM_VECTOR
	andl $(SHIM_TABLE_SIZE - 1), %r11d
	jmp *kiln_shim_table(, %r11, 8)
	.elseif vec < 32
	.if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	/* the CPU pushed an error code */
	.else
	pushq $0
	.endif
	pushq $vec
	jmp kiln_exc_common
	.elseif vec <= 95
	pushq %rax
	movl $(vec - 32), %eax
	jmp kiln_irq_common
	.elseif vec == 255
	RETURN_IF0
	.else
	pushq $0
	pushq $vec
	jmp kiln_exc_common
	.endif
	vec = vec + 1
	.endr
	.balign VECTOR_STUB_SIZE
kiln_vector_stubs_end:

kiln_irq_common:
	lock btsq %rax, kiln_irq_pending(%rip)
	incq kiln_cpl0_irqs(%rip)
	movl $LAPIC_EOI_ADDR, %eax
	movl $0, (%rax)
	popq %rax
	RETURN_IF0

/* The shims. Each is entered from the gate stub (2 instructions) and is a handful more. */

/* A command outside the table: reported like an exception (vector 4, error = command). */
kiln_shim_bad:
	pushq %r11
	pushq $SHIM_VECTOR
	jmp kiln_exc_common

/* sti's interrupt shadow makes `sti; hlt` atomic: an interrupt already pending wakes the hlt.
 * The interrupt's stub runs nested here (IF 1); the return makes IF 0 again. */
kiln_shim_idle:
	sti
	hlt
	RETURN_IF0

kiln_shim_wrmsr:
	wrmsr
	RETURN_IF0

kiln_shim_rdmsr:
	rdmsr
	RETURN_IF0

/* rdi = first page, rsi = pages (at least 1: the C wrapper checks). */
kiln_shim_invlpg:
1:	invlpg (%rdi)
	addq $4096, %rdi
	decq %rsi
	jnz 1b
	RETURN_IF0

/* Every non-global translation (the build's tables have no global pages). */
kiln_shim_flush_tlb:
	movq %cr3, %rax
	movq %rax, %cr3
	RETURN_IF0

kiln_shim_halt:
	cli
1:	hlt
	jmp 1b

/* rdi = CR4; esi != 0: also XCR0 = edx:eax (ecx = 0). */
kiln_shim_cpu_setup:
	movq %rdi, %cr4
	testl %esi, %esi
	jz 1f
	xsetbv
1:	RETURN_IF0

/* Stack: vector, error, rip, cs, rflags, rsp, ss. Saves everything into kiln_trap_frame and
 * iretqs to kiln_trap_cpl3 on the trap stack; the faulting context is never resumed (a test
 * that catches a fault jumps back to its own saved context from there, at CPL 3). */
kiln_exc_common:
	cmpb $0, kiln_trap_active(%rip)
	jne kiln_exc_nested
	movb $1, kiln_trap_active(%rip)
	movq %rax, kiln_trap_frame + TF_RAX(%rip)
	movq %rbx, kiln_trap_frame + TF_RBX(%rip)
	movq %rcx, kiln_trap_frame + TF_RCX(%rip)
	movq %rdx, kiln_trap_frame + TF_RDX(%rip)
	movq %rsi, kiln_trap_frame + TF_RSI(%rip)
	movq %rdi, kiln_trap_frame + TF_RDI(%rip)
	movq %rbp, kiln_trap_frame + TF_RBP(%rip)
	movq %r8, kiln_trap_frame + TF_R8(%rip)
	movq %r9, kiln_trap_frame + TF_R9(%rip)
	movq %r10, kiln_trap_frame + TF_R10(%rip)
	movq %r11, kiln_trap_frame + TF_R11(%rip)
	movq %r12, kiln_trap_frame + TF_R12(%rip)
	movq %r13, kiln_trap_frame + TF_R13(%rip)
	movq %r14, kiln_trap_frame + TF_R14(%rip)
	movq %r15, kiln_trap_frame + TF_R15(%rip)
	leaq kiln_trap_frame + TF_VECTOR(%rip), %rdi
	movl $7, %ecx			/* vector error rip cs rflags rsp ss: same order */
	cld
	movq %rsp, %rsi
	rep movsq
	movq %cr2, %rax
	movq %rax, kiln_trap_frame + TF_CR2(%rip)
	movq $kiln_cpl0_stack_top, %rsp	/* the next entry starts from an empty CPL-0 stack */
	pushq $(GDT_UDATA | 3)
	pushq $kiln_trap_stack_top
	pushq $RFLAGS_RESERVED		/* IOPL 0, IF 0 */
	pushq $(GDT_UCODE64 | 3)
	pushq $kiln_trap_cpl3
	iretq

/* A fault while the trap handler runs (e.g. it read a bad pointer): report without any CPL-3
 * code, straight to the serial port (CPL 0 needs no bitmap), and exit 255. */
kiln_exc_nested:
	leaq kiln_nested_msg(%rip), %rsi
	movw $0x3f8, %dx
1:	lodsb
	testb %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:	movw $0x501, %dx
	movb $255, %al
	outb %al, %dx
	cli
3:	hlt
	jmp 3b

/* `syscall` lands here (LSTAR) with rcx = return address, r11 = rflags, on the caller's stack.
 * On kvm-pvm it does not enter CPL 0: this runs at CPL 3 and jumps to the dispatcher. On TCG
 * and hardware it runs at CPL 0 and sysretqs into it (CS 0x2b, SS 0x23 from STAR, the caller's
 * rflags from r11). Either way the CPL-3 half starts with the return address on the stack,
 * below the caller's red zone. 5 CPL-0 instructions before sysretq, none on kvm-pvm. */
	.globl kiln_syscall_entry
	.type kiln_syscall_entry, @function
kiln_syscall_entry:
	leaq -128(%rsp), %rsp
	pushq %rcx
	movl %cs, %ecx
	testb $3, %cl
	jnz kiln_syscall_cpl3
	leaq kiln_syscall_cpl3(%rip), %rcx
	sysretq
	.size kiln_syscall_entry, . - kiln_syscall_entry

	/* The table below is in command order. */
	.if ARCH_SHIM_BAD != 0 || ARCH_SHIM_IDLE != 1 || ARCH_SHIM_WRMSR != 2 || ARCH_SHIM_RDMSR != 3 || ARCH_SHIM_INVLPG != 4 || ARCH_SHIM_FLUSH_TLB != 5 || ARCH_SHIM_HALT != 6 || ARCH_SHIM_CPU_SETUP != 7 || ARCH_SHIM_COUNT != 8
	.error "kiln_shim_table is out of step with <arch/shim.h>"
	.endif
	.section .rodata.kiln_shim_table, "a", @progbits
	.balign 8
kiln_shim_table:
	.quad kiln_shim_bad		/* 0 */
	.quad kiln_shim_idle		/* 1 ARCH_SHIM_IDLE */
	.quad kiln_shim_wrmsr		/* 2 ARCH_SHIM_WRMSR */
	.quad kiln_shim_rdmsr		/* 3 ARCH_SHIM_RDMSR */
	.quad kiln_shim_invlpg		/* 4 ARCH_SHIM_INVLPG */
	.quad kiln_shim_flush_tlb	/* 5 ARCH_SHIM_FLUSH_TLB */
	.quad kiln_shim_halt		/* 6 ARCH_SHIM_HALT */
	.quad kiln_shim_cpu_setup	/* 7 ARCH_SHIM_CPU_SETUP */
	.rept SHIM_TABLE_SIZE - SHIM_COUNT
	.quad kiln_shim_bad
	.endr

/* CPL 3 from here on. */
	.section .text.kiln_trap_cpl3, "ax", @progbits
	.type kiln_trap_cpl3, @function
kiln_trap_cpl3:
	xorl %ebp, %ebp
	leaq kiln_trap_frame(%rip), %rdi
	call kiln_trap_report
	ud2
	.size kiln_trap_cpl3, . - kiln_trap_cpl3

/* The CPL-3 half of `syscall`: the Linux ABI (rax = number, rdi rsi rdx r10 r8 r9 = arguments,
 * rax = result; only rcx and r11 clobbered) on top of the C call kiln_syscall_dispatch(nr,
 * a1..a6). The x87/SSE state is saved too: C code here may use SSE, and the caller may keep
 * values in xmm registers across the instruction. */
	.section .text.kiln_syscall, "ax", @progbits
	.type kiln_syscall_cpl3, @function
kiln_syscall_cpl3:
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %r10
	pushq %r8
	pushq %r9
	pushq %rbp
	movq %rsp, %rbp
	andq $-16, %rsp
	subq $512, %rsp
	fxsave64 (%rsp)
	subq $8, %rsp
	pushq %r9			/* a6: the 7th C argument, on the stack */
	movq %r8, %r9
	movq %r10, %r8
	movq %rdx, %rcx
	movq %rsi, %rdx
	movq %rdi, %rsi
	movq %rax, %rdi
	call kiln_syscall_dispatch
	/* posix-thread's clone finds this return address on the stack: it then knows the frame
	 * (the caller's rbp at 0(%rbp), its return address at 56(%rbp)). Keep them in step. */
	.globl kiln_syscall_cpl3_ret
kiln_syscall_cpl3_ret:
	fxrstor64 16(%rsp)
	movq %rbp, %rsp
	popq %rbp
	popq %r9
	popq %r8
	popq %r10
	popq %rdx
	popq %rsi
	popq %rdi
	ret $128			/* the return address, then the red zone skipped on entry */
	.size kiln_syscall_cpl3, . - kiln_syscall_cpl3

	.section .rodata.kiln_nested_msg, "a", @progbits
kiln_nested_msg:
	.asciz "\r\nkiln: fatal: fault inside the fault handler\r\nkiln: exit 255\r\n"

	.section .bss.kiln_trap, "aw", @nobits
	.balign 64
	.globl kiln_trap_frame
kiln_trap_frame:
	.skip TF_SIZE
	.globl kiln_trap_active
kiln_trap_active:
	.skip 1
	.balign 64
	.globl kiln_irq_pending
kiln_irq_pending:
	.skip 8
	.globl kiln_cpl0_irqs
kiln_cpl0_irqs:
	.skip 8

	.section .note.GNU-stack, "", @progbits
