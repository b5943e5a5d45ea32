/*
 * TLSF: two-level segregated fit (Masmano et al., ECRTS 2004). Free blocks sit in lists
 * indexed by (first level = log2 of the size, second level = 32 linear steps within it); two
 * bitmaps find a non-empty list with one find-first-set each, so malloc and free are O(1).
 * Physically adjacent free blocks are always merged (boundary tags), blocks are split on
 * allocation. Pure C: compiled for the host tests too.
 *
 * Block layout (16-byte aligned, payload 16-byte aligned as the ABI wants):
 *   +0  prev_phys  previous block in memory; valid only while that block is free (PREV_FREE)
 *   +8  size       payload bytes (multiple of 16) | FREE | PREV_FREE
 *   +16 payload    while free: next_free, prev_free list links (so payload >= 16)
 * Each memory area ends with a 16-byte used sentinel of size 0, so no merge runs off the end.
 * The create region is brought in lazily, sbrk-like (grow()); addmem regions at once.
 *
 * Granted size (what statistics count): align16(max(size, 16)) plus at most 16 bytes, since a
 * remainder of 32 bytes or more (header + minimum payload) is always split off.
 *
 * Quick lists (CONFIG_ALLOC_TLSF_QUICK blocks per size, 0 = pure TLSF): a freed block of up to
 * 256 bytes is kept, still marked used, on a LIFO list for its exact size, and malloc of that
 * size pops it: no merging, no splitting, no neighbour touched (what makes glibc's tcache fast).
 * Still O(1). Cached blocks count as free in availmem; when a request finds no block (and the
 * region cannot grow), the lists are flushed into the TLSF structure and the search retried;
 * trim flushes them on demand.
 */
#include <alloc/tlsf.h>

#define ALIGN_LOG2 4
#define ALIGN ((size_t)1 << ALIGN_LOG2)
#define SL_LOG2 5
#define SL_COUNT (1u << SL_LOG2)
#define FL_SHIFT (SL_LOG2 + ALIGN_LOG2) /* sizes below 512 use linear 16-byte classes */
#define SMALL_BLOCK ((size_t)1 << FL_SHIFT)
#define FL_MAX 40 /* blocks below 1 TiB */
#define FL_COUNT (FL_MAX - FL_SHIFT + 1)
#define HDR ((size_t)16)
#define MIN_PAYLOAD ((size_t)16)
#define MAX_BLOCK (((size_t)1 << (FL_MAX - 1)) - 1) /* largest size mapping_search can place */

/* The create region enters the free lists at least this much at a time (see grow()): small,
 * so memory is touched roughly as it is used. */
#define GROW_CHUNK ((size_t)64 << 10)

#ifndef CONFIG_ALLOC_TLSF_QUICK /* the host tests build without the generated config header */
#define CONFIG_ALLOC_TLSF_QUICK 8
#endif
#define QUICK_MAX CONFIG_ALLOC_TLSF_QUICK
#define QUICK_SIZES 16 /* payloads 16, 32, ..., 256 */
#define QUICK_LIMIT ((size_t)QUICK_SIZES * 16)

#define F_FREE ((size_t)1)
#define F_PREV_FREE ((size_t)2)
#define F_MASK ((size_t)3)

_Static_assert(FL_COUNT <= 32, "fl_bitmap is 32 bits");

struct blk {
	struct blk *prev_phys;
	size_t size;
	struct blk *next_free, *prev_free;
};

struct tlsf {
	struct alloc a;
	uint32_t fl_bitmap;
	uint32_t sl_bitmap[FL_COUNT];
	size_t free_bytes;
	struct blk *wild;   /* sentinel ending the part of the create region in use; NULL: all in */
	uintptr_t wild_end; /* end of the create region (16-byte aligned) */
	int wild_fresh;     /* nothing grown yet: wild is where the first header goes, unwritten */
	size_t quick_bytes; /* payload bytes on the quick lists */
	uint32_t quick_n[QUICK_SIZES];
	struct blk *quick[QUICK_SIZES]; /* linked through next_free; blocks stay marked used */
	struct blk *heads[FL_COUNT][SL_COUNT];
};

static inline struct tlsf *T(struct alloc *a)
{
	return (struct tlsf *)a;
}
static inline size_t bsize(const struct blk *b)
{
	return b->size & ~F_MASK;
}
static inline void *payload(struct blk *b)
{
	return (char *)b + HDR;
}
static inline struct blk *from_payload(void *p)
{
	return (struct blk *)((char *)p - HDR);
}
static inline struct blk *next_phys(struct blk *b)
{
	return (struct blk *)((char *)b + HDR + bsize(b));
}
static inline size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}
static inline int fls_sz(size_t v) /* index of the highest set bit; v != 0 */
{
	return 63 - __builtin_clzll((unsigned long long)v);
}

static inline void mapping_insert(size_t size, int *fl, int *sl)
{
	if (size < SMALL_BLOCK) {
		*fl = 0;
		*sl = (int)(size >> ALIGN_LOG2);
	} else {
		int f = fls_sz(size);
		*sl = (int)((size >> (f - SL_LOG2)) ^ SL_COUNT);
		*fl = f - (FL_SHIFT - 1);
	}
}

/* Round up to the next class boundary so every block in the found list is big enough. */
static inline void mapping_search(size_t size, int *fl, int *sl)
{
	if (size >= SMALL_BLOCK)
		size += ((size_t)1 << (fls_sz(size) - SL_LOG2)) - 1;
	mapping_insert(size, fl, sl);
}

/* Forced inline (with find_take): ~4% on the small-object workload for ~400 bytes of code. */
static inline __attribute__((always_inline)) void list_insert(struct tlsf *t, struct blk *b)
{
	int fl, sl;
	mapping_insert(bsize(b), &fl, &sl);
	/* heads[][] is never zeroed (cheaper create): a list's head is valid only while its bit is set */
	struct blk *h = t->sl_bitmap[fl] & (1u << sl) ? t->heads[fl][sl] : 0;
	b->next_free = h;
	b->prev_free = 0;
	if (h)
		h->prev_free = b;
	t->heads[fl][sl] = b;
	t->fl_bitmap |= 1u << fl;
	t->sl_bitmap[fl] |= 1u << sl;
	t->free_bytes += bsize(b);
}

static inline void list_remove_at(struct tlsf *t, struct blk *b, int fl, int sl)
{
	if (b->prev_free)
		b->prev_free->next_free = b->next_free;
	else {
		t->heads[fl][sl] = b->next_free;
		if (!b->next_free) {
			t->sl_bitmap[fl] &= ~(1u << sl);
			if (!t->sl_bitmap[fl])
				t->fl_bitmap &= ~(1u << fl);
		}
	}
	if (b->next_free)
		b->next_free->prev_free = b->prev_free;
	t->free_bytes -= bsize(b);
}

static void list_remove(struct tlsf *t, struct blk *b)
{
	int fl, sl;
	mapping_insert(bsize(b), &fl, &sl);
	list_remove_at(t, b, fl, sl);
}

/* Take a free block of at least `size` payload bytes off its list; NULL if none. */
static inline __attribute__((always_inline)) struct blk *find_take(struct tlsf *t, size_t size)
{
	int fl, sl;
	mapping_search(size, &fl, &sl);
	if (fl >= FL_COUNT)
		return 0;
	uint32_t sl_map = t->sl_bitmap[fl] & (~0u << sl);
	if (!sl_map) {
		uint32_t fl_map = fl + 1 < 32 ? t->fl_bitmap & (~0u << (fl + 1)) : 0;
		if (!fl_map)
			return 0;
		fl = __builtin_ctz(fl_map);
		sl_map = t->sl_bitmap[fl];
	}
	sl = __builtin_ctz(sl_map);
	struct blk *b = t->heads[fl][sl];
	list_remove_at(t, b, fl, sl);
	return b;
}

/* A block stops being free: clear its flag and tell its physical successor. */
static inline void mark_used(struct blk *b)
{
	b->size &= ~F_FREE;
	next_phys(b)->size &= ~F_PREV_FREE;
}

/* Merge a used block with its free neighbours and put the result on a free list. */
static void release(struct tlsf *t, struct blk *b)
{
	if (b->size & F_PREV_FREE) {
		struct blk *p = b->prev_phys;
		list_remove(t, p);
		p->size += HDR + bsize(b); /* p's flags stay: its predecessor is used */
		b = p;
	}
	struct blk *n = next_phys(b);
	if (n->size & F_FREE) {
		list_remove(t, n);
		b->size += HDR + bsize(n);
	}
	b->size |= F_FREE;
	n = next_phys(b);
	n->prev_phys = b;
	n->size |= F_PREV_FREE;
	list_insert(t, b);
}

/* Shrink a used block to `size` payload bytes, returning the tail (if big enough) to the lists. */
static void trim_used(struct tlsf *t, struct blk *b, size_t size)
{
	size_t cur = bsize(b);
	if (cur - size < HDR + MIN_PAYLOAD)
		return;
	struct blk *tail = (struct blk *)((char *)b + HDR + size);
	tail->size = cur - size - HDR; /* used, predecessor (b) used */
	b->size = size | (b->size & F_MASK);
	release(t, tail);
}

/*
 * Bring more of the create region into the free lists, like sbrk: the old end sentinel becomes
 * the header of a block reaching a new sentinel further on, merged with a free block before it.
 * Done lazily so that creating the allocator touches no memory far from its start: on KVM and
 * QEMU the first touch of a guest page costs a host page fault, which a boot should not pay
 * for memory it does not use. `need` is the search size that failed. 0 when nothing is left.
 */
static int grow(struct tlsf *t, size_t need)
{
	if (!t->wild)
		return 0;
	uintptr_t s = (uintptr_t)t->wild;
	size_t chunk = need + (need >> 4) + 4 * HDR; /* beyond the search's round-up */
	if (chunk < GROW_CHUNK)
		chunk = GROW_CHUNK;
	uintptr_t last = t->wild_end - HDR; /* where the final sentinel goes */
	uintptr_t ns = last;
	/* Stop short of the end only if what stays behind could still become a block. */
	if (chunk < last - s && last - align_up(s + chunk, ALIGN) >= HDR + MIN_PAYLOAD)
		ns = align_up(s + chunk, ALIGN);
	if (ns - s < HDR + MIN_PAYLOAD) {
		t->wild = 0;
		return 0;
	}
	struct blk *w = t->wild, *n = (struct blk *)ns;
	size_t prev_free = t->wild_fresh ? 0 : w->size & F_PREV_FREE;
	t->wild_fresh = 0;
	w->size = (ns - s - HDR) | prev_free; /* used until release() */
	n->size = 0;
	t->wild = ns == last ? 0 : n;
	release(t, w);
	return 1;
}

/* Return every quick-list block to the TLSF structure (merging). 0 if there was none. */
static int quick_flush(struct tlsf *t)
{
	if (!t->quick_bytes)
		return 0;
	for (int i = 0; i < QUICK_SIZES; i++) {
		struct blk *b = t->quick[i];
		while (b) {
			struct blk *next = b->next_free;
			release(t, b);
			b = next;
		}
		t->quick[i] = 0;
		t->quick_n[i] = 0;
	}
	t->quick_bytes = 0;
	return 1;
}

/* find_take, growing into the rest of the create region while that helps, then flushing the
 * quick lists (the only non-O(1) path: bounded by QUICK_SIZES * QUICK_MAX merges). */
static struct blk *find_take_grow(struct tlsf *t, size_t size)
{
	struct blk *b = find_take(t, size);
	while (!b && grow(t, size))
		b = find_take(t, size);
	if (!b && quick_flush(t))
		b = find_take(t, size);
	return b;
}

static void tlsf_trim(struct alloc *a)
{
	quick_flush(T(a));
}

static inline size_t adjust(size_t size)
{
	return size <= MIN_PAYLOAD ? MIN_PAYLOAD : align_up(size, ALIGN);
}

static void *tlsf_malloc(struct alloc *a, size_t size)
{
	struct tlsf *t = T(a);
	if (size > MAX_BLOCK)
		goto fail;
	size = adjust(size);
#if QUICK_MAX
	if (size <= QUICK_LIMIT) {
		unsigned i = (unsigned)(size >> ALIGN_LOG2) - 1;
		struct blk *q = t->quick[i];
		if (q) {
			t->quick[i] = q->next_free;
			t->quick_n[i]--;
			t->quick_bytes -= size;
			alloc_stats_on_alloc(a, size);
			return payload(q);
		}
	}
#endif
	struct blk *b = find_take(t, size);
	if (__builtin_expect(!b, 0) && !(b = find_take_grow(t, size)))
		goto fail;
	/* The hot path, specialised: b was free, so both its neighbours are used and its
	 * successor has PREV_FREE set with prev_phys = b. */
	size_t cur = bsize(b);
	struct blk *n = next_phys(b);
	if (cur - size >= HDR + MIN_PAYLOAD) {
		struct blk *rem = (struct blk *)((char *)b + HDR + size);
		rem->size = (cur - size - HDR) | F_FREE;
		n->prev_phys = rem; /* n keeps PREV_FREE: rem is free */
		b->size = size | (b->size & F_PREV_FREE);
		list_insert(t, rem);
	} else {
		b->size &= ~F_FREE;
		n->size &= ~F_PREV_FREE;
	}
	alloc_stats_on_alloc(a, bsize(b));
	return payload(b);
fail:
	alloc_stats_on_fail(a);
	return 0;
}

static int tlsf_memalign(struct alloc *a, void **out, size_t align, size_t size)
{
	struct tlsf *t = T(a);
	*out = 0;
	if (align == 0 || (align & (align - 1)))
		return ALLOC_EINVAL;
	if (align <= ALIGN) {
		*out = tlsf_malloc(a, size);
		return *out ? 0 : ALLOC_ENOMEM;
	}
	if (size > MAX_BLOCK || align > MAX_BLOCK / 4)
		goto fail;
	size = adjust(size);
	/* Room for the worst-case leading gap, which must itself hold a free block. */
	struct blk *b = find_take_grow(t, size + align + HDR + MIN_PAYLOAD);
	if (!b)
		goto fail;
	uintptr_t p = (uintptr_t)payload(b);
	uintptr_t ap = align_up(p, align);
	if (ap != p && ap - p < HDR + MIN_PAYLOAD)
		ap = align_up(p + HDR + MIN_PAYLOAD, align);
	mark_used(b);
	if (ap != p) {
		/* Split off the gap as a free block of its own; the aligned block follows it. */
		struct blk *nb = (struct blk *)(ap - HDR);
		size_t gap = ap - p;
		nb->size = bsize(b) - gap; /* used; PREV_FREE set by release(b) below */
		b->size = (gap - HDR) | (b->size & F_MASK);
		release(t, b);
		b = nb;
	}
	trim_used(t, b, size);
	alloc_stats_on_alloc(a, bsize(b));
	*out = payload(b);
	return 0;
fail:
	alloc_stats_on_fail(a);
	return ALLOC_ENOMEM;
}

static void tlsf_free(struct alloc *a, void *ptr)
{
	struct tlsf *t = T(a);
	struct blk *b = from_payload(ptr);
	size_t size = bsize(b);
	/* Freeing a free block (a double free) would corrupt the lists: trap instead. Cheap checks
	 * only: a block on the lists, or on top of its quick list. */
	if (__builtin_expect((b->size & F_FREE) || (size <= QUICK_LIMIT && t->quick[(size >> ALIGN_LOG2) - 1] == b), 0))
		__builtin_trap();
	alloc_stats_on_free(a, size);
#if QUICK_MAX
	if (size <= QUICK_LIMIT) {
		unsigned i = (unsigned)(size >> ALIGN_LOG2) - 1;
		if (t->quick_n[i] < QUICK_MAX) {
			b->next_free = t->quick[i];
			t->quick[i] = b;
			t->quick_n[i]++;
			t->quick_bytes += size;
			return;
		}
	}
#endif
	release(t, b);
}

static void *tlsf_realloc(struct alloc *a, void *ptr, size_t size)
{
	struct tlsf *t = T(a);
	if (!ptr)
		return tlsf_malloc(a, size);
	if (size == 0) {
		tlsf_free(a, ptr);
		return 0;
	}
	if (size > MAX_BLOCK) {
		alloc_stats_on_fail(a);
		return 0;
	}
	struct blk *b = from_payload(ptr);
	size_t cur = bsize(b);
	size = adjust(size);
	if (size > cur) {
		/* Grow in place into a free successor when it is big enough: no copy. */
		struct blk *n = next_phys(b);
		if (!(n->size & F_FREE) || cur + HDR + bsize(n) < size) {
			void *np = tlsf_malloc(a, size);
			if (np) {
				__builtin_memcpy(np, ptr, cur);
				tlsf_free(a, ptr);
			}
			return np;
		}
		list_remove(t, n);
		b->size += HDR + bsize(n);
		next_phys(b)->size &= ~F_PREV_FREE;
	}
	trim_used(t, b, size);
	alloc_stats_on_resize(a, cur, bsize(b));
	return ptr;
}

static void *tlsf_palloc(struct alloc *a, size_t npages)
{
	void *p;
	if (npages == 0 || npages > (MAX_BLOCK >> ALLOC_PAGE_SHIFT)) {
		alloc_stats_on_fail(a);
		return 0;
	}
	tlsf_memalign(a, &p, ALLOC_PAGE_SIZE, npages << ALLOC_PAGE_SHIFT);
	return p;
}

static void tlsf_pfree(struct alloc *a, void *ptr, size_t npages)
{
	(void)npages; /* the block header knows its size */
	tlsf_free(a, ptr);
}

static size_t tlsf_availmem(struct alloc *a)
{
	struct tlsf *t = T(a);
	/* Counting the ungrown rest as if its sentinel merged away, as it does once all is free. */
	size_t wild = t->wild ? t->wild_end - (uintptr_t)t->wild - HDR - (t->wild_fresh ? HDR : 0) : 0;
	return t->free_bytes + t->quick_bytes + wild;
}

static int tlsf_addmem(struct alloc *a, void *base, size_t len)
{
	uintptr_t b = align_up((uintptr_t)base, ALIGN);
	uintptr_t e = ((uintptr_t)base + len) & ~(uintptr_t)(ALIGN - 1);
	if (e < (uintptr_t)base || e <= b || e - b < 3 * HDR + MIN_PAYLOAD)
		return ALLOC_EINVAL;
	a->stats.total_bytes += len;
	/* Areas larger than one block become several blocks, each with its sentinel. */
	while (e - b >= 3 * HDR + MIN_PAYLOAD) {
		size_t chunk = e - b;
		if (chunk > MAX_BLOCK + 2 * HDR)
			chunk = (MAX_BLOCK + 2 * HDR) & ~(ALIGN - 1);
		struct blk *first = (struct blk *)b;
		struct blk *sentinel = (struct blk *)(b + chunk - HDR);
		first->size = chunk - 2 * HDR; /* used, predecessor "used" (nothing before) */
		sentinel->size = 0;
		release(T(a), first); /* marks it free and sets the sentinel's PREV_FREE */
		b += chunk;
	}
	return 0;
}

static const struct alloc_ops tlsf_ops = {
	.malloc = tlsf_malloc,
	.calloc = 0,
	.realloc = tlsf_realloc,
	.memalign = tlsf_memalign,
	.free = tlsf_free,
	.palloc = tlsf_palloc,
	.pfree = tlsf_pfree,
	.availmem = tlsf_availmem,
	.addmem = tlsf_addmem,
	.trim = tlsf_trim,
};

struct alloc *alloc_tlsf_create(void *base, size_t len)
{
	uintptr_t b = align_up((uintptr_t)base, _Alignof(struct tlsf));
	uintptr_t e = (uintptr_t)base + len;
	if (e < b || e - b < sizeof(struct tlsf) + 3 * HDR + MIN_PAYLOAD)
		return 0;
	struct tlsf *t = (struct tlsf *)b;
	/* Zero up to the list heads only (~150 bytes, not ~8 KiB): the bitmaps say which are valid. */
	__builtin_memset(t, 0, __builtin_offsetof(struct tlsf, heads));
	t->a.ops = &tlsf_ops;
	t->a.name = "tlsf";
	uintptr_t m = align_up(b + sizeof(*t), ALIGN), me = e & ~(uintptr_t)(ALIGN - 1);
	if (me - m > 2 * GROW_CHUNK && me - m <= MAX_BLOCK) {
		/* Start empty: the first malloc's grow() writes the first block. Creating so touches
		 * only the first ~400 bytes of the control structure (one page), like region. */
		t->wild = (struct blk *)m;
		t->wild_end = me;
		t->wild_fresh = 1;
	} else if (tlsf_addmem(&t->a, (void *)m, e - m)) {
		return 0;
	}
	t->a.stats.total_bytes = len;
	return &t->a;
}
