#ifndef HOST_ARCH_IRQ_H
#define HOST_ARCH_IRQ_H
#include <stdint.h>
#define ARCH_IRQ_VECTOR_FIRST 32
static inline uint64_t arch_irq_take_pending(void) { return 0; }
#endif
