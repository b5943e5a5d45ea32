/* Guest tests of the buddy allocator: it is the default over all free RAM, and a private
 * instance passes the randomized self-check. */
#include <alloc/buddy.h>
#include <alloc/selftest.h>
#include <string.h>
#include <test/test.h>

KTEST(alloc_buddy, is_the_default)
{
	KT_ASSERT_NOTNULL(alloc_default());
	KT_ASSERT_STREQ(alloc_default()->name, "buddy");
}

KTEST(alloc_buddy, owns_all_free_memory)
{
	/* what is free or handed out: everything but the allocator's own metadata */
	const char *err = alloc_selftest_owns_all_free(alloc_default(), 90);
	if (err)
		ktest_fail(__FILE__, __LINE__, "%s", err);
}

KTEST(alloc_buddy, private_instance_selftest)
{
	const char *err = alloc_selftest_private(alloc_default(), alloc_buddy_create, 12345, 4000, 6000, 1);
	if (err)
		ktest_fail(__FILE__, __LINE__, "%s", err);
}

KTEST(alloc_buddy, buddies_merge_back)
{
	struct alloc *d = alloc_default();
	unsigned char *mem = alloc_palloc(d, 16);
	KT_ASSERT_NOTNULL(mem);
	struct alloc *a = alloc_buddy_create(mem, 16 * ALLOC_PAGE_SIZE);
	KT_ASSERT_NOTNULL(a);
	size_t avail = alloc_availmem(a);
	void *p[64];
	for (int i = 0; i < 64; i++) {
		p[i] = alloc_malloc(a, 20 + i); /* 32- and 64-byte blocks */
		KT_ASSERT_NOTNULL(p[i]);
	}
	void *pg = alloc_palloc(a, 3); /* rounded to 4 pages, page aligned */
	KT_ASSERT_NOTNULL(pg);
	KT_ASSERT_EQ((uintptr_t)pg & (ALLOC_PAGE_SIZE - 1), 0);
	/* 20..32 -> 32 B (13), 33..64 -> 64 B (32), 65..83 -> 128 B (19) */
	KT_ASSERT_EQ(avail - alloc_availmem(a), 13 * 32 + 32 * 64 + 19 * 128 + 4 * ALLOC_PAGE_SIZE);
	for (int i = 63; i >= 0; i--)
		alloc_free(a, p[i]);
	alloc_pfree(a, pg, 3);
	KT_ASSERT_EQ(alloc_availmem(a), avail);
	alloc_pfree(d, mem, 16);
}
