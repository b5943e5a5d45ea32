/*
 * bench-alloc: allocator throughput inside the guest, over the image's allocator (chosen by the
 * app configuration: alloc-region, alloc-buddy or alloc-tlsf). Arguments: workload names
 * (small, mixed, pages; default all), "init" (time creating a fresh allocator of the same kind
 * over 1 MiB), "stats" (print the allocator statistics), "none" (just boot: for boot timing).
 * Prints one line per workload:
 *   BENCH alloc workload=<name> ops=<n> cycles=<n> ns=<n>
 */
#include <alloc/alloc.h>
#include <arch/cpu.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time/time.h>

#include "workload.h"

#if defined(CONFIG_LIB_ALLOC_TLSF)
#include <alloc/tlsf.h>
#define ALLOC_CREATE alloc_tlsf_create
#elif defined(CONFIG_LIB_ALLOC_BUDDY)
#include <alloc/buddy.h>
#define ALLOC_CREATE alloc_buddy_create
#elif defined(CONFIG_LIB_ALLOC_REGION)
#include <alloc/region.h>
#define ALLOC_CREATE alloc_region_create
#else
#error "bench-alloc needs an allocator library: alloc-region, alloc-buddy or alloc-tlsf"
#endif

static void *g_malloc(void *ctx, size_t n)
{
	(void)ctx;
	return malloc(n);
}
static void g_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}
static void *g_palloc(void *ctx, size_t n)
{
	return alloc_palloc(ctx, n);
}
static void g_pfree(void *ctx, void *p, size_t n)
{
	alloc_pfree(ctx, p, n);
}

static void report(const char *name, long ops, uint64_t cycles)
{
	printf("BENCH alloc workload=%s ops=%ld cycles=%llu ns=%llu\n", name, ops, (unsigned long long)cycles,
	       (unsigned long long)time_tsc_to_ns(cycles));
}

/* Creating an allocator over 1 MiB, 100 times over the same memory: the set-up cost at boot. */
static int bench_init(void)
{
	enum { PAGES = 256, REPS = 100 };
	struct alloc *d = alloc_default();
	void *mem = alloc_palloc(d, PAGES);
	if (!mem)
		return 1;
	uint64_t t0 = arch_rdtsc();
	for (int i = 0; i < REPS; i++)
		if (!ALLOC_CREATE(mem, PAGES * ALLOC_PAGE_SIZE))
			return 1;
	report("init", REPS, arch_rdtsc() - t0);
	alloc_pfree(d, mem, PAGES);
	return 0;
}

static int run_one(const char *name)
{
	if (!strcmp(name, "none"))
		return 0;
	if (!strcmp(name, "stats")) {
		alloc_stats_print();
		return 0;
	}
	if (!strcmp(name, "init"))
		return bench_init();
	struct wl_api api = {g_malloc, g_free, g_palloc, g_pfree, alloc_default()};
	uint64_t sum;
	uint64_t t0 = arch_rdtsc();
	long ops = wl_run(name, &api, &sum);
	uint64_t dt = arch_rdtsc() - t0;
	if (ops == -1) {
		printf("bench-alloc: unknown workload \"%s\" (small, mixed, pages, init, stats, none)\n", name);
		return 2;
	}
	if (ops < 0) {
		printf("bench-alloc: workload %s: an allocation failed (out of memory?)\n", name);
		alloc_stats_print();
		return 1;
	}
	report(name, ops, dt);
	return 0;
}

int main(int argc, char **argv)
{
	if (!alloc_default()) {
		printf("bench-alloc: no default allocator\n");
		return 1;
	}
	int rc = 0;
	if (argc < 2) {
		for (int i = 0; i < wl_count && !rc; i++)
			rc = run_one(wl_all[i].name);
		return rc;
	}
	for (int i = 1; i < argc && !rc; i++)
		rc = run_one(argv[i]);
	return rc;
}
