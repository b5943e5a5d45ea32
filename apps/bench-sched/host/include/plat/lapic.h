#ifndef HOST_PLAT_LAPIC_H
#define HOST_PLAT_LAPIC_H
#include <stdint.h>
/* Ticks are nanoseconds here; arch_idle_halt sleeps for the armed time. */
void plat_lapic_timer_arm(uint8_t vector, uint32_t ticks);
static inline uint32_t plat_lapic_timer_ticks_per_ms(uint64_t tsc_khz) { (void)tsc_khz; return 1000000; }
#endif
