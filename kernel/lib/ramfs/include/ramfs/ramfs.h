/*
 * ramfs: a filesystem in memory from the allocator (malloc). Files, directories, symlinks.
 * Mount data: NULL, or a struct ramfs_options. With a limit, the instance holds at most that
 * many bytes (file data, names, nodes): a write that would pass it writes what fits and the
 * next gives -ENOSPC; what was written stays intact. Running out of heap also gives -ENOSPC
 * (file data) or -ENOMEM (a new node).
 *
 * Registered as filesystem type "ramfs"; with option `mount_root` (default true) it also
 * mounts an instance on "/" at init class rootfs, priority 0, if nothing is mounted there.
 */
#ifndef RAMFS_RAMFS_H
#define RAMFS_RAMFS_H

#include <stddef.h>
#include <stdint.h>

struct vnode;

struct ramfs_options {
	uint64_t max_bytes; /* 0: no limit but the heap */
};

/* The filesystem type (for vfs_register_fs; ramfs_init registers it in the guest). */
extern struct vfs_fstype ramfs_fstype;

/* Is vn a ramfs node? */
int ramfs_is_ramfs(const struct vnode *vn);

/* Makes vn (an empty regular ramfs file) use len bytes at data without copying them: the
 * memory must stay valid and unchanged while the file exists (the initrd's archive, which is
 * never freed). The first change to the file copies it. 0, -EINVAL (not an empty ramfs file),
 * or -ENOSPC (over the limit). */
int ramfs_file_borrow(struct vnode *vn, const void *data, size_t len);

/* Bytes the instance holding vn accounts (for tests and statistics). */
uint64_t ramfs_used_bytes(const struct vnode *vn);

#endif
