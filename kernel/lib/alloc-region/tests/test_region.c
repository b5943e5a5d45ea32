/* Guest tests of the region allocator: it is the default over all free RAM, and a private
 * instance passes the randomized self-check. */
#include <alloc/region.h>
#include <alloc/selftest.h>
#include <string.h>
#include <test/test.h>

KTEST(alloc_region, is_the_default)
{
	KT_ASSERT_NOTNULL(alloc_default());
	KT_ASSERT_STREQ(alloc_default()->name, "region");
}

KTEST(alloc_region, owns_all_free_memory)
{
	struct alloc *a = alloc_default();
	/* region never takes freed memory back, so earlier tests' blocks are simply gone */
	const char *err = alloc_selftest_owns_all_free(a, 25);
	if (err)
		ktest_fail(__FILE__, __LINE__, "%s", err);
	KT_ASSERT(alloc_availmem(a) < a->stats.total_bytes);
	KT_ASSERT(alloc_availmem(a) > a->stats.total_bytes / 4);
}

KTEST(alloc_region, private_instance_selftest)
{
	const char *err = alloc_selftest_private(alloc_default(), alloc_region_create, 12345, 60, 2000, 0);
	if (err)
		ktest_fail(__FILE__, __LINE__, "%s", err);
}

KTEST(alloc_region, free_does_not_reuse)
{
	unsigned char mem[4096];
	struct alloc *a = alloc_region_create(mem, sizeof(mem));
	KT_ASSERT_NOTNULL(a);
	void *p = alloc_malloc(a, 100);
	KT_ASSERT_NOTNULL(p);
	alloc_free(a, p);
	KT_ASSERT_EQ(a->stats.cur_bytes, 0);
	void *q = alloc_malloc(a, 100);
	KT_ASSERT(q != p);
	/* realloc within the block keeps it; growing copies */
	KT_ASSERT(alloc_realloc(a, q, 50) == q);
	memset(q, 7, 100);
	unsigned char *r = alloc_realloc(a, q, 300);
	KT_ASSERT(r != q);
	KT_ASSERT_EQ(r[99], 7);
}
