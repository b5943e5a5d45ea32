/* The open-file table and the operations on descriptors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfs_impl.h"

/* Linux caps one read/write at this (MAX_RW_COUNT), so counts fit a long and an int. */
#define RW_MAX 0x7ffff000ul

struct fdent {
	struct vfs_file *f; /* NULL: free; RESERVED: being opened */
	int cloexec;
};
static struct fdent fdt[CONFIG_VFS_MAX_FDS];
static struct vfs_file reserved_marker;
#define RESERVED (&reserved_marker)

int vfs_open_fd_count(void)
{
	int n = 0;
	for (int i = 0; i < CONFIG_VFS_MAX_FDS; i++)
		n += fdt[i].f != NULL && fdt[i].f != RESERVED;
	return n;
}

static int fd_reserve(int from)
{
	for (int i = from < 0 ? 0 : from; i < CONFIG_VFS_MAX_FDS; i++)
		if (!fdt[i].f) {
			fdt[i].f = RESERVED;
			fdt[i].cloexec = 0;
			return i;
		}
	return -EMFILE;
}

static void fd_put_file(int fd, struct vfs_file *f, int cloexec)
{
	fdt[fd].f = f;
	fdt[fd].cloexec = cloexec;
}

/* The file behind fd, with a new reference (so a close elsewhere cannot free it under us). */
static struct vfs_file *fget(int fd)
{
	if (fd < 0 || fd >= CONFIG_VFS_MAX_FDS || !fdt[fd].f || fdt[fd].f == RESERVED)
		return NULL;
	struct vfs_file *f = fdt[fd].f;
	f->refs++;
	return f;
}

void vfs_file_put(struct vfs_file *f)
{
	if (f && --f->refs == 0) {
		vfs_vnode_put(f->vn);
		free(f);
	}
}

int vfs_file_open_vnode(struct vnode *vn, int flags, struct vfs_file **out)
{
	if (!(flags & VFS_O_PATH) && vn->ops->open) {
		int err = vn->ops->open(vn, flags);
		if (err)
			return err;
	}
	struct vfs_file *f = malloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->vn = vfs_vnode_ref(vn);
	f->off = 0;
	f->flags = flags & ~VFS_O_CLOEXEC;
	f->refs = 1;
	*out = f;
	return 0;
}

int vfs_fd_install(struct vfs_file *f, int cloexec)
{
	int fd = fd_reserve(0);
	if (fd < 0)
		return fd;
	fd_put_file(fd, f, cloexec);
	return fd;
}

int vfs_dirfd_vnode(int dirfd, struct vnode **out)
{
	if (dirfd == VFS_AT_FDCWD) {
		struct vnode *c = vfs_cwd();
		if (!c)
			return -ENOENT;
		*out = vfs_vnode_ref(c);
		return 0;
	}
	struct vfs_file *f = fget(dirfd);
	if (!f)
		return -EBADF;
	*out = vfs_vnode_ref(f->vn);
	vfs_file_put(f);
	return 0;
}

int vfs_fd_vnode(int fd, struct vnode **out)
{
	struct vfs_file *f = fget(fd);
	if (!f)
		return -EBADF;
	*out = vfs_vnode_ref(f->vn);
	vfs_file_put(f);
	return 0;
}

int vfs_fd_vnode_of(long fd, const struct vnode_ops *ops, struct vnode **out)
{
	if (fd < 0 || fd > INT32_MAX)
		return -EBADF;
	int r = vfs_fd_vnode((int)fd, out);
	if (r < 0)
		return r;
	if ((*out)->ops != ops) {
		vfs_vnode_put(*out);
		return 1;
	}
	return 0;
}

int vfs_getattr(struct vnode *vn, struct vfs_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = vn->type | 0644;
	st->st_nlink = 1;
	st->st_blksize = 4096;
	if (vn->ops->getattr) {
		int err = vn->ops->getattr(vn, st);
		if (err)
			return err;
	}
	st->st_mode = (st->st_mode & ~VFS_S_IFMT) | vn->type;
	st->st_dev = vn->mount ? (uint64_t)vfs_mount_index(vn->mount) + 1 : 0;
	st->st_ino = vn->ino;
	return 0;
}

int vfs_truncate_vnode(struct vnode *vn, int64_t size)
{
	if (size < 0)
		return -EINVAL;
	if (!VFS_S_ISREG(vn->type))
		return VFS_S_ISDIR(vn->type) ? -EISDIR : -EINVAL;
	return vn->ops->truncate ? vn->ops->truncate(vn, (uint64_t)size) : -EINVAL;
}

int vfs_openat(int dirfd, const char *path, int flags, uint32_t mode)
{
	int acc = flags & VFS_O_ACCMODE;
	if (acc == 3)
		return -EINVAL;
	if ((flags & VFS_O_TMPFILE) == VFS_O_TMPFILE)
		return -EOPNOTSUPP;
	if (flags & VFS_O_PATH)
		flags &= VFS_O_PATH | VFS_O_DIRECTORY | VFS_O_NOFOLLOW | VFS_O_CLOEXEC;
	int excl = (flags & (VFS_O_CREAT | VFS_O_EXCL)) == (VFS_O_CREAT | VFS_O_EXCL);
	int fd = fd_reserve(0); /* first, so a full table creates nothing */
	if (fd < 0)
		return fd;
	struct vfs_nameidata nd;
	int follow = (flags & VFS_O_NOFOLLOW) || excl ? 0 : VFS_NI_FOLLOW;
	int err = vfs_namei(dirfd, path, follow, &nd);
	if (err)
		goto fail;
	struct vnode *vn = nd.vn;
	if (!vn) {
		if (!(flags & VFS_O_CREAT)) {
			err = -ENOENT;
			goto fail_nd;
		}
		if (nd.trailing_slash) {
			err = -EISDIR;
			goto fail_nd;
		}
		if (!nd.parent->ops->create) {
			err = -EPERM;
			goto fail_nd;
		}
		err = nd.parent->ops->create(nd.parent, nd.last, nd.lastlen, mode & 07777 & ~vfs_umask_get(), &vn);
		if (err)
			goto fail_nd;
		vn->mount = nd.parent->mount;
		nd.vn = vn;
	} else {
		if (excl) {
			err = -EEXIST;
			goto fail_nd;
		}
		if (VFS_S_ISLNK(vn->type) && !(flags & VFS_O_PATH)) {
			err = -ELOOP; /* O_NOFOLLOW on a symlink */
			goto fail_nd;
		}
		if ((flags & VFS_O_DIRECTORY) && !VFS_S_ISDIR(vn->type)) {
			err = -ENOTDIR;
			goto fail_nd;
		}
		if (VFS_S_ISDIR(vn->type) && !(flags & VFS_O_PATH) && (acc != VFS_O_RDONLY || (flags & VFS_O_CREAT))) {
			err = -EISDIR;
			goto fail_nd;
		}
		if ((flags & VFS_O_TRUNC) && !(flags & VFS_O_PATH) && VFS_S_ISREG(vn->type)) {
			err = vfs_truncate_vnode(vn, 0);
			if (err)
				goto fail_nd;
		}
	}
	struct vfs_file *f;
	err = vfs_file_open_vnode(vn, flags, &f);
	if (err)
		goto fail_nd;
	vfs_nameidata_put(&nd);
	fd_put_file(fd, f, (flags & VFS_O_CLOEXEC) != 0);
	return fd;
fail_nd:
	vfs_nameidata_put(&nd);
fail:
	fdt[fd].f = NULL;
	return err;
}

int vfs_open(const char *path, int flags, uint32_t mode)
{
	return vfs_openat(VFS_AT_FDCWD, path, flags, mode);
}

int vfs_close(int fd)
{
	if (fd < 0 || fd >= CONFIG_VFS_MAX_FDS || !fdt[fd].f || fdt[fd].f == RESERVED)
		return -EBADF;
	struct vfs_file *f = fdt[fd].f;
	fdt[fd].f = NULL;
	vfs_file_put(f);
	return 0;
}

static int readable(const struct vfs_file *f)
{
	return !(f->flags & VFS_O_PATH) && (f->flags & VFS_O_ACCMODE) != VFS_O_WRONLY;
}
static int writable(const struct vfs_file *f)
{
	int acc = f->flags & VFS_O_ACCMODE;
	return !(f->flags & VFS_O_PATH) && (acc == VFS_O_WRONLY || acc == VFS_O_RDWR);
}

/* The shared body of read/pread (pos NULL: the file's offset) and write/pwrite. */
static long do_rw(int fd, void *buf, size_t n, const int64_t *pos, int is_write)
{
	struct vfs_file *f = fget(fd);
	if (!f)
		return -EBADF;
	struct vnode *vn = f->vn;
	long r;
	if (!(is_write ? writable(f) : readable(f))) {
		r = -EBADF;
		goto out;
	}
	if (VFS_S_ISDIR(vn->type)) {
		r = -EISDIR;
		goto out;
	}
	if (pos && (vn->flags & VFS_VN_NOSEEK)) {
		r = -ESPIPE;
		goto out;
	}
	if (pos && *pos < 0) {
		r = -EINVAL;
		goto out;
	}
	if (n > RW_MAX)
		n = RW_MAX;
	uint64_t off = pos ? (uint64_t)*pos : f->off;
	if (is_write && (f->flags & VFS_O_APPEND) && !(vn->flags & VFS_VN_NOSEEK)) {
		struct vfs_stat st; /* Linux appends even for pwrite on an O_APPEND file */
		r = vfs_getattr(vn, &st);
		if (r)
			goto out;
		off = (uint64_t)st.st_size;
	}
	if (off > INT64_MAX - n) {
		r = is_write ? -EFBIG : 0;
		if (!is_write || n)
			goto out;
	}
	if (is_write)
		r = vn->ops->write ? vn->ops->write(vn, buf, n, off, f->flags) : -EINVAL;
	else
		r = vn->ops->read ? vn->ops->read(vn, buf, n, off, f->flags) : -EINVAL;
	if (r == -EAGAIN)
		(*(is_write ? &vn->eagain_out : &vn->eagain_in))++;
	if (r > 0 && !pos && !(vn->flags & VFS_VN_NOSEEK))
		f->off = off + (uint64_t)r;
out:
	vfs_file_put(f);
	return r;
}

long vfs_read(int fd, void *buf, size_t n) { return do_rw(fd, buf, n, NULL, 0); }
long vfs_write(int fd, const void *buf, size_t n) { return do_rw(fd, (void *)buf, n, NULL, 1); }
long vfs_pread(int fd, void *buf, size_t n, int64_t off) { return do_rw(fd, buf, n, &off, 0); }
long vfs_pwrite(int fd, const void *buf, size_t n, int64_t off) { return do_rw(fd, (void *)buf, n, &off, 1); }

int64_t vfs_lseek(int fd, int64_t off, int whence)
{
	struct vfs_file *f = fget(fd);
	if (!f)
		return -EBADF;
	struct vnode *vn = f->vn;
	int64_t r;
	if (vn->flags & VFS_VN_NOSEEK) {
		r = -ESPIPE;
		goto out;
	}
	int64_t base;
	if (whence == VFS_SEEK_SET) {
		base = 0;
	} else if (whence == VFS_SEEK_CUR) {
		base = (int64_t)f->off;
	} else if (whence == VFS_SEEK_END) {
		if (VFS_S_ISDIR(vn->type)) {
			r = -EINVAL;
			goto out;
		}
		struct vfs_stat st;
		r = vfs_getattr(vn, &st);
		if (r)
			goto out;
		base = st.st_size;
	} else {
		r = -EINVAL; /* SEEK_DATA/SEEK_HOLE are not implemented */
		goto out;
	}
	/* A directory's offset is a filesystem cookie: only values it handed out make sense. */
	if (VFS_S_ISDIR(vn->type) && whence == VFS_SEEK_CUR && off != 0) {
		r = -EINVAL;
		goto out;
	}
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0) {
		r = -EINVAL;
		goto out;
	}
	f->off = (uint64_t)(base + off);
	r = base + off;
out:
	vfs_file_put(f);
	return r;
}

int vfs_fstat(int fd, struct vfs_stat *st)
{
	struct vfs_file *f = fget(fd);
	if (!f)
		return -EBADF;
	int r = vfs_getattr(f->vn, st);
	vfs_file_put(f);
	return r;
}

int vfs_ftruncate(int fd, int64_t size)
{
	struct vfs_file *f = fget(fd);
	if (!f)
		return -EBADF;
	int r;
	if (!writable(f) || !VFS_S_ISREG(f->vn->type))
		r = -EINVAL; /* as Linux: not open for writing, or not a regular file */
	else
		r = vfs_truncate_vnode(f->vn, size);
	vfs_file_put(f);
	return r;
}

int vfs_fsync(int fd)
{
	struct vfs_file *f = fget(fd);
	if (!f)
		return -EBADF;
	int r = f->vn->ops->fsync ? f->vn->ops->fsync(f->vn) : 0; /* memory filesystems: nothing to do */
	vfs_file_put(f);
	return r;
}

int vfs_poll(int fd, int events)
{
	struct vfs_file *f = fget(fd);
	if (!f)
		return -EBADF;
	int r = f->vn->ops->poll ? f->vn->ops->poll(f->vn, events) : events & (VFS_POLLIN | VFS_POLLOUT);
	vfs_file_put(f);
	return r;
}

struct dents_ctx {
	uint8_t *buf;
	size_t n, used;
	int full; /* a record did not fit */
};

static int fill_dirent64(void *ctx, const char *name, size_t len, uint64_t ino, unsigned dtype, uint64_t next)
{
	struct dents_ctx *c = ctx;
	size_t reclen = (offsetof(struct vfs_dirent64, d_name) + len + 1 + 7) & ~(size_t)7;
	if (c->used + reclen > c->n) {
		c->full = 1;
		return 1;
	}
	struct vfs_dirent64 *d = (struct vfs_dirent64 *)(c->buf + c->used);
	d->d_ino = ino;
	d->d_off = (int64_t)next;
	d->d_reclen = (uint16_t)reclen;
	d->d_type = (uint8_t)dtype;
	memcpy(d->d_name, name, len);
	memset(d->d_name + len, 0, reclen - offsetof(struct vfs_dirent64, d_name) - len);
	c->used += reclen;
	return 0;
}

long vfs_getdents64(int fd, void *buf, size_t n)
{
	struct vfs_file *f = fget(fd);
	if (!f)
		return -EBADF;
	long r;
	if (!VFS_S_ISDIR(f->vn->type) || !f->vn->ops->readdir) {
		r = -ENOTDIR;
		goto out;
	}
	if (f->flags & VFS_O_PATH) {
		r = -EBADF;
		goto out;
	}
	struct dents_ctx c = {buf, n, 0, 0};
	uint64_t pos = f->off;
	r = f->vn->ops->readdir(f->vn, &pos, fill_dirent64, &c);
	if (r == 0) {
		f->off = pos;
		r = c.used == 0 && c.full ? -EINVAL : (long)c.used;
	}
out:
	vfs_file_put(f);
	return r;
}

static int dup_from(int oldfd, int from, int cloexec)
{
	struct vfs_file *f = fget(oldfd);
	if (!f)
		return -EBADF;
	if (from >= CONFIG_VFS_MAX_FDS) {
		vfs_file_put(f);
		return -EINVAL;
	}
	int fd = fd_reserve(from);
	if (fd < 0) {
		vfs_file_put(f);
		return fd;
	}
	fd_put_file(fd, f, cloexec); /* the reference from fget becomes the new descriptor's */
	return fd;
}

int vfs_dup(int fd) { return dup_from(fd, 0, 0); }

int vfs_dup3(int oldfd, int newfd, int flags)
{
	if (flags & ~VFS_O_CLOEXEC)
		return -EINVAL;
	if (oldfd == newfd)
		return -EINVAL;
	if (newfd < 0 || newfd >= CONFIG_VFS_MAX_FDS)
		return -EBADF;
	struct vfs_file *f = fget(oldfd);
	if (!f)
		return -EBADF;
	if (fdt[newfd].f == RESERVED) {
		vfs_file_put(f);
		return -EBUSY; /* as Linux, for a descriptor an open is still filling */
	}
	struct vfs_file *old = fdt[newfd].f;
	fd_put_file(newfd, f, (flags & VFS_O_CLOEXEC) != 0);
	vfs_file_put(old);
	return newfd;
}

int vfs_dup2(int oldfd, int newfd)
{
	if (oldfd == newfd) {
		struct vfs_file *f = fget(oldfd);
		if (!f)
			return -EBADF;
		vfs_file_put(f);
		return newfd;
	}
	return vfs_dup3(oldfd, newfd, 0);
}

/* Flags F_SETFL may change; the access mode and creation flags stay as opened. */
#define SETFL_MASK (VFS_O_APPEND | VFS_O_NONBLOCK | VFS_O_NOATIME | VFS_O_DIRECT)

int vfs_fcntl(int fd, int cmd, long arg)
{
	if (cmd == VFS_F_DUPFD || cmd == VFS_F_DUPFD_CLOEXEC) {
		if (arg < 0)
			return -EINVAL;
		return dup_from(fd, arg >= CONFIG_VFS_MAX_FDS ? CONFIG_VFS_MAX_FDS : (int)arg, cmd == VFS_F_DUPFD_CLOEXEC);
	}
	struct vfs_file *f = fget(fd);
	if (!f)
		return -EBADF;
	int r = 0;
	switch (cmd) {
	case VFS_F_GETFD:
		r = fdt[fd].cloexec ? VFS_FD_CLOEXEC : 0;
		break;
	case VFS_F_SETFD:
		fdt[fd].cloexec = (arg & VFS_FD_CLOEXEC) != 0;
		break;
	case VFS_F_GETFL:
		r = f->flags;
		break;
	case VFS_F_SETFL:
		f->flags = (f->flags & ~SETFL_MASK) | ((int)arg & SETFL_MASK);
		break;
	default:
		r = -EINVAL; /* the syscall layer handles locks and the rest */
	}
	vfs_file_put(f);
	return r;
}

int vfs_fchdir(int fd)
{
	struct vfs_file *f = fget(fd);
	if (!f)
		return -EBADF;
	int r = 0;
	if (!VFS_S_ISDIR(f->vn->type))
		r = -ENOTDIR;
	else
		vfs_set_cwd(vfs_vnode_ref(f->vn));
	vfs_file_put(f);
	return r;
}
