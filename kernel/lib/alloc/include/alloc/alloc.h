/*
 * The allocator API (modelled on Unikraft's ukalloc): an allocator is a `struct alloc` whose
 * `ops` table does the work, so region, buddy and TLSF swap without their callers knowing.
 *
 * This header is pure C (only gcc's freestanding headers) because the allocator cores that
 * include it are also compiled for the host tests.
 *
 * Semantics every implementation follows:
 *  - malloc/calloc/realloc results are aligned to ALLOC_MIN_ALIGN (16, the x86-64 ABI's
 *    max_align_t); malloc(0) returns a unique minimum-size block.
 *  - memalign: `align` is a power of two (any value, even < 16); returns 0 or an errno value
 *    (EINVAL 22, ENOMEM 12), as posix_memalign.
 *  - realloc(NULL, n) = malloc(n); realloc(p, 0) frees p and returns NULL (as glibc);
 *    on failure the old block is left untouched and NULL is returned.
 *  - palloc(n) returns n pages of ALLOC_PAGE_SIZE, page aligned; pfree(p, n) takes the same n.
 *  - availmem: free bytes the allocator could still hand out (upper bound: fragmentation
 *    may prevent one request of that size).
 *  - addmem: give the allocator another memory region [base, base+len).
 *  - trim (optional): give back what the allocator caches for speed (TLSF's quick lists) to
 *    its free structures, so availmem and the largest possible block are exact again.
 *
 * Statistics are kept by each implementation through the alloc_stats_* helpers below.
 * `cur_bytes`/`peak_bytes` count the bytes actually reserved for callers (after the
 * allocator's rounding, without its block headers), so they show internal fragmentation.
 */
#ifndef ALLOC_ALLOC_H
#define ALLOC_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#define ALLOC_PAGE_SHIFT 12
#define ALLOC_PAGE_SIZE ((size_t)1 << ALLOC_PAGE_SHIFT)
#define ALLOC_MIN_ALIGN ((size_t)16)

/* errno values returned by memalign (Linux numbering; no <errno.h> so the host build agrees). */
#define ALLOC_EINVAL 22
#define ALLOC_ENOMEM 12

struct alloc;

struct alloc_ops {
	void *(*malloc)(struct alloc *a, size_t size);
	/* Optional: NULL means malloc + memset (alloc_calloc checks the multiplication first). */
	void *(*calloc)(struct alloc *a, size_t nmemb, size_t size);
	void *(*realloc)(struct alloc *a, void *ptr, size_t size);
	int (*memalign)(struct alloc *a, void **out, size_t align, size_t size);
	void (*free)(struct alloc *a, void *ptr);
	void *(*palloc)(struct alloc *a, size_t npages);
	void (*pfree)(struct alloc *a, void *ptr, size_t npages);
	size_t (*availmem)(struct alloc *a);
	/* 0, or ALLOC_EINVAL when the region is too small/unusable. */
	int (*addmem)(struct alloc *a, void *base, size_t len);
	/* Optional (NULL: nothing cached). */
	void (*trim)(struct alloc *a);
};

struct alloc_stats {
	uint64_t cur_bytes;   /* reserved for callers now */
	uint64_t peak_bytes;  /* maximum of cur_bytes */
	uint64_t cur_blocks;  /* live allocations (malloc-family and page allocations) */
	uint64_t nr_allocs;   /* successful allocations, ever */
	uint64_t nr_frees;    /* frees, ever */
	uint64_t nr_failures; /* allocations that returned NULL/ENOMEM */
	uint64_t total_bytes; /* memory handed to the allocator (create + addmem), incl. metadata */
};

struct alloc {
	const struct alloc_ops *ops;
	const char *name;
	struct alloc_stats stats;
	struct alloc *next; /* registry link (alloc_register), owned by library alloc */
};

/* ---- statistics helpers for implementations ---- */
static inline void alloc_stats_on_alloc(struct alloc *a, size_t bytes)
{
	a->stats.cur_bytes += bytes;
	if (a->stats.cur_bytes > a->stats.peak_bytes)
		a->stats.peak_bytes = a->stats.cur_bytes;
	a->stats.cur_blocks++;
	a->stats.nr_allocs++;
}

static inline void alloc_stats_on_free(struct alloc *a, size_t bytes)
{
	a->stats.cur_bytes -= bytes;
	a->stats.cur_blocks--;
	a->stats.nr_frees++;
}

/* A block changed size in place (realloc): not a new allocation. */
static inline void alloc_stats_on_resize(struct alloc *a, size_t old_bytes, size_t new_bytes)
{
	a->stats.cur_bytes = a->stats.cur_bytes - old_bytes + new_bytes;
	if (a->stats.cur_bytes > a->stats.peak_bytes)
		a->stats.peak_bytes = a->stats.cur_bytes;
}

static inline void alloc_stats_on_fail(struct alloc *a)
{
	a->stats.nr_failures++;
}

/* ---- calling an allocator (what callers other than libc malloc use) ---- */
static inline void *alloc_malloc(struct alloc *a, size_t size)
{
	return a->ops->malloc(a, size);
}

/* Overflow-checked: nmemb * size that does not fit in size_t fails (NULL), as C requires. */
static inline void *alloc_calloc(struct alloc *a, size_t nmemb, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(nmemb, size, &total)) {
		alloc_stats_on_fail(a);
		return (void *)0;
	}
	if (a->ops->calloc)
		return a->ops->calloc(a, nmemb, size);
	void *p = a->ops->malloc(a, total);
	if (p)
		__builtin_memset(p, 0, total);
	return p;
}

static inline void *alloc_realloc(struct alloc *a, void *ptr, size_t size)
{
	return a->ops->realloc(a, ptr, size);
}

static inline int alloc_memalign(struct alloc *a, void **out, size_t align, size_t size)
{
	return a->ops->memalign(a, out, align, size);
}

static inline void alloc_free(struct alloc *a, void *ptr)
{
	if (ptr)
		a->ops->free(a, ptr);
}

static inline void *alloc_palloc(struct alloc *a, size_t npages)
{
	return a->ops->palloc(a, npages);
}

static inline void alloc_pfree(struct alloc *a, void *ptr, size_t npages)
{
	if (ptr)
		a->ops->pfree(a, ptr, npages);
}

static inline size_t alloc_availmem(struct alloc *a)
{
	return a->ops->availmem(a);
}

static inline int alloc_addmem(struct alloc *a, void *base, size_t len)
{
	return a->ops->addmem(a, base, len);
}

static inline void alloc_trim(struct alloc *a)
{
	if (a->ops->trim)
		a->ops->trim(a);
}

/* ---- the default allocator and the registry (library alloc, guest only) ---- */

/* The allocator malloc() and friends use; NULL until an implementation's init sets it. */
struct alloc *alloc_default(void);
void alloc_set_default(struct alloc *a);
/* Remember an allocator for alloc_stats_print (implementations call it on create). */
void alloc_register(struct alloc *a);
/* Print every registered allocator's statistics on the console. */
void alloc_stats_print(void);

#endif
