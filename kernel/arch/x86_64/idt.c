/* The first C code, at CPL 3: fill the IDT (data here, so no CPL-0 instructions are spent on
 * 256 gates), reset the FPU/SSE state and unmap the boot stack's guard page. Interrupts are
 * off and nothing can fault before this returns. */
#include <stddef.h>
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/trap.h>
#include "x86_64.h"

extern char kiln_vector_stubs[];
extern uint64_t kiln_idt[256 * 2];
extern uint64_t kiln_pml4[];
extern char kiln_boot_stack_guard[], kiln_boot_stack[], kiln_boot_stack_top[];

int arch_has_fsgsbase;

_Static_assert(offsetof(struct arch_trap_frame, r15) == TF_R15, "trap frame layout");
_Static_assert(offsetof(struct arch_trap_frame, vector) == TF_VECTOR, "trap frame layout");
_Static_assert(offsetof(struct arch_trap_frame, ss) == TF_SS, "trap frame layout");
_Static_assert(sizeof(struct arch_trap_frame) == TF_SIZE, "trap frame layout");

static uint64_t gate_low(uint64_t handler, unsigned ist, unsigned dpl)
{
	return (handler & 0xffff) | ((uint64_t)GDT_KCODE << 16) | ((uint64_t)ist << 32) |
	       ((uint64_t)(0x8e | (dpl << 5)) << 40) | ((handler >> 16 & 0xffff) << 48);
}

void arch_cpl3_init(void);
void arch_cpl3_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t h = (uint64_t)(uintptr_t)kiln_vector_stubs + (uint64_t)v * VECTOR_STUB_SIZE;
		/* DPL 3: the shims, and int3/into so they report instead of #GP. */
		unsigned dpl = (v >= 0x80 && v <= 0x84) || v == 3 || v == 4 ? 3 : 0;
		unsigned ist = v == 2 || v == 8 || v == 18 ? 1 : 0;
		kiln_idt[2 * v] = gate_low(h, ist, dpl);
		kiln_idt[2 * v + 1] = h >> 32;
	}

	/* The power-on x87 control word unmasks exceptions; start from the FINIT state and the
	 * default MXCSR like any C runtime expects. */
	uint32_t mxcsr = 0x1f80;
	__asm__ volatile("fninit; ldmxcsr %0" : : "m"(mxcsr));

	uint32_t r[4];
	arch_cpuid(0, 0, r);
	if (r[0] >= 7) {
		arch_cpuid(7, 0, r);
		arch_has_fsgsbase = r[1] & 1;
	}

	/* The page tables are ordinary writable data at CPL 3 (page 4 maps 0-2 MiB). */
	uintptr_t guard = (uintptr_t)kiln_boot_stack_guard;
	if (guard < 2u << 20) {
		kiln_pml4[4 * 512 + (guard >> 12)] = 0;
		arch_invlpg(guard);
	}
}

void arch_boot_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
	*lo = (uintptr_t)kiln_boot_stack;
	*hi = (uintptr_t)kiln_boot_stack_top;
}

static const char *const exception_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range exceeded",
	"invalid opcode", "device not available", "double fault", "coprocessor segment overrun",
	"invalid TSS", "segment not present", "stack fault", "general protection fault",
	"page fault", "reserved exception 15", "x87 floating-point error", "alignment check",
	"machine check", "SIMD floating-point exception", "virtualization exception",
	"control protection exception", "reserved exception 22", "reserved exception 23",
	"reserved exception 24", "reserved exception 25", "reserved exception 26",
	"reserved exception 27", "hypervisor injection exception", "VMM communication exception",
	"security exception", "reserved exception 31",
};

const char *arch_vector_name(uint64_t vector)
{
	if (vector < 32)
		return exception_names[vector];
	return "unexpected vector";
}
