#include <stdio.h>
#include <string.h>

#include "newc_build.h"

static int put(struct newc_buf *b, const void *d, size_t n)
{
	if (n > b->cap - b->n)
		return -1;
	if (n)
		memcpy(b->p + b->n, d, n);
	b->n += n;
	return 0;
}

static int pad(struct newc_buf *b)
{
	static const uint8_t z[4];
	return put(b, z, (4 - b->n % 4) % 4);
}

int newc_add(struct newc_buf *b, const char *name, uint32_t mode, const void *data, size_t size)
{
	char h[111];
	size_t namesize = strlen(name) + 1;
	if (b->nheaders < 64)
		b->headers[b->nheaders++] = b->n;
	snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", (unsigned)b->nheaders,
		 (unsigned)mode, 0u, 0u, 1u, 0u, (unsigned)size, 0u, 0u, 0u, 0u, (unsigned)namesize, 0u);
	return put(b, h, 110) || put(b, name, namesize) || pad(b) || put(b, data, size) || pad(b) ? -1 : 0;
}
