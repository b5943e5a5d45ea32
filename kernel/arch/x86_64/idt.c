/* The first C code, at CPL 3: fill the IDT (data here, so no CPL-0 instructions are spent on
 * 256 gates), reset the FPU/SSE state and turn on the CPU features CPUID offers (one shim
 * entry). Interrupts are off and nothing can fault before this returns. */
#include <stddef.h>
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/trap.h>
#include "x86_64.h"

extern char kiln_vector_stubs[];
extern uint64_t kiln_idt[256 * 2];
extern char kiln_boot_stack[], kiln_boot_stack_top[];
extern const uint8_t kiln_tss_iobitmap[], kiln_tss_end[];
extern char kiln_syscall_entry[];
extern volatile uint8_t kiln_trap_active;

int arch_has_fsgsbase;
uint64_t arch_xcr0;
uint64_t kiln_cpl0_shim_calls[ARCH_SHIM_COUNT];

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
		/* DPL 3 only for the shim gate and int3; `int $N` to any other vector is #GP. */
		unsigned dpl = v == SHIM_VECTOR || v == 3 ? 3 : 0;
		unsigned ist = v == 2 || v == 8 || v == 18 ? 1 : 0;
		kiln_idt[2 * v] = gate_low(h, ist, dpl);
		kiln_idt[2 * v + 1] = h >> 32;
	}

	/* The power-on x87 control word unmasks exceptions; start from the FINIT state and the
	 * default MXCSR like any C runtime expects. */
	uint32_t mxcsr = 0x1f80;
	__asm__ volatile("fninit; ldmxcsr %0" : : "m"(mxcsr));

	/* CR4 as the boot path set it, plus FSGSBASE and OSXSAVE where CPUID has them: TCG and
	 * hardware need them for wrfsbase and AVX (kvm-pvm uses the host's and ignores ours). */
	/* Three CPUIDs, each an exit to the hypervisor (~4-5 us on kvm-pvm): XCR0 follows the
	 * feature bits (x87 and SSE; AVX; the three AVX-512 components with AVX512F) rather than
	 * a fourth, CPUID 0xD. */
	uint64_t cr4 = CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	uint32_t r[4];
	arch_cpuid(0, 0, r);
	uint32_t max_leaf = r[0], leaf7_ebx = 0;
	if (max_leaf >= 7) { /* else leaf 7 reads another leaf's data on Intel */
		arch_cpuid(7, 0, r);
		leaf7_ebx = r[1];
		if (leaf7_ebx & 1) {
			cr4 |= CR4_FSGSBASE;
			arch_has_fsgsbase = 1;
		}
	}
	arch_cpuid(1, 0, r);
	if (r[2] & (1u << 26)) { /* XSAVE */
		cr4 |= CR4_OSXSAVE;
		arch_xcr0 = 3;
		if (r[2] & (1u << 28)) { /* AVX */
			arch_xcr0 |= 4;
			if (leaf7_ebx & (1u << 16)) /* AVX512F: opmask, ZMM_Hi256, Hi16_ZMM together */
				arch_xcr0 |= 0xe0;
		}
	}
	register uint64_t cmd __asm__("r11") = ARCH_SHIM_CPU_SETUP;
	ARCH_SHIM_COUNTED(ARCH_SHIM_CPU_SETUP);
	__asm__ volatile("int $4"
			 : "+r"(cmd)
			 : "D"(cr4), "S"(arch_xcr0 != 0), "a"((uint32_t)arch_xcr0),
			   "d"((uint32_t)(arch_xcr0 >> 32)), "c"(0)
			 : "memory");
}

_Noreturn void arch_halt_forever(void)
{
	for (;;) {
		register uint64_t cmd __asm__("r11") = ARCH_SHIM_HALT;
		ARCH_SHIM_COUNTED(ARCH_SHIM_HALT);
		__asm__ volatile("int $4" : "+r"(cmd) : : "memory");
	}
}

int arch_port_allowed(uint16_t port)
{
	size_t byte = port >> 3;
	/* The last byte is the 0xff terminator: ports past the bitmap are denied. */
	if (byte >= (size_t)(kiln_tss_end - kiln_tss_iobitmap) - 1)
		return 0;
	return !(kiln_tss_iobitmap[byte] & (1u << (port & 7)));
}

void arch_syscall_enable(void)
{
	/* SYSRET loads CS = STAR[63:48] + 16 and SS = + 8 (0x2b, 0x23); SYSCALL CS = STAR[47:32]. */
	arch_wrmsr(MSR_STAR, ((uint64_t)GDT_UCODE32 << 48) | ((uint64_t)GDT_KCODE << 32));
	arch_wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)kiln_syscall_entry);
	arch_wrmsr(MSR_SFMASK, SFMASK_VALUE);
}

/* Until a syscall library overrides it: every number is unknown. */
__attribute__((weak)) long kiln_syscall_dispatch(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	(void)nr, (void)a1, (void)a2, (void)a3, (void)a4, (void)a5, (void)a6;
	return -38; /* ENOSYS */
}

void arch_trap_rearm(void)
{
	__atomic_store_n(&kiln_trap_active, 0, __ATOMIC_RELEASE);
}

void arch_boot_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
	*lo = (uintptr_t)kiln_boot_stack;
	*hi = (uintptr_t)kiln_boot_stack_top;
}

static const char *const exception_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "bad shim command (int $4)", "bound range exceeded",
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
