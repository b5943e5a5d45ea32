/*
 * Binary buddy allocator. Every block is 32 << k bytes (order k) and aligned to its own size
 * in absolute addresses, so a block's buddy is at addr ^ size, page allocations (order >= 7)
 * are page aligned for free, and memalign is just a bigger order. Free lists per order plus a
 * bitmap of non-empty orders make malloc a find-first-set and a few splits; free merges upward
 * while the buddy is free.
 *
 * There is no block header: each area keeps one metadata byte per 32-byte unit, meaningful at
 * a block's first unit (FREE|order or USED|order; other bytes are stale or uninitialised). That
 * costs ~3% of the memory but keeps page allocations exact and lets user data never be mistaken
 * for allocator state. Memory is cut into blocks lazily (carve()), so creating touches one page.
 * Small objects simply use the small orders (the minimum block, 32 bytes, is the documented
 * granularity: a malloc of n bytes reserves the next power of two >= max(n, 32)).
 * palloc(n) rounds n pages up to a power of two as well. Pure C: compiled for host tests too.
 */
#include <alloc/buddy.h>

#define MIN_SHIFT ALLOC_BUDDY_MIN_SHIFT
#define ORDERS ALLOC_BUDDY_ORDERS
#define M_FREE 0x80
#define M_USED 0x40
#define M_ORDER 0x3f

_Static_assert(ORDERS <= 32, "order bitmap is 32 bits");

struct buddy_area {
	struct buddy_area *next;
	uintptr_t base, end; /* the blocks' range, base 32-byte aligned */
	uintptr_t carved;    /* [base, carved) is cut into blocks; the rest is not touched yet */
	uint8_t *meta;       /* one byte per unit from base */
};

struct fblk { /* a free block's first bytes; fits the 32-byte minimum */
	struct fblk *next, *prev;
	struct buddy_area *area;
};

struct buddy {
	struct alloc a;
	uint32_t nonempty; /* bit k: free[k] has a block */
	struct fblk *free[ORDERS];
	struct buddy_area *areas;
	size_t free_bytes;
};

static inline struct buddy *B(struct alloc *a)
{
	return (struct buddy *)a;
}
static inline size_t osize(int k)
{
	return (size_t)1 << (k + MIN_SHIFT);
}
static inline uint8_t *meta_of(struct buddy_area *ar, uintptr_t p)
{
	return &ar->meta[(p - ar->base) >> MIN_SHIFT];
}

/* The smallest order holding `size` bytes; ORDERS if none. */
static inline int order_for(size_t size)
{
	if (size <= osize(0))
		return 0;
	if (size > osize(ORDERS - 1))
		return ORDERS;
	return 64 - __builtin_clzll((unsigned long long)(size - 1)) - MIN_SHIFT;
}

static void push(struct buddy *b, struct buddy_area *ar, uintptr_t p, int k)
{
	struct fblk *f = (struct fblk *)p;
	*meta_of(ar, p) = (uint8_t)(M_FREE | k);
	f->area = ar;
	f->prev = 0;
	f->next = b->free[k];
	if (f->next)
		f->next->prev = f;
	b->free[k] = f;
	b->nonempty |= 1u << k;
	b->free_bytes += osize(k);
}

static void unlink_blk(struct buddy *b, struct fblk *f, int k)
{
	if (f->prev)
		f->prev->next = f->next;
	else {
		b->free[k] = f->next;
		if (!f->next)
			b->nonempty &= ~(1u << k);
	}
	if (f->next)
		f->next->prev = f->prev;
	b->free_bytes -= osize(k);
}

/*
 * Cut the next blocks of not yet carved memory (maximal naturally aligned blocks, in address
 * order) until one of order >= k is free. Done lazily so that creating the allocator touches
 * no memory far from its start (a first touch of a guest page costs a host page fault).
 */
static int carve(struct buddy *b, int k)
{
	for (struct buddy_area *ar = b->areas; ar; ar = ar->next) {
		while (ar->carved < ar->end) {
			uintptr_t p = ar->carved;
			int j = ORDERS - 1;
			while (j > 0 && ((p & (osize(j) - 1)) || p + osize(j) > ar->end))
				j--;
			push(b, ar, p, j);
			ar->carved = p + osize(j);
			if (j >= k)
				return 1;
		}
	}
	return 0;
}

static void *take_order(struct buddy *b, int k)
{
	if (k >= ORDERS)
		return 0;
	uint32_t m = b->nonempty & (~0u << k);
	if (__builtin_expect(!m, 0)) {
		if (!carve(b, k))
			return 0;
		m = b->nonempty & (~0u << k);
	}
	int j = __builtin_ctz(m);
	struct fblk *f = b->free[j];
	struct buddy_area *ar = f->area;
	unlink_blk(b, f, j);
	uintptr_t p = (uintptr_t)f;
	while (j > k) { /* keep the lower half, free the upper */
		j--;
		push(b, ar, p + osize(j), j);
	}
	*meta_of(ar, p) = (uint8_t)(M_USED | k);
	return (void *)p;
}

static struct buddy_area *area_of(struct buddy *b, uintptr_t p)
{
	for (struct buddy_area *ar = b->areas; ar; ar = ar->next)
		if (p >= ar->base && p < ar->end)
			return ar;
	return 0;
}

/* Free the block at p of order k in area ar, merging with free buddies. */
static void release(struct buddy *b, struct buddy_area *ar, uintptr_t p, int k)
{
	while (k < ORDERS - 1) {
		uintptr_t q = p ^ osize(k);
		if (q < ar->base || q + osize(k) > ar->end || *meta_of(ar, q) != (M_FREE | k))
			break;
		unlink_blk(b, (struct fblk *)q, k);
		/* The upper of the two stops being a block head. */
		*meta_of(ar, q > p ? q : p) = 0;
		if (q < p)
			p = q;
		k++;
	}
	push(b, ar, p, k);
}

static int used_order(struct buddy *b, void *ptr, struct buddy_area **arp)
{
	struct buddy_area *ar = area_of(b, (uintptr_t)ptr);
	*arp = ar;
	/* A pointer we never handed out is a caller bug; trap rather than corrupt the lists
	 * (best effort: an interior pointer may meet a stale byte that looks used). */
	if (!ar || ((uintptr_t)ptr & (osize(0) - 1)))
		__builtin_trap();
	uint8_t m = *meta_of(ar, (uintptr_t)ptr);
	if (!(m & M_USED))
		__builtin_trap();
	return m & M_ORDER;
}

static void *buddy_malloc(struct alloc *a, size_t size)
{
	int k = order_for(size);
	void *p = take_order(B(a), k);
	if (p)
		alloc_stats_on_alloc(a, osize(k));
	else
		alloc_stats_on_fail(a);
	return p;
}

static int buddy_memalign(struct alloc *a, void **out, size_t align, size_t size)
{
	*out = 0;
	if (align == 0 || (align & (align - 1)))
		return ALLOC_EINVAL;
	/* Blocks are aligned to their size: ask for a block at least `align` big. */
	*out = buddy_malloc(a, size > align ? size : align);
	return *out ? 0 : ALLOC_ENOMEM;
}

static void buddy_free(struct alloc *a, void *ptr)
{
	struct buddy_area *ar;
	int k = used_order(B(a), ptr, &ar);
	alloc_stats_on_free(a, osize(k));
	release(B(a), ar, (uintptr_t)ptr, k);
}

static void *buddy_realloc(struct alloc *a, void *ptr, size_t size)
{
	if (!ptr)
		return buddy_malloc(a, size);
	if (size == 0) {
		buddy_free(a, ptr);
		return 0;
	}
	struct buddy_area *ar;
	int k = used_order(B(a), ptr, &ar);
	if (size <= osize(k))
		return ptr; /* fits; shrinking keeps the block (the rounding is at most 2x anyway) */
	void *n = buddy_malloc(a, size);
	if (n) {
		__builtin_memcpy(n, ptr, osize(k));
		buddy_free(a, ptr);
	}
	return n;
}

static void *buddy_palloc(struct alloc *a, size_t npages)
{
	if (npages == 0 || npages > (osize(ORDERS - 1) >> ALLOC_PAGE_SHIFT)) {
		alloc_stats_on_fail(a);
		return 0;
	}
	return buddy_malloc(a, npages << ALLOC_PAGE_SHIFT);
}

static void buddy_pfree(struct alloc *a, void *ptr, size_t npages)
{
	(void)npages; /* the metadata byte knows the order */
	buddy_free(a, ptr);
}

static size_t buddy_availmem(struct alloc *a)
{
	size_t sum = B(a)->free_bytes;
	for (struct buddy_area *ar = B(a)->areas; ar; ar = ar->next)
		sum += ar->end - ar->carved;
	return sum;
}

static int buddy_addmem(struct alloc *a, void *base, size_t len)
{
	struct buddy *b = B(a);
	uintptr_t s = ((uintptr_t)base + 7) & ~(uintptr_t)7;
	uintptr_t e = ((uintptr_t)base + len) & ~(osize(0) - 1);
	if (e < (uintptr_t)base || e <= s || e - s < sizeof(struct buddy_area) + 4 * osize(0))
		return ALLOC_EINVAL;
	struct buddy_area *ar = (struct buddy_area *)s;
	uintptr_t m = s + sizeof(*ar);
	/* n units need n metadata bytes + n * 32 bytes, plus up to 31 bytes of alignment. */
	size_t n = (e - m - (osize(0) - 1)) / (osize(0) + 1);
	uintptr_t blocks = (m + n + osize(0) - 1) & ~(osize(0) - 1);
	ar->meta = (uint8_t *)m;
	ar->base = blocks;
	ar->end = blocks + (n << MIN_SHIFT);
	/*
	 * The metadata is NOT zeroed (create stays cheap: no pass over 1/33 of RAM). It never needs
	 * to be: carve() cuts maximal aligned blocks, so a merge stays inside one carved block (a
	 * buddy outside the area stops it), and inside one every buddy head that free reads was
	 * written when its parent was split. Stale bytes elsewhere are never consulted.
	 */
	ar->next = b->areas;
	b->areas = ar;
	ar->carved = ar->base; /* carve() cuts it into blocks on demand */
	a->stats.total_bytes += len;
	return 0;
}

static const struct alloc_ops buddy_ops = {
	.malloc = buddy_malloc,
	.calloc = 0,
	.realloc = buddy_realloc,
	.memalign = buddy_memalign,
	.free = buddy_free,
	.palloc = buddy_palloc,
	.pfree = buddy_pfree,
	.availmem = buddy_availmem,
	.addmem = buddy_addmem,
};

struct alloc *alloc_buddy_create(void *base, size_t len)
{
	uintptr_t s = ((uintptr_t)base + 7) & ~(uintptr_t)7;
	uintptr_t e = (uintptr_t)base + len;
	if (e < s || e - s < sizeof(struct buddy) + sizeof(struct buddy_area) + 64 * osize(0))
		return 0;
	struct buddy *b = (struct buddy *)s;
	__builtin_memset(b, 0, sizeof(*b));
	b->a.ops = &buddy_ops;
	b->a.name = "buddy";
	if (buddy_addmem(&b->a, (void *)(s + sizeof(*b)), e - s - sizeof(*b)))
		return 0;
	b->a.stats.total_bytes = len;
	return &b->a;
}
