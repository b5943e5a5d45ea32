/* The IOAPIC from CPL 3: an index register (IOREGSEL) and a data window (IOWIN). */
#include <stdint.h>
#include <arch/irq.h>
#include <plat/ioapic.h>
#include <plat/lapic.h>

#define IOREGSEL 0x00
#define IOWIN 0x10
#define REG_VERSION 0x01
#define REG_REDIR(n) (0x10 + 2 * (n))
#define REDIR_MASKED (1u << 16)

static uint32_t rd(uint32_t reg)
{
	*(volatile uint32_t *)(PLAT_IOAPIC_BASE + IOREGSEL) = reg;
	return *(volatile uint32_t *)(PLAT_IOAPIC_BASE + IOWIN);
}

static void wr(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(PLAT_IOAPIC_BASE + IOREGSEL) = reg;
	*(volatile uint32_t *)(PLAT_IOAPIC_BASE + IOWIN) = v;
}

int plat_ioapic_route(unsigned gsi, uint8_t vector, int masked)
{
	if (vector < ARCH_IRQ_VECTOR_FIRST || vector > ARCH_IRQ_VECTOR_LAST)
		return -1;
	uint32_t max = (rd(REG_VERSION) >> 16) & 0xff; /* the last redirection entry */
	if (gsi > max)
		return -1;
	plat_lapic_init(); /* the LAPIC must be software-enabled to accept the interrupt */
	uint32_t apic_id = plat_lapic_read(LAPIC_REG_ID) >> 24;
	/* Masked while the destination is written, so no half-written entry is ever live. */
	wr(REG_REDIR(gsi), REDIR_MASKED | vector);
	wr(REG_REDIR(gsi) + 1, apic_id << 24);
	/* Fixed delivery, physical destination, active high, edge-triggered. */
	wr(REG_REDIR(gsi), (masked ? REDIR_MASKED : 0) | vector);
	return 0;
}
