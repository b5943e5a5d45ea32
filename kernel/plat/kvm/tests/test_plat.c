/* Guest tests of plat-kvm: memory map, xAPIC timer + idle halt, page-table updates. */
#include <stddef.h>
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/irq.h>
#include <plat/lapic.h>
#include <plat/memory.h>
#include <plat/plat.h>
#include <plat/pvh.h>
#include <test/test.h>

extern char __kiln_image_start[], __kiln_image_end[];
extern uint64_t kiln_pml4[];

KTEST(plat, memory_regions_are_free_ram)
{
	int n = plat_memregion_count();
	KT_ASSERT(n > 0);
	uint64_t sum = 0, prev_end = 0;
	for (int i = 0; i < n; i++) {
		const struct plat_memregion *r = plat_memregion_get(i);
		KT_ASSERT_NOTNULL(r);
		KT_ASSERT_EQ(r->base & 4095, 0);
		KT_ASSERT_EQ(r->len & 4095, 0);
		KT_ASSERT(r->len > 0);
		KT_ASSERT(r->base >= 4096);		/* page 0 */
		KT_ASSERT(r->base >= prev_end);		/* sorted, disjoint */
		uint64_t end = r->base + r->len;
		KT_ASSERT(end <= (uintptr_t)__kiln_image_start || r->base >= (uintptr_t)__kiln_image_end);
		const struct hvm_start_info *si = plat_start_info();
		if (si)
			KT_ASSERT((uintptr_t)si + sizeof(*si) <= r->base || (uintptr_t)si >= end);
		prev_end = end;
		sum += r->len;
	}
	KT_ASSERT_NULL(plat_memregion_get(n));
	KT_ASSERT_NULL(plat_memregion_get(-1));
	KT_ASSERT(sum < plat_memory_total());
	KT_ASSERT(plat_memory_total() >= (2u << 20) - (1u << 20)); /* at least the image's MiB */
}

KTEST(plat, free_memory_is_writable)
{
	const struct plat_memregion *r = plat_memregion_get(plat_memregion_count() - 1);
	KT_ASSERT_NOTNULL(r);
	volatile uint64_t *first = (volatile uint64_t *)(uintptr_t)r->base;
	volatile uint64_t *last = (volatile uint64_t *)(uintptr_t)(r->base + r->len - 8);
	*first = 0x1122334455667788ull;
	*last = 0x8877665544332211ull;
	KT_ASSERT_EQ(*first, 0x1122334455667788ull);
	KT_ASSERT_EQ(*last, 0x8877665544332211ull);
}

KTEST(plat, lapic_timer_wakes_idle_halt)
{
	KT_ASSERT_EQ(plat_lapic_read(LAPIC_REG_SVR) & 0x1ff, 0x1ff);
	arch_irq_take_pending();
	plat_lapic_timer_arm(40, 200000);
	arch_idle_halt(); /* IF stays 0 here: the shim enables it only while halted */
	KT_ASSERT_EQ(arch_irq_enabled(), 0);
	uint64_t pending = arch_irq_take_pending();
	KT_ASSERT_EQ(pending & (1ull << (40 - 32)), 1ull << (40 - 32));
	KT_ASSERT_EQ(arch_irq_take_pending(), 0);
	KT_ASSERT_EQ(plat_lapic_timer_remaining(), 0);
}

/* An interrupt taken at CPL 3 (IF=1, not halted): the CPU switches to the TSS's RSP0 stack,
 * the shim posts the bit and returns into this loop with every register intact. */
KTEST(plat, interrupt_at_cpl3_posts_pending_bit)
{
	arch_irq_take_pending();
	volatile uint64_t canary = 0x5a5a5a5a5a5a5a5aull;
	plat_lapic_timer_arm(42, 50000);
	uint64_t got = 0, spins = 0;
	arch_irq_enable();
	for (uint64_t t0 = arch_rdtsc(); !got && arch_rdtsc() - t0 < 4000000000ull; spins++)
		got = __atomic_load_n(&kiln_irq_pending, __ATOMIC_ACQUIRE);
	arch_irq_disable();
	KT_ASSERT_EQ(got, 1ull << (42 - 32));
	KT_ASSERT_EQ(arch_irq_take_pending(), 1ull << (42 - 32));
	KT_ASSERT_EQ(canary, 0x5a5a5a5a5a5a5a5aull);
	KT_ASSERT(spins > 0);
}

KTEST(plat, lapic_timer_disarm)
{
	plat_lapic_timer_arm(41, 0xfffffff0u);
	KT_ASSERT(plat_lapic_timer_remaining() > 0);
	plat_lapic_timer_disarm();
	KT_ASSERT_EQ(plat_lapic_timer_remaining(), 0);
	KT_ASSERT_EQ(arch_irq_take_pending() & (1ull << 9), 0);
}

/* Alias page A onto B's frame: only a working invlpg makes the new mapping visible
 * (the old translation of A is in the TLB from the first read). */
KTEST(plat, invlpg_after_pte_change)
{
	const struct plat_memregion *r = NULL;
	for (int i = 0; i < plat_memregion_count(); i++) {
		const struct plat_memregion *c = plat_memregion_get(i);
		if (c->base + 2 * 4096 <= (2u << 20) && c->len >= 2 * 4096) {
			r = c;
			break;
		}
	}
	KT_ASSERT_NOTNULL(r);
	uintptr_t a = (uintptr_t)r->base, b = a + 4096;
	volatile uint64_t *pa = (volatile uint64_t *)a, *pb = (volatile uint64_t *)b;
	*pa = 0xaaaa;
	*pb = 0xbbbb;
	KT_ASSERT_EQ(*pa, 0xaaaa);
	uint64_t *pt = &kiln_pml4[4 * 512];
	uint64_t old = pt[a >> 12];
	pt[a >> 12] = pt[b >> 12];
	arch_invlpg(a);
	uint64_t seen = *pa;
	pt[a >> 12] = old;
	arch_invlpg(a);
	KT_ASSERT_EQ(seen, 0xbbbb);
	KT_ASSERT_EQ(*pa, 0xaaaa);
}

KTEST(plat, start_info)
{
	const struct hvm_start_info *si = plat_start_info();
	KT_ASSERT_NOTNULL(si);
	KT_ASSERT_EQ(si->magic, HVM_START_MAGIC);
	KT_ASSERT_NOTNULL(plat_cmdline());
}
