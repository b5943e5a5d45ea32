/*
 * Host test harness for the allocator cores (region, buddy, TLSF): randomized operation
 * sequences checked against an oracle of live blocks. Built by ../host.test.ts with
 * -fsanitize=address,undefined; any failed check prints "FAIL ..." and exits 1.
 *
 * usage: harness <region|buddy|tlsf> <seed> <ops> <arena-bytes>     randomized run
 *        harness <region|buddy|tlsf>-exhaust <seed> <rounds> <arena-bytes>
 *        harness <region|buddy|tlsf>-overrun-<before|after> <seed> 0 <arena-bytes>
 *        harness <tlsf|buddy>-doublefree <0|1> 0 0
 *
 * Every arena lies inside a larger malloc block whose other bytes are poisoned for ASan
 * (ASAN_POISON_MEMORY_REGION), so an allocator that reads or writes even one byte before or after
 * its arena is stopped; main checks the poison sits exactly at the arena's edges. The -overrun
 * mode proves it: it hands the allocator a few bytes more than the arena (before its start, or
 * past its end) and makes it use all of it; it must die of ASan's report.
 *
 * -exhaust fills the allocator until even a 1-byte request fails (mixed malloc, memalign,
 * palloc), checks the blocks are disjoint, inside the arenas and that almost nothing is left
 * (availmem), frees them in random order checking contents, and checks that everything came back
 * (availmem, the largest block and the count of 48-byte blocks as before); <rounds> times over.
 * Region cannot reuse: it is filled once and must account for every byte.
 *
 * Checks: alignment of every result; no overlap between live blocks (granted extent) and
 * everything inside the arenas; contents preserved (each block filled with a pattern, verified
 * at realloc and free); calloc zeroes and rejects overflow; memalign rejects bad alignments;
 * realloc keeps the prefix, realloc(NULL) = malloc, realloc(p, 0) frees; statistics (bytes and
 * blocks in use return to 0); after freeing everything and alloc_trim (buddy, TLSF) the free memory, the
 * largest single allocation and the count of 48-byte blocks that fit equal their values before
 * the run (full reuse, no leaked fragments); granted sizes within each allocator's bound
 * (region: align16; buddy: next power of two >= 32; TLSF: align16 + at most 16); and no
 * failure while live data stays under a quarter of the capacity (buddy, TLSF; requests up to
 * 1/64 of it). Region never reuses: its failures must be explained by availmem.
 */
#ifndef __SANITIZE_ADDRESS__
#error "the harness needs -fsanitize=address: the guards around the arenas are ASan poison"
#endif
#include <sanitizer/asan_interface.h>
#include <alloc/buddy.h>
#include <alloc/region.h>
#include <alloc/tlsf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...)                                                                   \
	do {                                                                        \
		fprintf(stderr, "FAIL %s seed=%lu op=%lu line %d: ", kind, seed, opno, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                                       \
		fprintf(stderr, "\n");                                              \
		exit(1);                                                            \
	} while (0)

static const char *kind;
static unsigned long seed, opno;
static uint64_t rng_state;

static uint64_t rnd(void) /* xorshift64*: fixed seeds give fixed sequences */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}
static size_t rnd_range(size_t lo, size_t hi) /* inclusive */
{
	return lo + (size_t)(rnd() % (hi - lo + 1));
}

enum bkind { B_MALLOC, B_PAGES };
struct live {
	uint8_t *p;
	size_t req, granted, npages;
	enum bkind kind;
	uint8_t pat;
};

static struct live *lv;
static size_t nlive, cap_live;
static size_t live_req;
static struct alloc *A;
static uintptr_t arena_lo[2], arena_hi[2];
static int narenas;

static size_t align16(size_t v)
{
	return (v + 15) & ~(size_t)15;
}
static size_t pow2_at_least(size_t v)
{
	size_t p = 32;
	while (p < v)
		p <<= 1;
	return p;
}

static void fill(uint8_t *p, size_t n, uint8_t pat)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(pat + i * 7);
}
static void verify(const struct live *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (l->p[i] != (uint8_t)(l->pat + i * 7))
			FAIL("contents of block %p (req %zu) changed at byte %zu", (void *)l->p, l->req, i);
}

/* Check a new block against alignment, the arenas and every live block. */
static void check_new(uint8_t *p, size_t granted, size_t align)
{
	uintptr_t s = (uintptr_t)p, e = s + granted;
	if (s & (align - 1))
		FAIL("%p not aligned to %zu", (void *)p, align);
	int in = 0;
	for (int i = 0; i < narenas; i++)
		if (s >= arena_lo[i] && e <= arena_hi[i])
			in = 1;
	if (!in)
		FAIL("block %p+%zu outside the arenas", (void *)p, granted);
	for (size_t i = 0; i < nlive; i++) {
		uintptr_t ls = (uintptr_t)lv[i].p, le = ls + lv[i].granted;
		if (s < le && ls < e)
			FAIL("block %p+%zu overlaps live %p+%zu", (void *)p, granted, lv[i].p, lv[i].granted);
	}
}

static void check_granted(size_t req, size_t align, size_t granted, enum bkind k, size_t npages)
{
	if (k == B_PAGES) {
		size_t want = npages * ALLOC_PAGE_SIZE;
		if (!strcmp(kind, "region") && granted != want)
			FAIL("region palloc(%zu) granted %zu", npages, granted);
		if (!strcmp(kind, "buddy") && granted != pow2_at_least(want))
			FAIL("buddy palloc(%zu) granted %zu", npages, granted);
		if (!strcmp(kind, "tlsf") && (granted < want || granted > want + 16))
			FAIL("tlsf palloc(%zu) granted %zu", npages, granted);
		return;
	}
	size_t adj = req < 16 ? 16 : align16(req);
	if (!strcmp(kind, "region") && granted != adj)
		FAIL("region granted %zu for %zu", granted, req);
	if (!strcmp(kind, "buddy") && granted != pow2_at_least(req > align ? req : align))
		FAIL("buddy granted %zu for %zu (align %zu)", granted, req, align);
	if (!strcmp(kind, "tlsf") && (granted < adj || granted > adj + 16))
		FAIL("tlsf granted %zu for %zu", granted, req);
}

static void add_live(uint8_t *p, size_t req, size_t granted, enum bkind k, size_t npages)
{
	if (nlive == cap_live) {
		cap_live = cap_live ? cap_live * 2 : 256;
		lv = realloc(lv, cap_live * sizeof(*lv));
	}
	struct live *l = &lv[nlive++];
	*l = (struct live){p, req, granted, npages, k, (uint8_t)rnd()};
	fill(p, req, l->pat);
	live_req += req;
}

static void drop_live(size_t i)
{
	live_req -= lv[i].req;
	lv[i] = lv[--nlive];
}

static void free_one(size_t i)
{
	struct live *l = &lv[i];
	verify(l, l->req);
	uint64_t before = A->stats.cur_bytes;
	if (l->kind == B_PAGES)
		alloc_pfree(A, l->p, l->npages);
	else
		alloc_free(A, l->p);
	if (before - A->stats.cur_bytes != l->granted)
		FAIL("free of %p released %llu bytes, granted %zu", (void *)l->p,
		     (unsigned long long)(before - A->stats.cur_bytes), l->granted);
	drop_live(i);
}

/* A failed request is fine for region when its remaining space explains it; never else. */
static void failed(const char *what, size_t size)
{
	/* availmem sums both arenas; each must lack room for the request */
	if (!strcmp(kind, "region") && alloc_availmem(A) < 2 * (size + 4096 + 32))
		return;
	FAIL("%s(%zu) failed with %zu live bytes, availmem %zu", what, size, live_req,
	     alloc_availmem(A));
}

static size_t largest_malloc(void)
{
	size_t lo = 0, hi = alloc_availmem(A) + 1; /* lo succeeds, hi fails */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		void *p = alloc_malloc(A, mid);
		if (p) {
			alloc_free(A, p);
			lo = mid;
		} else
			hi = mid;
	}
	return lo;
}

static size_t count_fit(size_t sz)
{
	void **v = 0;
	size_t n = 0, capn = 0;
	for (;;) {
		void *p = alloc_malloc(A, sz);
		if (!p)
			break;
		if (n == capn) {
			capn = capn ? capn * 2 : 1024;
			v = realloc(v, capn * sizeof(*v));
		}
		v[n++] = p;
	}
	for (size_t i = 0; i < n; i++)
		alloc_free(A, v[i]);
	free(v);
	return n;
}

static void edge_cases(void)
{
	void *p;
	if (alloc_calloc(A, SIZE_MAX / 2, 3) != NULL)
		FAIL("calloc overflow did not fail");
	if (alloc_memalign(A, &p, 24, 10) != ALLOC_EINVAL || p)
		FAIL("memalign(24) not EINVAL");
	if (alloc_memalign(A, &p, 0, 10) != ALLOC_EINVAL)
		FAIL("memalign(0) not EINVAL");
	if (alloc_malloc(A, SIZE_MAX - 8) != NULL)
		FAIL("huge malloc did not fail");
	if (alloc_palloc(A, SIZE_MAX / 4096) != NULL)
		FAIL("huge palloc did not fail");
	p = alloc_malloc(A, 0);
	if (!p)
		FAIL("malloc(0) returned NULL");
	void *q = alloc_malloc(A, 0);
	if (!q || q == p)
		FAIL("malloc(0) not unique");
	alloc_free(A, p);
	alloc_free(A, q);
	p = alloc_realloc(A, NULL, 40);
	if (!p)
		FAIL("realloc(NULL, 40) failed");
	if (alloc_realloc(A, p, 0) != NULL)
		FAIL("realloc(p, 0) did not return NULL");
	if (A->stats.cur_blocks != 0)
		FAIL("edge cases leaked %llu blocks", (unsigned long long)A->stats.cur_blocks);
}

/* ---- arenas: inside malloc blocks whose other bytes are ASan poison ---- */
static uint8_t *m1, *m2, *b1, *b2;
static size_t n1, n2, l1, l2;

static void make_arenas(size_t arena)
{
	/* Two arenas at deliberately odd offsets: create on the first, addmem the second. */
	n1 = arena + 64, n2 = arena / 2 + 64;
	m1 = malloc(n1), m2 = malloc(n2);
	/* Dirty memory, as RAM after a reboot may be: an allocator must not rely on zeroes. */
	for (size_t i = 0; i < n1; i++)
		m1[i] = (uint8_t)rnd();
	for (size_t i = 0; i < n2; i++)
		m2[i] = (uint8_t)(0x80 | (rnd() % 27)); /* every byte a plausible buddy "free" mark */
	b1 = m1 + 8 + (seed % 5) * 8, b2 = m2 + 24;
	l1 = arena - 40, l2 = arena / 2 - 8;
	/* ASan poisons in 8-byte granules: the edges must fall on them to be exact. */
	if (((uintptr_t)b1 | (uintptr_t)b2 | l1 | l2) & 7)
		FAIL("arena edges not 8-byte aligned (arena-bytes %zu must be a multiple of 8)", arena);
	ASAN_POISON_MEMORY_REGION(m1, (size_t)(b1 - m1));
	ASAN_POISON_MEMORY_REGION(b1 + l1, n1 - (size_t)(b1 - m1) - l1);
	ASAN_POISON_MEMORY_REGION(m2, (size_t)(b2 - m2));
	ASAN_POISON_MEMORY_REGION(b2 + l2, n2 - (size_t)(b2 - m2) - l2);
	arena_lo[0] = (uintptr_t)b1, arena_hi[0] = (uintptr_t)b1 + l1;
	arena_lo[1] = (uintptr_t)b2, arena_hi[1] = (uintptr_t)b2 + l2;
	narenas = 2;
	/* The guard is exact: the byte before and the byte after each arena are poisoned, its
	 * first and last bytes are not. */
	for (int i = 0; i < narenas; i++) {
		uint8_t *lo = (uint8_t *)arena_lo[i], *hi = (uint8_t *)arena_hi[i];
		if (!__asan_address_is_poisoned(lo - 1) || !__asan_address_is_poisoned(hi) ||
		    __asan_address_is_poisoned(lo) || __asan_address_is_poisoned(hi - 1))
			FAIL("arena %d [%p, %p): guard bytes not poisoned exactly at its edges", i, (void *)lo, (void *)hi);
	}
}

static void free_arenas(void)
{
	ASAN_UNPOISON_MEMORY_REGION(m1, n1);
	ASAN_UNPOISON_MEMORY_REGION(m2, n2);
	free(m1);
	free(m2);
}

/*
 * The allocator is given more than the arena, before it (16 bytes: its header moves there, as it
 * aligns the base to at most 16; the guard before is 16 bytes or more unless seed % 5 == 0) or
 * after it (64 bytes: more than any allocator's smallest block, so it cannot leave them unused),
 * and made to use all its memory: create writes its header at the base, calloc zeroes every block
 * it hands out. ASan must stop it in the guard; getting to the end is a failure.
 */
#define LIE_BEFORE 16
#define LIE_AFTER 64
static int overrun(struct alloc *(*create)(void *, size_t), const char *where)
{
	int before = !strcmp(where, "before");
	A = before ? create(b1 - LIE_BEFORE, l1 + LIE_BEFORE) : create(b1, l1 + LIE_AFTER);
	if (!A)
		FAIL("create failed");
	for (size_t sz = 4096; sz; sz /= 2)
		while (alloc_calloc(A, 1, sz))
			;
	while (alloc_palloc(A, 1))
		;
	printf("allocator used the bytes %s its arena without ASan stopping it\n", where);
	return 1;
}

static int cmp_block(const void *x, const void *y)
{
	uintptr_t a = (uintptr_t)((const struct live *)x)->p, b = (uintptr_t)((const struct live *)y)->p;
	return a < b ? -1 : a > b;
}

/* Live blocks pairwise disjoint and inside the arenas: sorted once, O(n log n). */
static void check_disjoint(void)
{
	qsort(lv, nlive, sizeof(*lv), cmp_block);
	for (size_t i = 0; i < nlive; i++) {
		uintptr_t s = (uintptr_t)lv[i].p, e = s + lv[i].granted;
		int in = 0;
		for (int k = 0; k < narenas; k++)
			if (s >= arena_lo[k] && e <= arena_hi[k])
				in = 1;
		if (!in)
			FAIL("block %p+%zu outside the arenas", (void *)lv[i].p, lv[i].granted);
		if (i && (uintptr_t)lv[i - 1].p + lv[i - 1].granted > s)
			FAIL("blocks %p+%zu and %p overlap", (void *)lv[i - 1].p, lv[i - 1].granted, (void *)lv[i].p);
	}
}

/* One block of any kind, or 0 when the allocator refused it. */
static int take(size_t size, unsigned how)
{
	uint64_t before = A->stats.cur_bytes;
	uint8_t *p;
	if (how == 0) {
		size_t n = size / ALLOC_PAGE_SIZE + 1;
		if (!(p = alloc_palloc(A, n)))
			return 0;
		if ((uintptr_t)p & (ALLOC_PAGE_SIZE - 1))
			FAIL("palloc gave %p, not page aligned", (void *)p);
		size_t g = A->stats.cur_bytes - before;
		check_granted(0, 0, g, B_PAGES, n);
		add_live(p, n * ALLOC_PAGE_SIZE, g, B_PAGES, n);
		return 1;
	}
	size_t align = how == 1 ? (size_t)1 << rnd_range(5, 10) : 16;
	if (how == 1) {
		void *q;
		if (alloc_memalign(A, &q, align, size))
			return 0;
		p = q;
	} else if (!(p = alloc_malloc(A, size)))
		return 0;
	size_t g = A->stats.cur_bytes - before;
	check_granted(size, align, g, B_MALLOC, 0);
	if ((uintptr_t)p & (align - 1))
		FAIL("%p not aligned to %zu", (void *)p, align);
	add_live(p, size, g, B_MALLOC, 0);
	return 1;
}

static int exhaust(int reuse, unsigned long rounds)
{
	size_t avail0 = alloc_availmem(A), big0 = 0, fit0 = 0;
	if (reuse) {
		big0 = largest_malloc();
		fit0 = count_fit(48);
		alloc_trim(A);
	}
	for (opno = 0; opno < rounds; opno++) {
		/* Random requests (mostly small) until 64 in a row fail, then ever smaller ones until
		 * 1 byte fails too. */
		size_t max = avail0 / 64;
		for (int misses = 0; misses < 64;) {
			unsigned sc = (unsigned)(rnd() % 10);
			size_t size = sc < 6 ? rnd_range(1, 256) : sc < 9 ? rnd_range(257, 4096) : rnd_range(4097, max);
			misses = take(size, (unsigned)(rnd() % 8)) ? 0 : misses + 1;
		}
		for (size_t sz = max; sz; sz /= 2)
			while (take(sz, 2))
				;
		check_disjoint();
		size_t left = alloc_availmem(A);
		/* Nothing usable is left: what availmem still counts is slack no request can use
		 * (buddy: none; TLSF: fragments below its minimum block; region: the last pad). */
		if (left > 64)
			FAIL("a 1-byte malloc fails but availmem says %zu bytes are free", left);
		if (live_req > avail0)
			FAIL("%zu bytes granted of %zu available", live_req, avail0);
		printf("round %lu: %zu blocks, %llu of %zu bytes in use, %zu left\n", opno, nlive,
		       (unsigned long long)A->stats.cur_bytes, avail0, left);
		/* Free in random order, checking each block's contents. */
		while (nlive)
			free_one(rnd() % nlive);
		if (A->stats.cur_bytes || A->stats.cur_blocks)
			FAIL("after freeing all: cur_bytes %llu cur_blocks %llu", (unsigned long long)A->stats.cur_bytes,
			     (unsigned long long)A->stats.cur_blocks);
		if (!reuse)
			break; /* region gives nothing back: one fill is all it has */
		alloc_trim(A);
		if (alloc_availmem(A) != avail0)
			FAIL("availmem %zu after freeing all, %zu at start", alloc_availmem(A), avail0);
		size_t big1 = largest_malloc(), fit1 = count_fit(48);
		if (big1 != big0)
			FAIL("largest malloc %zu after round %lu, %zu before", big1, opno, big0);
		if (fit1 != fit0)
			FAIL("48-byte blocks that fit: %zu after round %lu, %zu before", fit1, opno, fit0);
		alloc_trim(A);
	}
	printf("OK %s seed=%lu rounds=%lu allocs=%llu failures=%llu\n", kind, seed, rounds,
	       (unsigned long long)A->stats.nr_allocs, (unsigned long long)A->stats.nr_failures);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: harness <region|buddy|tlsf> <seed> <ops> <arena-bytes>\n");
		return 2;
	}
	kind = argv[1];
	seed = strtoul(argv[2], 0, 0);
	if (!strcmp(kind, "tlsf-doublefree") || !strcmp(kind, "buddy-doublefree")) {
		/* Must die of a trap (SIGILL) in the second free; returning is a failure. */
		static uint8_t mem[1 << 16];
		A = kind[0] == 't' ? alloc_tlsf_create(mem, sizeof(mem)) : alloc_buddy_create(mem, sizeof(mem));
		size_t n = seed ? 100 : 1000; /* seed 1: a small block (TLSF quick list), 0: a big one */
		void *p = alloc_malloc(A, n);
		alloc_free(A, p);
		alloc_free(A, p);
		printf("double free of a %zu-byte block not detected\n", n);
		return 1;
	}
	unsigned long nops = strtoul(argv[3], 0, 0);
	size_t arena = strtoul(argv[4], 0, 0);
	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;

	const char *dash = strchr(kind, '-');
	size_t base_len = dash ? (size_t)(dash - kind) : strlen(kind);
	const char *mode = dash ? dash + 1 : "";
	struct alloc *(*create)(void *, size_t) = !strncmp(kind, "region", base_len) && base_len == 6 ? alloc_region_create
						    : !strncmp(kind, "buddy", base_len) && base_len == 5  ? alloc_buddy_create
						    : !strncmp(kind, "tlsf", base_len) && base_len == 4   ? alloc_tlsf_create
													  : 0;
	if (!create || (*mode && strcmp(mode, "exhaust") && strcmp(mode, "overrun-before") && strcmp(mode, "overrun-after"))) {
		fprintf(stderr, "unknown allocator or mode %s\n", kind);
		return 2;
	}
	static char base_kind[8];
	memcpy(base_kind, kind, base_len); /* the checks compare the allocator's name */
	kind = base_kind;
	make_arenas(arena);
	if (!strncmp(mode, "overrun-", 8))
		return overrun(create, mode + 8);
	if (create(b1, 100) != NULL)
		FAIL("create accepted a 100-byte region");
	A = create(b1, l1);
	if (!A)
		FAIL("create failed");
	if (alloc_addmem(A, b2, 40) == 0)
		FAIL("addmem accepted a 40-byte region");
	if (alloc_addmem(A, b2, l2))
		FAIL("addmem failed");
	narenas = 2;
	/* The capacity probes use up a first instance; the run uses a second, identical one
	 * created over the same memory, so memory an allocator brings in lazily (TLSF, buddy)
	 * enters during the run, not the probes. */
	int reuse = strcmp(kind, "region") != 0;
	size_t avail0 = alloc_availmem(A);
	size_t big0 = 0, fit0 = 0;
	if (reuse) {
		big0 = largest_malloc();
		fit0 = count_fit(48);
		alloc_trim(A); /* TLSF keeps freed small blocks on quick lists */
		if (alloc_availmem(A) != avail0)
			FAIL("availmem not restored after the capacity probes");
		A = create(b1, l1);
		if (!A || alloc_addmem(A, b2, l2))
			FAIL("second create/addmem failed");
		if (alloc_availmem(A) != avail0)
			FAIL("availmem %zu of a second instance, %zu of the first", alloc_availmem(A), avail0);
	}
	if (!strcmp(mode, "exhaust")) {
		int r = exhaust(reuse, nops);
		free(lv);
		free_arenas();
		return r;
	}
	if (A->stats.total_bytes != l1 + l2)
		FAIL("total_bytes %llu, expected %zu", (unsigned long long)A->stats.total_bytes, l1 + l2);

	if (avail0 > l1 + l2 || avail0 < (l1 + l2) * 9 / 10)
		FAIL("availmem %zu implausible for %zu bytes", avail0, l1 + l2);
	edge_cases();

	size_t maxreq = avail0 / 64, budget = avail0 / 4;
	for (opno = 0; opno < nops; opno++) {
		unsigned r = (unsigned)(rnd() % 100);
		size_t size;
		unsigned sc = (unsigned)(rnd() % 10);
		size = sc < 6 ? rnd_range(0, 256) : sc < 9 ? rnd_range(257, 4096) : rnd_range(4097, maxreq);
		int must_free = reuse && live_req + size + 8192 > budget;
		if (nlive && (r < 30 || must_free)) {
			free_one(rnd() % nlive);
		} else if (r < 70) {
			uint64_t before = A->stats.cur_bytes;
			uint8_t *p = alloc_malloc(A, size);
			if (!p) {
				failed("malloc", size);
				continue;
			}
			size_t g = A->stats.cur_bytes - before;
			check_granted(size, 16, g, B_MALLOC, 0);
			check_new(p, g, 16);
			add_live(p, size, g, B_MALLOC, 0);
		} else if (r < 78) {
			size_t n = rnd_range(0, 16), m = size / 16 + 1;
			uint64_t before = A->stats.cur_bytes;
			uint8_t *p = alloc_calloc(A, n, m);
			if (!p) {
				failed("calloc", n * m);
				continue;
			}
			for (size_t i = 0; i < n * m; i++)
				if (p[i])
					FAIL("calloc byte %zu not zero", i);
			size_t g = A->stats.cur_bytes - before;
			check_granted(n * m, 16, g, B_MALLOC, 0);
			check_new(p, g, 16);
			add_live(p, n * m, g, B_MALLOC, 0);
		} else if (r < 84) {
			size_t align = (size_t)1 << rnd_range(0, 13);
			void *p;
			uint64_t before = A->stats.cur_bytes;
			int e = alloc_memalign(A, &p, align, size);
			if (e) {
				if (e != ALLOC_ENOMEM || p)
					FAIL("memalign returned %d", e);
				failed("memalign", size + align);
				continue;
			}
			size_t g = A->stats.cur_bytes - before;
			check_granted(size, align < 16 ? 16 : align, g, B_MALLOC, 0);
			check_new(p, g, align < 16 ? 16 : align);
			add_live(p, size, g, B_MALLOC, 0);
		} else if (r < 90) {
			size_t n = rnd_range(1, 8);
			uint64_t before = A->stats.cur_bytes;
			uint8_t *p = alloc_palloc(A, n);
			if (!p) {
				failed("palloc", n * ALLOC_PAGE_SIZE);
				continue;
			}
			size_t g = A->stats.cur_bytes - before;
			check_granted(0, 0, g, B_PAGES, n);
			check_new(p, g, ALLOC_PAGE_SIZE);
			add_live(p, n * ALLOC_PAGE_SIZE, g, B_PAGES, n);
		} else if (nlive) {
			size_t i = rnd() % nlive;
			if (lv[i].kind != B_MALLOC)
				continue;
			struct live old = lv[i];
			verify(&old, old.req);
			uint64_t before = A->stats.cur_bytes;
			uint8_t *p = alloc_realloc(A, old.p, size);
			if (size == 0) {
				if (p)
					FAIL("realloc(p, 0) returned %p", (void *)p);
				drop_live(i);
				continue;
			}
			if (!p) {
				verify(&old, old.req); /* the old block must be intact */
				failed("realloc", size);
				continue;
			}
			size_t g = A->stats.cur_bytes - before + old.granted;
			/* region and buddy keep a block that is still big enough, as is */
			int kept = strcmp(kind, "tlsf") && size <= old.granted;
			if (kept && (p != old.p || g != old.granted))
				FAIL("realloc to %zu moved or resized a %zu-byte block", size, old.granted);
			if (!kept)
				check_granted(size, 16, g, B_MALLOC, 0);
			drop_live(i);
			struct live tmp = old;
			tmp.p = p;
			verify(&tmp, old.req < size ? old.req : size);
			check_new(p, g, 16);
			add_live(p, size, g, B_MALLOC, 0);
		}
	}
	while (nlive)
		free_one(nlive - 1);
	if (A->stats.cur_bytes != 0 || A->stats.cur_blocks != 0)
		FAIL("after freeing all: cur_bytes %llu cur_blocks %llu", (unsigned long long)A->stats.cur_bytes,
		     (unsigned long long)A->stats.cur_blocks);
	if (A->stats.nr_allocs != A->stats.nr_frees)
		FAIL("allocs %llu != frees %llu", (unsigned long long)A->stats.nr_allocs,
		     (unsigned long long)A->stats.nr_frees);
	if (reuse) {
		alloc_trim(A);
		if (alloc_availmem(A) != avail0)
			FAIL("availmem %zu after freeing all, %zu at start", alloc_availmem(A), avail0);
		size_t big1 = largest_malloc(), fit1 = count_fit(48);
		if (big1 != big0)
			FAIL("largest malloc %zu after the run, %zu before", big1, big0);
		if (fit1 != fit0)
			FAIL("48-byte blocks that fit: %zu after, %zu before", fit1, fit0);
	}
	printf("OK %s seed=%lu ops=%lu peak=%llu allocs=%llu failures=%llu avail=%zu\n", kind, seed, nops,
	       (unsigned long long)A->stats.peak_bytes, (unsigned long long)A->stats.nr_allocs,
	       (unsigned long long)A->stats.nr_failures, alloc_availmem(A));
	free(lv);
	free_arenas();
	return 0;
}
