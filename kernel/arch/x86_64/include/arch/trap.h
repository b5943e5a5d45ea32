/* The state the exception shim saves before it drops to the CPL-3 trap handler. */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

#include <stdint.h>

/* Field order is fixed: shims.S stores by these offsets (checked by _Static_assert in
 * trap.c). */
struct arch_trap_frame {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* the hardware frame */
	uint64_t cr2;
};

/* The one saved frame (one CPU). */
extern struct arch_trap_frame kiln_trap_frame;

/* Implemented by the boot library: prints the fatal report and exits 255. Runs at CPL 3 on
 * its own stack, entered from the exception shim by iretq. */
_Noreturn void kiln_trap_report(const struct arch_trap_frame *f);

/* Bounds of the boot stack (main runs on it); a guard page below lo is unmapped at boot so
 * that an overflow faults instead of overwriting .bss. */
void arch_boot_stack_bounds(uintptr_t *lo, uintptr_t *hi);

/* Name of an exception vector ("page fault"), or "interrupt"/"unexpected vector". */
const char *arch_vector_name(uint64_t vector);

#endif
