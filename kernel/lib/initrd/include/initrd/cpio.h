/*
 * A reader for cpio "newc" archives (magic 070701, and 070702 whose per-file checksum it
 * verifies): what `kiln build` packs an app's rootfs into, and what Linux's initramfs uses.
 * Pure C over a byte range, never reading outside it, so it is fuzzed on the host.
 *
 *   struct cpio_reader r; struct cpio_entry e; int k;
 *   cpio_init(&r, data, size);
 *   while ((k = cpio_next(&r, &e)) > 0) { ... e.name, e.mode, e.data, e.size ... }
 *   if (k < 0) report r.error (entry r.index at offset r.offset)
 */
#ifndef INITRD_CPIO_H
#define INITRD_CPIO_H

#include <stddef.h>
#include <stdint.h>

struct cpio_entry {
	const char *name; /* NUL-terminated, as stored (may start with "./" or "/") */
	size_t namelen;   /* without the NUL */
	uint32_t ino, mode, uid, gid, nlink, mtime;
	const uint8_t *data; /* file contents, or a symlink's target (not NUL-terminated) */
	size_t size;
	unsigned index; /* 0-based position in the archive */
	size_t offset;  /* of its header */
};

struct cpio_reader {
	const uint8_t *base;
	size_t size;
	size_t pos;      /* where the next header starts */
	unsigned index;  /* the entry being read (0-based) */
	size_t offset;   /* its header's offset */
	const char *name; /* its name once read, for messages; NULL before */
	int done;
	char error[160]; /* why cpio_next returned -1 */
};

void cpio_init(struct cpio_reader *r, const void *data, size_t size);
/* 1: *e is the next entry; 0: the TRAILER!!! entry was reached; -1: malformed (r->error). */
int cpio_next(struct cpio_reader *r, struct cpio_entry *e);

#endif
