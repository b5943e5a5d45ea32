#include "paths.h"
#include <sys/syscall.h>

static volatile long nr_getppid = SYS_getppid;

long via_syscall_insn(void)
{
	long r;
	/* The number is loaded from memory, so the build cannot tell it and leaves the instruction. */
	__asm__ volatile("movl %1, %%eax\n\tsyscall" : "=a"(r) : "m"(nr_getppid) : "rcx", "r11", "memory");
	return r;
}

long via_rewritten(void)
{
	long r;
	__asm__ volatile("movl $110, %%eax\n\tsyscall" : "=a"(r) : : "rcx", "r11", "memory");
	return r;
}

__attribute__((noinline)) long via_call(void)
{
	__asm__ volatile("" ::: "memory");
	return 0;
}

static inline unsigned long tsc(void)
{
	unsigned lo, hi;
	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi));
	return ((unsigned long)hi << 32) | lo;
}

/* Cycles per call: the best of 7 rounds of `iters` calls (the least disturbed). */
unsigned long bench_loop(long (*fn)(void), unsigned long iters)
{
	unsigned long best = ~0ul;
	for (int round = 0; round < 7; round++) {
		unsigned long t0 = tsc();
		for (unsigned long i = 0; i < iters; i++)
			fn();
		unsigned long t = tsc() - t0;
		if (t < best)
			best = t;
	}
	return (best + iters / 2) / iters;
}
