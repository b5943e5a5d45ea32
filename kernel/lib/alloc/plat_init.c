/* Hands every free RAM region of the memory map to the chosen allocator. */
#include <alloc/plat.h>
#include <boot/boot.h>
#include <cmdline/cmdline.h>
#include <errno.h>
#include <plat/memory.h>
#include <print/print.h>

int alloc_init_from_plat(struct alloc *(*create)(void *base, size_t len))
{
	int n = plat_memregion_count();
	int first = -1;
	/* The largest region holds the allocator state: the first may be a small low-memory hole. */
	for (int i = 0; i < n; i++)
		if (first < 0 || plat_memregion_get(i)->len > plat_memregion_get(first)->len)
			first = i;
	if (first < 0)
		return -ENOMEM;
	const struct plat_memregion *r = plat_memregion_get(first);
	struct alloc *a = create((void *)(uintptr_t)r->base, (size_t)r->len);
	if (!a)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		if (i == first)
			continue;
		r = plat_memregion_get(i);
		/* A region too small to be worth managing is skipped, not an error. */
		if (alloc_addmem(a, (void *)(uintptr_t)r->base, (size_t)r->len))
			kprintf("alloc: %s: skipped free region 0x%llx+0x%llx (too small)\n", a->name,
				(unsigned long long)r->base, (unsigned long long)r->len);
	}
	alloc_register(a);
	alloc_set_default(a);
	/* `alloc.stats=1` on the command line: the statistics of every allocator at exit. */
	const char *stats = cmdline_param("alloc.stats");
	if (stats && stats[0] && stats[0] != '0')
		kiln_atexit(alloc_stats_print);
	return 0;
}
