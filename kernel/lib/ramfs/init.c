/* Guest glue: register "ramfs", and mount it on "/" unless something is there already. */
#include <boot/init.h>
#include <ramfs/ramfs.h>
#include <vfs/vnode.h>

static int ramfs_init(void)
{
	return vfs_register_fs(&ramfs_fstype);
}
KILN_INIT(lib, 500, ramfs_init);

#if CONFIG_RAMFS_MOUNT_ROOT
static int ramfs_mount_root(void)
{
	if (vfs_mount_count() > 0)
		return 0;
	static const struct ramfs_options opts = {.max_bytes = (uint64_t)CONFIG_RAMFS_MAX_KIB * 1024};
	return vfs_mount("/", "ramfs", &opts);
}
KILN_INIT(rootfs, 0, ramfs_mount_root);
#endif
