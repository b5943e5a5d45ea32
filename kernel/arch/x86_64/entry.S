/* PVH entry and the whole CPL-0 boot path: 32-bit protected mode -> long mode -> CPL 3.
 *
 * On kvm-pvm every instruction here is emulated (~1 us each), so this path only does what
 * needs CPL 0: the page tables are prebuilt data (.kiln.pagetables, filled by the build), the
 * GDT and TSS are static data, and the IDT is filled later at CPL 3 (idt.c). Count it with
 * `objdump -d` from _kiln_pvh_start32 to the iretq: about 45 instructions.
 */
#include "x86_64.h"

#ifndef CONFIG_ARCH_X86_64_BOOT_STACK_KIB
#define CONFIG_ARCH_X86_64_BOOT_STACK_KIB 64
#endif

/* The PVH note: QEMU, Firecracker-style and Kiln's VMM enter at the 32-bit address it holds.
 * QEMU reads an 8-byte value for ELF64 images, and finds the descriptor by aligning the name
 * to the PT_NOTE's p_align, so the section is 4-aligned and the value a .quad. */
	.section .note.kiln.pvh, "a", @note
	.balign 4
	.long 4			/* namesz: "Xen\0" */
	.long 8			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad _kiln_pvh_start32
	.balign 4

	.section .text.kiln_entry, "ax", @progbits
	.code32
	.globl _kiln_pvh_start32
	.type _kiln_pvh_start32, @function
_kiln_pvh_start32:
	/* First thing: the boot-time measurement starts here. */
	rdtsc
	movl %eax, kiln_boot_entry_tsc
	movl %edx, kiln_boot_entry_tsc + 4
	movl %ebx, %esi			/* hvm_start_info; cpuid clobbers ebx */

	movl $kiln_pml4, %eax
	movl %eax, %cr3

	/* CR4: FSGSBASE only when CPUID.7.0:EBX[0] says so (setting it otherwise is #GP). */
	xorl %eax, %eax
	cpuid
	xorl %edi, %edi
	cmpl $7, %eax
	jb 1f
	movl $7, %eax
	xorl %ecx, %ecx
	cpuid
	movl %ebx, %edi
	andl $1, %edi
	shll $16, %edi			/* EBX bit 0 -> CR4 bit 16 */
1:	orl $(CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT), %edi
	movl %edi, %cr4

	movl $MSR_EFER, %ecx
	movl $(EFER_LME | EFER_NXE), %eax
	xorl %edx, %edx
	wrmsr

	movl $(CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG), %eax
	movl %eax, %cr0

	lgdt kiln_gdt_ptr
	ljmp $GDT_KCODE, $1f

	.code64
1:	movl $GDT_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movq $kiln_cpl0_stack_top, %rsp

	lidt kiln_idt_ptr(%rip)

	/* TSS descriptor base: the image is below 16 MiB, so base[31:24] and the upper half are
	 * zero and only two dwords need the address. */
	movl $kiln_tss, %eax
	movl %eax, %edx
	shll $16, %eax
	orl $(TSS_SIZE - 1), %eax
	movl %eax, kiln_gdt + GDT_TSS
	shrl $16, %edx
	orl $0x8900, %edx		/* present, type 9 (64-bit TSS available) */
	movl %edx, kiln_gdt + GDT_TSS + 4
	movw $GDT_TSS, %ax
	ltr %ax

	/* Drop to CPL 3 on the boot stack, IOPL 3, IF 0. rsi (start info) -> rdi. */
	movl %esi, %edi
	pushq $(GDT_UDATA | 3)
	pushq $kiln_boot_stack_top
	pushq $(RFLAGS_IOPL3 | RFLAGS_RESERVED)
	pushq $(GDT_UCODE64 | 3)
	pushq $kiln_cpl3_start
	iretq
	.size _kiln_pvh_start32, . - _kiln_pvh_start32

/* CPL 3 from here on. */
	.type kiln_cpl3_start, @function
kiln_cpl3_start:
	xorl %ebp, %ebp			/* ends the frame-pointer chain */
	movq %rdi, %rbx
	call arch_cpl3_init		/* IDT, FPU, guard page: before anything can fault */
	movq %rbx, %rdi
	call kiln_boot_main
	ud2
	.size kiln_cpl3_start, . - kiln_cpl3_start

	.section .data.kiln_gdt, "aw", @progbits
	.balign 16
	.globl kiln_gdt
kiln_gdt:
	.quad 0				/* 0x00 null */
	.quad 0x00af9b000000ffff	/* 0x08 kernel code, 64-bit */
	.quad 0x00cf93000000ffff	/* 0x10 kernel data */
	.quad 0x00cffb000000ffff	/* 0x18 user code, 32-bit (SYSRET layout placeholder) */
	.quad 0x00cff3000000ffff	/* 0x20 user data */
	.quad 0x00affb000000ffff	/* 0x28 user code, 64-bit */
	.quad 0, 0			/* 0x30 TSS (16 bytes; base filled at boot) */
kiln_gdt_end:

	.balign 8
	.word 0
kiln_gdt_ptr:
	.word kiln_gdt_end - kiln_gdt - 1
	.quad kiln_gdt

	.word 0, 0, 0
kiln_idt_ptr:
	.word 256 * 16 - 1
	.quad kiln_idt

	.balign 16
	.globl kiln_tss
kiln_tss:
	.long 0
	.quad kiln_cpl0_stack_top	/* RSP0: every CPL-3 -> CPL-0 entry */
	.quad 0, 0			/* RSP1, RSP2 */
	.quad 0
	.quad kiln_ist1_stack_top	/* IST1: #DF, NMI, #MC */
	.quad 0, 0, 0, 0, 0, 0		/* IST2-7 */
	.quad 0
	.word 0
	.word TSS_SIZE			/* I/O bitmap offset past the limit: none (IOPL 3 rules) */

/* Reserved zero here, filled by the build after linking (docs/architecture.md section 4);
 * the linker script names its start kiln_pml4. */
	.section .kiln.pagetables, "aw", @progbits
	.balign 4096
	.zero 5 * 4096

	.section .bss.kiln_idt, "aw", @nobits
	.balign 4096
	.globl kiln_idt
kiln_idt:
	.skip 256 * 16

	.section .bss.kiln_stacks, "aw", @nobits
	.balign 4096
	.globl kiln_boot_stack_guard, kiln_boot_stack, kiln_boot_stack_top
kiln_boot_stack_guard:
	.skip 4096			/* unmapped at boot by arch_cpl3_init */
kiln_boot_stack:
	.skip CONFIG_ARCH_X86_64_BOOT_STACK_KIB * 1024
kiln_boot_stack_top:
	.globl kiln_trap_stack_top
	.skip 16384			/* the CPL-3 trap handler's stack */
kiln_trap_stack_top:
	.globl kiln_cpl0_stack_top
	.skip 4096
kiln_cpl0_stack_top:
	.skip 4096
kiln_ist1_stack_top:

	.section .bss.kiln_boot_tsc, "aw", @nobits
	.balign 8
	.globl kiln_boot_entry_tsc
kiln_boot_entry_tsc:
	.skip 8

	.section .note.GNU-stack, "", @progbits
