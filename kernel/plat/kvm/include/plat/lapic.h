/* The local xAPIC, programmed from CPL 3 through its MMIO page (mapped uncached by the
 * build's page tables at 0xfee00000). The IOAPIC is left masked. */
#ifndef PLAT_LAPIC_H
#define PLAT_LAPIC_H

#include <stdint.h>

#define PLAT_LAPIC_BASE 0xfee00000ul

#define LAPIC_REG_ID 0x020
#define LAPIC_REG_VERSION 0x030
#define LAPIC_REG_TPR 0x080
#define LAPIC_REG_EOI 0x0b0
#define LAPIC_REG_SVR 0x0f0
#define LAPIC_REG_LVT_TIMER 0x320
#define LAPIC_REG_LVT_LINT0 0x350
#define LAPIC_REG_LVT_LINT1 0x360
#define LAPIC_REG_LVT_ERROR 0x370
#define LAPIC_REG_TIMER_INIT 0x380
#define LAPIC_REG_TIMER_CUR 0x390
#define LAPIC_REG_TIMER_DIV 0x3e0

#define LAPIC_LVT_MASKED (1u << 16)

static inline uint32_t plat_lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(PLAT_LAPIC_BASE + reg);
}

static inline void plat_lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(PLAT_LAPIC_BASE + reg) = v;
}

static inline void plat_lapic_eoi(void) { plat_lapic_write(LAPIC_REG_EOI, 0); }

/* Software-enables the LAPIC (spurious vector 255), TPR 0, LVTs masked, timer divide 1.
 * Idempotent. Not done at boot: the timer calls below do it on first use; call it before
 * writing LAPIC registers directly (e.g. a self-IPI through the ICR). */
int plat_lapic_init(void);

/* One-shot timer: interrupt `vector` (32-95) after `ticks` LAPIC timer ticks (divide 1).
 * ticks = 0 disarms. */
void plat_lapic_timer_arm(uint8_t vector, uint32_t ticks);
void plat_lapic_timer_disarm(void);
/* Ticks left in the current one-shot (0 when fired or disarmed). */
uint32_t plat_lapic_timer_remaining(void);
/* Timer ticks per millisecond, measured once against the TSC (tsc_khz = TSC ticks/ms; pass
 * time_tsc_khz()): the median of three ~1 ms samples, each discarded if the host stopped the
 * vCPU around one of its reads. 0 if no good sample could be taken (tried again next call). */
uint32_t plat_lapic_timer_ticks_per_ms(uint64_t tsc_khz);

#endif
