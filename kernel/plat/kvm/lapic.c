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

/* The timer's count with the TSC read just before and after it (their midpoint returned). The
 * sample is only good if the two are close: otherwise the host stopped the vCPU around the read
 * and the count belongs to a later time than the TSC says. */
static int timer_sample(uint32_t *count, uint64_t *tsc, uint64_t max_gap)
{
	uint64_t a = arch_rdtsc();
	*count = plat_lapic_read(LAPIC_REG_TIMER_CUR);
	uint64_t b = arch_rdtsc();
	*tsc = a + (b - a) / 2;
	return b - a <= max_gap;
}

uint32_t plat_lapic_timer_ticks_per_ms(uint64_t tsc_khz)
{
	static uint32_t cached;
	if (cached || tsc_khz == 0)
		return cached;
	plat_lapic_init();
	/* Count down from the maximum, masked, over ~1 ms of TSC; three good samples, the median.
	 * One wrong value would make every sleep of the boot late (or early) in proportion. */
	const uint64_t max_gap = tsc_khz / 20; /* 50 us: an MMIO read is a few us even as a VM exit */
	uint32_t v[3];
	int n = 0;
	for (int tries = 0; tries < 20 && n < 3; tries++) {
		plat_lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED | 32);
		plat_lapic_write(LAPIC_REG_TIMER_INIT, 0xffffffffu);
		uint32_t c0, c1;
		uint64_t t0, t1;
		if (!timer_sample(&c0, &t0, max_gap))
			continue;
		while (arch_rdtsc() - t0 < tsc_khz)
			arch_pause();
		if (!timer_sample(&c1, &t1, max_gap) || c1 >= c0)
			continue;
		v[n++] = (uint32_t)((uint64_t)(c0 - c1) * tsc_khz / (t1 - t0));
	}
	plat_lapic_write(LAPIC_REG_TIMER_INIT, 0);
	if (n == 0)
		return 0; /* the caller falls back (no timer calibration: a host this busy is rare) */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint32_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	cached = v[n / 2];
	return cached;
}
