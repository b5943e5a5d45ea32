/*
 * Randomized check of the VFS over ramfs against a model (built by ../host.test.ts with ASan
 * and UBSan): seeded sequences of writes at random offsets, truncations, renames, unlinks,
 * mkdir/rmdir, symlinks and descriptors held open across all of them (so files are written
 * and read after being unlinked or renamed). After each operation the result code is compared
 * with the model's, and every few operations every path's contents and every open
 * descriptor's file are read back and compared byte for byte.
 *
 *   model <seed> <ops>      prints "OK model seed=... ops=..." or "FAIL ..." and exits 1
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ramfs/ramfs.h>
#include <vfs/vfs.h>
#include <vfs/vnode.h>

uint64_t vfs_stamp(void) { return 0; }

void vfs_stamp_time(uint64_t stamp, struct vfs_timespec *ts)
{
	ts->sec = (int64_t)stamp;
	ts->nsec = 0;
}

#define NDIR 3
#define NFILE 6
#define NFD 4
#define MAXSIZE 20000

struct inode { /* the model's file */
	uint8_t *data;
	size_t size;
	int refs; /* names + descriptors */
};

static struct inode *names[NDIR][NFILE]; /* NULL: no such file */
static int dir_exists[NDIR];
static struct inode *fd_ino[NFD];
static int fds[NFD];
static uint64_t rng;
static int trace;
static unsigned long seed, opno;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

#define FAIL(...)                                                                   \
	do {                                                                        \
		printf("FAIL model seed=%lu op=%lu line %d: ", seed, opno, __LINE__); \
		printf(__VA_ARGS__);                                                \
		printf("\n");                                                       \
		exit(1);                                                            \
	} while (0)
#define EXPECT(got, want)                                                            \
	do {                                                                         \
		long g_ = (long)(got), w_ = (long)(want);                            \
		if (g_ != w_)                                                        \
			FAIL("%s gave %ld, the model says %ld", #got, g_, w_);       \
	} while (0)

static void unref(struct inode *i)
{
	if (i && --i->refs == 0) {
		free(i->data);
		free(i);
	}
}

static char pbuf[64];
static const char *path(int d, int f)
{
	if (f < 0)
		snprintf(pbuf, sizeof(pbuf), "/m/d%d", d);
	else
		snprintf(pbuf, sizeof(pbuf), "/m/d%d/f%d", d, f);
	return pbuf;
}

static void model_write(struct inode *i, size_t off, const uint8_t *src, size_t n)
{
	if (n == 0)
		return; /* a write of nothing changes nothing, wherever it is */
	if (off + n > i->size) {
		i->data = realloc(i->data, off + n);
		memset(i->data + i->size, 0, off + n - i->size);
		i->size = off + n;
	}
	memcpy(i->data + off, src, n);
}

static void compare_fd(int fd, const struct inode *i, const char *what)
{
	static uint8_t buf[MAXSIZE + 100];
	long n = vfs_pread(fd, buf, sizeof(buf), 0);
	if (n != (long)i->size)
		FAIL("%s: read %ld bytes, the model has %zu", what, n, i->size);
	if (i->size && memcmp(buf, i->data, i->size) != 0)
		FAIL("%s: contents differ from the model", what);
	struct vfs_stat st;
	EXPECT(vfs_fstat(fd, &st), 0);
	EXPECT(st.st_size, (long)i->size);
}

static void compare_all(void)
{
	for (int d = 0; d < NDIR; d++) {
		struct vfs_stat st;
		EXPECT(vfs_stat(path(d, -1), &st) == 0, dir_exists[d]);
		for (int f = 0; f < NFILE; f++) {
			int fd = vfs_open(path(d, f), VFS_O_RDONLY, 0);
			if (!names[d][f]) {
				EXPECT(fd, -ENOENT);
				continue;
			}
			if (fd < 0)
				FAIL("%s: open gave %d, the model has the file", path(d, f), fd);
			compare_fd(fd, names[d][f], pbuf);
			vfs_close(fd);
		}
	}
	for (int k = 0; k < NFD; k++)
		if (fd_ino[k])
			compare_fd(fds[k], fd_ino[k], "an open descriptor");
}

static int dir_empty(int d)
{
	for (int f = 0; f < NFILE; f++)
		if (names[d][f])
			return 0;
	return 1;
}

static void step(void)
{
	int d = (int)(rnd() % NDIR), f = (int)(rnd() % NFILE);
	int d2 = (int)(rnd() % NDIR), f2 = (int)(rnd() % NFILE);
	static uint8_t data[4096];
	int op = (int)(rnd() % 10);
	if (trace)
		printf("op %lu: kind %d d%d/f%d d%d/f%d\n", opno, op, d, f, d2, f2);
	switch (op) {
	case 0:
	case 1: { /* write at a random offset through a fresh descriptor */
		size_t off = rnd() % (MAXSIZE / 2), n = rnd() % sizeof(data);
		for (size_t i = 0; i < n; i++)
			data[i] = (uint8_t)rnd();
		int fd = vfs_open(path(d, f), VFS_O_WRONLY | VFS_O_CREAT, 0644);
		if (!dir_exists[d]) {
			EXPECT(fd, -ENOENT);
			break;
		}
		if (fd < 0)
			FAIL("open for writing gave %d", fd);
		if (!names[d][f]) {
			names[d][f] = calloc(1, sizeof(struct inode));
			names[d][f]->refs = 1;
		}
		struct vfs_stat b4;
		vfs_fstat(fd, &b4);
		EXPECT(vfs_pwrite(fd, data, n, (int64_t)off), (long)n);
		model_write(names[d][f], off, data, n);
		if (trace) {
			struct vfs_stat af;
			vfs_fstat(fd, &af);
			printf("  write off=%zu n=%zu size %ld -> %ld (model %zu)\n", off, n, (long)b4.st_size, (long)af.st_size, names[d][f]->size);
		}
		vfs_close(fd);
		break;
	}
	case 2: { /* truncate */
		size_t len = rnd() % MAXSIZE;
		int r = vfs_truncate(path(d, f), (int64_t)len);
		if (!names[d][f]) {
			EXPECT(r, -ENOENT);
			break;
		}
		EXPECT(r, 0);
		struct inode *i = names[d][f];
		if (len > i->size) {
			i->data = realloc(i->data, len);
			memset(i->data + i->size, 0, len - i->size);
		}
		i->size = len;
		break;
	}
	case 3: { /* unlink */
		int r = vfs_unlink(path(d, f));
		EXPECT(r, names[d][f] ? 0 : -ENOENT);
		unref(names[d][f]);
		names[d][f] = NULL;
		break;
	}
	case 4: { /* rename, replacing the target */
		char from[64];
		snprintf(from, sizeof(from), "%s", path(d, f));
		int r = vfs_rename(from, path(d2, f2));
		int want = !names[d][f] ? -ENOENT : !dir_exists[d2] ? -ENOENT : 0;
		EXPECT(r, want);
		if (r == 0 && (d != d2 || f != f2)) {
			unref(names[d2][f2]);
			names[d2][f2] = names[d][f];
			names[d][f] = NULL;
		}
		break;
	}
	case 5: { /* mkdir or rmdir */
		if (rnd() & 1) {
			EXPECT(vfs_mkdir(path(d, -1), 0755), dir_exists[d] ? -EEXIST : 0);
			dir_exists[d] = 1;
		} else {
			int want = !dir_exists[d] ? -ENOENT : dir_empty(d) ? 0 : -ENOTEMPTY;
			EXPECT(vfs_rmdir(path(d, -1)), want);
			if (want == 0)
				dir_exists[d] = 0;
		}
		break;
	}
	case 6:
	case 7: { /* open a descriptor (or replace one), kept across operations */
		int k = (int)(rnd() % NFD);
		if (fd_ino[k]) {
			EXPECT(vfs_close(fds[k]), 0);
			unref(fd_ino[k]);
			fd_ino[k] = NULL;
		}
		int fd = vfs_open(path(d, f), VFS_O_RDWR, 0);
		EXPECT(fd >= 0, names[d][f] != NULL);
		if (fd >= 0) {
			fds[k] = fd;
			fd_ino[k] = names[d][f];
			fd_ino[k]->refs++;
		}
		break;
	}
	case 8: { /* write through a held descriptor (the file may be unlinked or renamed by now) */
		int k = (int)(rnd() % NFD);
		if (!fd_ino[k])
			break;
		size_t off = rnd() % (MAXSIZE / 2), n = 1 + rnd() % 512;
		for (size_t i = 0; i < n; i++)
			data[i] = (uint8_t)rnd();
		EXPECT(vfs_pwrite(fds[k], data, n, (int64_t)off), (long)n);
		model_write(fd_ino[k], off, data, n);
		break;
	}
	case 9: { /* a symlink to the file, read through, then removed */
		char target[64];
		snprintf(target, sizeof(target), "%s", path(d, f));
		EXPECT(vfs_symlink(target, "/m/link"), 0);
		int fd = vfs_open("/m/link", VFS_O_RDONLY, 0);
		EXPECT(fd >= 0, names[d][f] != NULL);
		if (fd >= 0) {
			compare_fd(fd, names[d][f], "through a symlink");
			vfs_close(fd);
		}
		EXPECT(vfs_unlink("/m/link"), 0);
		break;
	}
	}
}

static uint64_t used_bytes(void)
{
	struct vnode *root;
	int fd = vfs_open("/", VFS_O_RDONLY, 0);
	vfs_fd_vnode(fd, &root);
	vfs_close(fd);
	uint64_t used = ramfs_used_bytes(root);
	vfs_vnode_put(root);
	return used;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	trace = getenv("MODEL_TRACE") != NULL;
	if (argc != 4 || strcmp(argv[1], "model") != 0) {
		fprintf(stderr, "usage: model <seed> <ops>\n");
		return 2;
	}
	seed = strtoul(argv[2], NULL, 0);
	unsigned long ops = strtoul(argv[3], NULL, 0);
	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	if (vfs_register_fs(&ramfs_fstype) || vfs_mount("/", "ramfs", NULL))
		return 2;
	uint64_t used_at_start = used_bytes();
	if (vfs_mkdir("/m", 0755))
		return 2;
	for (opno = 0; opno < ops; opno++) {
		step();
		if (trace || opno % 16 == 0)
			compare_all();
	}
	compare_all();
	/* tear down: everything closed and removed, nothing left (ASan's leak check at exit) */
	for (int k = 0; k < NFD; k++)
		if (fd_ino[k]) {
			vfs_close(fds[k]);
			unref(fd_ino[k]);
		}
	for (int d = 0; d < NDIR; d++) {
		for (int f = 0; f < NFILE; f++)
			if (names[d][f]) {
				EXPECT(vfs_unlink(path(d, f)), 0);
				unref(names[d][f]);
			}
		if (dir_exists[d])
			EXPECT(vfs_rmdir(path(d, -1)), 0);
	}
	EXPECT(vfs_open_fd_count(), 0);
	EXPECT(vfs_rmdir("/m"), 0);
	/* ramfs's accounting comes back to exactly the empty root: nothing is still charged */
	EXPECT(used_bytes(), used_at_start);
	printf("OK model seed=%lu ops=%lu\n", seed, ops);
	return 0;
}
