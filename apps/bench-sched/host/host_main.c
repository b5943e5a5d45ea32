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

/* ---- the measurements (as apps/bench-sched/main.c) ---- */

#define ROUNDS 15
#define SWITCH_ITERS 20000
#define CREATE_ITERS 2000

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_u64);
	return v[n / 2];
}

static void *pingpong(void *arg)
{
	(void)arg;
	for (int i = 0; i < SWITCH_ITERS; i++)
		sched_yield();
	return 0;
}

static void *nothing(void *arg) { return arg; }

int main(void)
{
	if (host_init_lib() != 0) {
		fprintf(stderr, "scheduler init failed\n");
		return 1;
	}
	uint64_t v[ROUNDS];
	struct sched_coop_stats s0, s1;
	sched_coop_get_stats(&s0);
	for (int r = 0; r < ROUNDS; r++) {
		struct sched_thread *a, *b;
		if (sched_thread_create(&a, 0, pingpong, 0) || sched_thread_create(&b, 0, pingpong, 0))
			return 1;
		uint64_t t0 = arch_rdtsc();
		sched_thread_join(a, 0);
		uint64_t t1 = arch_rdtsc();
		sched_thread_join(b, 0);
		v[r] = (t1 - t0) / (2 * SWITCH_ITERS + 3);
	}
	uint64_t sw = median(v, ROUNDS);
	sched_coop_get_stats(&s1);
	/* Each round: 2 * SWITCH_ITERS yields that switch, plus entering a, b and main. */
	if (s1.switches - s0.switches < (uint64_t)ROUNDS * 2 * SWITCH_ITERS) {
		fprintf(stderr, "host bench: only %llu switches\n", (unsigned long long)(s1.switches - s0.switches));
		return 1;
	}
	static uint64_t c[CREATE_ITERS];
	for (int i = 0; i < CREATE_ITERS; i++) {
		struct sched_thread *t;
		uint64_t t0 = arch_rdtsc();
		if (sched_thread_create(&t, 0, nothing, 0))
			return 1;
		sched_thread_join(t, 0);
		c[i] = arch_rdtsc() - t0;
	}
	uint64_t cj = median(c, CREATE_ITERS);
	uint64_t w[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t deadline = time_now_ns() + 2000000;
		sched_sleep_until(deadline);
		w[r] = time_now_ns() - deadline;
	}
	uint64_t wk = median(w, ROUNDS);
	printf("BENCH sched switch_cycles=%llu create_join_cycles=%llu wakeup_latency_us=%llu.%03llu\n",
	       (unsigned long long)sw, (unsigned long long)cj, (unsigned long long)(wk / 1000),
	       (unsigned long long)(wk % 1000));
	return host_fsbase_writes ? 0 : 1;
}
