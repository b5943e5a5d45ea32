/* Interrupts (vectors 32-95) do no work at CPL 0: the shim sets a pending bit, EOIs the
 * xAPIC and returns. CPL-3 code collects the bits here (typically after arch_idle_halt). */
#ifndef ARCH_IRQ_H
#define ARCH_IRQ_H

#include <stdint.h>

#define ARCH_IRQ_VECTOR_FIRST 32
#define ARCH_IRQ_VECTOR_LAST 95
/* The LAPIC spurious vector: its stub only returns (no EOI, no pending bit). */
#define ARCH_SPURIOUS_VECTOR 255

/* bit i = vector 32 + i; set by the interrupt shims. */
extern volatile uint64_t kiln_irq_pending;

/* Returns the pending bits and clears them atomically. */
static inline uint64_t arch_irq_take_pending(void)
{
	return __atomic_exchange_n(&kiln_irq_pending, 0, __ATOMIC_ACQ_REL);
}

#endif
