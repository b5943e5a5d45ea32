/*
 * devfs: the device files, mounted on /dev at boot (init class rootfs, priority 20, after the
 * initrd: a rootfs may hold an empty /dev, which devfs then covers):
 *   /dev/null      reads end at once, writes vanish
 *   /dev/zero      reads give zeros, writes vanish
 *   /dev/full      reads give zeros, writes fail with ENOSPC
 *   /dev/urandom   the `random` library's ChaCha20 generator (RDSEED/RDRAND seeded); reads
 *   /dev/random    fail with EIO if it refuses (no CPU source, see <random/random.h>)
 *   /dev/console   the console: writes go to every backend; reads return a whole line, as a
 *                  terminal in canonical mode (or n bytes), polling every millisecond and
 *                  sleeping between polls when a scheduler is selected; CR reads as LF (a
 *                  terminal's Enter). No echo and no line editing. O_NONBLOCK: what is
 *                  waiting, or -EAGAIN.
 *                  poll: readable when a byte is waiting (it is kept for the next read).
 * With option `stdio` (default true), descriptors 0, 1 and 2 are opened on /dev/console
 * when nothing else has taken them.
 */
#ifndef DEVFS_DEVFS_H
#define DEVFS_DEVFS_H

extern struct vfs_fstype devfs_fstype;

#endif
