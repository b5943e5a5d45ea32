/* CPU access for code running at CPL 3 (the whole kernel and app).
 *
 * Kiln runs everything at CPL 3 with IOPL 3: port I/O, cli/sti, rdtsc, cpuid and
 * (when the CPU has FSGSBASE) wr/rdfsbase work directly. The few privileged operations go
 * through software-interrupt shims (DPL 3 gates, asm only, no SSE at CPL 0):
 *
 *   int $0x80  idle:    sti; hlt; returns after the next interrupt with the caller's IF
 *   int $0x81  wrmsr:   in  ecx = MSR, edx:eax = value
 *   int $0x82  rdmsr:   in  ecx = MSR; out edx:eax = value
 *   int $0x83  invlpg:  in  rdi = linear address
 *   int $0x84  halt:    cli; hlt forever (used after the exit port when it does not exit)
 *
 * No shim clobbers any register other than its outputs. A #GP inside a shim (e.g. a
 * nonexistent MSR) is reported like any fatal exception.
 */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <stdint.h>

static inline uint64_t arch_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* r = { eax, ebx, ecx, edx } */
static inline void arch_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline void arch_outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void arch_outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void arch_outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

static inline uint8_t arch_inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t arch_inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t arch_inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* cli/sti are legal at CPL 3 because boot sets IOPL = 3. */
static inline void arch_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void arch_irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }

/* Returns nonzero when RFLAGS.IF is set. */
static inline int arch_irq_enabled(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return (f >> 9) & 1;
}

static inline void arch_pause(void) { __asm__ volatile("pause"); }

/* Set by arch at boot (CPUID.7.0:EBX[0]); when clear, FS base goes through the wrmsr shim
 * (e.g. QEMU TCG's default CPU model has no FSGSBASE). */
extern int arch_has_fsgsbase;

#define ARCH_MSR_FS_BASE 0xc0000100u

uint64_t arch_rdmsr(uint32_t msr);
void arch_wrmsr(uint32_t msr, uint64_t value);
void arch_invlpg(uintptr_t addr);
void arch_idle_halt(void);
/* cli; hlt forever at CPL 0. */
_Noreturn void arch_halt_forever(void);

static inline void arch_set_fsbase(uint64_t base)
{
	if (__builtin_expect(arch_has_fsgsbase, 1))
		__asm__ volatile("wrfsbase %0" : : "r"(base) : "memory");
	else
		arch_wrmsr(ARCH_MSR_FS_BASE, base);
}

static inline uint64_t arch_get_fsbase(void)
{
	uint64_t base;
	if (__builtin_expect(arch_has_fsgsbase, 1)) {
		__asm__ volatile("rdfsbase %0" : "=r"(base));
		return base;
	}
	return arch_rdmsr(ARCH_MSR_FS_BASE);
}

#endif
