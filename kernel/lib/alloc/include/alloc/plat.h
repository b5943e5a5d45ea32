/* Setting up an allocator over the platform's free memory (used by the implementations' init). */
#ifndef ALLOC_PLAT_H
#define ALLOC_PLAT_H

#include <alloc/alloc.h>

/*
 * Create an allocator with `create` over the largest free region of <plat/memory.h> (which
 * then also holds the allocator's own state), addmem every other free region, register it
 * and make it the default. 0, or -ENOMEM when there is no free memory or create fails.
 */
int alloc_init_from_plat(struct alloc *(*create)(void *base, size_t len));

#endif
