/* Binary buddy allocator: power-of-two blocks from 32 bytes up, natural (absolute) alignment. */
#ifndef ALLOC_BUDDY_H
#define ALLOC_BUDDY_H

#include <alloc/alloc.h>

#define ALLOC_BUDDY_MIN_SHIFT 5 /* the minimum block: 32 bytes */
#define ALLOC_BUDDY_ORDERS 27   /* block sizes 32 B .. 2 GiB */

/*
 * Build a buddy allocator in [base, base+len): its state, then the region's metadata
 * (one byte per 32-byte unit, ~3%, left uninitialised), then the blocks. NULL if len is too
 * small.
 * Does not register it.
 */
struct alloc *alloc_buddy_create(void *base, size_t len);

#endif
