/* Constants shared by the asm files (and idt.c). */
#ifndef KILN_X86_64_H
#define KILN_X86_64_H

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_ET (1 << 4)
#define CR0_NE (1 << 5)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)

#define CR4_PAE (1 << 5)
#define CR4_PGE (1 << 7)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define CR4_FSGSBASE (1 << 16)
#define CR4_OSXSAVE (1 << 18)

#define MSR_EFER 0xc0000080
#define EFER_SCE (1 << 0)
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

/* GDT laid out for SYSCALL/SYSRET: STAR[47:32] = 0x08 (kernel CS, SS = +8),
 * STAR[63:48] = 0x18 (SYSRETQ: CS = 0x18+16 = 0x28, SS = 0x18+8 = 0x20, both RPL 3). */
#define GDT_KCODE 0x08
#define GDT_KDATA 0x10
#define GDT_UCODE32 0x18
#define GDT_UDATA 0x20
#define GDT_UCODE64 0x28
#define GDT_TSS 0x30

#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_SFMASK 0xc0000084
/* syscall clears TF, DF, AC and NT, never IF: on kvm-pvm a cleared IF would stay cleared until
 * the next CPL-0 iretq. IF is 0 at CPL 3 anyway (interrupts are taken only in the idle shim),
 * so on TCG and hardware no interrupt can reach the CPL-0 half of the stub either. */
#define SFMASK_VALUE 0x44500

#define RFLAGS_RESERVED (1 << 1)
#define RFLAGS_IF (1 << 9)
#define RFLAGS_IOPL (3 << 12)

#define LAPIC_EOI_ADDR 0xfee000b0

/* The shim gate: `int $4` with the command in %r11 (<arch/cpu.h> documents each). int $4 is
 * one of the two software interrupts kvm-pvm delivers as vectors (3 and 4); `int $N` for any
 * other N is #UD there. The stub masks the command to 4 bits and jumps through a table. */
#include <arch/shim.h>
#define SHIM_VECTOR ARCH_SHIM_VECTOR
#define SHIM_COUNT ARCH_SHIM_COUNT
#define SHIM_TABLE_SIZE ARCH_SHIM_TABLE_SIZE

/* Each vector's stub is 16 bytes at kiln_vector_stubs + 16 * vector. */
#define VECTOR_STUB_SIZE 16

/* Offsets into struct arch_trap_frame (see <arch/trap.h>). */
#define TF_RAX 0
#define TF_RBX 8
#define TF_RCX 16
#define TF_RDX 24
#define TF_RSI 32
#define TF_RDI 40
#define TF_RBP 48
#define TF_R8 56
#define TF_R9 64
#define TF_R10 72
#define TF_R11 80
#define TF_R12 88
#define TF_R13 96
#define TF_R14 104
#define TF_R15 112
#define TF_VECTOR 120
#define TF_ERROR 128
#define TF_RIP 136
#define TF_CS 144
#define TF_RFLAGS 152
#define TF_RSP 160
#define TF_SS 168
#define TF_CR2 176
#define TF_SIZE 184

#endif
