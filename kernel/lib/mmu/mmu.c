/* Guard pages in the identity-mapped page tables built into the image. */
#include <stddef.h>
#include <mmu/mmu.h>
#include <arch/cpu.h>
#include <alloc/alloc.h>

#define PTE_P (1ull << 0)
#define PTE_PS (1ull << 7)      /* in a PDE/PDPTE: a large page */
#define PTE_PAT_4K (1ull << 7)  /* in a PTE */
#define PTE_PAT_2M (1ull << 12) /* in a 2 MiB PDE */
#define PTE_GUARD (1ull << 9)   /* software bit: "not present because it is a guard page" */
#define PTE_ADDR 0x000ffffffffff000ull
#define PTE_ADDR_2M 0x000fffffffe00000ull

extern uint64_t kiln_pml4[];

/* Identity mapping: a table's physical address is its virtual address. */
static uint64_t *table_at(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & PTE_ADDR);
}

/* Split a 2 MiB page into 512 4 KiB pages with the same permissions and caching. */
static int split_2m(uint64_t *pde)
{
	struct alloc *a = alloc_default();
	if (!a)
		return -12;
	uint64_t *pt = alloc_palloc(a, 1);
	if (!pt)
		return -12;
	uint64_t big = *pde;
	/* Flags shared by both forms: low 12 bits minus PS (bit 7, PAT in a PTE) plus NX. */
	uint64_t flags = (big & 0xfffull & ~PTE_PS) | (big & (1ull << 63));
	if (big & PTE_PAT_2M)
		flags |= PTE_PAT_4K;
	uint64_t base = big & PTE_ADDR_2M;
	for (uint64_t i = 0; i < 512; i++)
		pt[i] = (base + i * MMU_PAGE_SIZE) | flags;
	/* The directory entry itself stays permissive; the PTEs carry the permissions. */
	uint64_t dir_flags = (big & 0x7ull) | (1ull << 5); /* P, RW, U/S, A */
	__atomic_store_n(pde, (uint64_t)(uintptr_t)pt | dir_flags, __ATOMIC_RELEASE);
	return 0;
}

/* The PTE mapping va, splitting a 2 MiB page when `split`; NULL (and *err) when there is none. */
static uint64_t *pte_of(uintptr_t va, int split, int *err)
{
	*err = -22;
	if (va >> 47)
		return NULL;
	uint64_t e = kiln_pml4[(va >> 39) & 511];
	if (!(e & PTE_P))
		return NULL;
	e = table_at(e)[(va >> 30) & 511];
	if (!(e & PTE_P) || (e & PTE_PS))
		return NULL;
	uint64_t *pd = table_at(e);
	uint64_t *pde = &pd[(va >> 21) & 511];
	if (!(*pde & PTE_P))
		return NULL;
	if (*pde & PTE_PS) {
		if (!split)
			return NULL;
		int r = split_2m(pde);
		if (r) {
			*err = r;
			return NULL;
		}
		/* Drop the TLB's 2 MiB entry; the 4 KiB entries are loaded fresh. */
		arch_invlpg(va);
	}
	return &table_at(*pde)[(va >> 12) & 511];
}

int mmu_guard_page(uintptr_t va)
{
	if (va & (MMU_PAGE_SIZE - 1))
		return -22;
	int err;
	uint64_t *pte = pte_of(va, 1, &err);
	if (!pte)
		return err;
	uint64_t e = *pte;
	if (!(e & PTE_P))
		return (e & PTE_GUARD) ? 0 : -22;
	__atomic_store_n(pte, (e & ~PTE_P) | PTE_GUARD, __ATOMIC_RELEASE);
	arch_invlpg(va);
	return 0;
}

int mmu_unguard_page(uintptr_t va)
{
	if (va & (MMU_PAGE_SIZE - 1))
		return -22;
	int err;
	uint64_t *pte = pte_of(va, 0, &err);
	if (!pte || (*pte & PTE_P) || !(*pte & PTE_GUARD))
		return -22;
	/* A not-present entry is never cached in the TLB: no flush needed. */
	__atomic_store_n(pte, (*pte & ~PTE_GUARD) | PTE_P, __ATOMIC_RELEASE);
	return 0;
}

int mmu_is_guard_page(uintptr_t va)
{
	int err;
	uint64_t *pte = pte_of(va & ~(uintptr_t)(MMU_PAGE_SIZE - 1), 0, &err);
	return pte && !(*pte & PTE_P) && (*pte & PTE_GUARD);
}

/* Walks the tables for each page of [va, va+len): 1 GiB, 2 MiB and 4 KiB leaves. */
int mmu_range_mapped(uintptr_t va, size_t len, int write)
{
	if (len == 0)
		return 1;
	uintptr_t end = va + len;
	if (end < va || (end - 1) >> 47)
		return 0;
	uint64_t need = PTE_P | (write ? 2ull : 0); /* RW is bit 1 at every level */
	while (va < end) {
		uint64_t e = kiln_pml4[(va >> 39) & 511];
		if ((e & need) != need)
			return 0;
		e = table_at(e)[(va >> 30) & 511];
		if ((e & need) != need)
			return 0;
		uintptr_t size = 1ull << 30;
		if (!(e & PTE_PS)) {
			e = table_at(e)[(va >> 21) & 511];
			if ((e & need) != need)
				return 0;
			size = 1ull << 21;
			if (!(e & PTE_PS)) {
				e = table_at(e)[(va >> 12) & 511];
				if ((e & need) != need)
					return 0;
				size = MMU_PAGE_SIZE;
			}
		}
		uintptr_t next = (va & ~(size - 1)) + size;
		if (next <= va)
			break;
		va = next;
	}
	return 1;
}
