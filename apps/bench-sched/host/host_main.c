/* The scheduler (libraries sched and sched-coop, unchanged) compiled natively on the host, so
 * its switch and create+join costs can be measured on real hardware where the guest only runs
 * under an emulator: under KVM the guest's CPL-3 code runs natively, so these numbers are what
 * KVM gives, minus wrfsbase (the host's glibc owns %fs) and with mprotect standing in for the
 * guard page's PTE write. Prints the same BENCH line as the guest. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <alloc/alloc.h>
#include <mmu/mmu.h>
#include <sched/sched.h>
#include <sched-coop/coop.h>
#include <arch/cpu.h>
#include <time/time.h>
#include "../workload.h"

uint64_t host_fsbase_writes;
extern int (*const host_init_lib)(void);

/* ---- stand-ins for the guest libraries ---- */

_Noreturn void kiln_panic(const char *msg)
{
	fprintf(stderr, "panic: %s\n", msg);
	abort();
}

uint64_t time_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t armed_ns;
void plat_lapic_timer_arm(uint8_t vector, uint32_t ticks)
{
	(void)vector;
	armed_ns = ticks;
}

void arch_idle_halt(void)
{
	struct timespec ts = {armed_ns / 1000000000u, armed_ns % 1000000000u};
	nanosleep(&ts, NULL);
}

void arch_boot_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
	*lo = *hi = 0;
}

int mmu_guard_page(uintptr_t va) { return mprotect((void *)va, 4096, PROT_NONE) ? -22 : 0; }
int mmu_unguard_page(uintptr_t va) { return mprotect((void *)va, 4096, PROT_READ | PROT_WRITE) ? -22 : 0; }

/* The default allocator over libc (pages from aligned_alloc, so mprotect works on them). */
static void *h_malloc(struct alloc *a, size_t n) { (void)a; return malloc(n); }
static void h_free(struct alloc *a, void *p) { (void)a; free(p); }
static int h_memalign(struct alloc *a, void **out, size_t align, size_t n)
{
	(void)a;
	return posix_memalign(out, align < sizeof(void *) ? sizeof(void *) : align, n);
}
static void *h_palloc(struct alloc *a, size_t n) { (void)a; return aligned_alloc(4096, n * 4096); }
static void h_pfree(struct alloc *a, void *p, size_t n) { (void)a; (void)n; free(p); }
static const struct alloc_ops h_ops = {
	.malloc = h_malloc, .free = h_free, .memalign = h_memalign, .palloc = h_palloc, .pfree = h_pfree,
};
static struct alloc h_alloc = {.ops = &h_ops, .name = "host"};
struct alloc *alloc_default(void) { return &h_alloc; }

/* ---- the measurements: apps/bench-sched/workload.c, as in the guest ---- */

int main(void)
{
	if (host_init_lib() != 0) {
		fprintf(stderr, "scheduler init failed\n");
		return 1;
	}
	struct sched_coop_stats s0, s1;
	sched_coop_get_stats(&s0);
	/* More iterations than the guest: natively they are cheap, and the medians steadier. */
	struct sched_bench b;
	if (sched_bench_run(&b, 15, 20000, 2000)) {
		fprintf(stderr, "host bench: thread creation failed\n");
		return 1;
	}
	sched_coop_get_stats(&s1);
	/* Each round: 2 * 20000 yields that switch, plus entering a, b and main. */
	if (s1.switches - s0.switches < 15ull * 2 * 20000) {
		fprintf(stderr, "host bench: only %llu switches\n", (unsigned long long)(s1.switches - s0.switches));
		return 1;
	}
	uint64_t sw = b.switch_cycles, cj = b.create_join_cycles, wk = b.wakeup_ns;
	printf("BENCH sched switch_cycles=%llu create_join_cycles=%llu wakeup_latency_us=%llu.%03llu\n",
	       (unsigned long long)sw, (unsigned long long)cj, (unsigned long long)(wk / 1000),
	       (unsigned long long)(wk % 1000));
	return host_fsbase_writes ? 0 : 1;
}
