/* Test helper (guest and host): writes cpio newc entries into caller-provided storage. */
#ifndef INITRD_NEWC_BUILD_H
#define INITRD_NEWC_BUILD_H

#include <stddef.h>
#include <stdint.h>

struct newc_buf {
	uint8_t *p;
	size_t n, cap;
	size_t headers[64]; /* offsets of the first 64 entries' headers */
	int nheaders;
};

/* 0, or -1 when the storage is full. End an archive with name "TRAILER!!!". */
int newc_add(struct newc_buf *b, const char *name, uint32_t mode, const void *data, size_t size);

#endif
