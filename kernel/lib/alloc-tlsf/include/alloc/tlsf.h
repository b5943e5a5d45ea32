/* TLSF (two-level segregated fit) allocator: O(1) malloc and free, bounded fragmentation. */
#ifndef ALLOC_TLSF_H
#define ALLOC_TLSF_H

#include <alloc/alloc.h>

/*
 * Build a TLSF allocator in [base, base+len): the control structure (~8.5 KiB) sits at the
 * start, the rest becomes the first free block. NULL if len is too small. Does not register it.
 */
struct alloc *alloc_tlsf_create(void *base, size_t len);

#endif
