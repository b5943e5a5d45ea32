/* Archive entries to VFS calls. Names are untrusted: "..", absolute names and overlong paths
 * are refused, never resolved outside dest; only directories, regular files and symlinks are
 * accepted. Duplicates replace what an earlier entry made, as Linux's initramfs does. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <initrd/cpio.h>
#include <initrd/initrd.h>
#include <ramfs/ramfs.h>
#include <vfs/vfs.h>
#include <vfs/vnode.h>

struct ctx {
	char *msg;
	size_t msgn;
	const struct cpio_entry *e;
	const char *name; /* the normalized name */
};

__attribute__((format(printf, 2, 3))) static int fail(struct ctx *c, const char *fmt, ...)
{
	int n = snprintf(c->msg, c->msgn, "entry %u \"%.*s\" at offset 0x%zx: ", c->e->index,
			 (int)(c->e->namelen > 200 ? 200 : c->e->namelen), c->e->name, c->e->offset);
	if (n < 0 || (size_t)n >= c->msgn)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->msg + n, c->msgn - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int vfs_fail(struct ctx *c, const char *what, int err)
{
	fail(c, "cannot %s: %s (errno %d)", what, strerror(-err), -err);
	return err;
}

/* Strips leading "/" and "./"; refuses ".." components. "" means the archive's root. */
static const char *normalize(const char *name, int *bad)
{
	*bad = 0;
	for (;;) {
		if (name[0] == '/')
			name++;
		else if (name[0] == '.' && name[1] == '/')
			name += 2;
		else
			break;
	}
	if (strcmp(name, ".") == 0)
		return "";
	for (const char *p = name; *p;) {
		const char *q = p;
		while (*q && *q != '/')
			q++;
		if (q - p == 2 && p[0] == '.' && p[1] == '.')
			*bad = 1;
		p = *q ? q + 1 : q;
	}
	return name;
}

static int write_all(int fd, const uint8_t *d, size_t n)
{
	while (n) {
		long w = vfs_write(fd, d, n);
		if (w < 0)
			return (int)w;
		if (w == 0)
			return -EIO;
		d += w;
		n -= (size_t)w;
	}
	return 0;
}

static int put_file(struct ctx *c, const char *path, int borrow, struct initrd_stats *st)
{
	const struct cpio_entry *e = c->e;
	if (e->nlink > 1)
		return fail(c, "a hard link (nlink %u): newc keeps the data with only one of the names; pack each name as its own file", (unsigned)e->nlink);
	int fd = vfs_open(path, VFS_O_WRONLY | VFS_O_CREAT | VFS_O_TRUNC | VFS_O_NOFOLLOW, e->mode & 07777);
	if (fd < 0)
		return vfs_fail(c, "create the file", fd);
	int err = 0;
	int borrowed = 0;
	if (borrow && e->size) {
		struct vnode *vn;
		if (vfs_fd_vnode(fd, &vn) == 0) {
			if (ramfs_is_ramfs(vn)) {
				err = ramfs_file_borrow(vn, e->data, e->size);
				borrowed = err == 0;
			}
			vfs_vnode_put(vn);
		}
	}
	if (!err && !borrowed)
		err = write_all(fd, e->data, e->size);
	vfs_close(fd);
	if (err)
		return vfs_fail(c, "write the file's data", err);
	st->files++;
	st->file_bytes += e->size;
	if (borrowed)
		st->borrowed_bytes += e->size;
	return 0;
}

static int put_symlink(struct ctx *c, const char *path)
{
	const struct cpio_entry *e = c->e;
	if (e->size == 0)
		return fail(c, "a symlink with an empty target");
	if (e->size >= VFS_PATH_MAX)
		return fail(c, "a symlink target of %zu bytes (at most %d)", e->size, VFS_PATH_MAX - 1);
	if (memchr(e->data, 0, e->size))
		return fail(c, "a symlink target with a NUL byte in it");
	char *target = malloc(e->size + 1);
	if (!target)
		return vfs_fail(c, "allocate the symlink target", -ENOMEM);
	memcpy(target, e->data, e->size);
	target[e->size] = 0;
	int err = vfs_symlink(target, path);
	if (err == -EEXIST && vfs_unlink(path) == 0)
		err = vfs_symlink(target, path);
	free(target);
	return err ? vfs_fail(c, "create the symlink", err) : 0;
}

static int put_dir(struct ctx *c, const char *path)
{
	int err = vfs_mkdir(path, c->e->mode & 07777);
	if (err == -EEXIST) {
		struct vfs_stat st;
		if (vfs_lstat(path, &st) == 0 && VFS_S_ISDIR(st.st_mode))
			return 0;
		return fail(c, "a directory where an earlier entry made something else");
	}
	return err ? vfs_fail(c, "create the directory", err) : 0;
}

int initrd_unpack(const void *archive, size_t size, const char *dest, int borrow, char *msg, size_t msgn,
		  struct initrd_stats *stats)
{
	struct initrd_stats st = {0};
	struct cpio_reader r;
	struct cpio_entry e;
	cpio_init(&r, archive, size);
	size_t dlen = strlen(dest);
	while (dlen > 1 && dest[dlen - 1] == '/')
		dlen--;
	char *path = malloc(VFS_PATH_MAX);
	if (!path) {
		snprintf(msg, msgn, "out of memory");
		return -ENOMEM;
	}
	int k, err = 0;
	while ((k = cpio_next(&r, &e)) > 0) {
		struct ctx c = {msg, msgn, &e, NULL};
		int bad;
		const char *name = normalize(e.name, &bad);
		if (bad) {
			err = fail(&c, "a name with a \"..\" component (entries must stay inside the archive's root)");
			break;
		}
		if (!*name)
			continue; /* the root itself ("." or "/") */
		c.name = name;
		size_t nlen = strlen(name);
		if (dlen + 1 + nlen >= VFS_PATH_MAX) {
			err = fail(&c, "the path is longer than %d bytes", VFS_PATH_MAX - 1);
			break;
		}
		memcpy(path, dest, dlen);
		size_t at = dlen;
		if (!(dlen == 1 && dest[0] == '/'))
			path[at++] = '/';
		memcpy(path + at, name, nlen + 1);
		uint32_t type = e.mode & VFS_S_IFMT;
		if (type == VFS_S_IFDIR) {
			err = put_dir(&c, path);
			st.dirs += err == 0;
		} else if (type == VFS_S_IFREG) {
			err = put_file(&c, path, borrow, &st);
		} else if (type == VFS_S_IFLNK) {
			err = put_symlink(&c, path);
			st.symlinks += err == 0;
		} else {
			err = fail(&c, "unsupported file type (mode 0%o): only directories, regular files and symlinks can be unpacked", (unsigned)e.mode);
		}
		if (err)
			break;
	}
	free(path);
	if (!err && k < 0) {
		if (r.name)
			snprintf(msg, msgn, "entry %u \"%.200s\" at offset 0x%zx: %s", r.index, r.name, r.offset, r.error);
		else
			snprintf(msg, msgn, "entry %u at offset 0x%zx: %s", r.index, r.offset, r.error);
		err = -EINVAL;
	}
	if (stats)
		*stats = st;
	return err;
}
