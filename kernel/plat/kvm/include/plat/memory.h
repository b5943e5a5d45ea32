/* Free RAM: what is left after the image, the page tables, the boot stacks, page 0, the
 * start info, the command line and the memory map are taken out. Valid from init class
 * `plat` onward (set up in plat_early_init). */
#ifndef PLAT_MEMORY_H
#define PLAT_MEMORY_H

#include <stdint.h>

struct plat_memregion {
	uint64_t base, len;
};

#define PLAT_MEMREGION_MAX 16

int plat_memregion_count(void);
/* NULL when i is out of range. Regions are 4 KiB aligned, sorted, non-overlapping. */
const struct plat_memregion *plat_memregion_get(int i);
/* All RAM the platform reported (including what the image uses), in bytes. */
uint64_t plat_memory_total(void);
/* Where the memory map came from: "pvh-memmap" or "fw_cfg-ram-size". */
const char *plat_memory_source(void);

#endif
