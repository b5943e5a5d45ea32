/* Monotonic time from the TSC (invariant TSC assumed: constant rate, never stops).
 *
 * The TSC frequency is found lazily, on the first call that needs it (not at boot: most apps
 * never ask, and a PIT measurement would cost ~6 ms of the < 300 us boot budget), from, in
 * order:
 *   1. the hypervisor's TSC leaf 0x40000010 (KVM/VMware: EAX = TSC kHz): in a VM the guest
 *      TSC rate is the hypervisor's to define, so its word beats the host CPU's leaves;
 *   2. KVM's kvmclock (pvclock tsc_to_system_mul/shift; two wrmsr shims, microseconds);
 *   3. CPUID 0x15 (TSC/crystal ratio with the crystal frequency);
 *   4. CPUID 0x16 (processor base MHz; equals the nominal TSC rate on Intel parts);
 *   5. a measurement against the i8254 PIT channel 0 counter (the median of three 2 ms runs,
 *      polled with port I/O at CPL 3; channel 0 because it always counts: channel 2 needs the
 *      port-0x61 gate, which QEMU microvm does not emulate).
 * If none works (no PIT either), 1 GHz is assumed and a warning is printed. */
#ifndef KILN_TIME_TIME_H
#define KILN_TIME_TIME_H

#include <stdint.h>

/* Nanoseconds since the PVH entry (kiln_boot_entry_tsc); monotonic. */
uint64_t time_now_ns(void);

/* The TSC frequency in kHz (calibrates on first use). */
uint64_t time_tsc_khz(void);

/* Converts a TSC cycle count to nanoseconds (no overflow for any 64-bit count). */
uint64_t time_tsc_to_ns(uint64_t cycles);

/* Busy-waits at least us microseconds (pause loop on the TSC). */
void time_delay_us(uint64_t us);

/* How the frequency was found: "cpuid-0x40000010", "kvmclock", "cpuid-0x15", "cpuid-0x16", "pit",
 * "assumed" (calibrates on first use). */
const char *time_tsc_source(void);

#endif
