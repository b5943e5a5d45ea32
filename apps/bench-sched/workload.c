/* See workload.h. Only the scheduler API, rdtsc and the clock: the same file builds for both. */
#include "workload.h"
#include <arch/cpu.h>
#include <sched/sched.h>
#include <time/time.h>

#define MAX_ROUNDS 64

static uint64_t median(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

static int switch_iters;

static void *pingpong(void *arg)
{
	(void)arg;
	for (int i = 0; i < switch_iters; i++)
		sched_yield();
	return 0;
}

static void *nothing(void *arg)
{
	return arg;
}

/* Two threads yield to each other: every yield is one switch. Main is blocked in join. */
static int bench_switch(int rounds, uint64_t *out)
{
	uint64_t v[MAX_ROUNDS];
	for (int r = 0; r < rounds; r++) {
		struct sched_thread *a, *b;
		if (sched_thread_create(&a, 0, pingpong, 0) || sched_thread_create(&b, 0, pingpong, 0))
			return -1;
		uint64_t t0 = arch_rdtsc();
		sched_thread_join(a, 0);
		uint64_t t1 = arch_rdtsc();
		sched_thread_join(b, 0);
		/* 2 * switch_iters yields, plus the start of a and b and the switch back to main. */
		v[r] = (t1 - t0) / (uint64_t)(2 * switch_iters + 3);
	}
	*out = median(v, rounds);
	return 0;
}

static int bench_create_join(int iters, uint64_t *out)
{
	static uint64_t v[SCHED_BENCH_MAX_ITERS];
	for (int i = 0; i < iters; i++) {
		struct sched_thread *t;
		uint64_t t0 = arch_rdtsc();
		if (sched_thread_create(&t, 0, nothing, 0))
			return -1;
		sched_thread_join(t, 0);
		v[i] = arch_rdtsc() - t0;
	}
	*out = median(v, iters);
	return 0;
}

/* Sleep to a deadline with nothing else runnable: the CPU halts, the one-shot timer fires, the
 * idle thread wakes the sleeper. Latency = wake time - deadline. Deadlines vary a little so
 * they do not line up with any periodic host activity. */
static uint64_t bench_wakeup_ns(int rounds)
{
	uint64_t v[MAX_ROUNDS];
	for (int r = 0; r < rounds; r++) {
		uint64_t deadline = time_now_ns() + 2000000 + 137000 * (uint64_t)r;
		sched_sleep_until(deadline);
		v[r] = time_now_ns() - deadline;
	}
	return median(v, rounds);
}

int sched_bench_run(struct sched_bench *out, int rounds, int iters_per_switch, int create_iters)
{
	if (rounds < 1 || rounds > MAX_ROUNDS || create_iters < 1 || create_iters > SCHED_BENCH_MAX_ITERS)
		return -1;
	switch_iters = iters_per_switch;
	if (bench_switch(rounds, &out->switch_cycles) || bench_create_join(create_iters, &out->create_join_cycles))
		return -1;
	out->wakeup_ns = bench_wakeup_ns(rounds);
	return 0;
}
