/*
 * The syscall layer: one table from Linux x86_64 syscall numbers to handlers that return a
 * result >= 0 or -errno (Linux numbering). Both ways in land here: the `syscall` instruction
 * (arch's LSTAR stub calls kiln_syscall_dispatch) and the sites the build rewrote into direct
 * calls. Each POSIX library registers the numbers it provides, where it implements them:
 *
 *   static long sys_getpid(long a1, long a2, long a3, long a4, long a5, long a6) { ... }
 *   SYSCALL_REGISTER(39, sys_getpid);
 *
 * The entries live in the linker section `kiln_syscalls` (no central list); two libraries
 * registering one number stop the boot naming both. Every number nobody registers returns
 * -ENOSYS and logs `kiln: syscall <name> (<nr>) is not implemented: -ENOSYS` once.
 *
 * App pointers are never trusted: handlers check them with syscall_user_ok() /
 * syscall_user_strlen() (a walk of the page tables: every page present, and writable for a
 * write) and return -EFAULT instead of faulting the guest.
 */
#ifndef SYSCALL_SYSCALL_H
#define SYSCALL_SYSCALL_H

#include <stddef.h>
#include <stdint.h>

#define SYSCALL_NR_COUNT 451 /* numbers 0..450 (Linux 6.1's asm/unistd_64.h) */

typedef long (*syscall_fn)(long a1, long a2, long a3, long a4, long a5, long a6);

struct syscall_entry {
	long nr;
	syscall_fn fn;
	const char *fn_name;
};

#define KILN__SYSCALL_CAT2(a, b) a##b
#define KILN__SYSCALL_CAT(a, b) KILN__SYSCALL_CAT2(a, b)
/* One handler may serve several numbers (one registration per line). */
#define SYSCALL_REGISTER(nr_, fn_)                                                                 \
	static const struct syscall_entry KILN__SYSCALL_CAT(kiln__syscall_, __LINE__)              \
		__attribute__((used, aligned(8), section("kiln_syscalls"))) = {(nr_), (fn_), #fn_}

/* errno values used across the POSIX libraries (Linux x86_64). */
#define SYS_EPERM 1
#define SYS_ENOENT 2
#define SYS_ESRCH 3
#define SYS_EINTR 4
#define SYS_EBADF 9
#define SYS_EAGAIN 11
#define SYS_ENOMEM 12
#define SYS_EFAULT 14
#define SYS_EEXIST 17
#define SYS_ENOTDIR 20
#define SYS_EINVAL 22
#define SYS_ENOTTY 25
#define SYS_ESPIPE 29
#define SYS_ERANGE 34
#define SYS_ENAMETOOLONG 36
#define SYS_ENOSYS 38

/* "read", "openat", ...; NULL for a number Linux does not define. */
extern const char *const syscall_names[SYSCALL_NR_COUNT];
const char *syscall_name(long nr);

/* The dispatcher both ways in call (arch's weak one is overridden by this library). */
long kiln_syscall_dispatch(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
/* Nonzero when a library registered nr. */
int syscall_implemented(long nr);
/* How many times nr was called since boot (0 for numbers out of range). */
uint64_t syscall_count(long nr);

/* Nonzero when [p, p+n) is mapped (and writable when `write`); n == 0 is always fine. */
int syscall_user_ok(const void *p, size_t n, int write);
/* The length of the NUL-terminated string at p, reading at most max bytes (all checked
 * mapped): -EFAULT for an unmapped byte first, -ENAMETOOLONG when no NUL within max. */
long syscall_user_strlen(const char *p, size_t max);
/* Checked copies: 0, or -EFAULT (nothing copied). */
int syscall_copy_in(void *dst, const void *user_src, size_t n);
int syscall_copy_out(void *user_dst, const void *src, size_t n);

/* struct iovec as an app passes it (readv, writev, sendmsg, recvmsg), and Linux's IOV_MAX. */
struct syscall_iovec {
	void *base;
	size_t len;
};
#define SYSCALL_IOV_MAX 1024

/* A handler's parameter list, and the statement that marks the ones it does not use:
 *   static long sys_close(SYSCALL_ARGS) { SYSCALL_UNUSED_ARGS; return vfs_close((int)a1); } */
#define SYSCALL_ARGS long a1, long a2, long a3, long a4, long a5, long a6
#define SYSCALL_UNUSED_ARGS (void)a1, (void)a2, (void)a3, (void)a4, (void)a5, (void)a6
/* Returns -EFAULT from the handler unless [p, p+n) is the app's (writable when w). */
#define SYSCALL_USER_OR_FAULT(p, n, w)                                                             \
	do {                                                                                       \
		if (!syscall_user_ok((const void *)(p), (size_t)(n), (w)))                         \
			return -SYS_EFAULT;                                                        \
	} while (0)

#endif
