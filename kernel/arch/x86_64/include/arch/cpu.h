/* CPU access for code running at CPL 3 (the whole kernel and app).
 *
 * Kiln runs everything at CPL 3 with IOPL 0 (docs/architecture.md, "The kvm-pvm rules"):
 * - port I/O works only on the ports the image's libraries declare (`ports:` in library.yaml;
 *   the build turns them into the TSS I/O bitmap); any other port is #GP;
 * - cli, sti, hlt and popf never control interrupts: IF is 0 at CPL 3, interrupts are taken
 *   only inside the idle shim and only post a pending bit (<arch/irq.h>), so CPL-3 code needs
 *   no interrupt masking at all;
 * - rdtsc, cpuid, wr/rdfsbase (with FSGSBASE), SSE/AVX work directly.
 * The few privileged operations go through one gate, `int $4`, with the command in %r11
 * (<arch/shim.h>): each entry costs 6-8 us on kvm-pvm plus ~1-1.5 us a CPL-0 instruction, so
 * call them rarely and batch (arch_invlpg_range):
 *
 *   ARCH_SHIM_IDLE       sti; hlt; returns after the next interrupt, IF 0 again
 *   ARCH_SHIM_WRMSR      ecx = MSR, edx:eax = value
 *   ARCH_SHIM_RDMSR      ecx = MSR; out edx:eax
 *   ARCH_SHIM_INVLPG     rdi = first page, rsi = page count (>= 1)
 *   ARCH_SHIM_FLUSH_TLB  reload CR3 (every translation)
 *   ARCH_SHIM_HALT       cli; hlt forever
 *   ARCH_SHIM_CPU_SETUP  rdi = CR4; esi != 0: XCR0 = edx:eax (boot only: arch_cpl3_init)
 *
 * A shim clobbers %r11 and its outputs only. A #GP inside a shim (e.g. an MSR the hypervisor
 * refuses) is reported like any fatal exception. kiln_cpl0_shim_calls counts the calls (for
 * `kiln bench boot`).
 */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <stdint.h>
#include <arch/shim.h>

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

/* Only on ports a selected library declares in its manifest (`ports:`); others are #GP. */
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

/* Nonzero when the TSS I/O bitmap allows the port (the image's declared ports). */
int arch_port_allowed(uint16_t port);

static inline void arch_pause(void) { __asm__ volatile("pause"); }

/* Calls of each shim command since boot. */
extern uint64_t kiln_cpl0_shim_calls[ARCH_SHIM_COUNT];
/* Interrupts taken since boot (counted by the interrupt stub at CPL 0). */
extern volatile uint64_t kiln_cpl0_irqs;

#define ARCH_SHIM_COUNTED(cmd) (kiln_cpl0_shim_calls[(cmd)]++)

/* Waits for the next interrupt (arm a timer first), then returns; the interrupt has posted its
 * pending bit (<arch/irq.h>). */
static inline void arch_idle_halt(void)
{
	register uint64_t cmd __asm__("r11") = ARCH_SHIM_IDLE;
	ARCH_SHIM_COUNTED(ARCH_SHIM_IDLE);
	__asm__ volatile("int $4" : "+r"(cmd) : : "memory");
}

static inline void arch_wrmsr(uint32_t msr, uint64_t value)
{
	register uint64_t cmd __asm__("r11") = ARCH_SHIM_WRMSR;
	ARCH_SHIM_COUNTED(ARCH_SHIM_WRMSR);
	__asm__ volatile("int $4"
			 : "+r"(cmd)
			 : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
			 : "memory");
}

static inline uint64_t arch_rdmsr(uint32_t msr)
{
	register uint64_t cmd __asm__("r11") = ARCH_SHIM_RDMSR;
	uint32_t lo, hi;
	ARCH_SHIM_COUNTED(ARCH_SHIM_RDMSR);
	__asm__ volatile("int $4" : "+r"(cmd), "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* Drops the translations of `pages` pages from `addr` (page-aligned) in one entry. */
static inline void arch_invlpg_range(uintptr_t addr, uint64_t pages)
{
	if (pages == 0)
		return;
	register uint64_t cmd __asm__("r11") = ARCH_SHIM_INVLPG;
	ARCH_SHIM_COUNTED(ARCH_SHIM_INVLPG);
	__asm__ volatile("int $4" : "+r"(cmd), "+D"(addr), "+S"(pages) : : "memory");
}

static inline void arch_invlpg(uintptr_t addr) { arch_invlpg_range(addr, 1); }

/* Drops every translation (CR3 reload): cheaper than arch_invlpg_range past a few pages. */
static inline void arch_flush_tlb(void)
{
	register uint64_t cmd __asm__("r11") = ARCH_SHIM_FLUSH_TLB;
	uint64_t scratch;
	ARCH_SHIM_COUNTED(ARCH_SHIM_FLUSH_TLB);
	__asm__ volatile("int $4" : "+r"(cmd), "=a"(scratch) : : "memory");
}

/* cli; hlt forever at CPL 0. */
_Noreturn void arch_halt_forever(void);

/* Set by arch at boot (CPUID.7.0:EBX[0], then CR4.FSGSBASE); when clear, FS base goes
 * through the wrmsr shim (e.g. QEMU TCG's default CPU model has no FSGSBASE). */
extern int arch_has_fsgsbase;

#define ARCH_MSR_FS_BASE 0xc0000100u

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

/* XCR0 as set at boot (x87|SSE, plus AVX and AVX-512 state where the CPU has them); 0 when
 * the CPU has no XSAVE. */
extern uint64_t arch_xcr0;

/* Points `syscall` at arch's entry stub (STAR, LSTAR, SFMASK: three wrmsr shims), which calls
 *   long kiln_syscall_dispatch(long nr, long a1, ..., long a6)
 * at CPL 3 with the Linux x86_64 ABI (only rcx and r11 clobbered; SSE state kept). arch has a
 * weak dispatcher that returns -ENOSYS for every number; a syscall library overrides it. */
void arch_syscall_enable(void);
long kiln_syscall_dispatch(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

#endif
