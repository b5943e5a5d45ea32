/* Boot glue: unpack the first PVH module into "/" (after ramfs mounted it: rootfs class 0). */
#include <errno.h>
#include <boot/init.h>
#include <console/console.h>
#include <initrd/initrd.h>
#include <plat/plat.h>
#include <plat/pvh.h>

/* The page tables map guest RAM below 1 GiB (docs/architecture.md section 4). */
#define MAPPED_END (1ull << 30)

static char msg[320];

static int initrd_init(void)
{
	const struct hvm_start_info *si = plat_start_info();
	if (!si || si->nr_modules == 0 || !si->modlist_paddr)
		return 0; /* no rootfs: "/" stays empty */
	const struct hvm_modlist_entry *m = (const struct hvm_modlist_entry *)(uintptr_t)si->modlist_paddr;
	uint64_t base = m[0].paddr, size = m[0].size;
	if (base == 0 || size > MAPPED_END || base > MAPPED_END - size) {
		console_puts("kiln: initrd: the boot module lies outside mapped memory (0-1 GiB): cannot read it\n");
		return -EINVAL;
	}
	struct initrd_stats st;
	int err = initrd_unpack((const void *)(uintptr_t)base, (size_t)size, "/", 1, msg, sizeof(msg), &st);
	if (err) {
		console_puts("kiln: initrd: ");
		console_puts(msg);
		console_puts("\n");
		return err;
	}
	return 0;
}
KILN_INIT(rootfs, 10, initrd_init);
