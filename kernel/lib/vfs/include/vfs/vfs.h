/*
 * The VFS: one namespace of mounted filesystems, path resolution, and the open-file table.
 * The fd-level API below is what the POSIX syscall layer calls; every function returns a
 * result >= 0 or a negative errno (Linux numbering), never sets errno.
 *
 * Flags, modes, `struct vfs_stat` and `struct vfs_dirent64` use Linux x86_64's values and
 * layouts, so the syscall layer copies them to the app unchanged.
 *
 * What the VFS assumes of its callers (the syscall layer checks app pointers first; the VFS
 * does not, and a bad pointer here faults the guest):
 *  - a path points to readable memory up to its NUL or VFS_PATH_MAX bytes, whichever comes
 *    first; the VFS reads no further (no NUL within VFS_PATH_MAX bytes: -ENAMETOOLONG);
 *  - buf/n of read, write, getdents, readlink, getcwd name writable (or readable) memory of n
 *    bytes; st names a whole struct vfs_stat;
 *  - one CPU, cooperative threads: no VFS call yields except inside a filesystem operation
 *    that blocks (a console read). Open files are reference counted, so a close from another
 *    thread during such a read only takes effect when the read returns.
 * There is one process: one fd table, one cwd, one root; everything runs as root (uid 0), so
 * permission bits are stored and reported but only execute bits are checked (access X_OK).
 */
#ifndef VFS_VFS_H
#define VFS_VFS_H

#include <stddef.h>
#include <stdint.h>

#define VFS_PATH_MAX 4096   /* bytes including the NUL, as Linux PATH_MAX */
#define VFS_NAME_MAX 255    /* bytes of one component */
#define VFS_SYMLOOP_MAX 40  /* symlinks followed in one resolution, as Linux */

/* open flags (Linux x86_64) */
#define VFS_O_ACCMODE 03
#define VFS_O_RDONLY 00
#define VFS_O_WRONLY 01
#define VFS_O_RDWR 02
#define VFS_O_CREAT 0100
#define VFS_O_EXCL 0200
#define VFS_O_NOCTTY 0400
#define VFS_O_TRUNC 01000
#define VFS_O_APPEND 02000
#define VFS_O_NONBLOCK 04000
#define VFS_O_DSYNC 010000
#define VFS_O_DIRECT 040000
#define VFS_O_LARGEFILE 0100000
#define VFS_O_DIRECTORY 0200000
#define VFS_O_NOFOLLOW 0400000
#define VFS_O_NOATIME 01000000
#define VFS_O_CLOEXEC 02000000
#define VFS_O_SYNC 04010000
#define VFS_O_PATH 010000000
#define VFS_O_TMPFILE 020200000

#define VFS_AT_FDCWD (-100)
#define VFS_AT_SYMLINK_NOFOLLOW 0x100
#define VFS_AT_REMOVEDIR 0x200
#define VFS_AT_SYMLINK_FOLLOW 0x400
#define VFS_AT_EMPTY_PATH 0x1000

#define VFS_SEEK_SET 0
#define VFS_SEEK_CUR 1
#define VFS_SEEK_END 2

/* access modes */
#define VFS_F_OK 0
#define VFS_X_OK 1
#define VFS_W_OK 2
#define VFS_R_OK 4

/* fcntl commands and fd flags */
#define VFS_F_DUPFD 0
#define VFS_F_GETFD 1
#define VFS_F_SETFD 2
#define VFS_F_GETFL 3
#define VFS_F_SETFL 4
#define VFS_F_DUPFD_CLOEXEC 1030
#define VFS_FD_CLOEXEC 1

/* poll events (Linux values) */
#define VFS_POLLIN 0x001
#define VFS_POLLPRI 0x002
#define VFS_POLLOUT 0x004
#define VFS_POLLERR 0x008
#define VFS_POLLHUP 0x010

/* file types in st_mode */
#define VFS_S_IFMT 0170000
#define VFS_S_IFSOCK 0140000
#define VFS_S_IFLNK 0120000
#define VFS_S_IFREG 0100000
#define VFS_S_IFBLK 0060000
#define VFS_S_IFDIR 0040000
#define VFS_S_IFCHR 0020000
#define VFS_S_IFIFO 0010000
#define VFS_S_ISDIR(m) (((m) & VFS_S_IFMT) == VFS_S_IFDIR)
#define VFS_S_ISREG(m) (((m) & VFS_S_IFMT) == VFS_S_IFREG)
#define VFS_S_ISLNK(m) (((m) & VFS_S_IFMT) == VFS_S_IFLNK)

/* d_type */
#define VFS_DT_UNKNOWN 0
#define VFS_DT_FIFO 1
#define VFS_DT_CHR 2
#define VFS_DT_DIR 4
#define VFS_DT_BLK 6
#define VFS_DT_REG 8
#define VFS_DT_LNK 10
#define VFS_DT_SOCK 12

struct vfs_timespec {
	int64_t sec;
	int64_t nsec;
};

/* Linux x86_64 `struct stat` (the kernel's, as stat(2) fills it). */
struct vfs_stat {
	uint64_t st_dev;
	uint64_t st_ino;
	uint64_t st_nlink;
	uint32_t st_mode;
	uint32_t st_uid;
	uint32_t st_gid;
	uint32_t pad0;
	uint64_t st_rdev;
	int64_t st_size;
	int64_t st_blksize;
	int64_t st_blocks; /* 512-byte units */
	struct vfs_timespec st_atim;
	struct vfs_timespec st_mtim;
	struct vfs_timespec st_ctim;
	int64_t reserved[3];
};
_Static_assert(sizeof(struct vfs_stat) == 144, "struct vfs_stat must match Linux x86_64 struct stat");

/* Linux `struct linux_dirent64`, as getdents64 writes it (d_reclen a multiple of 8). */
struct vfs_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

/* ---- files by descriptor ---- */
int vfs_openat(int dirfd, const char *path, int flags, uint32_t mode);
int vfs_open(const char *path, int flags, uint32_t mode);
int vfs_close(int fd);
long vfs_read(int fd, void *buf, size_t n);
long vfs_write(int fd, const void *buf, size_t n);
long vfs_pread(int fd, void *buf, size_t n, int64_t off);
long vfs_pwrite(int fd, const void *buf, size_t n, int64_t off);
int64_t vfs_lseek(int fd, int64_t off, int whence);
int vfs_fstat(int fd, struct vfs_stat *st);
int vfs_ftruncate(int fd, int64_t size);
int vfs_fsync(int fd);
/* Fills buf with whole records; 0 at the end of the directory; -EINVAL if the next record
 * does not fit in n. */
long vfs_getdents64(int fd, void *buf, size_t n);
int vfs_dup(int fd);
int vfs_dup2(int oldfd, int newfd);
int vfs_dup3(int oldfd, int newfd, int flags); /* flags: 0 or VFS_O_CLOEXEC */
int vfs_fcntl(int fd, int cmd, long arg);     /* F_DUPFD(_CLOEXEC), F_GETFD/SETFD, F_GETFL/SETFL */
int vfs_fchdir(int fd);
/* Which of `events` (VFS_POLLIN, VFS_POLLOUT ...) fd is ready for now, never blocking (plus
 * VFS_POLLERR/VFS_POLLHUP when they apply); -EBADF. Files and directories are always ready;
 * devices say (the console: input waiting). The syscall layer builds poll/ppoll on this. */
int vfs_poll(int fd, int events);
/* Waiting for readiness: poll, select and epoll_wait call vfs_poll_kick before each check and
 * vfs_poll_idle between checks until their deadline (absolute time_now_ns; UINT64_MAX: none).
 * By default kick does nothing and idle waits 100 us (only the console becomes ready by
 * itself). A library whose files become ready only when something is driven (sockets: the
 * network stack) installs a driver once: kick drives it without waiting, idle waits for at
 * most about a millisecond (returning by the deadline or soon after progress) and lets other
 * threads run. 0, or -EBUSY when another driver is set. */
struct vfs_poll_driver {
	void (*kick)(void);
	void (*idle)(uint64_t deadline_ns);
};
int vfs_set_poll_driver(const struct vfs_poll_driver *d);
void vfs_poll_kick(void);
void vfs_poll_idle(uint64_t deadline_ns);

/* ---- files by name (dirfd is an open directory or VFS_AT_FDCWD) ---- */
int vfs_fstatat(int dirfd, const char *path, struct vfs_stat *st, int flags);
int vfs_stat(const char *path, struct vfs_stat *st);
int vfs_lstat(const char *path, struct vfs_stat *st);
int vfs_faccessat(int dirfd, const char *path, int mode, int flags);
int vfs_mkdirat(int dirfd, const char *path, uint32_t mode);
int vfs_mkdir(const char *path, uint32_t mode);
int vfs_unlinkat(int dirfd, const char *path, int flags); /* flags: 0 or VFS_AT_REMOVEDIR */
int vfs_unlink(const char *path);
int vfs_rmdir(const char *path);
int vfs_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
int vfs_rename(const char *oldpath, const char *newpath);
int vfs_truncate(const char *path, int64_t size);
/* Returns the target's length (not NUL-terminated, cut to n), as readlink(2). */
long vfs_readlinkat(int dirfd, const char *path, char *buf, size_t n);
long vfs_readlink(const char *path, char *buf, size_t n);
int vfs_symlinkat(const char *target, int newdirfd, const char *linkpath);
int vfs_symlink(const char *target, const char *linkpath);
int vfs_chdir(const char *path);
/* Writes the absolute cwd with its NUL; returns that length (as the getcwd syscall), -ERANGE
 * when it does not fit, -ENOENT when the cwd was removed. */
long vfs_getcwd(char *buf, size_t n);

/* ---- mounts ---- */
/* Mounts a new instance of filesystem type `fstype` on the directory `path` ("/" first, when
 * nothing is mounted yet). `data` is passed to the type's mount function. */
int vfs_mount(const char *path, const char *fstype, const void *data);
/* The number of mounts, and mount i's path (for diagnostics). */
int vfs_mount_count(void);
const char *vfs_mount_path(int i);
const char *vfs_mount_fstype(int i);

/* Sets the mask applied to new files' permission bits; returns the previous one (default 022). */
uint32_t vfs_umask(uint32_t mask);

/* Number of open descriptors (tests, leak checks). */
int vfs_open_fd_count(void);

#endif
