/*
 * A compact randomized self-check of an allocator, for guest tests (the thorough oracle tests
 * run on the host: tests/host/harness.c). Pure C, no libc: it needs only the allocator.
 *
 * Runs `ops` random malloc/memalign/palloc/realloc/free operations (fixed seed) keeping at
 * most ALLOC_SELFTEST_LIVE blocks, checking alignment, that no two live blocks overlap, that
 * contents survive (fill patterns), and that after freeing everything (and alloc_trim) the
 * statistics are back to their start and, if `reuse`, availmem is too.
 * Returns NULL on success, else a static message naming the failed check.
 */
#ifndef ALLOC_SELFTEST_H
#define ALLOC_SELFTEST_H

#include <alloc/alloc.h>
#include <plat/memory.h>

#define ALLOC_SELFTEST_LIVE 64

struct alloc_selftest_blk {
	unsigned char *p;
	size_t len, npages;
	unsigned char pat;
};

static inline uint64_t alloc_selftest_rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static inline int alloc_selftest_intact(const struct alloc_selftest_blk *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b->p[i] != (unsigned char)(b->pat + i))
			return 0;
	return 1;
}

static inline const char *alloc_selftest(struct alloc *a, uint64_t seed, int ops, size_t maxsize, int reuse)
{
	struct alloc_selftest_blk live[ALLOC_SELFTEST_LIVE];
	int n = 0;
	uint64_t s = seed | 1;
	alloc_trim(a);
	size_t avail0 = alloc_availmem(a);
	uint64_t blocks0 = a->stats.cur_blocks, bytes0 = a->stats.cur_bytes;
	for (int op = 0; op < ops; op++) {
		uint64_t r = alloc_selftest_rnd(&s);
		size_t size = (size_t)(alloc_selftest_rnd(&s) % (r & 1 ? 256 : maxsize));
		int what = (int)(r >> 8) % 10;
		if (n == ALLOC_SELFTEST_LIVE || (n && what < 4)) {
			int i = (int)((r >> 16) % (uint64_t)n);
			if (!alloc_selftest_intact(&live[i], live[i].len))
				return "contents changed before free";
			if (live[i].npages)
				alloc_pfree(a, live[i].p, live[i].npages);
			else
				alloc_free(a, live[i].p);
			live[i] = live[--n];
			continue;
		}
		struct alloc_selftest_blk b = {0, size, 0, (unsigned char)r};
		size_t align = 16;
		if (what == 4) {
			void *p;
			align = (size_t)1 << (alloc_selftest_rnd(&s) % 13);
			if (alloc_memalign(a, &p, align, size))
				return "memalign failed";
			b.p = p;
			if (align < 16)
				align = 16;
		} else if (what == 5) {
			b.npages = 1 + (size & 3);
			b.len = b.npages * ALLOC_PAGE_SIZE;
			b.p = alloc_palloc(a, b.npages);
			align = ALLOC_PAGE_SIZE;
		} else if (what == 6 && n) {
			int i = (int)((r >> 16) % (uint64_t)n);
			if (live[i].npages)
				continue;
			size_t keep = live[i].len < size ? live[i].len : size;
			if (size == 0)
				size = b.len = 1;
			unsigned char *p = alloc_realloc(a, live[i].p, size);
			if (!p)
				return "realloc failed";
			live[i].p = p;
			if (!alloc_selftest_intact(&live[i], keep))
				return "realloc lost contents";
			b = live[i];
			b.len = size;
			live[i] = live[--n];
		} else {
			b.p = alloc_malloc(a, size);
		}
		if (!b.p)
			return "allocation failed";
		if ((uintptr_t)b.p & (align - 1))
			return "misaligned block";
		for (int i = 0; i < n; i++) { /* a 0-byte block still owns its first byte */
			size_t bl = b.len ? b.len : 1, ll = live[i].len ? live[i].len : 1;
			if (b.p < live[i].p + ll && live[i].p < b.p + bl)
				return "blocks overlap";
		}
		for (size_t i = 0; i < b.len; i++)
			b.p[i] = (unsigned char)(b.pat + i);
		live[n++] = b;
	}
	while (n) {
		n--;
		if (!alloc_selftest_intact(&live[n], live[n].len))
			return "contents changed before final free";
		if (live[n].npages)
			alloc_pfree(a, live[n].p, live[n].npages);
		else
			alloc_free(a, live[n].p);
	}
	alloc_trim(a);
	if (a->stats.cur_blocks != blocks0 || a->stats.cur_bytes != bytes0)
		return "statistics not back to their start after freeing everything";
	if (reuse && alloc_availmem(a) != avail0)
		return "availmem not back to its start after freeing everything";
	return 0;
}

/*
 * The self-check on a private instance of an allocator, over 64 pages borrowed from `from` (the
 * default allocator in guest tests): also checks that `create` refuses a region too small for
 * its metadata, and that it copes with a region that does not start on a page boundary.
 */
static inline const char *alloc_selftest_private(struct alloc *from, struct alloc *(*create)(void *base, size_t len),
						 uint64_t seed, int ops, size_t maxsize, int reuse)
{
	unsigned char *mem = alloc_palloc(from, 64);
	if (!mem)
		return "could not borrow 64 pages for a private instance";
	const char *err = 0;
	if (create(mem, 64))
		err = "create accepted a 64-byte region";
	else {
		struct alloc *a = create(mem + 8, 64 * ALLOC_PAGE_SIZE - 8);
		err = a ? alloc_selftest(a, seed, ops, maxsize, reuse) : "create refused 64 pages";
	}
	alloc_pfree(from, mem, 64);
	return err;
}

/*
 * Boot handed `a` every free region of the memory map: its total is their sum, and at least
 * `min_pct` percent of that is free or handed out (the rest is the allocator's own metadata, or
 * for region, which never reuses, memory freed by earlier tests). NULL on success.
 */
static inline const char *alloc_selftest_owns_all_free(struct alloc *a, unsigned min_pct)
{
	uint64_t sum = 0;
	for (int i = 0; i < plat_memregion_count(); i++)
		sum += plat_memregion_get(i)->len;
	if (sum == 0)
		return "the memory map has no free region";
	if (a->stats.total_bytes != sum)
		return "the allocator's total is not the sum of the free regions";
	if (alloc_availmem(a) + a->stats.cur_bytes < sum / 100 * min_pct)
		return "less of the memory is free or in use than expected";
	return 0;
}

#endif
