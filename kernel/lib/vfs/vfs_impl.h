/* Private to library vfs: the mount table, the resolver and the file table share these. */
#ifndef VFS_IMPL_H
#define VFS_IMPL_H

#include <vfs/vnode.h>

#ifndef CONFIG_VFS_MAX_FDS
#define CONFIG_VFS_MAX_FDS 64
#endif
#ifndef CONFIG_VFS_MAX_MOUNTS
#define CONFIG_VFS_MAX_MOUNTS 16
#endif

struct vfs_mount {
	const struct vfs_fstype *type;
	struct vnode *root;    /* one reference, held while mounted */
	struct vnode *covered; /* the directory it hides (one reference); NULL for "/" */
	char *path;
};

struct vfs_file {
	struct vnode *vn;
	uint64_t off; /* byte offset; for a directory, the filesystem's readdir cookie */
	int flags;    /* open flags (VFS_O_*), without O_CLOEXEC (a descriptor's flag) */
	uint32_t refs;
};

/* The result of resolving a path. */
struct vfs_nameidata {
	struct vnode *parent; /* the directory holding the last component (a reference), or NULL
				 when the path ends in "/", "." or ".." (no name to create or remove) */
	struct vnode *vn;     /* what the path names (a reference), NULL if the last component is missing */
	char last[VFS_NAME_MAX + 1];
	size_t lastlen;
	int trailing_slash; /* the path ends in '/' after its last component */
};

#define VFS_NI_FOLLOW 1 /* follow a symlink in the last component */
#define VFS_NI_EMPTY 2  /* "" names dirfd itself (AT_EMPTY_PATH) */

int vfs_namei(int dirfd, const char *path, int flags, struct vfs_nameidata *nd);
void vfs_nameidata_put(struct vfs_nameidata *nd);

struct vnode *vfs_root(void);
struct vnode *vfs_cwd(void); /* no new reference */
void vfs_set_cwd(struct vnode *vn); /* takes the caller's reference */
/* The vnode an open directory fd (or AT_FDCWD) names, with a new reference. */
int vfs_dirfd_vnode(int dirfd, struct vnode **out);
/* ".." of vn across mount boundaries (new reference). */
int vfs_dotdot(struct vnode *vn, struct vnode **out);
int vfs_mount_index(const struct vfs_mount *m);
int vfs_getattr(struct vnode *vn, struct vfs_stat *st);
uint32_t vfs_umask_get(void);
/* truncate(2) on a vnode: -EINVAL for a negative size or a non-regular file, -EISDIR for a directory. */
int vfs_truncate_vnode(struct vnode *vn, int64_t size);

#endif
