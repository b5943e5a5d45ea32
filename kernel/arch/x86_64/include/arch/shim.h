/* The shim commands of the `int $4` gate (shared by the asm in arch-x86_64 and <arch/cpu.h>;
 * only #defines, so assembly can include it). */
#ifndef ARCH_SHIM_H
#define ARCH_SHIM_H

#define ARCH_SHIM_VECTOR 4
#define ARCH_SHIM_BAD 0
#define ARCH_SHIM_IDLE 1
#define ARCH_SHIM_WRMSR 2
#define ARCH_SHIM_RDMSR 3
#define ARCH_SHIM_INVLPG 4
#define ARCH_SHIM_FLUSH_TLB 5
#define ARCH_SHIM_HALT 6
#define ARCH_SHIM_CPU_SETUP 7
#define ARCH_SHIM_COUNT 8
/* The gate masks the command to 4 bits; commands past ARCH_SHIM_COUNT are "bad". */
#define ARCH_SHIM_TABLE_SIZE 16

#endif
