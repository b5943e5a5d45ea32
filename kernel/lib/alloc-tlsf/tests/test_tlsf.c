/* Guest tests of the tlsf allocator: it is the default over all free RAM, and a private
 * instance passes the randomized self-check. */
#include <alloc/tlsf.h>
#include <alloc/selftest.h>
#include <string.h>
#include <test/test.h>

KTEST(alloc_tlsf, is_the_default)
{
	KT_ASSERT_NOTNULL(alloc_default());
	KT_ASSERT_STREQ(alloc_default()->name, "tlsf");
}

KTEST(alloc_tlsf, owns_all_free_memory)
{
	/* what is free or handed out: everything but the allocator's own metadata */
	const char *err = alloc_selftest_owns_all_free(alloc_default(), 99);
	if (err)
		ktest_fail(__FILE__, __LINE__, "%s", err);
}

KTEST(alloc_tlsf, private_instance_selftest)
{
	const char *err = alloc_selftest_private(alloc_default(), alloc_tlsf_create, 12345, 4000, 6000, 1);
	if (err)
		ktest_fail(__FILE__, __LINE__, "%s", err);
}

KTEST(alloc_tlsf, realloc_grows_in_place_and_merges)
{
	struct alloc *d = alloc_default();
	unsigned char *mem = alloc_palloc(d, 8);
	KT_ASSERT_NOTNULL(mem);
	struct alloc *a = alloc_tlsf_create(mem, 8 * ALLOC_PAGE_SIZE);
	KT_ASSERT_NOTNULL(a);
	size_t avail = alloc_availmem(a);
	/* 300 B: above the quick lists' 256 B, so q really goes back and merges */
	void *p = alloc_malloc(a, 300);
	void *q = alloc_malloc(a, 300);
	KT_ASSERT_NOTNULL(q);
	alloc_free(a, q);
	/* q's space (and the rest) follows p: growing must not move it */
	KT_ASSERT(alloc_realloc(a, p, 1000) == p);
	KT_ASSERT(alloc_realloc(a, p, 280) == p); /* shrinks in place, the tail merges back */
	alloc_free(a, p);
	KT_ASSERT_EQ(alloc_availmem(a), avail);
	/* a small block freed goes to its quick list and comes back first, until trimmed */
	void *s1 = alloc_malloc(a, 40);
	alloc_free(a, s1);
	KT_ASSERT(alloc_malloc(a, 33) == s1); /* 33 -> 48 like 40 */
	alloc_free(a, s1);
	KT_ASSERT(alloc_availmem(a) < avail); /* its header is not merged back yet */
	alloc_trim(a);
	KT_ASSERT_EQ(alloc_availmem(a), avail);
	/* one block again: TLSF rounds a search up by < 1/32, so nearly all of it fits */
	KT_ASSERT_NOTNULL(alloc_malloc(a, avail / 33 * 32));
	alloc_pfree(d, mem, 8);
}
