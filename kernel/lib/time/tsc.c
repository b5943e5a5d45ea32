/* TSC clock: lazy calibration, and a 2^40-scaled multiplier so converting cycles to ns is one
 * 64x64->128 multiply and a shift (no division on the hot path). */
#include <time/time.h>

#include <arch/cpu.h>
#include <console/console.h>
#include <stdbool.h>

/* Stamped by arch-x86_64 at the PVH entry (declared here: time cannot require boot, which
 * requires time). */
extern uint64_t kiln_boot_entry_tsc;

#define PIT_HZ 1193182u
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_CAL_TICKS (PIT_HZ / 500) /* 2 ms, three times */

static uint64_t tsc_khz;
static uint64_t ns_mult; /* ns = cycles * ns_mult >> 40 */
static const char *source = "uncalibrated";

/* KVM's pvclock page (the ABI of Documentation/virt/kvm/x86/msr.rst). */
struct pvclock {
	uint32_t version; /* odd while KVM updates it */
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
};
#define MSR_KVM_SYSTEM_TIME 0x12
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE (1u << 0)
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)

/* The TSC rate KVM uses for kvmclock: ns = (tsc << shift) * mul >> 32, so
 * kHz = (10^6 << 32) / mul, shifted back. One wrmsr to enable, one to disable (identity
 * mapping: the struct's virtual address is its physical one). */
static uint64_t from_kvmclock(uint32_t features)
{
	static volatile struct pvclock pv __attribute__((aligned(64)));
	uint32_t msr;
	if (features & KVM_FEATURE_CLOCKSOURCE2)
		msr = MSR_KVM_SYSTEM_TIME_NEW;
	else if (features & KVM_FEATURE_CLOCKSOURCE)
		msr = MSR_KVM_SYSTEM_TIME;
	else
		return 0;
	arch_wrmsr(msr, (uint64_t)(uintptr_t)&pv | 1);
	uint32_t mul = 0;
	int8_t shift = 0;
	for (int tries = 0; tries < 1000; tries++) {
		uint32_t v = pv.version;
		__asm__ volatile("" ::: "memory");
		mul = pv.tsc_to_system_mul;
		shift = pv.tsc_shift;
		__asm__ volatile("" ::: "memory");
		if (!(v & 1) && v == pv.version && v != 0)
			break;
		mul = 0;
	}
	arch_wrmsr(msr, 0); /* stop KVM writing into our memory */
	if (!mul)
		return 0;
	uint64_t khz = ((uint64_t)1000000 << 32) / mul;
	return shift < 0 ? khz << -shift : khz >> shift;
}

static uint64_t from_cpuid(void)
{
	uint32_t r[4];
	arch_cpuid(0, 0, r);
	uint32_t max_leaf = r[0];
	arch_cpuid(1, 0, r);
	if (r[2] & (1u << 31)) { /* running under a hypervisor */
		arch_cpuid(0x40000000, 0, r);
		uint32_t hv_max = r[0];
		/* "KVMKVMKVM\0\0\0" in ebx, ecx, edx */
		bool kvm = r[1] == 0x4b4d564b && r[2] == 0x564b4d56 && r[3] == 0x4d;
		if (kvm && hv_max == 0) /* old KVM: 0 means 0x40000001 */
			hv_max = 0x40000001;
		if (hv_max >= 0x40000010 && hv_max < 0x40010000) {
			arch_cpuid(0x40000010, 0, r);
			if (r[0]) {
				source = "cpuid-0x40000010";
				return r[0];
			}
		}
		if (kvm && hv_max >= 0x40000001) {
			arch_cpuid(0x40000001, 0, r);
			uint64_t khz = from_kvmclock(r[0]);
			if (khz) {
				source = "kvmclock";
				return khz;
			}
		}
	}
	if (max_leaf >= 0x15) {
		arch_cpuid(0x15, 0, r); /* eax = denominator, ebx = numerator, ecx = crystal Hz */
		if (r[0] && r[1] && r[2]) {
			source = "cpuid-0x15";
			return (uint64_t)r[2] * r[1] / r[0] / 1000;
		}
	}
	if (max_leaf >= 0x16) {
		arch_cpuid(0x16, 0, r); /* eax = base MHz */
		if (r[0] & 0xffff) {
			source = "cpuid-0x16";
			return (uint64_t)(r[0] & 0xffff) * 1000;
		}
	}
	return 0;
}

static uint16_t pit_read_ch0(void)
{
	arch_outb(PIT_CMD, 0x00); /* latch channel 0 */
	uint8_t lo = arch_inb(PIT_CH0);
	uint8_t hi = arch_inb(PIT_CH0);
	return (uint16_t)(lo | hi << 8);
}

/* Mode 0 control word without a count: OUT stays low and the counter stops, so channel 0 does
 * not keep raising IRQ 0 (or firing QEMU's timer) after calibration. */
static void pit_stop(void)
{
	arch_outb(PIT_CMD, 0x30);
}

static uint64_t from_pit(void)
{
	/* Channel 0, lobyte/hibyte, mode 2 (rate generator: counts down from 65535 and reloads),
	 * binary. Its IRQ 0 output goes nowhere (IOAPIC masked, IF clear). */
	arch_outb(PIT_CMD, 0x34);
	arch_outb(PIT_CH0, 0xff);
	arch_outb(PIT_CH0, 0xff);
	/* Wait for the counter to start moving (and detect a missing PIT: reads stuck). */
	uint16_t c0 = pit_read_ch0();
	uint64_t t0 = arch_rdtsc();
	int spins = 0;
	for (;;) {
		uint16_t c = pit_read_ch0();
		uint64_t t = arch_rdtsc();
		if (c != c0) {
			c0 = c;
			t0 = t;
			break;
		}
		if (++spins > 100000) {
			pit_stop();
			return 0;
		}
	}
	/* Count PIT ticks (with wrap) until PIT_CAL_TICKS elapsed, stamping the TSC at the
	 * edges; the first and last reads bound the error to ~1 tick (0.8 us) of 2 ms. */
	uint32_t elapsed = 0;
	uint16_t prev = c0;
	uint64_t t1 = t0;
	spins = 0;
	while (elapsed < PIT_CAL_TICKS) {
		uint16_t c = pit_read_ch0();
		t1 = arch_rdtsc();
		elapsed += (uint16_t)(prev - c); /* counts down; mode 2 wraps mod 65536 */
		prev = c;
		if (++spins > 10000000) {
			pit_stop();
			return 0;
		}
	}
	pit_stop();
	source = "pit";
	return (t1 - t0) * PIT_HZ / ((uint64_t)elapsed * 1000);
}

/* The median of three PIT measurements: a host that stops the vCPU between a PIT read and its
 * TSC stamp skews one of them (and the clock for the whole boot), rarely two. */
static uint64_t from_pit_median(void)
{
	uint64_t v[3];
	for (int i = 0; i < 3; i++)
		if (!(v[i] = from_pit()))
			return 0;
	uint64_t lo = v[0] < v[1] ? v[0] : v[1], hi = v[0] < v[1] ? v[1] : v[0];
	return v[2] < lo ? lo : v[2] > hi ? hi : v[2];
}

static void calibrate(void)
{
	uint64_t khz = from_cpuid();
	if (!khz)
		khz = from_pit_median();
	if (!khz) {
		khz = 1000000;
		source = "assumed";
		console_puts("time: warning: no TSC frequency from CPUID or the PIT; assuming 1 GHz\n");
	}
	ns_mult = ((uint64_t)1000000 << 40) / khz;
	tsc_khz = khz;
}

uint64_t time_tsc_khz(void)
{
	if (__builtin_expect(!tsc_khz, 0))
		calibrate();
	return tsc_khz;
}

const char *time_tsc_source(void)
{
	time_tsc_khz();
	return source;
}

uint64_t time_tsc_to_ns(uint64_t cycles)
{
	time_tsc_khz();
	return (uint64_t)(((unsigned __int128)cycles * ns_mult) >> 40);
}

uint64_t time_now_ns(void)
{
	return time_tsc_to_ns(arch_rdtsc() - kiln_boot_entry_tsc);
}

void time_delay_us(uint64_t us)
{
	uint64_t start = arch_rdtsc();
	uint64_t cycles = us * time_tsc_khz() / 1000;
	while (arch_rdtsc() - start < cycles)
		arch_pause();
}
