/*
 * Page-level changes to the image's page tables (docs/architecture.md section 4), made at
 * CPL 3: the tables are writable data (`kiln_pml4`) and identity-map guest RAM, so only the
 * TLB flush (invlpg) needs the CPL-0 shim.
 *
 * Guard pages: a not-present 4 KiB page (marked with a software bit so faults can be told
 * apart from null or wild pointers). A 2 MiB page is split into a page table (one 4 KiB page
 * from the default allocator, never given back) the first time one of its pages is guarded.
 */
#ifndef MMU_MMU_H
#define MMU_MMU_H

#include <stddef.h>
#include <stdint.h>

#define MMU_PAGE_SIZE 4096u

/* 0; -22 (EINVAL) if va is not 4 KiB aligned or not mapped (or in a 1 GiB page);
 * -12 (ENOMEM) if a page table could not be allocated. Guarding a guard page is a no-op. */
int mmu_guard_page(uintptr_t va);
/* Make a guard page present again with its old permissions. 0, or -22 if it is not one. */
int mmu_unguard_page(uintptr_t va);
/* Nonzero when va lies in a page that mmu_guard_page made not-present. */
int mmu_is_guard_page(uintptr_t va);

/* 1 when every byte of [va, va+len) is mapped (present; writable too when `write`), else 0;
 * len 0 is always mapped. For checking pointers handed in from outside (the syscall layer). */
int mmu_range_mapped(uintptr_t va, size_t len, int write);

#endif
