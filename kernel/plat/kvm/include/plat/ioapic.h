/* The first IOAPIC (0xfec00000, mapped uncached by the build's page tables), programmed from
 * CPL 3 through its MMIO window. Inputs stay masked unless a driver routes one: boot routes
 * none. Each register access is a VM exit on KVM: route at setup, not per interrupt. */
#ifndef PLAT_IOAPIC_H
#define PLAT_IOAPIC_H

#include <stdint.h>

#define PLAT_IOAPIC_BASE 0xfec00000ul

/* Routes input `gsi` to `vector` (32-95) on this CPU's LAPIC, edge-triggered and active high
 * (an interrupt per rising edge, so a line left high does not storm; the driver acknowledges
 * its device before it wants the next one), masked or not. 0, or -1 when the IOAPIC has no
 * such input or the vector is outside 32-95. */
int plat_ioapic_route(unsigned gsi, uint8_t vector, int masked);

#endif
