/*
 * Allocator workloads shared by the guest benchmark (main.c, over the image's allocator) and
 * the host reference (host_main.c, over glibc malloc or an allocator core compiled natively).
 * Pure C without libc so both builds use the same code.
 */
#ifndef BENCH_ALLOC_WORKLOAD_H
#define BENCH_ALLOC_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

struct wl_api {
	void *(*malloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *p);
	void *(*palloc)(void *ctx, size_t npages);
	void (*pfree)(void *ctx, void *p, size_t npages);
	void *ctx;
};

struct wl_desc {
	const char *name;
	const char *what;
};

/* small: 16-256 B objects; mixed: 16 B-8 KiB, log-distributed; pages: 1-8 pages. */
extern const struct wl_desc wl_all[];
extern const int wl_count;

/* Bytes a workload may hold at once plus what a never-reusing allocator eats over a run. */
#define WL_REGION_BYTES_MAX (48u << 20)

/*
 * Run workload `name` once: a fixed-seed sequence of allocations and frees over a table of
 * slots (each op takes a random slot: allocates if empty, frees if full; every block is
 * touched), then frees what is left. Returns the number of allocator calls, or -1 for an
 * unknown name, or -2 if an allocation failed. *sum receives a checksum (keeps the work live).
 */
long wl_run(const char *name, const struct wl_api *api, uint64_t *sum);

#endif
