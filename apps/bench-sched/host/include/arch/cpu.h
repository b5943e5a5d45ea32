/* Host stand-in for <arch/cpu.h>: the scheduler compiled natively (see host_main.c). */
#ifndef HOST_ARCH_CPU_H
#define HOST_ARCH_CPU_H
#include <stdint.h>
static inline uint64_t arch_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
/* The guest writes %fs with wrfsbase; the host's glibc owns %fs, so count the writes only. */
extern uint64_t host_fsbase_writes;
static inline void arch_set_fsbase(uint64_t base)
{
	(void)base;
	host_fsbase_writes++;
}
void arch_idle_halt(void);
static inline void arch_invlpg(uintptr_t a) { (void)a; }
#endif
