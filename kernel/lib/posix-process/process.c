/* The process: one, pid 1, running as root. Identity, exit_group, uname, limits, getrandom.
 * Its threads (clone, exit, gettid, the FS base, futex, sched_yield ...) are posix-thread's. */
#include <syscall/syscall.h>
#include <arch/cpu.h>
#include <alloc/alloc.h>
#include <boot/boot.h>
#include <console/console.h>
#include <random/random.h>
#include <time/time.h>

#define PID 1

static long sys_getpid(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return PID;
}
SYSCALL_REGISTER(39, sys_getpid);  /* getpid */
SYSCALL_REGISTER(109, sys_getpid); /* setpgid(0, 0) of the only process: itself */

static long sys_zero(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return 0;
}
SYSCALL_REGISTER(110, sys_zero); /* getppid: no parent */
SYSCALL_REGISTER(102, sys_zero); /* getuid: root */
SYSCALL_REGISTER(104, sys_zero); /* getgid */
SYSCALL_REGISTER(107, sys_zero); /* geteuid */
SYSCALL_REGISTER(108, sys_zero); /* getegid */

static long sys_getpgid(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return (a1 == 0 || a1 == PID) ? PID : -SYS_ESRCH;
}
SYSCALL_REGISTER(121, sys_getpgid); /* getpgid */
SYSCALL_REGISTER(124, sys_getpgid); /* getsid */
SYSCALL_REGISTER(111, sys_getpid);  /* getpgrp */

static long sys_setid(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return a1 == 0 ? 0 : -SYS_EPERM; /* already root; nothing else exists */
}
SYSCALL_REGISTER(105, sys_setid); /* setuid */
SYSCALL_REGISTER(106, sys_setid); /* setgid */

static long sys_exit_group(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	kiln_exit((int)(a1 & 0xff));
}
SYSCALL_REGISTER(231, sys_exit_group);

struct utsname_k {
	char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};

static void put(char *dst, const char *s)
{
	size_t i = 0;
	for (; s[i] && i < 64; i++)
		dst[i] = s[i];
	dst[i] = '\0';
}

static long sys_uname(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (!syscall_user_ok((void *)a1, sizeof(struct utsname_k), 1))
		return -SYS_EFAULT;
	struct utsname_k *u = (struct utsname_k *)a1;
	__builtin_memset(u, 0, sizeof *u);
	put(u->sysname, "Kiln");
	put(u->nodename, "kiln");
	put(u->release, "6.1.0-kiln"); /* a Linux release string: apps parse it for features */
	put(u->version, "#1 Kiln unikernel");
	put(u->machine, "x86_64");
	put(u->domainname, "(none)");
	return 0;
}
SYSCALL_REGISTER(63, sys_uname);

struct sysinfo_k {
	int64_t uptime;
	uint64_t loads[3], totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs, pad;
	uint64_t totalhigh, freehigh;
	uint32_t mem_unit;
	char f[0];
};

static long sys_sysinfo(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	struct sysinfo_k s;
	__builtin_memset(&s, 0, sizeof s);
	s.uptime = (int64_t)(time_now_ns() / 1000000000u);
	struct alloc *a = alloc_default();
	s.freeram = a ? alloc_availmem(a) : 0;
	s.totalram = a ? a->stats.total_bytes : 0;
	s.procs = 1;
	s.mem_unit = 1;
	return syscall_copy_out((void *)a1, &s, sizeof s);
}
SYSCALL_REGISTER(99, sys_sysinfo);

#define RLIMIT_STACK_K 3
#define RLIMIT_NOFILE_K 7
#define RLIM_INFINITY_K (~0ull)
#ifndef CONFIG_VFS_MAX_FDS
#define CONFIG_VFS_MAX_FDS 64
#endif

static long sys_prlimit64(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a1 != 0 && a1 != PID)
		return -SYS_ESRCH;
	if (a2 < 0 || a2 >= 16)
		return -SYS_EINVAL;
	uint64_t lim[2] = {RLIM_INFINITY_K, RLIM_INFINITY_K};
	if (a2 == RLIMIT_NOFILE_K)
		lim[0] = lim[1] = CONFIG_VFS_MAX_FDS;
	if (a2 == RLIMIT_STACK_K)
		lim[0] = lim[1] = 8u << 20;
	if (a4 && syscall_copy_out((void *)a4, lim, sizeof lim))
		return -SYS_EFAULT;
	if (a3) {
		uint64_t want[2];
		if (syscall_copy_in(want, (const void *)a3, sizeof want))
			return -SYS_EFAULT;
		if (want[0] > want[1])
			return -SYS_EINVAL;
		if (want[1] > lim[1])
			return -SYS_EPERM; /* limits are fixed by the image's configuration */
	}
	return 0;
}
SYSCALL_REGISTER(302, sys_prlimit64);

static long sys_getrlimit(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return sys_prlimit64(0, a1, 0, a2, 0, 0);
}
SYSCALL_REGISTER(97, sys_getrlimit);

#define GRND_NONBLOCK_K 1
#define GRND_RANDOM_K 2
#define GRND_INSECURE_K 4

static long sys_getrandom(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a3 & ~(long)(GRND_NONBLOCK_K | GRND_RANDOM_K | GRND_INSECURE_K))
		return -SYS_EINVAL;
	size_t n = (size_t)a2 > 33554431u ? 33554431u : (size_t)a2; /* Linux's per-call cap */
	if (!syscall_user_ok((void *)a1, n, 1))
		return -SYS_EFAULT;
	int r = random_bytes((void *)a1, n);
	return r < 0 ? r : (long)n;
}
SYSCALL_REGISTER(318, sys_getrandom);

static long sys_sched_getaffinity(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a2 < 8)
		return -SYS_EINVAL;
	uint64_t one = 1; /* CPU 0 */
	if (syscall_copy_out((void *)a3, &one, sizeof one))
		return -SYS_EFAULT;
	return 8;
}
SYSCALL_REGISTER(204, sys_sched_getaffinity);

static long sys_setsid(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return -SYS_EPERM; /* pid 1 already leads its session and group (as Linux says for a leader) */
}
SYSCALL_REGISTER(112, sys_setsid);

/* getrusage: all time the app has run is user time (the kernel's share is not separated). */
static long sys_getrusage(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a1 != 0 && a1 != -1 && a1 != 1) /* RUSAGE_SELF, CHILDREN, THREAD */
		return -SYS_EINVAL;
	int64_t ru[18];
	__builtin_memset(ru, 0, sizeof ru);
	if (a1 != -1) {
		uint64_t ns = time_now_ns();
		ru[0] = (int64_t)(ns / 1000000000u);
		ru[1] = (int64_t)(ns % 1000000000u / 1000u);
	}
	return syscall_copy_out((void *)a2, ru, sizeof ru);
}
SYSCALL_REGISTER(98, sys_getrusage);

/* The process never has children (no fork/clone): waiting is ECHILD, or ESRCH for a pid that
 * cannot exist (as Linux answers for INT_MIN). */
static long sys_wait4(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a1 == (long)(int)0x80000000)
		return -SYS_ESRCH;
	return -10; /* ECHILD */
}
SYSCALL_REGISTER(61, sys_wait4);  /* wait4 */
SYSCALL_REGISTER(247, sys_wait4); /* waitid */
