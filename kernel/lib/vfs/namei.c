/* Mounts and path resolution. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfs_impl.h"

static struct vfs_mount mounts[CONFIG_VFS_MAX_MOUNTS];
static int nmounts;
static struct vfs_fstype *fstypes;
static struct vnode *cwd; /* a reference; NULL means the root */

void vfs_vnode_put(struct vnode *vn)
{
	if (vn && --vn->refs == 0 && vn->ops->inactive)
		vn->ops->inactive(vn);
}

struct vnode *vfs_root(void) { return nmounts ? mounts[0].root : NULL; }
struct vnode *vfs_cwd(void) { return cwd ? cwd : vfs_root(); }

void vfs_set_cwd(struct vnode *vn)
{
	struct vnode *old = cwd;
	cwd = vn;
	vfs_vnode_put(old);
}

int vfs_mount_index(const struct vfs_mount *m) { return (int)(m - mounts); }
int vfs_mount_count(void) { return nmounts; }
const char *vfs_mount_path(int i) { return i >= 0 && i < nmounts ? mounts[i].path : NULL; }
const char *vfs_mount_fstype(int i) { return i >= 0 && i < nmounts ? mounts[i].type->name : NULL; }

int vfs_register_fs(struct vfs_fstype *type)
{
	for (struct vfs_fstype *t = fstypes; t; t = t->next)
		if (t == type || strcmp(t->name, type->name) == 0)
			return -EEXIST;
	type->next = fstypes;
	fstypes = type;
	return 0;
}

int vfs_mount(const char *path, const char *fstype, const void *data)
{
	struct vfs_fstype *t = fstypes;
	while (t && strcmp(t->name, fstype) != 0)
		t = t->next;
	if (!t)
		return -ENODEV;
	if (nmounts == CONFIG_VFS_MAX_MOUNTS)
		return -ENOSPC; /* vfs option max_mounts */
	struct vnode *covered = NULL;
	if (nmounts == 0) {
		if (strcmp(path, "/") != 0)
			return -ENOENT; /* nothing to resolve against before "/" is mounted */
	} else {
		struct vfs_nameidata nd;
		int err = vfs_namei(VFS_AT_FDCWD, path, VFS_NI_FOLLOW, &nd);
		if (err)
			return err;
		covered = nd.vn;
		nd.vn = NULL;
		vfs_nameidata_put(&nd);
		if (!covered)
			return -ENOENT;
		if (!VFS_S_ISDIR(covered->type)) {
			vfs_vnode_put(covered);
			return -ENOTDIR;
		}
		/* One mount per directory, and not on a mount's root (no stacking). */
		if (covered->covered || covered == covered->mount->root) {
			vfs_vnode_put(covered);
			return -EBUSY;
		}
	}
	size_t plen = strlen(path);
	char *copy = malloc(plen + 1);
	if (!copy) {
		vfs_vnode_put(covered);
		return -ENOMEM;
	}
	memcpy(copy, path, plen + 1);
	struct vnode *root = NULL;
	int err = t->mount(t, data, &root);
	if (err) {
		free(copy);
		vfs_vnode_put(covered);
		return err;
	}
	struct vfs_mount *m = &mounts[nmounts++];
	m->type = t;
	m->root = root;
	m->covered = covered;
	m->path = copy;
	root->mount = m;
	if (covered)
		covered->covered = m;
	return 0;
}

/* A vnode found in dir belongs to dir's mount; a covered directory stands for its mount's root. */
static struct vnode *enter(struct vnode *dir, struct vnode *child)
{
	if (!child->mount)
		child->mount = dir->mount;
	while (child->covered) {
		struct vnode *r = vfs_vnode_ref(child->covered->root);
		vfs_vnode_put(child);
		child = r;
	}
	return child;
}

int vfs_dotdot(struct vnode *vn, struct vnode **out)
{
	struct vnode *root = vfs_root();
	while (vn != root && vn == vn->mount->root && vn->mount->covered)
		vn = vn->mount->covered;
	if (vn == root) {
		*out = vfs_vnode_ref(root);
		return 0;
	}
	struct vnode *p;
	int err = vn->ops->lookup(vn, "..", 2, &p);
	if (err)
		return err;
	*out = enter(vn, p);
	return 0;
}

int vfs_dirfd_vnode(int dirfd, struct vnode **out); /* fd.c */

void vfs_nameidata_put(struct vfs_nameidata *nd)
{
	vfs_vnode_put(nd->parent);
	vfs_vnode_put(nd->vn);
	nd->parent = nd->vn = NULL;
}

int vfs_namei(int dirfd, const char *path, int flags, struct vfs_nameidata *nd)
{
	nd->parent = nd->vn = NULL;
	nd->lastlen = 0;
	nd->last[0] = 0;
	nd->trailing_slash = 0;
	if (!vfs_root())
		return -ENOENT;
	size_t len = strnlen(path, VFS_PATH_MAX);
	if (len == VFS_PATH_MAX)
		return -ENAMETOOLONG;
	struct vnode *cur;
	if (len == 0) {
		if (!(flags & VFS_NI_EMPTY))
			return -ENOENT;
		int err = vfs_dirfd_vnode(dirfd, &cur);
		if (err)
			return err;
		nd->vn = cur;
		return 0;
	}
	if (path[0] == '/') {
		cur = vfs_vnode_ref(vfs_root());
	} else {
		int err = vfs_dirfd_vnode(dirfd, &cur);
		if (err)
			return err;
	}
	/* The path being resolved: the rest of the caller's path, or after a symlink, its target
	 * followed by what remained. */
	char *buf = malloc(VFS_PATH_MAX);
	char *link = malloc(VFS_PATH_MAX);
	int err = 0, links = 0;
	if (!buf || !link) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(buf, path, len + 1);
	char *p = buf;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == 0) { /* only slashes left: the path names cur itself */
			nd->vn = cur;
			cur = NULL;
			break;
		}
		char *q = p;
		while (*q && *q != '/')
			q++;
		size_t clen = (size_t)(q - p);
		if (clen > VFS_NAME_MAX) {
			err = -ENAMETOOLONG;
			break;
		}
		char *after = q;
		while (*after == '/')
			after++;
		int is_last = *after == 0;
		int trailing = is_last && *q == '/';
		if (!VFS_S_ISDIR(cur->type)) {
			err = -ENOTDIR;
			break;
		}
		int dot = clen == 1 && p[0] == '.';
		int dotdot = clen == 2 && p[0] == '.' && p[1] == '.';
		struct vnode *child;
		if (dot) {
			child = vfs_vnode_ref(cur);
		} else if (dotdot) {
			err = vfs_dotdot(cur, &child);
			if (err)
				break;
		} else {
			err = cur->ops->lookup(cur, p, clen, &child);
			if (err == -ENOENT && is_last) {
				/* Missing last component: the caller may create it. */
				err = 0;
				nd->parent = cur;
				cur = NULL;
				memcpy(nd->last, p, clen);
				nd->last[clen] = 0;
				nd->lastlen = clen;
				nd->trailing_slash = trailing;
				break;
			}
			if (err)
				break;
			child = enter(cur, child);
		}
		if (VFS_S_ISLNK(child->type) && (!is_last || trailing || (flags & VFS_NI_FOLLOW))) {
			if (++links > VFS_SYMLOOP_MAX) {
				vfs_vnode_put(child);
				err = -ELOOP;
				break;
			}
			long tl = child->ops->readlink ? child->ops->readlink(child, link, VFS_PATH_MAX) : -EINVAL;
			vfs_vnode_put(child);
			if (tl < 0) {
				err = (int)tl;
				break;
			}
			size_t rest = strlen(q);
			if (tl == 0) {
				err = -ENOENT;
				break;
			}
			if ((size_t)tl + rest >= VFS_PATH_MAX) {
				err = -ENAMETOOLONG;
				break;
			}
			/* buf = target + q (q keeps its slashes, so "link/" stays a directory lookup) */
			memmove(buf + tl, q, rest + 1);
			memcpy(buf, link, (size_t)tl);
			p = buf;
			if (buf[0] == '/') {
				vfs_vnode_put(cur);
				cur = vfs_vnode_ref(vfs_root());
			}
			continue;
		}
		if (is_last) {
			if (dot || dotdot) {
				memcpy(nd->last, p, clen);
				nd->last[clen] = 0;
				nd->lastlen = clen;
				nd->vn = child;
			} else {
				nd->parent = cur;
				cur = NULL;
				nd->vn = child;
				memcpy(nd->last, p, clen);
				nd->last[clen] = 0;
				nd->lastlen = clen;
			}
			nd->trailing_slash = trailing;
			break;
		}
		vfs_vnode_put(cur);
		cur = child;
		p = q;
	}
out:
	vfs_vnode_put(cur);
	free(buf);
	free(link);
	if (err)
		vfs_nameidata_put(nd);
	else if (nd->vn && nd->trailing_slash && !VFS_S_ISDIR(nd->vn->type)) {
		vfs_nameidata_put(nd);
		err = -ENOTDIR;
	}
	return err;
}
