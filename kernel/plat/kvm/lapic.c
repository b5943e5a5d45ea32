/* The local xAPIC from CPL 3 (MMIO). Interrupts only post a bit (arch-x86_64's shims EOI). */
#include <stdint.h>
#include <arch/cpu.h>
#include <plat/lapic.h>

/* Set up on first use, not at boot: an image that never takes an interrupt (helloworld) skips
 * seven MMIO writes, each a VM exit on KVM. */
static int lapic_ready;

int plat_lapic_init(void)
{
	if (lapic_ready)
		return 0;
	lapic_ready = 1;
	plat_lapic_write(LAPIC_REG_TPR, 0);
	plat_lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED | 32);
	plat_lapic_write(LAPIC_REG_LVT_LINT0, LAPIC_LVT_MASKED);
	plat_lapic_write(LAPIC_REG_LVT_LINT1, LAPIC_LVT_MASKED);
	plat_lapic_write(LAPIC_REG_LVT_ERROR, LAPIC_LVT_MASKED | 254);
	plat_lapic_write(LAPIC_REG_TIMER_DIV, 0xb); /* divide by 1 */
	plat_lapic_write(LAPIC_REG_SVR, 0x100 | 0xff); /* software enable, spurious vector 255 */
	return 0;
}

void plat_lapic_timer_arm(uint8_t vector, uint32_t ticks)
{
	if (ticks == 0) {
		plat_lapic_timer_disarm();
		return;
	}
	plat_lapic_init();
	plat_lapic_write(LAPIC_REG_LVT_TIMER, vector); /* one-shot, unmasked */
	plat_lapic_write(LAPIC_REG_TIMER_INIT, ticks);
}

void plat_lapic_timer_disarm(void)
{
	plat_lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED | 32);
	plat_lapic_write(LAPIC_REG_TIMER_INIT, 0);
}

uint32_t plat_lapic_timer_remaining(void) { return plat_lapic_read(LAPIC_REG_TIMER_CUR); }

uint32_t plat_lapic_timer_ticks_per_ms(uint64_t tsc_khz)
{
	static uint32_t cached;
	if (cached || tsc_khz == 0)
		return cached;
	plat_lapic_init();
	/* Count down from the maximum, masked, for 1 ms of TSC. */
	plat_lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED | 32);
	plat_lapic_write(LAPIC_REG_TIMER_INIT, 0xffffffffu);
	uint64_t t0 = arch_rdtsc();
	while (arch_rdtsc() - t0 < tsc_khz)
		arch_pause();
	uint32_t left = plat_lapic_read(LAPIC_REG_TIMER_CUR);
	plat_lapic_write(LAPIC_REG_TIMER_INIT, 0);
	cached = 0xffffffffu - left;
	return cached;
}
