/*
 * Region (bump) allocator. Each allocation takes the next bytes of the current area; free only
 * updates the statistics: memory is never reused (the trade the region allocator makes for an
 * O(1), branch-light malloc and a create that only fills in one struct). realloc grows by
 * copying into a new block (shrinking keeps the block). Pure C: compiled for host tests too.
 *
 * malloc-family blocks carry a 16-byte header just before the returned pointer holding the
 * block size (for realloc's copy and for the statistics); page allocations carry none.
 */
#include <alloc/region.h>

struct region_area {
	uintptr_t cur, end;
};

struct region_alloc {
	struct alloc a;
	int nareas;
	int cur; /* the area tried first: the one that served the last request */
	struct region_area areas[ALLOC_REGION_MAX_AREAS];
};

#define HDR 16u

static inline uintptr_t align_up(uintptr_t v, uintptr_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static inline struct region_alloc *ra(struct alloc *a)
{
	return (struct region_alloc *)a;
}

/* Carve [p - hdr, p + size) aligned to `align` from one area; 0 if it does not fit. */
static uintptr_t area_take(struct region_area *ar, size_t hdr, size_t align, size_t size)
{
	uintptr_t p = align_up(ar->cur + hdr, align);
	if (p < ar->cur || p > ar->end || ar->end - p < size)
		return 0;
	ar->cur = p + size;
	return p;
}

static uintptr_t take(struct region_alloc *r, size_t hdr, size_t align, size_t size)
{
	uintptr_t p = area_take(&r->areas[r->cur], hdr, align, size);
	if (p)
		return p;
	for (int i = 0; i < r->nareas; i++) {
		if (i == r->cur)
			continue;
		p = area_take(&r->areas[i], hdr, align, size);
		if (p) {
			r->cur = i;
			return p;
		}
	}
	return 0;
}

static int region_memalign(struct alloc *a, void **out, size_t align, size_t size)
{
	struct region_alloc *r = ra(a);
	if (align == 0 || (align & (align - 1))) {
		*out = 0;
		return ALLOC_EINVAL;
	}
	if (align < ALLOC_MIN_ALIGN)
		align = ALLOC_MIN_ALIGN;
	if (size > ((size_t)-1 >> 1)) /* keeps the rounding and pointer sums from wrapping */
		goto fail;
	size = size ? align_up(size, ALLOC_MIN_ALIGN) : ALLOC_MIN_ALIGN;
	uintptr_t p = take(r, HDR, align, size);
	if (!p)
		goto fail;
	((size_t *)p)[-2] = size;
	alloc_stats_on_alloc(a, size);
	*out = (void *)p;
	return 0;
fail:
	alloc_stats_on_fail(a);
	*out = 0;
	return ALLOC_ENOMEM;
}

static void *region_malloc(struct alloc *a, size_t size)
{
	void *p;
	region_memalign(a, &p, ALLOC_MIN_ALIGN, size);
	return p;
}

static void region_free(struct alloc *a, void *ptr)
{
	alloc_stats_on_free(a, ((size_t *)ptr)[-2]);
}

static void *region_realloc(struct alloc *a, void *ptr, size_t size)
{
	if (!ptr)
		return region_malloc(a, size);
	if (size == 0) {
		region_free(a, ptr);
		return 0;
	}
	size_t old = ((size_t *)ptr)[-2];
	if (size <= old)
		return ptr;
	void *n = region_malloc(a, size);
	if (n) {
		__builtin_memcpy(n, ptr, old);
		region_free(a, ptr);
	}
	return n;
}

static void *region_palloc(struct alloc *a, size_t npages)
{
	if (npages == 0 || npages > ((size_t)-1 >> (ALLOC_PAGE_SHIFT + 1)))
		goto fail;
	uintptr_t p = take(ra(a), 0, ALLOC_PAGE_SIZE, npages << ALLOC_PAGE_SHIFT);
	if (!p)
		goto fail;
	alloc_stats_on_alloc(a, npages << ALLOC_PAGE_SHIFT);
	return (void *)p;
fail:
	alloc_stats_on_fail(a);
	return 0;
}

static void region_pfree(struct alloc *a, void *ptr, size_t npages)
{
	(void)ptr;
	alloc_stats_on_free(a, npages << ALLOC_PAGE_SHIFT);
}

static size_t region_availmem(struct alloc *a)
{
	struct region_alloc *r = ra(a);
	size_t sum = 0;
	for (int i = 0; i < r->nareas; i++)
		sum += r->areas[i].end - r->areas[i].cur;
	return sum;
}

static int region_addmem(struct alloc *a, void *base, size_t len)
{
	struct region_alloc *r = ra(a);
	uintptr_t b = (uintptr_t)base, e = b + len;
	if (e < b || r->nareas == ALLOC_REGION_MAX_AREAS || len < 64)
		return ALLOC_EINVAL;
	r->areas[r->nareas].cur = b;
	r->areas[r->nareas].end = e;
	r->nareas++;
	a->stats.total_bytes += len;
	return 0;
}

static const struct alloc_ops region_ops = {
	.malloc = region_malloc,
	.calloc = 0, /* malloc + memset: bumped memory may be reused RAM, never assume zero */
	.realloc = region_realloc,
	.memalign = region_memalign,
	.free = region_free,
	.palloc = region_palloc,
	.pfree = region_pfree,
	.availmem = region_availmem,
	.addmem = region_addmem,
};

struct alloc *alloc_region_create(void *base, size_t len)
{
	uintptr_t b = align_up((uintptr_t)base, _Alignof(struct region_alloc));
	uintptr_t e = (uintptr_t)base + len;
	if (e < b || e - b < sizeof(struct region_alloc) + 64)
		return 0;
	struct region_alloc *r = (struct region_alloc *)b;
	/* Fill only what is needed: the areas beyond nareas are never read. */
	r->a.ops = &region_ops;
	r->a.name = "region";
	r->a.stats = (struct alloc_stats){0};
	r->a.next = 0;
	r->nareas = 1;
	r->cur = 0;
	r->areas[0].cur = b + sizeof(*r);
	r->areas[0].end = e;
	r->a.stats.total_bytes = len;
	return &r->a;
}
