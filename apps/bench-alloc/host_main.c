/*
 * Host reference for bench-alloc: the same workloads (workload.c) natively, over glibc malloc
 * or over one of Kiln's allocator cores compiled for the host. Built and run by
 * src/bench/alloc.ts:  host-bench <glibc|region|buddy|tlsf> <reps> <workload>...
 * Prints the guest's line format, from the fastest of `reps` repetitions:
 *   BENCH alloc workload=<name> ops=<n> cycles=0 ns=<n>
 */
#define _POSIX_C_SOURCE 200809L
#include <alloc/buddy.h>
#include <alloc/region.h>
#include <alloc/tlsf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workload.h"

static void *c_malloc(void *ctx, size_t n)
{
	(void)ctx;
	return malloc(n);
}
static void c_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}
static void *c_palloc(void *ctx, size_t n)
{
	(void)ctx;
	return aligned_alloc(4096, n << 12);
}
static void c_pfree(void *ctx, void *p, size_t n)
{
	(void)ctx, (void)n;
	free(p);
}

static void *k_malloc(void *ctx, size_t n)
{
	return alloc_malloc(ctx, n);
}
static void k_free(void *ctx, void *p)
{
	alloc_free(ctx, p);
}
static void *k_palloc(void *ctx, size_t n)
{
	return alloc_palloc(ctx, n);
}
static void k_pfree(void *ctx, void *p, size_t n)
{
	alloc_pfree(ctx, p, n);
}

/* CPU time of this thread: other jobs on a busy machine do not inflate it as wall time would. */
static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: host-bench <glibc|region|buddy|tlsf> <reps> <workload>...\n");
		return 2;
	}
	const char *kind = argv[1];
	int reps = atoi(argv[2]);
	struct alloc *(*create)(void *, size_t) = !strcmp(kind, "region") ? alloc_region_create
						    : !strcmp(kind, "buddy")  ? alloc_buddy_create
						    : !strcmp(kind, "tlsf")   ? alloc_tlsf_create
									      : NULL;
	if (!create && strcmp(kind, "glibc")) {
		fprintf(stderr, "host-bench: unknown allocator %s\n", kind);
		return 2;
	}
	size_t arena_len = (size_t)WL_REGION_BYTES_MAX + (16u << 20);
	void *arena = create ? aligned_alloc(4096, arena_len) : NULL;
	if (create && !arena)
		return 1;
	for (int w = 3; w < argc; w++) {
		uint64_t best = UINT64_MAX;
		long ops = 0;
		for (int r = 0; r < reps; r++) {
			struct wl_api api = {c_malloc, c_free, c_palloc, c_pfree, NULL};
			if (create) {
				/* a fresh allocator per repetition (region never reuses), created untimed */
				struct wl_api k = {k_malloc, k_free, k_palloc, k_pfree, create(arena, arena_len)};
				api = k;
			}
			uint64_t sum, t0 = now_ns();
			ops = wl_run(argv[w], &api, &sum);
			uint64_t dt = now_ns() - t0;
			if (ops < 0) {
				fprintf(stderr, "host-bench: %s on %s failed (%ld)\n", argv[w], kind, ops);
				return 1;
			}
			if (dt < best)
				best = dt;
		}
		printf("BENCH alloc workload=%s ops=%ld cycles=0 ns=%llu\n", argv[w], ops, (unsigned long long)best);
	}
	free(arena);
	return 0;
}
