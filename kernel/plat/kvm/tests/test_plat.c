/* Guest tests of plat-kvm: memory map, xAPIC timer + idle halt, IOAPIC routing, page-table
 * updates. */
#include <stddef.h>
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/irq.h>
#include <plat/ioapic.h>
#include <plat/lapic.h>
#include <plat/memory.h>
#include <plat/plat.h>
#include <plat/pvh.h>
#include <test/test.h>
#include <time/time.h>

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

/* Whether the page holding va is mapped, by walking the live page tables (the mmu library may
 * have split 2 MiB pages and made guard pages not-present). */
static int page_present(uintptr_t va)
{
	const uint64_t P = 1, PS = 1u << 7, ADDR = 0x000ffffffffff000ull;
	uint64_t e = kiln_pml4[(va >> 39) & 511];
	if (!(e & P))
		return 0;
	e = ((const uint64_t *)(uintptr_t)(e & ADDR))[(va >> 30) & 511];
	if (!(e & P))
		return 0;
	e = ((const uint64_t *)(uintptr_t)(e & ADDR))[(va >> 21) & 511];
	if (!(e & P) || (e & PS))
		return (int)(e & P);
	e = ((const uint64_t *)(uintptr_t)(e & ADDR))[(va >> 12) & 511];
	return (int)(e & P);
}

/* Free regions are RAM we can write. An allocator already owns them in most images, so each
 * probe saves and restores the word it writes (tests run alone, interrupts off), and skips pages
 * something has made not-present on purpose (guard pages). */
static int probe_word(volatile uint64_t *p, uint64_t pattern)
{
	if (!page_present((uintptr_t)p))
		return 1;
	uint64_t saved = *p;
	*p = pattern;
	int ok = *p == pattern;
	*p = saved;
	return ok;
}

KTEST(plat, free_memory_is_writable)
{
	int probed = 0;
	for (int i = 0; i < plat_memregion_count(); i++) {
		const struct plat_memregion *r = plat_memregion_get(i);
		KT_ASSERT_NOTNULL(r);
		KT_ASSERT(probe_word((volatile uint64_t *)(uintptr_t)r->base, 0x1122334455667788ull));
		KT_ASSERT(probe_word((volatile uint64_t *)(uintptr_t)(r->base + r->len - 8), 0x8877665544332211ull));
		probed += page_present((uintptr_t)r->base);
	}
	KT_ASSERT(probed > 0);
}

KTEST(plat, lapic_timer_wakes_idle_halt)
{
	arch_irq_take_pending();
	plat_lapic_timer_arm(40, 200000); /* the first use sets the LAPIC up */
	KT_ASSERT_EQ(plat_lapic_read(LAPIC_REG_SVR) & 0x1ff, 0x1ff);
	arch_idle_halt();
	arch_irq_take_pending();
	arch_irq_take_pending();
	plat_lapic_timer_arm(40, 200000);
	uint64_t irqs = kiln_cpl0_irqs;
	arch_idle_halt(); /* the shim enables interrupts only while halted */
	KT_ASSERT(kiln_cpl0_irqs > irqs);
	uint64_t pending = arch_irq_take_pending();
	KT_ASSERT_EQ(pending & (1ull << (40 - 32)), 1ull << (40 - 32));
	KT_ASSERT_EQ(arch_irq_take_pending(), 0);
	KT_ASSERT_EQ(plat_lapic_timer_remaining(), 0);
}

/* IF is 0 at CPL 3 on every accelerator: a timer that expires while CPL-3 code runs stays
 * pending in the LAPIC until the idle shim's sti, and is then taken at once. */
KTEST(plat, interrupts_wait_for_the_idle_shim)
{
	arch_irq_take_pending();
	volatile uint64_t canary = 0x5a5a5a5a5a5a5a5aull;
	uint64_t irqs = kiln_cpl0_irqs;
	plat_lapic_timer_arm(42, 50000); /* 50 us at the 1 GHz LAPIC clock of KVM and TCG */
	uint64_t khz = time_tsc_khz();
	for (uint64_t t0 = arch_rdtsc(); arch_rdtsc() - t0 < khz * 5;) /* 5 ms */
		arch_pause();
	KT_ASSERT_EQ(plat_lapic_timer_remaining(), 0); /* it expired ... */
	KT_ASSERT_EQ(__atomic_load_n(&kiln_irq_pending, __ATOMIC_ACQUIRE), 0); /* ... undelivered */
	KT_ASSERT_EQ(kiln_cpl0_irqs, irqs);
	uint64_t t0 = arch_rdtsc();
	arch_idle_halt();
	uint64_t waited = arch_rdtsc() - t0;
	KT_ASSERT_EQ(arch_irq_take_pending(), 1ull << (42 - 32));
	KT_ASSERT_EQ(kiln_cpl0_irqs, irqs + 1);
	KT_ASSERT(waited < khz * 2); /* taken at once, not at some later interrupt */
	KT_ASSERT_EQ(canary, 0x5a5a5a5a5a5a5a5aull);
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
/* Two pages of our own inside the image, which the build maps with 4 KiB pages (the free
 * regions belong to the allocator and may hold guard pages). */
static uint8_t invlpg_pages[2 * 4096] __attribute__((aligned(4096)));

KTEST(plat, invlpg_after_pte_change)
{
	uintptr_t a = (uintptr_t)invlpg_pages, b = a + 4096;
	KT_ASSERT(b + 4096 <= (2u << 20));
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

KTEST(plat, ioapic_routes_an_input_and_refuses_what_it_has_not)
{
	/* Input 10, masked: no device of this image drives it; the entry is left masked. */
	KT_ASSERT_EQ(plat_ioapic_route(10, 48, 1), 0);
	KT_ASSERT_EQ(plat_ioapic_route(10, 31, 1), -1);  /* an exception vector */
	KT_ASSERT_EQ(plat_ioapic_route(10, 96, 1), -1);  /* past the interrupt shims */
	KT_ASSERT_EQ(plat_ioapic_route(200, 48, 1), -1); /* no such input (24 on QEMU and KVM) */
}
