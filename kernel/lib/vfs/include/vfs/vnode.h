/*
 * The filesystem side of the VFS: vnodes, their operations, filesystem types.
 *
 * A filesystem embeds a `struct vnode` in each of its nodes and fills `ops`, `type`
 * (VFS_S_IFDIR, ...) and `ino` when it hands the node out (vfs_vnode_init). Reference
 * counting: every vnode a filesystem returns (lookup, create, mount's root) carries one new
 * reference for the caller (vfs_vnode_ref on a node it keeps); the VFS drops references with
 * vfs_vnode_put, which calls ops->inactive once the count is 0, where the filesystem frees a
 * node that is no longer linked anywhere.
 *
 * Names passed to operations are (name, len) pairs, not NUL-terminated, 1..VFS_NAME_MAX bytes,
 * never "." or ".." except in lookup. The VFS has already checked the node types an operation
 * needs (dir is a directory; unlink is not given a directory, rmdir only directories; rename's
 * types agree, and the target is neither the source's ancestor nor a mountpoint).
 * Operations return 0 (or a count) or a negative errno. Unneeded operations may be NULL:
 * the VFS answers -EPERM (namespace changes), -EINVAL (read/write/truncate/readlink) for them.
 */
#ifndef VFS_VNODE_H
#define VFS_VNODE_H

#include <stddef.h>
#include <stdint.h>
#include <vfs/vfs.h>

struct vnode;
struct vfs_mount;

/* Called by readdir for each entry; returns nonzero to stop (the caller's buffer is full),
 * in which case readdir returns without advancing *pos past this entry. */
typedef int (*vfs_filldir_fn)(void *ctx, const char *name, size_t len, uint64_t ino,
			      unsigned dtype, uint64_t next_pos);

struct vnode_ops {
	/* dir: find `name` (including "." and ".."; ".." of a filesystem's root is the root). */
	int (*lookup)(struct vnode *dir, const char *name, size_t len, struct vnode **out);
	/* dir: make a regular file (mode: permission bits); the name does not exist yet. */
	int (*create)(struct vnode *dir, const char *name, size_t len, uint32_t mode, struct vnode **out);
	int (*mkdir)(struct vnode *dir, const char *name, size_t len, uint32_t mode);
	int (*symlink)(struct vnode *dir, const char *name, size_t len, const char *target, size_t tlen);
	int (*unlink)(struct vnode *dir, const char *name, size_t len);
	/* -ENOTEMPTY unless the directory holds nothing but . and .. */
	int (*rmdir)(struct vnode *dir, const char *name, size_t len);
	/* Both directories are on this filesystem; replaces an existing target of a compatible
	 * type (an empty directory for a directory: else -ENOTEMPTY). */
	int (*rename)(struct vnode *odir, const char *oname, size_t olen, struct vnode *ndir,
		      const char *nname, size_t nlen);
	/* Entries from cookie *pos (0 = the start), advancing *pos; 0 or -errno. */
	int (*readdir)(struct vnode *dir, uint64_t *pos, vfs_filldir_fn fill, void *ctx);

	/* Optional: called on every open of the node (devices may refuse: -ENXIO ...). */
	int (*open)(struct vnode *vn, int flags);
	/* flags: the open file's flags (VFS_O_NONBLOCK ...). Short counts are allowed. */
	long (*read)(struct vnode *vn, void *buf, size_t n, uint64_t off, int flags);
	long (*write)(struct vnode *vn, const void *buf, size_t n, uint64_t off, int flags);
	int (*truncate)(struct vnode *vn, uint64_t size);
	int (*getattr)(struct vnode *vn, struct vfs_stat *st);
	/* Copies at most n bytes of the target, returns its full length. */
	long (*readlink)(struct vnode *vn, char *buf, size_t n);
	int (*fsync)(struct vnode *vn);
	/* Optional, never blocks: which of events are ready (NULL: always ready to read and write). */
	int (*poll)(struct vnode *vn, int events);
	/* The last reference went away. */
	void (*inactive)(struct vnode *vn);
};

/* Vnode flags (set by the filesystem). */
#define VFS_VN_NOSEEK 1u /* a stream (console, pipe): lseek/pread/pwrite give -ESPIPE */

struct vnode {
	const struct vnode_ops *ops;
	uint32_t type;   /* VFS_S_IFDIR, VFS_S_IFREG, VFS_S_IFLNK, VFS_S_IFCHR ... */
	uint32_t flags;  /* VFS_VN_* */
	uint64_t ino;
	uint32_t refs;
	struct vfs_mount *mount;   /* the mount it belongs to (set by the VFS) */
	struct vfs_mount *covered; /* the mount whose root hides this directory, or NULL */
	void *priv;                /* the filesystem's */
	/* Bumped each time a read (eagain_in) or a write (eagain_out) of the node answered
	 * -EAGAIN (the VFS does it; a library with calls of its own, sockets' accept/recvmsg, does
	 * too): an edge-triggered epoll item re-arms that direction when it changes, as Linux's
	 * does for an app that reads or writes until EAGAIN. */
	uint32_t eagain_in, eagain_out;
};

struct vfs_fstype {
	const char *name;
	/* A new instance; *root: its root directory with one reference (kept by the mount). */
	int (*mount)(const struct vfs_fstype *type, const void *data, struct vnode **root);
	struct vfs_fstype *next; /* registry link, owned by the VFS */
};

/* Registers a filesystem type (its struct must stay valid forever). -EEXIST for a taken name. */
int vfs_register_fs(struct vfs_fstype *type);

static inline void vfs_vnode_init(struct vnode *vn, const struct vnode_ops *ops, uint32_t type, uint64_t ino)
{
	vn->ops = ops;
	vn->type = type;
	vn->flags = 0;
	vn->ino = ino;
	vn->refs = 0;
	vn->mount = 0;
	vn->covered = 0;
	vn->priv = 0;
	vn->eagain_in = vn->eagain_out = 0;
}

static inline struct vnode *vfs_vnode_ref(struct vnode *vn)
{
	vn->refs++;
	return vn;
}
void vfs_vnode_put(struct vnode *vn);

/* Timestamps: a cheap stamp when something changes (guest: the TSC), turned into time only
 * when someone asks (stat), so keeping them costs no clock calibration at boot. Guest time is
 * nanoseconds since boot: there is no wall clock. */
uint64_t vfs_stamp(void);
void vfs_stamp_time(uint64_t stamp, struct vfs_timespec *ts);

/* An open file: what a descriptor refers to. Other libraries (pipes, sockets) make files of
 * their own vnodes with vfs_file_open_vnode and install them with vfs_fd_install. */
struct vfs_file;
/* Opens vn (takes a new reference on it) with open flags; 0 or -errno. */
int vfs_file_open_vnode(struct vnode *vn, int flags, struct vfs_file **out);
/* Puts f in the lowest free descriptor (consuming the caller's reference); fd or -EMFILE. */
int vfs_fd_install(struct vfs_file *f, int cloexec);
void vfs_file_put(struct vfs_file *f);
/* The vnode an open descriptor refers to, with a new reference (vfs_vnode_put it). */
int vfs_fd_vnode(int fd, struct vnode **out);
/* The same for a library's own kind of node: 0 and the node (referenced) when fd's vnode has
 * these ops, 1 (nothing referenced) when it is another kind, -EBADF. fd is the app's long. */
int vfs_fd_vnode_of(long fd, const struct vnode_ops *ops, struct vnode **out);

#endif
