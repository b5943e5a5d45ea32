/* File descriptors and paths: the Linux syscalls over the VFS's fd-level API. Every app
 * pointer is checked here (the VFS trusts its callers, see <vfs/vfs.h>). */
#include <syscall/syscall.h>
#include <vfs/vfs.h>
#include <pipe/pipe.h>
#include <time/time.h>
#include <sched/sched.h>


/* A path argument: readable up to its NUL within VFS_PATH_MAX, else -EFAULT/-ENAMETOOLONG. */
static long check_path(long p)
{
	long n = syscall_user_strlen((const char *)p, VFS_PATH_MAX);
	return n < 0 ? n : 0;
}
#define PATH_OR_RETURN(p)                                                                          \
	do {                                                                                       \
		long r_ = check_path(p);                                                           \
		if (r_)                                                                            \
			return r_;                                                                 \
	} while (0)
static long sys_read(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	SYSCALL_USER_OR_FAULT(a2, a3, 1);
	return vfs_read((int)a1, (void *)a2, (size_t)a3);
}
SYSCALL_REGISTER(0, sys_read);

/* A write into a pipe without readers also raises SIGPIPE (Linux's), through the signal
 * library's tkill when the image has one, so this library does not depend on it. */
#define SYS_EPIPE_K 32
#define SIGPIPE_K 13
static long epipe_signals(long r)
{
	if (r == -SYS_EPIPE_K && syscall_implemented(200))
		kiln_syscall_dispatch(200, 1, SIGPIPE_K, 0, 0, 0, 0);
	return r;
}

static long sys_write(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	SYSCALL_USER_OR_FAULT(a2, a3, 0);
	return epipe_signals(vfs_write((int)a1, (const void *)a2, (size_t)a3));
}
SYSCALL_REGISTER(1, sys_write);

static long sys_open(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a1);
	return vfs_open((const char *)a1, (int)a2, (uint32_t)a3);
}
SYSCALL_REGISTER(2, sys_open);

static long sys_close(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return vfs_close((int)a1);
}
SYSCALL_REGISTER(3, sys_close);

static long sys_stat(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a1);
	SYSCALL_USER_OR_FAULT(a2, sizeof(struct vfs_stat), 1);
	return vfs_stat((const char *)a1, (struct vfs_stat *)a2);
}
SYSCALL_REGISTER(4, sys_stat);

static long sys_fstat(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	SYSCALL_USER_OR_FAULT(a2, sizeof(struct vfs_stat), 1);
	return vfs_fstat((int)a1, (struct vfs_stat *)a2);
}
SYSCALL_REGISTER(5, sys_fstat);

static long sys_lstat(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a1);
	SYSCALL_USER_OR_FAULT(a2, sizeof(struct vfs_stat), 1);
	return vfs_lstat((const char *)a1, (struct vfs_stat *)a2);
}
SYSCALL_REGISTER(6, sys_lstat);

static long sys_lseek(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return vfs_lseek((int)a1, a2, (int)a3);
}
SYSCALL_REGISTER(8, sys_lseek);

static long sys_pread64(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	SYSCALL_USER_OR_FAULT(a2, a3, 1);
	return vfs_pread((int)a1, (void *)a2, (size_t)a3, a4);
}
SYSCALL_REGISTER(17, sys_pread64);

static long sys_pwrite64(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	SYSCALL_USER_OR_FAULT(a2, a3, 0);
	return vfs_pwrite((int)a1, (const void *)a2, (size_t)a3, a4);
}
SYSCALL_REGISTER(18, sys_pwrite64);

/* readv/writev: the vector and each buffer checked first, then one call per element; a
 * short transfer ends it (as a regular file's readv on Linux), and so does a stream (pipe,
 * console) with nothing more to read once something was read: readv returns then, it does
 * not block for the next element (musl's stdio reads with two elements). */
static long iov_rw(long fd, long iov, long cnt, int write)
{
	if (cnt < 0 || cnt > SYSCALL_IOV_MAX)
		return -SYS_EINVAL;
	SYSCALL_USER_OR_FAULT(iov, (size_t)cnt * sizeof(struct syscall_iovec), 0);
	const struct syscall_iovec *v = (const struct syscall_iovec *)iov;
	for (long i = 0; i < cnt; i++)
		SYSCALL_USER_OR_FAULT(v[i].base, v[i].len, !write);
	long total = 0;
	for (long i = 0; i < cnt; i++) {
		if (v[i].len == 0)
			continue;
		if (!write && total && !(vfs_poll((int)fd, VFS_POLLIN) & VFS_POLLIN))
			break;
		long r = write ? vfs_write((int)fd, v[i].base, v[i].len) : vfs_read((int)fd, v[i].base, v[i].len);
		if (r < 0)
			return total ? total : r;
		total += r;
		if ((size_t)r < v[i].len)
			break;
	}
	return total;
}

static long sys_readv(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return iov_rw(a1, a2, a3, 0);
}
SYSCALL_REGISTER(19, sys_readv);

static long sys_writev(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return epipe_signals(iov_rw(a1, a2, a3, 1));
}
SYSCALL_REGISTER(20, sys_writev);

static long sys_access(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a1);
	return vfs_faccessat(VFS_AT_FDCWD, (const char *)a1, (int)a2, 0);
}
SYSCALL_REGISTER(21, sys_access);

/* pipe/pipe2 over the pipe library: fds[0] reads, fds[1] writes. */
static long sys_pipe2(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	SYSCALL_USER_OR_FAULT(a1, 2 * sizeof(int), 1);
	if (a2 & ~(long)(VFS_O_NONBLOCK | VFS_O_CLOEXEC))
		return -SYS_EINVAL; /* O_DIRECT (packet mode), O_NOTIFICATION_PIPE: not supported */
	int fds[2];
	long r = pipe_create(fds, (int)a2);
	if (r)
		return r;
	syscall_copy_out((void *)a1, fds, sizeof fds);
	return 0;
}
SYSCALL_REGISTER(293, sys_pipe2);

static long sys_pipe(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return sys_pipe2(a1, 0, 0, 0, 0, 0);
}
SYSCALL_REGISTER(22, sys_pipe);

static long sys_dup(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return vfs_dup((int)a1);
}
SYSCALL_REGISTER(32, sys_dup);

static long sys_dup2(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return vfs_dup2((int)a1, (int)a2);
}
SYSCALL_REGISTER(33, sys_dup2);

/* Record locks: one process, so a lock never conflicts with another; F_GETLK says unlocked. */
#define F_GETLK_K 5
#define F_SETLK_K 6
#define F_SETLKW_K 7
#define F_OFD_GETLK_K 36
#define F_OFD_SETLK_K 37
#define F_OFD_SETLKW_K 38
#define F_UNLCK_K 2
struct flock_k {
	short l_type;
	short l_whence;
	int64_t l_start;
	int64_t l_len;
	int l_pid;
};

static long sys_fcntl(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	switch (a2) {
	case F_GETLK_K:
	case F_OFD_GETLK_K:
	case F_SETLK_K:
	case F_SETLKW_K:
	case F_OFD_SETLK_K:
	case F_OFD_SETLKW_K: {
		struct vfs_stat st;
		int r = vfs_fstat((int)a1, &st);
		if (r < 0)
			return r;
		int get = a2 == F_GETLK_K || a2 == F_OFD_GETLK_K;
		SYSCALL_USER_OR_FAULT(a3, sizeof(struct flock_k), get);
		struct flock_k *fl = (struct flock_k *)a3;
		if (fl->l_type < 0 || fl->l_type > F_UNLCK_K)
			return -SYS_EINVAL;
		if (get)
			fl->l_type = F_UNLCK_K;
		return 0;
	}
	default:
		return vfs_fcntl((int)a1, (int)a2, a3);
	}
}
SYSCALL_REGISTER(72, sys_fcntl);

static long sys_flock(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	struct vfs_stat st;
	int r = vfs_fstat((int)a1, &st);
	return r < 0 ? r : 0;
}
SYSCALL_REGISTER(73, sys_flock);

static long sys_fsync(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return vfs_fsync((int)a1);
}
SYSCALL_REGISTER(74, sys_fsync);
SYSCALL_REGISTER(75, sys_fsync); /* fdatasync: ramfs has no metadata to skip */

static long sys_truncate(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a1);
	return vfs_truncate((const char *)a1, a2);
}
SYSCALL_REGISTER(76, sys_truncate);

static long sys_ftruncate(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return vfs_ftruncate((int)a1, a2);
}
SYSCALL_REGISTER(77, sys_ftruncate);

static long sys_getcwd(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	SYSCALL_USER_OR_FAULT(a1, a2, 1);
	return vfs_getcwd((char *)a1, (size_t)a2);
}
SYSCALL_REGISTER(79, sys_getcwd);

static long sys_chdir(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a1);
	return vfs_chdir((const char *)a1);
}
SYSCALL_REGISTER(80, sys_chdir);

static long sys_fchdir(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return vfs_fchdir((int)a1);
}
SYSCALL_REGISTER(81, sys_fchdir);

static long sys_rename(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a1);
	PATH_OR_RETURN(a2);
	return vfs_rename((const char *)a1, (const char *)a2);
}
SYSCALL_REGISTER(82, sys_rename);

static long sys_mkdir(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a1);
	return vfs_mkdir((const char *)a1, (uint32_t)a2);
}
SYSCALL_REGISTER(83, sys_mkdir);

static long sys_rmdir(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a1);
	return vfs_rmdir((const char *)a1);
}
SYSCALL_REGISTER(84, sys_rmdir);

static long sys_unlink(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a1);
	return vfs_unlink((const char *)a1);
}
SYSCALL_REGISTER(87, sys_unlink);

static long sys_symlink(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a1);
	PATH_OR_RETURN(a2);
	return vfs_symlink((const char *)a1, (const char *)a2);
}
SYSCALL_REGISTER(88, sys_symlink);

static long sys_readlink(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a1);
	SYSCALL_USER_OR_FAULT(a2, a3, 1);
	return vfs_readlink((const char *)a1, (char *)a2, (size_t)a3);
}
SYSCALL_REGISTER(89, sys_readlink);

/* Everything runs as root and ramfs keeps the bits it was created with: ownership and mode
 * changes succeed on an existing file without changing what stat reports. */
static long sys_fchmod(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	struct vfs_stat st;
	int r = vfs_fstat((int)a1, &st);
	return r < 0 ? r : 0;
}
SYSCALL_REGISTER(91, sys_fchmod); /* fchmod */
SYSCALL_REGISTER(93, sys_fchmod); /* fchown */

static long sys_chmod(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a1);
	struct vfs_stat st;
	int r = vfs_stat((const char *)a1, &st);
	return r < 0 ? r : 0;
}
SYSCALL_REGISTER(90, sys_chmod); /* chmod */
SYSCALL_REGISTER(92, sys_chmod); /* chown */
SYSCALL_REGISTER(94, sys_chmod); /* lchown */

static long sys_umask(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return (long)vfs_umask((uint32_t)a1 & 0777);
}
SYSCALL_REGISTER(95, sys_umask);

static long sys_getdents64(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	SYSCALL_USER_OR_FAULT(a2, a3, 1);
	return vfs_getdents64((int)a1, (void *)a2, (size_t)a3);
}
SYSCALL_REGISTER(217, sys_getdents64);

static long sys_openat(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a2);
	return vfs_openat((int)a1, (const char *)a2, (int)a3, (uint32_t)a4);
}
SYSCALL_REGISTER(257, sys_openat);

static long sys_mkdirat(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a2);
	return vfs_mkdirat((int)a1, (const char *)a2, (uint32_t)a3);
}
SYSCALL_REGISTER(258, sys_mkdirat);

static long sys_newfstatat(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a2);
	SYSCALL_USER_OR_FAULT(a3, sizeof(struct vfs_stat), 1);
	return vfs_fstatat((int)a1, (const char *)a2, (struct vfs_stat *)a3, (int)a4);
}
SYSCALL_REGISTER(262, sys_newfstatat);

static long sys_unlinkat(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a2);
	return vfs_unlinkat((int)a1, (const char *)a2, (int)a3);
}
SYSCALL_REGISTER(263, sys_unlinkat);

static long sys_renameat(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a2);
	PATH_OR_RETURN(a4);
	return vfs_renameat((int)a1, (const char *)a2, (int)a3, (const char *)a4);
}
SYSCALL_REGISTER(264, sys_renameat);

static long sys_renameat2(SYSCALL_ARGS)
{
	if (a5 != 0)
		return -SYS_EINVAL; /* RENAME_NOREPLACE/EXCHANGE/WHITEOUT: not supported */
	return sys_renameat(a1, a2, a3, a4, 0, a6);
}
SYSCALL_REGISTER(316, sys_renameat2);

static long sys_symlinkat(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a1);
	PATH_OR_RETURN(a3);
	return vfs_symlinkat((const char *)a1, (int)a2, (const char *)a3);
}
SYSCALL_REGISTER(266, sys_symlinkat);

static long sys_readlinkat(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a2);
	SYSCALL_USER_OR_FAULT(a3, a4, 1);
	return vfs_readlinkat((int)a1, (const char *)a2, (char *)a3, (size_t)a4);
}
SYSCALL_REGISTER(267, sys_readlinkat);

static long sys_faccessat(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a2);
	return vfs_faccessat((int)a1, (const char *)a2, (int)a3, 0);
}
SYSCALL_REGISTER(269, sys_faccessat);

static long sys_faccessat2(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a2);
	return vfs_faccessat((int)a1, (const char *)a2, (int)a3, (int)a4);
}
SYSCALL_REGISTER(439, sys_faccessat2);

static long sys_dup3(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return vfs_dup3((int)a1, (int)a2, (int)a3);
}
SYSCALL_REGISTER(292, sys_dup3);

/* utimensat/futimesat: ramfs times are not settable; succeed on an existing file. */
static long sys_utimensat(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	struct vfs_stat st;
	if (a2 == 0)
		return vfs_fstat((int)a1, &st) < 0 ? -SYS_EBADF : 0;
	PATH_OR_RETURN(a2);
	int r = vfs_fstatat((int)a1, (const char *)a2, &st, (int)a4 & VFS_AT_SYMLINK_NOFOLLOW);
	return r < 0 ? r : 0;
}
SYSCALL_REGISTER(280, sys_utimensat);

static long sys_utimes(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return sys_utimensat(VFS_AT_FDCWD, a1, 0, 0, 0, 0);
}
SYSCALL_REGISTER(235, sys_utimes); /* utimes */
SYSCALL_REGISTER(132, sys_utimes); /* utime */

static long sys_futimesat(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return sys_utimensat(a1, a2, 0, 0, 0, 0);
}
SYSCALL_REGISTER(261, sys_futimesat);

struct statx_timestamp_k {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};
struct statx_k {
	uint32_t stx_mask, stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink, stx_uid, stx_gid;
	uint16_t stx_mode, pad1;
	uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
	struct statx_timestamp_k stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
	uint64_t spare[14];
};
_Static_assert(sizeof(struct statx_k) == 256, "struct statx is 256 bytes on Linux");
#define STATX_BASIC_STATS_K 0x7ffu

static struct statx_timestamp_k ts_of(struct vfs_timespec t)
{
	struct statx_timestamp_k r = {t.sec, (uint32_t)t.nsec, 0};
	return r;
}

static long sys_statx(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	PATH_OR_RETURN(a2);
	SYSCALL_USER_OR_FAULT(a5, sizeof(struct statx_k), 1);
	struct vfs_stat st;
	int flags = (int)a3 & (VFS_AT_SYMLINK_NOFOLLOW | VFS_AT_EMPTY_PATH);
	int r = vfs_fstatat((int)a1, (const char *)a2, &st, flags);
	if (r < 0)
		return r;
	struct statx_k *x = (struct statx_k *)a5;
	__builtin_memset(x, 0, sizeof *x);
	x->stx_mask = STATX_BASIC_STATS_K;
	x->stx_blksize = (uint32_t)st.st_blksize;
	x->stx_nlink = (uint32_t)st.st_nlink;
	x->stx_uid = st.st_uid;
	x->stx_gid = st.st_gid;
	x->stx_mode = (uint16_t)st.st_mode;
	x->stx_ino = st.st_ino;
	x->stx_size = (uint64_t)st.st_size;
	x->stx_blocks = (uint64_t)st.st_blocks;
	x->stx_atime = ts_of(st.st_atim);
	x->stx_ctime = ts_of(st.st_ctim);
	x->stx_mtime = ts_of(st.st_mtim);
	x->stx_rdev_major = (uint32_t)(st.st_rdev >> 8) & 0xfff;
	x->stx_rdev_minor = (uint32_t)(st.st_rdev & 0xff);
	x->stx_dev_major = (uint32_t)(st.st_dev >> 8) & 0xfff;
	x->stx_dev_minor = (uint32_t)(st.st_dev & 0xff);
	return 0;
}
SYSCALL_REGISTER(332, sys_statx);

/* The console is /dev/console, character device 5:1 (devfs): the only terminal. */
static int is_tty(int fd, int *err)
{
	struct vfs_stat st;
	*err = vfs_fstat(fd, &st);
	if (*err < 0)
		return 0;
	return (st.st_mode & VFS_S_IFMT) == VFS_S_IFCHR && st.st_rdev == ((5u << 8) | 1u);
}

#define TCGETS_K 0x5401
#define TIOCGWINSZ_K 0x5413
#define FIONBIO_K 0x5421
#define FIONREAD_K 0x541b

static long sys_ioctl(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	int err;
	int tty = is_tty((int)a1, &err);
	if (err < 0)
		return err;
	switch ((unsigned long)a2) {
	case TIOCGWINSZ_K: {
		if (!tty)
			return -SYS_ENOTTY;
		SYSCALL_USER_OR_FAULT(a3, 8, 1);
		uint16_t *ws = (uint16_t *)a3; /* rows, cols, xpixel, ypixel */
		ws[0] = 24, ws[1] = 80, ws[2] = 0, ws[3] = 0;
		return 0;
	}
	case FIONBIO_K: {
		SYSCALL_USER_OR_FAULT(a3, sizeof(int), 0);
		int fl = vfs_fcntl((int)a1, VFS_F_GETFL, 0);
		if (fl < 0)
			return fl;
		fl = *(const int *)a3 ? (fl | VFS_O_NONBLOCK) : (fl & ~VFS_O_NONBLOCK);
		return vfs_fcntl((int)a1, VFS_F_SETFL, fl);
	}
	default:
		/* termios (TCGETS ...) and the rest: not a terminal Kiln can configure. */
		return -SYS_ENOTTY;
	}
}
SYSCALL_REGISTER(16, sys_ioctl);

/* poll/ppoll/select/pselect6 over vfs_poll (files are always ready, the console when input
 * waits, sockets when the stack says). Each check starts with vfs_poll_kick, and between checks
 * until the deadline (-1: none) the wait idles in vfs_poll_idle: 100 us, or what a library
 * installed (sockets drive the network stack there and let other threads run). */
struct pollfd_k {
	int fd;
	short events, revents;
};
#define POLLNVAL_K 0x20
#define NO_DEADLINE UINT64_MAX

static uint64_t deadline_ms(long ms)
{
	return ms < 0 ? NO_DEADLINE : time_now_ns() + (uint64_t)ms * 1000000u;
}

/* From a struct timespec pointer (NULL: none); 0 or -EFAULT/-EINVAL. */
static long deadline_ts(long ts, uint64_t *out)
{
	if (!ts) {
		*out = NO_DEADLINE;
		return 0;
	}
	int64_t t[2];
	if (syscall_copy_in(t, (const void *)ts, sizeof t))
		return -SYS_EFAULT;
	if (t[0] < 0 || t[1] < 0 || t[1] >= 1000000000)
		return -SYS_EINVAL;
	*out = time_now_ns() + (uint64_t)t[0] * 1000000000u + (uint64_t)t[1];
	return 0;
}

static int expired(uint64_t deadline)
{
	if (deadline != NO_DEADLINE && time_now_ns() >= deadline)
		return 1;
	sched_yield(); /* another thread may be what makes a descriptor ready (a pipe's writer) */
	vfs_poll_idle(deadline);
	return 0;
}

static long do_poll(long fds, long n, uint64_t deadline)
{
	if (n < 0 || n > 65536)
		return -SYS_EINVAL;
	SYSCALL_USER_OR_FAULT(fds, (size_t)n * sizeof(struct pollfd_k), 1);
	struct pollfd_k *p = (struct pollfd_k *)fds;
	for (;;) {
		long ready = 0;
		vfs_poll_kick();
		for (long i = 0; i < n; i++) {
			p[i].revents = 0;
			if (p[i].fd < 0)
				continue;
			int r = vfs_poll(p[i].fd, p[i].events);
			p[i].revents = (short)(r < 0 ? POLLNVAL_K : r);
			if (p[i].revents)
				ready++;
		}
		if (ready || deadline == 0 || expired(deadline))
			return ready;
	}
}

static long sys_poll(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return do_poll(a1, a2, a3 == 0 ? 0 : deadline_ms((int)a3));
}
SYSCALL_REGISTER(7, sys_poll);

static long sys_ppoll(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	uint64_t deadline;
	long r = deadline_ts(a3, &deadline);
	if (r)
		return r;
	/* The signal mask (a4) does not matter: no signal arrives while the app waits. */
	return do_poll(a1, a2, a3 && deadline <= time_now_ns() ? 0 : deadline);
}
SYSCALL_REGISTER(271, sys_ppoll);

/* select/pselect6: the same readiness as poll; a closed descriptor in any set is EBADF. */
static long do_select(long n, long rfds, long wfds, long efds, uint64_t deadline)
{
	if (n < 0 || n > 65536)
		return -SYS_EINVAL;
	size_t bytes = (((size_t)n + 63) / 64) * 8;
	long sets[3] = {rfds, wfds, efds};
	for (int s = 0; s < 3; s++)
		if (sets[s])
			SYSCALL_USER_OR_FAULT(sets[s], bytes, 1);
	uint64_t in[3][1024 / 64 + 1];
	size_t words = bytes / 8 > sizeof in[0] / 8 ? sizeof in[0] / 8 : bytes / 8;
	if ((size_t)n > words * 64)
		return -SYS_EINVAL; /* more than FD_SETSIZE (1024) */
	for (int s = 0; s < 3; s++)
		for (size_t w = 0; w < words; w++)
			in[s][w] = sets[s] ? ((uint64_t *)sets[s])[w] : 0;
	static const int want[3] = {VFS_POLLIN, VFS_POLLOUT, VFS_POLLPRI};
	for (;;) {
		long ready = 0;
		vfs_poll_kick();
		for (long fd = 0; fd < n; fd++) {
			uint64_t bit = 1ull << (fd % 64);
			int events = 0;
			for (int s = 0; s < 3; s++)
				if (in[s][fd / 64] & bit)
					events |= want[s];
			if (!events)
				continue;
			int r = vfs_poll((int)fd, events);
			if (r < 0)
				return -SYS_EBADF;
			for (int s = 0; s < 3; s++) {
				if (!sets[s])
					continue;
				uint64_t *out = (uint64_t *)sets[s];
				if ((in[s][fd / 64] & bit) && (r & want[s])) {
					out[fd / 64] |= bit;
					ready++;
				} else {
					out[fd / 64] &= ~bit;
				}
			}
		}
		if (ready || deadline == 0 || expired(deadline))
			return ready;
	}
}

/* struct timeval (select) as a deadline; 0 when it is zero (just check). */
static long deadline_tv(long tv, uint64_t *out)
{
	if (!tv) {
		*out = NO_DEADLINE;
		return 0;
	}
	int64_t t[2];
	if (syscall_copy_in(t, (const void *)tv, sizeof t))
		return -SYS_EFAULT;
	if (t[0] < 0 || t[1] < 0 || t[1] >= 1000000)
		return -SYS_EINVAL;
	*out = (t[0] == 0 && t[1] == 0) ? 0 : time_now_ns() + (uint64_t)t[0] * 1000000000u + (uint64_t)t[1] * 1000u;
	return 0;
}

static long sys_select(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	uint64_t deadline;
	long r = deadline_tv(a5, &deadline);
	return r ? r : do_select(a1, a2, a3, a4, deadline);
}
SYSCALL_REGISTER(23, sys_select);

static long sys_pselect6(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	uint64_t deadline;
	long r = deadline_ts(a5, &deadline);
	if (r)
		return r;
	return do_select(a1, a2, a3, a4, a5 && deadline <= time_now_ns() ? 0 : deadline);
}
SYSCALL_REGISTER(270, sys_pselect6);
