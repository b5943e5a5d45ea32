/* The PVH start info: command line and memory map, turned into the free RAM regions. */
#include <stddef.h>
#include <stdint.h>
#include <arch/cpu.h>
#include <console/console.h>
#include <plat/memory.h>
#include <plat/plat.h>
#include <plat/pvh.h>

#include "plat-kvm.h"

/* Everything the page tables map as ordinary RAM (0-1 GiB, docs section 4). */
#define MAPPED_RAM_END (1ull << 30)
#define PAGE 4096ull

extern char __kiln_image_start[], __kiln_image_end[];

#ifndef CONFIG_PLAT_KVM_CMDLINE_MAX
#define CONFIG_PLAT_KVM_CMDLINE_MAX 2048
#endif

static char cmdline_buf[CONFIG_PLAT_KVM_CMDLINE_MAX];
static const struct hvm_start_info *start_info;
static struct plat_memregion regions[PLAT_MEMREGION_MAX];
static int nregions;
static uint64_t memory_total;
static const char *memory_source = "none";

struct range {
	uint64_t lo, hi;
};

#define MAX_RESERVED 12
static struct range reserved[MAX_RESERVED];
static int nreserved;

static void reserve(uint64_t base, uint64_t len)
{
	if (len == 0 || nreserved == MAX_RESERVED)
		return;
	reserved[nreserved].lo = base & ~(PAGE - 1);
	reserved[nreserved].hi = (base + len + PAGE - 1) & ~(PAGE - 1);
	nreserved++;
}

/* Adds [lo, hi) minus every reserved range, as page-aligned regions. */
static void add_free(uint64_t lo, uint64_t hi)
{
	lo = (lo + PAGE - 1) & ~(PAGE - 1);
	hi &= ~(PAGE - 1);
	if (hi > MAPPED_RAM_END)
		hi = MAPPED_RAM_END;
	while (lo < hi) {
		/* The lowest reserved range that overlaps [lo, hi) cuts it. */
		const struct range *cut = NULL;
		for (int i = 0; i < nreserved; i++)
			if (reserved[i].lo < hi && reserved[i].hi > lo &&
			    (cut == NULL || reserved[i].lo < cut->lo))
				cut = &reserved[i];
		uint64_t end = cut ? (cut->lo > lo ? cut->lo : lo) : hi;
		if (end > lo) {
			if (nregions == PLAT_MEMREGION_MAX) {
				console_puts("kiln: plat: more than 16 free memory regions; ignoring the rest\n");
				return;
			}
			regions[nregions].base = lo;
			regions[nregions].len = end - lo;
			nregions++;
		}
		if (cut == NULL)
			return;
		lo = cut->hi;
	}
}

static void sort_regions(void)
{
	for (int i = 1; i < nregions; i++)
		for (int j = i; j > 0 && regions[j - 1].base > regions[j].base; j--) {
			struct plat_memregion t = regions[j];
			regions[j] = regions[j - 1];
			regions[j - 1] = t;
		}
}

/* QEMU's fw_cfg (I/O ports 0x510/0x511): the RAM size, for when the start info has no memory
 * map (QEMU's microvm firmware gives a version 1 start info but may leave it empty). */
static uint64_t fw_cfg_ram_size(void)
{
	arch_outw(0x510, 0x0000); /* FW_CFG_SIGNATURE */
	char sig[4];
	for (int i = 0; i < 4; i++)
		sig[i] = (char)arch_inb(0x511);
	if (sig[0] != 'Q' || sig[1] != 'E' || sig[2] != 'M' || sig[3] != 'U')
		return 0;
	arch_outw(0x510, 0x0003); /* FW_CFG_RAM_SIZE, little endian */
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)arch_inb(0x511) << (8 * i);
	return v;
}

void plat_early_init(const struct hvm_start_info *si)
{
	plat_serial_init();

	reserve(0, PAGE); /* page 0 stays unmapped: null pointers fault */
	reserve((uintptr_t)__kiln_image_start, (uintptr_t)__kiln_image_end - (uintptr_t)__kiln_image_start);

	if (si == NULL || si->magic != HVM_START_MAGIC) {
		console_puts("kiln: plat: no PVH start info (bad magic); no command line, probing memory\n");
		si = NULL;
	}
	start_info = si;

	if (si) {
		reserve((uintptr_t)si, sizeof(*si));
		if (si->cmdline_paddr) {
			const char *c = (const char *)(uintptr_t)si->cmdline_paddr;
			size_t n = 0;
			while (c[n] && n < sizeof(cmdline_buf) - 1) {
				cmdline_buf[n] = c[n];
				n++;
			}
			cmdline_buf[n] = 0;
			if (c[n])
				console_puts("kiln: plat: command line truncated (plat-kvm option cmdline_max)\n");
		}
		if (si->nr_modules && si->modlist_paddr) {
			const struct hvm_modlist_entry *m =
				(const struct hvm_modlist_entry *)(uintptr_t)si->modlist_paddr;
			reserve(si->modlist_paddr, si->nr_modules * sizeof(*m));
			for (uint32_t i = 0; i < si->nr_modules; i++)
				reserve(m[i].paddr, m[i].size);
		}
	}

	if (si && si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
		const struct hvm_memmap_table_entry *e =
			(const struct hvm_memmap_table_entry *)(uintptr_t)si->memmap_paddr;
		reserve(si->memmap_paddr, si->memmap_entries * sizeof(*e));
		memory_source = "pvh-memmap";
		for (uint32_t i = 0; i < si->memmap_entries; i++) {
			if (e[i].type != 1)
				continue;
			memory_total += e[i].size;
			add_free(e[i].addr, e[i].addr + e[i].size);
		}
	} else {
		uint64_t ram = fw_cfg_ram_size();
		if (ram) {
			memory_source = "fw_cfg-ram-size";
			memory_total = ram;
			/* The PC layout: low RAM up to the legacy hole, then from 1 MiB. */
			add_free(0, 0x9f000);
			add_free(0x100000, ram);
		} else {
			console_puts("kiln: plat: no memory map and no fw_cfg; only the image's 2 MiB is assumed\n");
			memory_source = "assumed-2M";
			memory_total = 2u << 20;
			add_free(0x100000, 2u << 20);
		}
	}
	sort_regions();
}

const char *plat_cmdline(void) { return cmdline_buf; }
const struct hvm_start_info *plat_start_info(void) { return start_info; }

int plat_memregion_count(void) { return nregions; }

const struct plat_memregion *plat_memregion_get(int i)
{
	return i >= 0 && i < nregions ? &regions[i] : NULL;
}

uint64_t plat_memory_total(void) { return memory_total; }
const char *plat_memory_source(void) { return memory_source; }

_Noreturn void plat_exit(int status)
{
	console_drain(); /* a backend with output in flight (virtio-console) drains it first */
	plat_serial_flush();
	arch_outb(0x501, (uint8_t)status);
	/* No isa-debug-exit device: stop the CPU for good instead of spinning. */
	arch_halt_forever();
}
