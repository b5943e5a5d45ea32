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

/* A saved CPL-3 context: arch_setjmp returns 0, then arch_longjmp(b, v) returns there again
 * with v (1 if v is 0). Only callee-saved state is kept, as with setjmp. */
struct arch_jmp_buf {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};
int arch_setjmp(struct arch_jmp_buf *b) __attribute__((returns_twice));
_Noreturn void arch_longjmp(struct arch_jmp_buf *b, int v);

/* Lets the exception shim take the next fault normally: called by a handler that resumes
 * CPL-3 code instead of reporting (a test that expects a fault). */
void arch_trap_rearm(void);

/* Bounds of the boot stack (main runs on it); a guard page below lo is unmapped at boot so
 * that an overflow faults instead of overwriting .bss. */
void arch_boot_stack_bounds(uintptr_t *lo, uintptr_t *hi);

/* Name of an exception vector ("page fault"), or "interrupt"/"unexpected vector". */
const char *arch_vector_name(uint64_t vector);

#endif
