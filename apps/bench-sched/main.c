/* Scheduler benchmark: context switch and create+join cost in TSC cycles, timer wake-up
 * latency in microseconds; each a median over several rounds. "overflow" as the first
 * argument runs a thread into its guard page instead (exits 255 with the fault report). */
#include <stdint.h>
#include <string.h>
#include <print/print.h>
#include <sched/sched.h>
#include <sched-coop/coop.h>
#include <time/time.h>

#include "workload.h"

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
	struct sched_bench b;
	if (sched_bench_run(&b, 15, 2000, 200)) {
		kprintf("bench-sched: thread creation failed\n");
		return 1;
	}
	uint64_t sw = b.switch_cycles, cj = b.create_join_cycles, wk = b.wakeup_ns;
	kprintf("BENCH sched switch_cycles=%llu create_join_cycles=%llu wakeup_latency_us=%llu.%03llu\n",
		(unsigned long long)sw, (unsigned long long)cj, (unsigned long long)(wk / 1000),
		(unsigned long long)(wk % 1000));
	return 0;
}
