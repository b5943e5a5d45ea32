/* The scheduler measurements, shared by the guest app (main.c) and its native build on the host
 * (host/host_main.c), so that both measure exactly the same thing. */
#ifndef BENCH_SCHED_WORKLOAD_H
#define BENCH_SCHED_WORKLOAD_H

#include <stdint.h>

#define SCHED_BENCH_MAX_ITERS 4096

struct sched_bench {
	uint64_t switch_cycles;      /* median cost of one yield between two threads, TSC cycles */
	uint64_t create_join_cycles; /* median cost of creating and joining a thread that returns */
	uint64_t wakeup_ns;          /* median lateness of a sleeper woken by the one-shot timer */
};

/* Runs each measurement `rounds` times (switch: `switch_iters` yields per thread and round;
 * create+join: `create_iters`, at most SCHED_BENCH_MAX_ITERS). 0, or -1 if a thread could not
 * be created. */
int sched_bench_run(struct sched_bench *out, int rounds, int switch_iters, int create_iters);

#endif
