/*
 * Host harness for the initrd: the cpio newc reader and the unpacker over the VFS and ramfs,
 * built by ../host.test.ts with ASan and UBSan. Every archive is copied into a buffer of its
 * exact size, so any read past it is caught.
 *
 *   fuzz <seed> <iterations>  mutated archives (bit flips, bytes, header fields set to edge
 *                             values, truncation, splices) through cpio_next and initrd_unpack;
 *                             checks: the reader always ends (0 or -1) within size/110+1
 *                             entries, every failure has a message naming the entry, a success
 *                             leaves only entries the archive names. Prints one OK line.
 *   valid                     a hand-built archive unpacks to exactly its contents
 *   unpack <file>             unpacks a file into "/" and lists the tree ("d 755 /etc", "f 644
 *                             12 /etc/motd <sha-ish sum>", "l /x -> y"), or prints ERROR <msg>
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <initrd/cpio.h>
#include <initrd/initrd.h>
#include <ramfs/ramfs.h>
#include <vfs/vfs.h>
#include <vfs/vnode.h>

#include "../../../ramfs/tests/fs_suite.h"
#include "../newc_build.h"

uint64_t vfs_stamp(void) { return 0; }

void vfs_stamp_time(uint64_t stamp, struct vfs_timespec *ts)
{
	ts->sec = (int64_t)stamp;
	ts->nsec = 0;
}

static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

/* ---- building archives ---- */
static uint8_t storage[16 * 1024];

static void entry(struct newc_buf *b, const char *name, uint32_t mode, const void *data, size_t size)
{
	if (newc_add(b, name, mode, data, size) != 0) {
		fprintf(stderr, "test archive storage full\n");
		exit(2);
	}
}

static void base_archive(struct newc_buf *b)
{
	memset(b, 0, sizeof(*b));
	b->p = storage;
	b->cap = sizeof(storage);
	entry(b, ".", 040755, NULL, 0);
	entry(b, "etc", 040755, NULL, 0);
	entry(b, "etc/motd", 0100644, "hello from the rootfs\n", 22);
	entry(b, "./etc/empty", 0100600, NULL, 0);
	entry(b, "bin", 040755, NULL, 0);
	entry(b, "bin/tool", 0100755, "\x7f" "ELF....", 8);
	entry(b, "etc/link", 0120777, "motd", 4);
	entry(b, "abs", 0120777, "/etc/motd", 9);
	entry(b, "data", 040700, NULL, 0);
	static char big[3000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	entry(b, "data/big", 0100644, big, sizeof(big));
	entry(b, "TRAILER!!!", 0, NULL, 0);
}

/* ---- listing what was unpacked ---- */
static uint32_t sum32(const uint8_t *d, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ d[i]) * 16777619u;
	return h;
}

static void list_tree(const char *path, FILE *out)
{
	int fd = vfs_open(path, VFS_O_RDONLY | VFS_O_DIRECTORY, 0);
	if (fd < 0)
		return;
	char buf[2048], child[VFS_PATH_MAX];
	long n;
	while ((n = vfs_getdents64(fd, buf, sizeof(buf))) > 0) {
		for (long o = 0; o < n;) {
			struct vfs_dirent64 *d = (struct vfs_dirent64 *)(buf + o);
			o += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			snprintf(child, sizeof(child), "%s%s%s", path, strcmp(path, "/") ? "/" : "", d->d_name);
			struct vfs_stat st;
			if (vfs_lstat(child, &st) != 0)
				continue;
			if (VFS_S_ISDIR(st.st_mode)) {
				fprintf(out, "d %o %s\n", st.st_mode & 07777, child);
				list_tree(child, out);
			} else if (VFS_S_ISLNK(st.st_mode)) {
				char t[VFS_PATH_MAX];
				long k = vfs_readlink(child, t, sizeof(t));
				fprintf(out, "l %s -> %.*s\n", child, (int)(k > 0 ? k : 0), t);
			} else {
				static uint8_t data[1 << 20];
				int f = vfs_open(child, VFS_O_RDONLY, 0);
				long k = vfs_read(f, data, sizeof(data));
				vfs_close(f);
				fprintf(out, "f %o %ld %s %08x\n", st.st_mode & 07777, (long)st.st_size, child, sum32(data, k > 0 ? (size_t)k : 0));
			}
		}
	}
	vfs_close(fd);
}

/* ---- mutations ---- */
static const uint32_t edges[] = {0, 1, 2, 3, 4, 109, 110, 111, 0x7fffffff, 0x80000000u, 0xfffffffeu, 0xffffffffu, 4095, 4096, 4097};

static void mutate(uint8_t *p, size_t *n, const struct newc_buf *b)
{
	int k = 1 + (int)(rnd() % 4);
	for (int i = 0; i < k && *n; i++) {
		switch (rnd() % 7) {
		case 0: /* a bit */
			p[rnd() % *n] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1: /* a byte */
			p[rnd() % *n] = (uint8_t)rnd();
			break;
		case 2:
		case 3: { /* a header field of some entry set to an edge value, in valid hex */
			size_t h = b->headers[rnd() % (size_t)b->nheaders];
			size_t at = h + 6 + 8 * (rnd() % 13);
			uint32_t v = rnd() % 3 ? edges[rnd() % (sizeof(edges) / sizeof(edges[0]))] : (uint32_t)rnd();
			char hex[9];
			snprintf(hex, sizeof(hex), "%08X", v);
			if (at + 8 <= *n)
				memcpy(p + at, hex, 8);
			break;
		}
		case 4: /* truncate */
			*n = (size_t)(rnd() % (*n + 1));
			break;
		case 5: { /* copy a chunk over another place */
			size_t from = rnd() % *n, to = rnd() % *n, len = rnd() % 200;
			if (from + len > *n)
				len = *n - from;
			if (to + len > *n)
				len = *n - to;
			memmove(p + to, p + from, len);
			break;
		}
		case 6: /* a name byte: slashes, dots and NULs make the interesting names */
		{
			static const char pick[] = "/.\0.A";
			size_t h = b->headers[rnd() % (size_t)b->nheaders] + 110 + rnd() % 8;
			if (h < *n)
				p[h] = (uint8_t)pick[rnd() % 5];
			break;
		}
		}
	}
}

static int fuzz(uint64_t seed, long iterations)
{
	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	struct newc_buf b;
	base_archive(&b);
	long valid = 0, bad_parse = 0, bad_unpack = 0;
	char msg[320];
	uint8_t *work = malloc(b.n);
	for (long it = 0; it < iterations; it++) {
		size_t n = b.n;
		memcpy(work, b.p, n);
		mutate(work, &n, &b);
		uint8_t *exact = malloc(n ? n : 1); /* exactly n bytes: ASan sees any read past them */
		memcpy(exact, work, n);
		/* the reader alone */
		struct cpio_reader r;
		struct cpio_entry e;
		cpio_init(&r, exact, n);
		int k;
		size_t count = 0;
		while ((k = cpio_next(&r, &e)) > 0) {
			if (++count > n / 110 + 1) {
				printf("FAIL seed=%llu it=%ld: the reader does not stop\n", (unsigned long long)seed, it);
				return 1;
			}
			if (e.data < exact || e.data + e.size > exact + n || (const uint8_t *)e.name < exact ||
			    (const uint8_t *)e.name + e.namelen >= exact + n) {
				printf("FAIL seed=%llu it=%ld: an entry points outside the archive\n", (unsigned long long)seed, it);
				return 1;
			}
		}
		if (k < 0 && !r.error[0]) {
			printf("FAIL seed=%llu it=%ld: an error without a message\n", (unsigned long long)seed, it);
			return 1;
		}
		/* the whole unpack into a fresh directory */
		vfs_mkdir("/fz", 0755);
		msg[0] = 0;
		int err = initrd_unpack(exact, n, "/fz", (int)(it & 1), msg, sizeof(msg), NULL);
		if (err) {
			if (strncmp(msg, "entry ", 6) != 0) {
				printf("FAIL seed=%llu it=%ld: message does not name the entry: %s\n", (unsigned long long)seed, it, msg);
				return 1;
			}
			if (k < 0)
				bad_parse++;
			else
				bad_unpack++;
		} else {
			if (k < 0) {
				printf("FAIL seed=%llu it=%ld: unpack accepted what the reader refused: %s\n", (unsigned long long)seed, it, r.error);
				return 1;
			}
			valid++;
			/* nothing escapes /fz: the root holds only fz */
			int fd = vfs_open("/", VFS_O_RDONLY | VFS_O_DIRECTORY, 0);
			char db[512];
			long dn = vfs_getdents64(fd, db, sizeof(db));
			vfs_close(fd);
			for (long o = 0; o < dn;) {
				struct vfs_dirent64 *d = (struct vfs_dirent64 *)(db + o);
				o += d->d_reclen;
				if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..") && strcmp(d->d_name, "fz")) {
					printf("FAIL seed=%llu it=%ld: /%s appeared outside the destination\n", (unsigned long long)seed, it, d->d_name);
					return 1;
				}
			}
		}
		fs_suite_rm_tree("/fz");
		free(exact);
		if (vfs_open_fd_count() != 0) {
			printf("FAIL seed=%llu it=%ld: %d descriptors left open\n", (unsigned long long)seed, it, vfs_open_fd_count());
			return 1;
		}
	}
	free(work);
	printf("OK fuzz seed=%llu iterations=%ld unpacked=%ld malformed=%ld refused=%ld\n", (unsigned long long)seed, iterations, valid, bad_parse, bad_unpack);
	return 0;
}

static uint8_t *kept_archive;

static int unpack_file(const char *file)
{
	FILE *f = fopen(file, "rb");
	if (!f) {
		perror(file);
		return 2;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *d = malloc(n ? (size_t)n : 1);
	if (fread(d, 1, (size_t)n, f) != (size_t)n) {
		perror(file);
		return 2;
	}
	fclose(f);
	char msg[320];
	struct initrd_stats st;
	int err = initrd_unpack(d, (size_t)n, "/", 1, msg, sizeof(msg), &st);
	if (err) {
		printf("ERROR %s\n", msg);
		free(d);
		return 1;
	}
	kept_archive = d; /* the unpacked files borrow it: it lives as long as they do */
	list_tree("/", stdout);
	printf("STATS dirs=%u files=%u symlinks=%u bytes=%llu borrowed=%llu\n", st.dirs, st.files, st.symlinks,
	       (unsigned long long)st.file_bytes, (unsigned long long)st.borrowed_bytes);
	return 0;
}

static int valid(void)
{
	struct newc_buf b;
	base_archive(&b);
	char msg[320];
	struct initrd_stats st;
	if (initrd_unpack(b.p, b.n, "/", 1, msg, sizeof(msg), &st) != 0) {
		printf("FAIL valid archive refused: %s\n", msg);
		return 1;
	}
	list_tree("/", stdout);
	printf("STATS dirs=%u files=%u symlinks=%u bytes=%llu borrowed=%llu\n", st.dirs, st.files, st.symlinks,
	       (unsigned long long)st.file_bytes, (unsigned long long)st.borrowed_bytes);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0); /* a sanitizer's exit must not lose printed lines */
	if (vfs_register_fs(&ramfs_fstype) != 0 || vfs_mount("/", "ramfs", NULL) != 0)
		return 2;
	if (argc == 4 && !strcmp(argv[1], "fuzz"))
		return fuzz(strtoull(argv[2], NULL, 0), strtol(argv[3], NULL, 0));
	if (argc == 2 && !strcmp(argv[1], "valid"))
		return valid();
	if (argc == 3 && !strcmp(argv[1], "unpack"))
		return unpack_file(argv[2]);
	fprintf(stderr, "usage: fuzz <seed> <iterations> | valid | unpack <file>\n");
	return 2;
}
