/*
 * The default-allocator hook, the allocator registry for statistics, and the libc allocation
 * functions, which forward to the default allocator. Until an implementation library's init
 * (class plat) sets a default, they fail (NULL / ENOMEM) instead of crashing.
 */
#include <alloc/alloc.h>
#include <errno.h>
#include <print/print.h>
#include <stdlib.h>

static struct alloc *default_alloc;
static struct alloc *registry;

struct alloc *alloc_default(void)
{
	return default_alloc;
}

void alloc_set_default(struct alloc *a)
{
	default_alloc = a;
}

void alloc_register(struct alloc *a)
{
	for (struct alloc *r = registry; r; r = r->next)
		if (r == a)
			return;
	a->next = registry;
	registry = a;
}

void alloc_stats_print(void)
{
	if (!registry)
		kprintf("alloc: no allocator registered\n");
	for (struct alloc *a = registry; a; a = a->next) {
		const struct alloc_stats *s = &a->stats;
		kprintf("alloc: %s%s in_use=%llu peak=%llu blocks=%llu allocs=%llu frees=%llu "
			"failures=%llu free=%llu total=%llu\n",
			a->name, a == default_alloc ? " (default)" : "", (unsigned long long)s->cur_bytes,
			(unsigned long long)s->peak_bytes, (unsigned long long)s->cur_blocks,
			(unsigned long long)s->nr_allocs, (unsigned long long)s->nr_frees,
			(unsigned long long)s->nr_failures, (unsigned long long)alloc_availmem(a),
			(unsigned long long)s->total_bytes);
	}
}

void *malloc(size_t size)
{
	struct alloc *a = default_alloc;
	void *p = a ? alloc_malloc(a, size) : NULL;
	if (!p)
		errno = ENOMEM;
	return p;
}

void free(void *p)
{
	if (p && default_alloc)
		alloc_free(default_alloc, p);
}

void *calloc(size_t nmemb, size_t size)
{
	struct alloc *a = default_alloc;
	void *p = a ? alloc_calloc(a, nmemb, size) : NULL; /* overflow-checked */
	if (!p)
		errno = ENOMEM;
	return p;
}

void *realloc(void *ptr, size_t size)
{
	struct alloc *a = default_alloc;
	if (!a) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = alloc_realloc(a, ptr, size);
	if (!p && size)
		errno = ENOMEM;
	return p;
}

int posix_memalign(void **out, size_t align, size_t size)
{
	/* POSIX: a power of two and a multiple of sizeof(void *). */
	if (align < sizeof(void *) || (align & (align - 1))) {
		*out = NULL;
		return EINVAL;
	}
	if (!default_alloc) {
		*out = NULL;
		return ENOMEM;
	}
	return alloc_memalign(default_alloc, out, align, size) ? ENOMEM : 0;
}

void *memalign(size_t align, size_t size)
{
	void *p = NULL;
	int e = default_alloc ? alloc_memalign(default_alloc, &p, align, size) : ENOMEM;
	if (e)
		errno = e;
	return p;
}

void *aligned_alloc(size_t align, size_t size)
{
	return memalign(align, size);
}
