/* Region (bump) allocator: the smallest and fastest to set up; it never reuses memory. */
#ifndef ALLOC_REGION_H
#define ALLOC_REGION_H

#include <alloc/alloc.h>

/* How many separate memory regions (create + addmem) one region allocator can bump through. */
#define ALLOC_REGION_MAX_AREAS 16

/*
 * Build a region allocator in [base, base+len): its state sits at the start of the region,
 * the rest is bumped through. NULL if len cannot even hold the state. Does not register it.
 */
struct alloc *alloc_region_create(void *base, size_t len);

#endif
