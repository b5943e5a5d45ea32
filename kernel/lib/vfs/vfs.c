/* Operations by name: stat, mkdir, unlink, rename, symlinks, the cwd. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfs_impl.h"

static uint32_t umask_bits = 022;
uint32_t vfs_umask_get(void) { return umask_bits; }

uint32_t vfs_umask(uint32_t mask)
{
	uint32_t old = umask_bits;
	umask_bits = mask & 0777;
	return old;
}

/* What an existing path names (a new reference), or -ENOENT. */
static int existing(int dirfd, const char *path, int ni, struct vnode **out)
{
	struct vfs_nameidata nd;
	int err = vfs_namei(dirfd, path, ni, &nd);
	if (err)
		return err;
	*out = nd.vn;
	nd.vn = NULL;
	vfs_nameidata_put(&nd);
	return *out ? 0 : -ENOENT;
}

/* A mount's root or a directory a mount hides cannot be removed or renamed. */
static int busy(const struct vnode *vn)
{
	return vn->covered || (vn == vn->mount->root);
}

int vfs_fstatat(int dirfd, const char *path, struct vfs_stat *st, int flags)
{
	if (flags & ~(VFS_AT_SYMLINK_NOFOLLOW | VFS_AT_EMPTY_PATH))
		return -EINVAL;
	struct vnode *vn;
	int ni = (flags & VFS_AT_SYMLINK_NOFOLLOW ? 0 : VFS_NI_FOLLOW) | (flags & VFS_AT_EMPTY_PATH ? VFS_NI_EMPTY : 0);
	int err = existing(dirfd, path, ni, &vn);
	if (err)
		return err;
	err = vfs_getattr(vn, st);
	vfs_vnode_put(vn);
	return err;
}

int vfs_stat(const char *path, struct vfs_stat *st) { return vfs_fstatat(VFS_AT_FDCWD, path, st, 0); }
int vfs_lstat(const char *path, struct vfs_stat *st) { return vfs_fstatat(VFS_AT_FDCWD, path, st, VFS_AT_SYMLINK_NOFOLLOW); }

int vfs_faccessat(int dirfd, const char *path, int mode, int flags)
{
	if (mode & ~(VFS_R_OK | VFS_W_OK | VFS_X_OK))
		return -EINVAL;
	struct vfs_stat st;
	int err = vfs_fstatat(dirfd, path, &st, flags & (VFS_AT_SYMLINK_NOFOLLOW | VFS_AT_EMPTY_PATH));
	if (err)
		return err;
	/* Everything runs as root: read and write are granted; execute needs an x bit (or a dir). */
	if ((mode & VFS_X_OK) && !VFS_S_ISDIR(st.st_mode) && !(st.st_mode & 0111))
		return -EACCES;
	return 0;
}

/* Resolves the name a new directory or symlink gets: 0 with nd->parent, or -EEXIST (nd put). */
static int new_name(int dirfd, const char *path, struct vfs_nameidata *nd)
{
	int err = vfs_namei(dirfd, path, 0, nd);
	if (!err && (nd->vn || !nd->parent)) {
		vfs_nameidata_put(nd);
		err = -EEXIST;
	}
	return err;
}

int vfs_mkdirat(int dirfd, const char *path, uint32_t mode)
{
	struct vfs_nameidata nd;
	int err = new_name(dirfd, path, &nd);
	if (err)
		return err;
	if (!nd.parent->ops->mkdir)
		err = -EPERM;
	else
		err = nd.parent->ops->mkdir(nd.parent, nd.last, nd.lastlen, mode & 07777 & ~umask_bits);
	vfs_nameidata_put(&nd);
	return err;
}

int vfs_mkdir(const char *path, uint32_t mode) { return vfs_mkdirat(VFS_AT_FDCWD, path, mode); }

int vfs_unlinkat(int dirfd, const char *path, int flags)
{
	if (flags & ~VFS_AT_REMOVEDIR)
		return -EINVAL;
	int rmdir = (flags & VFS_AT_REMOVEDIR) != 0;
	struct vfs_nameidata nd;
	int err = vfs_namei(dirfd, path, 0, &nd);
	if (err)
		return err;
	struct vnode *vn = nd.vn;
	if (!vn)
		err = -ENOENT;
	else if (!nd.parent) /* "/", "x/." or "x/.." */
		err = !rmdir ? -EISDIR : (nd.lastlen == 1 ? -EINVAL : nd.lastlen == 2 ? -ENOTEMPTY : -EBUSY);
	else if (rmdir && !VFS_S_ISDIR(vn->type))
		err = -ENOTDIR;
	else if (!rmdir && VFS_S_ISDIR(vn->type))
		err = -EISDIR;
	else if (busy(vn))
		err = -EBUSY;
	else if (rmdir)
		err = nd.parent->ops->rmdir ? nd.parent->ops->rmdir(nd.parent, nd.last, nd.lastlen) : -EPERM;
	else
		err = nd.parent->ops->unlink ? nd.parent->ops->unlink(nd.parent, nd.last, nd.lastlen) : -EPERM;
	vfs_nameidata_put(&nd);
	return err;
}

int vfs_unlink(const char *path) { return vfs_unlinkat(VFS_AT_FDCWD, path, 0); }
int vfs_rmdir(const char *path) { return vfs_unlinkat(VFS_AT_FDCWD, path, VFS_AT_REMOVEDIR); }

/* Is `anc` dir or one of dir's ancestors (within dir's mount)? */
static int is_ancestor(struct vnode *anc, struct vnode *dir, int *err)
{
	struct vnode *d = vfs_vnode_ref(dir);
	int found = 0;
	*err = 0;
	for (int depth = 0;; depth++) {
		if (d == anc) {
			found = 1;
			break;
		}
		if (d == d->mount->root || depth > VFS_PATH_MAX / 2)
			break;
		struct vnode *p;
		*err = d->ops->lookup(d, "..", 2, &p);
		if (*err)
			break;
		if (!p->mount)
			p->mount = d->mount;
		vfs_vnode_put(d);
		d = p;
	}
	vfs_vnode_put(d);
	return found;
}

int vfs_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	struct vfs_nameidata o, n;
	int err = vfs_namei(olddirfd, oldpath, 0, &o);
	if (err)
		return err;
	err = vfs_namei(newdirfd, newpath, 0, &n);
	if (err) {
		vfs_nameidata_put(&o);
		return err;
	}
	struct vnode *ov = o.vn, *nv = n.vn;
	if (!ov)
		err = -ENOENT;
	else if (!o.parent || !n.parent)
		err = -EBUSY;
	else if (busy(ov) || (nv && busy(nv)))
		err = -EBUSY;
	else if (o.parent->mount != n.parent->mount)
		err = -EXDEV;
	else if (ov == nv)
		err = 0; /* the same file: nothing to do */
	else if (VFS_S_ISDIR(ov->type) && nv && !VFS_S_ISDIR(nv->type))
		err = -ENOTDIR;
	else if (!VFS_S_ISDIR(ov->type) && nv && VFS_S_ISDIR(nv->type))
		err = -EISDIR;
	else if (!VFS_S_ISDIR(ov->type) && (o.trailing_slash || n.trailing_slash))
		err = -ENOTDIR;
	else if (VFS_S_ISDIR(ov->type) && is_ancestor(ov, n.parent, &err))
		err = -EINVAL; /* moving a directory into itself */
	else if (!err)
		err = o.parent->ops->rename ? o.parent->ops->rename(o.parent, o.last, o.lastlen, n.parent, n.last, n.lastlen) : -EPERM;
	vfs_nameidata_put(&o);
	vfs_nameidata_put(&n);
	return err;
}

int vfs_rename(const char *oldpath, const char *newpath) { return vfs_renameat(VFS_AT_FDCWD, oldpath, VFS_AT_FDCWD, newpath); }

int vfs_truncate(const char *path, int64_t size)
{
	struct vnode *vn;
	int err = existing(VFS_AT_FDCWD, path, VFS_NI_FOLLOW, &vn);
	if (err)
		return err;
	err = vfs_truncate_vnode(vn, size);
	vfs_vnode_put(vn);
	return err;
}

long vfs_readlinkat(int dirfd, const char *path, char *buf, size_t n)
{
	if (n == 0 || n > (size_t)INT32_MAX)
		return -EINVAL;
	struct vnode *vn;
	long r = existing(dirfd, path, VFS_NI_EMPTY, &vn);
	if (r)
		return r;
	if (!VFS_S_ISLNK(vn->type) || !vn->ops->readlink)
		r = -EINVAL;
	else {
		r = vn->ops->readlink(vn, buf, n);
		if (r > (long)n)
			r = (long)n;
	}
	vfs_vnode_put(vn);
	return r;
}

long vfs_readlink(const char *path, char *buf, size_t n) { return vfs_readlinkat(VFS_AT_FDCWD, path, buf, n); }

int vfs_symlinkat(const char *target, int newdirfd, const char *linkpath)
{
	size_t tlen = strnlen(target, VFS_PATH_MAX);
	if (tlen == VFS_PATH_MAX)
		return -ENAMETOOLONG;
	if (tlen == 0)
		return -ENOENT;
	struct vfs_nameidata nd;
	int err = new_name(newdirfd, linkpath, &nd);
	if (err)
		return err;
	if (nd.trailing_slash)
		err = -ENOENT;
	else if (!nd.parent->ops->symlink)
		err = -EPERM;
	else
		err = nd.parent->ops->symlink(nd.parent, nd.last, nd.lastlen, target, tlen);
	vfs_nameidata_put(&nd);
	return err;
}

int vfs_symlink(const char *target, const char *linkpath) { return vfs_symlinkat(target, VFS_AT_FDCWD, linkpath); }

int vfs_chdir(const char *path)
{
	struct vnode *vn;
	int err = existing(VFS_AT_FDCWD, path, VFS_NI_FOLLOW, &vn);
	if (err)
		return err;
	if (!VFS_S_ISDIR(vn->type)) {
		vfs_vnode_put(vn);
		return -ENOTDIR;
	}
	vfs_set_cwd(vn);
	return 0;
}

struct find_ctx {
	uint64_t ino;
	char *name;
	size_t len;
	int found;
};

static int find_ino(void *ctx, const char *name, size_t len, uint64_t ino, unsigned dtype, uint64_t next)
{
	(void)dtype;
	(void)next;
	struct find_ctx *c = ctx;
	if (ino != c->ino || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	memcpy(c->name, name, len);
	c->len = len;
	c->found = 1;
	return 1;
}

/* Walks up from the cwd with "..", finding each directory's name in its parent by inode. */
long vfs_getcwd(char *buf, size_t n)
{
	struct vnode *root = vfs_root();
	if (!root)
		return -ENOENT;
	char *tmp = malloc(VFS_PATH_MAX);
	char *name = malloc(VFS_NAME_MAX + 1);
	long r = 0;
	if (!tmp || !name) {
		r = -ENOMEM;
		goto done;
	}
	size_t pos = VFS_PATH_MAX - 1;
	tmp[pos] = 0;
	struct vnode *vn = vfs_vnode_ref(vfs_cwd());
	while (vn != root) {
		struct vnode *d = vn;
		while (d != root && d == d->mount->root && d->mount->covered)
			d = d->mount->covered;
		if (d == root)
			break;
		struct vnode *parent;
		r = d->ops->lookup(d, "..", 2, &parent);
		if (r)
			break;
		if (!parent->mount)
			parent->mount = d->mount;
		struct find_ctx c = {d->ino, name, 0, 0};
		uint64_t cookie = 0;
		r = parent->ops->readdir ? parent->ops->readdir(parent, &cookie, find_ino, &c) : -ENOENT;
		if (!r && !c.found)
			r = -ENOENT; /* the cwd was removed */
		if (!r && c.len + 1 > pos)
			r = -ENAMETOOLONG;
		if (r) {
			vfs_vnode_put(parent);
			break;
		}
		pos -= c.len;
		memcpy(tmp + pos, name, c.len);
		tmp[--pos] = '/';
		vfs_vnode_put(vn);
		vn = parent;
	}
	vfs_vnode_put(vn);
	if (r)
		goto done;
	if (pos == VFS_PATH_MAX - 1)
		tmp[--pos] = '/';
	size_t len = VFS_PATH_MAX - pos; /* with the NUL */
	if (len > n) {
		r = -ERANGE;
		goto done;
	}
	memcpy(buf, tmp + pos, len);
	r = (long)len;
done:
	free(tmp);
	free(name);
	return r;
}
