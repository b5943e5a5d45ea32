/* The only code that runs at CPL 0 after boot: one 16-byte stub per vector, asm only, no
 * SSE (kvm-pvm cannot emulate it at CPL 0 and emulates everything else at ~1 us/insn).
 *
 *   0-31     exceptions: save state, iretq to the CPL-3 trap handler (never returns)
 *   32-95    interrupts: set the pending bit, EOI the xAPIC, iretq
 *   0x80-84  software shims (DPL 3 gates): idle, wrmsr, rdmsr, invlpg, halt
 *   255      LAPIC spurious: iretq
 *   others   reported as an unexpected vector
 */
#include "x86_64.h"

	.section .text.kiln_shims, "ax", @progbits
	.code64
	.balign VECTOR_STUB_SIZE
	.globl kiln_vector_stubs
kiln_vector_stubs:
	vec = 0
	.rept 256
	.balign VECTOR_STUB_SIZE
	.if vec < 32
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
	.elseif vec == 0x80
	sti			/* the interrupt shadow makes sti; hlt atomic */
	hlt
	iretq			/* restores the caller's IF */
	.elseif vec == 0x81
	wrmsr
	iretq
	.elseif vec == 0x82
	rdmsr
	iretq
	.elseif vec == 0x83
	invlpg (%rdi)
	iretq
	.elseif vec == 0x84
	cli
2:	hlt
	jmp 2b
	.elseif vec == 255
	iretq
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
	movl $LAPIC_EOI_ADDR, %eax
	movl $0, (%rax)
	popq %rax
	iretq

/* Stack: vector, error, rip, cs, rflags, rsp, ss. Saves everything into kiln_trap_frame and
 * iretqs to kiln_trap_cpl3 on the trap stack; the faulting context is never resumed. */
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
	pushq $(GDT_UDATA | 3)
	pushq $kiln_trap_stack_top
	pushq $(RFLAGS_IOPL3 | RFLAGS_RESERVED)
	pushq $(GDT_UCODE64 | 3)
	pushq $kiln_trap_cpl3
	iretq

/* A fault while the trap handler runs (e.g. it read a bad pointer): report without any CPL-3
 * code, straight to the serial port, and exit 255. */
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

	.type kiln_trap_cpl3, @function
kiln_trap_cpl3:
	xorl %ebp, %ebp
	leaq kiln_trap_frame(%rip), %rdi
	call kiln_trap_report
	ud2
	.size kiln_trap_cpl3, . - kiln_trap_cpl3

/* C wrappers of the software shims (callable at CPL 3). */
	.globl arch_idle_halt
	.type arch_idle_halt, @function
arch_idle_halt:
	int $0x80
	ret
	.size arch_idle_halt, . - arch_idle_halt

	.globl arch_wrmsr		/* (uint32_t msr, uint64_t value) */
	.type arch_wrmsr, @function
arch_wrmsr:
	movl %edi, %ecx
	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
	int $0x81
	ret
	.size arch_wrmsr, . - arch_wrmsr

	.globl arch_rdmsr		/* uint64_t (uint32_t msr) */
	.type arch_rdmsr, @function
arch_rdmsr:
	movl %edi, %ecx
	int $0x82
	shlq $32, %rdx
	movl %eax, %eax
	orq %rdx, %rax
	ret
	.size arch_rdmsr, . - arch_rdmsr

	.globl arch_invlpg		/* (uintptr_t addr) */
	.type arch_invlpg, @function
arch_invlpg:
	int $0x83
	ret
	.size arch_invlpg, . - arch_invlpg

	.globl arch_halt_forever
	.type arch_halt_forever, @function
arch_halt_forever:
	int $0x84
	jmp arch_halt_forever
	.size arch_halt_forever, . - arch_halt_forever

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

	.section .note.GNU-stack, "", @progbits
