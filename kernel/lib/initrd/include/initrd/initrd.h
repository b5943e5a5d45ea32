/*
 * initrd: unpacks a cpio newc archive (the PVH boot module `kiln build` makes from an app's
 * `rootfs:` directory) into the VFS. At boot (init class rootfs, priority 10, after ramfs has
 * mounted "/") the first module of the start info is unpacked into "/"; a malformed archive
 * stops the boot with one line naming the entry:
 *   kiln: initrd: entry 3 "etc/motd" at offset 0x1f0: the data (filesize 4000) runs past the end of the archive
 * Files on a ramfs borrow the archive's bytes instead of copying them (the module's memory is
 * never given back to the allocator), so the rootfs costs its size once, not twice.
 */
#ifndef INITRD_INITRD_H
#define INITRD_INITRD_H

#include <stddef.h>
#include <stdint.h>

struct initrd_stats {
	unsigned dirs, files, symlinks;
	uint64_t file_bytes;
	uint64_t borrowed_bytes; /* file bytes left in the archive, not copied */
};

/* Unpacks into the directory dest (which must exist). borrow: let ramfs files point into the
 * archive, which must then stay valid and unchanged for as long as they exist.
 * 0, or a negative errno with msg set to "entry <i> "<name>" at offset 0x<off>: <what>". */
int initrd_unpack(const void *archive, size_t size, const char *dest, int borrow, char *msg, size_t msgn,
		  struct initrd_stats *stats);

#endif
