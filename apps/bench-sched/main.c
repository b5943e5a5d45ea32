/* Scheduler benchmark: context switch and create+join cost in TSC cycles, timer wake-up
 * latency in microseconds; each a median over several rounds. "overflow" as the first
 * argument runs a thread into its guard page instead (exits 255 with the fault report). */
#include <stdint.h>
#include <string.h>
#include <arch/cpu.h>
#include <print/print.h>
#include <sched/sched.h>
#include <sched-coop/coop.h>
#include <time/time.h>

#define ROUNDS 15
#define SWITCH_ITERS 2000
#define CREATE_ITERS 200
#define WAKE_ROUNDS 15

static void sort_u64(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static uint64_t median(uint64_t *v, int n)
{
	sort_u64(v, n);
	return v[n / 2];
}

static void *pingpong(void *arg)
{
	(void)arg;
	for (int i = 0; i < SWITCH_ITERS; i++)
		sched_yield();
	return 0;
}

/* Two threads yield to each other: every yield is one switch. Main is blocked in join. */
static uint64_t bench_switch(void)
{
	uint64_t v[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		struct sched_thread *a, *b;
		if (sched_thread_create(&a, 0, pingpong, 0) || sched_thread_create(&b, 0, pingpong, 0))
			return 0;
		uint64_t t0 = arch_rdtsc();
		sched_thread_join(a, 0);
		uint64_t t1 = arch_rdtsc();
		sched_thread_join(b, 0);
		/* 2 * SWITCH_ITERS yields, plus the start of a and b and the switch back to main. */
		v[r] = (t1 - t0) / (2 * SWITCH_ITERS + 3);
	}
	return median(v, ROUNDS);
}

static void *nothing(void *arg)
{
	return arg;
}

static uint64_t bench_create_join(void)
{
	static uint64_t v[CREATE_ITERS];
	for (int i = 0; i < CREATE_ITERS; i++) {
		struct sched_thread *t;
		uint64_t t0 = arch_rdtsc();
		if (sched_thread_create(&t, 0, nothing, 0))
			return 0;
		sched_thread_join(t, 0);
		v[i] = arch_rdtsc() - t0;
	}
	return median(v, CREATE_ITERS);
}

/* Sleep to a deadline with nothing else runnable: the CPU halts, the LAPIC one-shot fires,
 * the idle thread wakes the sleeper. Latency = wake time - deadline, in ns. */
static uint64_t bench_wakeup_ns(void)
{
	uint64_t v[WAKE_ROUNDS];
	for (int r = 0; r < WAKE_ROUNDS; r++) {
		uint64_t deadline = time_now_ns() + 2000000 + 137000 * (uint64_t)r;
		sched_sleep_until(deadline);
		v[r] = time_now_ns() - deadline;
	}
	return median(v, WAKE_ROUNDS);
}

/* Volatile: gcc can neither see the recursion as infinite nor turn it into a loop. */
static volatile int recurse_limit = 1 << 30;

static __attribute__((noinline)) int recurse(int depth)
{
	volatile char buf[512];
	if (depth > recurse_limit)
		return 0;
	buf[0] = (char)depth;
	return recurse(depth + 1) + buf[0];
}

static void *overflow_fn(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)recurse(0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "overflow") == 0) {
		struct sched_thread *t;
		struct sched_attr a = {.name = "overflower", .stack_size = 16384};
		if (sched_thread_create(&t, &a, overflow_fn, 0) != 0)
			return 1;
		uintptr_t lo, hi;
		sched_coop_stack_bounds(t, &lo, &hi);
		/* The host test checks that the fault address lies in [lo - 4096, lo). */
		kprintf("bench-sched: thread 'overflower' stack lo=0x%lx hi=0x%lx\n", (unsigned long)lo,
			(unsigned long)hi);
		sched_thread_join(t, 0);
		kprintf("bench-sched: the overflow was not caught\n");
		return 1;
	}
	time_tsc_khz(); /* calibrate before measuring */
	uint64_t sw = bench_switch();
	uint64_t cj = bench_create_join();
	uint64_t wk = bench_wakeup_ns();
	if (!sw || !cj) {
		kprintf("bench-sched: thread creation failed\n");
		return 1;
	}
	kprintf("BENCH sched switch_cycles=%llu create_join_cycles=%llu wakeup_latency_us=%llu.%03llu\n",
		(unsigned long long)sw, (unsigned long long)cj, (unsigned long long)(wk / 1000),
		(unsigned long long)(wk % 1000));
	return 0;
}
