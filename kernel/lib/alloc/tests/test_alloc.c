/* Guest tests of library alloc: the libc functions over whichever allocator is the default. */
#include <alloc/alloc.h>
#include <alloc/selftest.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <test/test.h>

void *memalign(size_t align, size_t size);

KTEST(alloc, default_is_set)
{
	KT_ASSERT_NOTNULL(alloc_default());
	KT_ASSERT(alloc_availmem(alloc_default()) > 0);
}

KTEST(alloc, malloc_aligned_and_writable)
{
	void *ps[40];
	for (int i = 0; i < 40; i++) {
		size_t n = (size_t)i * i * 13;
		ps[i] = malloc(n);
		KT_ASSERT_NOTNULL(ps[i]);
		KT_ASSERT_EQ((uintptr_t)ps[i] & 15, 0);
		memset(ps[i], i, n);
	}
	for (int i = 0; i < 40; i++) {
		unsigned char *p = ps[i];
		for (size_t j = 0; j < (size_t)i * i * 13; j++)
			KT_ASSERT_EQ(p[j], i);
		free(p);
	}
}

KTEST(alloc, calloc_zeroes_and_checks_overflow)
{
	unsigned char *p = calloc(300, 7);
	KT_ASSERT_NOTNULL(p);
	for (int i = 0; i < 2100; i++)
		KT_ASSERT_EQ(p[i], 0);
	free(p);
	errno = 0;
	KT_ASSERT_NULL(calloc(SIZE_MAX / 2, 3));
	KT_ASSERT_EQ(errno, ENOMEM);
}

KTEST(alloc, realloc_keeps_prefix)
{
	char *p = realloc(NULL, 10);
	KT_ASSERT_NOTNULL(p);
	memcpy(p, "abcdefghi", 10);
	p = realloc(p, 5000);
	KT_ASSERT_NOTNULL(p);
	KT_ASSERT_STREQ(p, "abcdefghi");
	p = realloc(p, 3);
	KT_ASSERT_NOTNULL(p);
	KT_ASSERT_EQ(p[2], 'c');
	KT_ASSERT_NULL(realloc(p, 0));
}

KTEST(alloc, aligned_variants)
{
	void *p = (void *)1;
	KT_ASSERT_EQ(posix_memalign(&p, 24, 10), EINVAL);
	KT_ASSERT_NULL(p);
	KT_ASSERT_EQ(posix_memalign(&p, 4, 10), EINVAL); /* below sizeof(void *) */
	KT_ASSERT_EQ(posix_memalign(&p, 4096, 100), 0);
	KT_ASSERT_EQ((uintptr_t)p & 4095, 0);
	free(p);
	p = aligned_alloc(256, 1000);
	KT_ASSERT_NOTNULL(p);
	KT_ASSERT_EQ((uintptr_t)p & 255, 0);
	free(p);
	p = memalign(64, 1);
	KT_ASSERT_NOTNULL(p);
	KT_ASSERT_EQ((uintptr_t)p & 63, 0);
	free(p);
}

KTEST(alloc, stats_follow_malloc_and_free)
{
	struct alloc *a = alloc_default();
	uint64_t blocks = a->stats.cur_blocks, allocs = a->stats.nr_allocs, fails = a->stats.nr_failures;
	uint64_t bytes = a->stats.cur_bytes;
	void *p = malloc(1000);
	KT_ASSERT_NOTNULL(p);
	KT_ASSERT_EQ(a->stats.cur_blocks, blocks + 1);
	KT_ASSERT_EQ(a->stats.nr_allocs, allocs + 1);
	KT_ASSERT(a->stats.cur_bytes >= bytes + 1000);
	KT_ASSERT(a->stats.peak_bytes >= a->stats.cur_bytes);
	free(p);
	KT_ASSERT_EQ(a->stats.cur_blocks, blocks);
	KT_ASSERT_EQ(a->stats.cur_bytes, bytes);
	KT_ASSERT_NULL(malloc(SIZE_MAX - 100));
	KT_ASSERT_EQ(a->stats.nr_failures, fails + 1);
	alloc_stats_print();
}

KTEST(alloc, selftest_on_default)
{
	struct alloc *a = alloc_default();
	/* region never reuses: it can only promise the statistics come back, and a long run
	 * would eat a small image's memory (~7 MiB for 3000 ops) */
	int region = strcmp(a->name, "region") == 0;
	const char *err = alloc_selftest(a, 7, region ? 300 : 3000, region ? 4000 : 20000, !region);
	if (err)
		ktest_fail(__FILE__, __LINE__, "%s: %s", a->name, err);
}
