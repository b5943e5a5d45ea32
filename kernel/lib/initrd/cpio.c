/* cpio newc: a 110-byte ASCII header (magic + 13 fields of 8 hex digits), the name with its
 * NUL, padding to 4 bytes, the data, padding to 4 bytes. Every length is checked against what
 * is left of the archive before it is used, with no arithmetic that can overflow. */
#include <string.h>
#include <initrd/cpio.h>

#define HDR 110

static const char *const field_names[13] = {
	"ino", "mode", "uid", "gid", "nlink", "mtime", "filesize",
	"devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check",
};

void cpio_init(struct cpio_reader *r, const void *data, size_t size)
{
	r->base = data;
	r->size = size;
	r->pos = 0;
	r->index = 0;
	r->offset = 0;
	r->name = NULL;
	r->done = 0;
	r->error[0] = 0;
}

/* A small formatter so the reader needs no printf (it runs before and without libc's). */
static void fail(struct cpio_reader *r, const char *a, const char *b, unsigned long num, const char *c)
{
	size_t n = 0;
	const char *parts[2] = {a, b};
	for (int i = 0; i < 2; i++)
		for (const char *p = parts[i]; p && *p && n < sizeof(r->error) - 24; p++)
			r->error[n++] = *p;
	if (num != (unsigned long)-1) {
		char digits[24];
		int k = 0;
		do
			digits[k++] = (char)('0' + num % 10);
		while ((num /= 10) && k < 20);
		while (k && n < sizeof(r->error) - 1)
			r->error[n++] = digits[--k];
	}
	for (const char *p = c; p && *p && n < sizeof(r->error) - 1; p++)
		r->error[n++] = *p;
	r->error[n] = 0;
}

static int hex8(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 8; i++) {
		uint8_t c = p[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static size_t pad4(size_t v) { return (v + 3) & ~(size_t)3; }

int cpio_next(struct cpio_reader *r, struct cpio_entry *e)
{
	if (r->done)
		return 0;
	r->offset = r->pos;
	r->name = NULL;
	size_t left = r->pos <= r->size ? r->size - r->pos : 0;
	if (left == 0) {
		fail(r, "the archive ends without a TRAILER!!! entry", NULL, (unsigned long)-1, NULL);
		return -1;
	}
	if (left < HDR) {
		fail(r, "truncated header: ", NULL, left, " bytes left, a header needs 110");
		return -1;
	}
	const uint8_t *h = r->base + r->pos;
	int crc = memcmp(h, "070702", 6) == 0;
	if (!crc && memcmp(h, "070701", 6) != 0) {
		fail(r, "bad magic (not a cpio newc header: expected 070701 or 070702)", NULL, (unsigned long)-1, NULL);
		return -1;
	}
	uint32_t f[13];
	for (int i = 0; i < 13; i++)
		if (hex8(h + 6 + 8 * i, &f[i]) != 0) {
			fail(r, "header field ", field_names[i], (unsigned long)-1, " is not 8 hex digits");
			return -1;
		}
	uint32_t namesize = f[11], filesize = f[6];
	if (namesize == 0) {
		fail(r, "empty name (namesize 0)", NULL, (unsigned long)-1, NULL);
		return -1;
	}
	if (namesize > left - HDR) {
		fail(r, "the name (namesize ", NULL, namesize, ") runs past the end of the archive");
		return -1;
	}
	const char *name = (const char *)h + HDR;
	if (name[namesize - 1] != 0) {
		fail(r, "the name is not NUL-terminated within namesize", NULL, (unsigned long)-1, NULL);
		return -1;
	}
	if (memchr(name, 0, namesize - 1)) {
		fail(r, "the name has a NUL byte inside it", NULL, (unsigned long)-1, NULL);
		return -1;
	}
	r->name = name;
	if (namesize == 11 && memcmp(name, "TRAILER!!!", 11) == 0) {
		r->done = 1;
		return 0;
	}
	size_t data_off = pad4(HDR + (size_t)namesize); /* from the header's start */
	if (data_off > left || filesize > left - data_off) {
		fail(r, "the data (filesize ", NULL, filesize, ") runs past the end of the archive");
		return -1;
	}
	const uint8_t *data = h + data_off;
	if (crc) {
		uint32_t sum = 0;
		for (size_t i = 0; i < filesize; i++)
			sum += data[i];
		if (sum != f[12]) {
			fail(r, "checksum mismatch (070702 archive): the data is corrupt", NULL, (unsigned long)-1, NULL);
			return -1;
		}
	}
	e->name = name;
	e->namelen = namesize - 1;
	e->ino = f[0];
	e->mode = f[1];
	e->uid = f[2];
	e->gid = f[3];
	e->nlink = f[4];
	e->mtime = f[5];
	e->data = data;
	e->size = filesize;
	e->index = r->index;
	e->offset = r->offset;
	/* The next header: after the data, padded (a missing pad at the very end shows up as a
	 * missing trailer). */
	r->pos += pad4(data_off + (size_t)filesize);
	r->index++;
	return 1;
}
