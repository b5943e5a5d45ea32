#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/uio.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

static int failures;

#include "../common/check.h"

/* Raw syscalls (no libc checks in between): the result is -errno. */
static long raw3(long nr, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

/* A `movl $N, %eax; syscall` the build rewrites into a call of the dispatcher (the fast path):
 * every register the instruction keeps must survive, xmm included. Returns a mask of the
 * registers that changed (0: none), and the result in *ret. */
__attribute__((noinline)) static long fast_path_abi(long *ret)
{
	long r, changed;
	__asm__ volatile(
		"movq $0x1111, %%rdi\n\tmovq $0x2222, %%rsi\n\tmovq $0x3333, %%rdx\n\t"
		"movq $0x4444, %%r10\n\tmovq $0x5555, %%r8\n\tmovq $0x6666, %%r9\n\t"
		"movq $0x7777, %%rbx\n\tmovq $0x8888, %%r12\n\tmovq %%rdi, %%xmm0\n\tmovq %%rsi, %%xmm7\n\tmovq %%rdx, %%xmm15\n\t"
		"movl $110, %%eax\n\t"
		"syscall\n\t"
		"xorl %%ecx, %%ecx\n\t"
		"cmpq $0x1111, %%rdi\n\tsetne %%cl\n\tmovq %%rcx, %1\n\t"
		"cmpq $0x2222, %%rsi\n\tsetne %%cl\n\tshlq $1, %%rcx\n\torq %%rcx, %1\n\t"
		"cmpq $0x3333, %%rdx\n\tsetne %%cl\n\tshlq $2, %%rcx\n\torq %%rcx, %1\n\t"
		"cmpq $0x4444, %%r10\n\tsetne %%cl\n\tshlq $3, %%rcx\n\torq %%rcx, %1\n\t"
		"cmpq $0x5555, %%r8\n\tsetne %%cl\n\tshlq $4, %%rcx\n\torq %%rcx, %1\n\t"
		"cmpq $0x6666, %%r9\n\tsetne %%cl\n\tshlq $5, %%rcx\n\torq %%rcx, %1\n\t"
		"cmpq $0x7777, %%rbx\n\tsetne %%cl\n\tshlq $6, %%rcx\n\torq %%rcx, %1\n\t"
		"cmpq $0x8888, %%r12\n\tsetne %%cl\n\tshlq $7, %%rcx\n\torq %%rcx, %1\n\t"
		"movq %%xmm0, %%rcx\n\tcmpq $0x1111, %%rcx\n\tsetne %%cl\n\tmovzbq %%cl, %%rcx\n\tshlq $8, %%rcx\n\torq %%rcx, %1\n\t"
		"movq %%xmm7, %%rcx\n\tcmpq $0x2222, %%rcx\n\tsetne %%cl\n\tmovzbq %%cl, %%rcx\n\tshlq $9, %%rcx\n\torq %%rcx, %1\n\t"
		"movq %%xmm15, %%rcx\n\tcmpq $0x3333, %%rcx\n\tsetne %%cl\n\tmovzbq %%cl, %%rcx\n\tshlq $10, %%rcx\n\torq %%rcx, %1\n\t"
		: "=a"(r), "=&r"(changed)
		:
		: "rcx", "rdi", "rsi", "rdx", "r8", "r9", "r10", "r11", "rbx", "r12", "xmm0", "xmm7", "xmm15", "memory", "cc");
	*ret = r;
	return changed;
}

static void test_fast_path(void)
{
	long ret;
	long changed = fast_path_abi(&ret);
	CHECK("fastpath.abi", changed == 0 && ret == 0, "registers changed: mask 0x%lx, getppid %ld", changed, ret);
}

static void test_efault(void)
{
	int fd = open("/f", O_CREAT | O_RDWR, 0644);
	CHECK("efault.open", fd >= 0, "open /f gave %d", fd);
	CHECK("efault.write_null", raw3(SYS_write, fd, 0, 16) == -EFAULT, "write from NULL");
	CHECK("efault.read_null", raw3(SYS_read, fd, 8, 16) == -EFAULT, "read into page 0");
	CHECK("efault.read_wild", raw3(SYS_read, 0, (long)0x7f0000000000, 16) == -EFAULT, "read into unmapped memory");
	CHECK("efault.open_path", raw3(SYS_open, 16, O_RDONLY, 0) == -EFAULT, "open with a path in page 0");
	CHECK("efault.stat_buf", raw3(SYS_stat, (long)"/f", 24, 0) == -EFAULT, "stat into page 0");
	CHECK("efault.noncanonical", raw3(SYS_write, 1, (long)0x8000000000000000, 4) == -EFAULT, "non-canonical pointer");
	/* A buffer that starts mapped and runs into unmapped memory. */
	int main(int argc, char **argv);
	const char *text = (const char *)(uintptr_t)&main; /* read-only code (wherever the image is linked) */
	CHECK("efault.readonly_target", raw3(SYS_read, fd, (long)text, 1) == -EFAULT, "read into read-only code");
	close(fd);
	unlink("/f");
}

static void test_enosys(void)
{
	long r1 = raw3(SYS_io_setup, 1, 0, 0);
	long r2 = raw3(SYS_io_setup, 1, 0, 0);
	CHECK("enosys.io_setup", r1 == -ENOSYS && r2 == -ENOSYS, "got %ld, %ld", r1, r2);
	CHECK("enosys.out_of_range", raw3(100000, 0, 0, 0) == -ENOSYS, "number 100000");
	CHECK("enosys.negative", raw3(-1, 0, 0, 0) == -ENOSYS, "number -1");
}

/* clone makes threads only (posix-thread): what Linux refuses is -EINVAL, what Kiln does not
 * do (fork, vfork: another process) -ENOSYS. Threads themselves: apps/pthreads. */
static void test_clone(void)
{
	const long thread = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000; /* VM FS FILES SIGHAND THREAD SYSVSEM */
	CHECK("clone.fork", raw3(SYS_clone, 17 /* SIGCHLD */, 0, 0) == -ENOSYS, "fork-like clone");
	CHECK("clone.vfork", raw3(SYS_clone, 0x100 | 0x4000 | 17, 0, 0) == -ENOSYS, "CLONE_VM|CLONE_VFORK");
	CHECK("clone.thread_needs_sighand", raw3(SYS_clone, 0x100 | 0x10000, 0x1000, 0) == -EINVAL, "CLONE_THREAD alone");
	CHECK("clone.sighand_needs_vm", raw3(SYS_clone, 0x800, 0x1000, 0) == -EINVAL, "CLONE_SIGHAND alone");
	CHECK("clone.no_stack", raw3(SYS_clone, thread, 0, 0) == -EINVAL, "a thread without a stack");
	CHECK("clone.gettid", raw3(SYS_gettid, 0, 0, 0) == getpid(), "the first thread's tid is the pid");
}

static void test_emfile(void)
{
	int fds[64], n = 0, err = 0;
	for (; n < 64; n++) {
		fds[n] = open("/", O_RDONLY | O_DIRECTORY);
		if (fds[n] < 0) {
			err = errno;
			break;
		}
	}
	CHECK("emfile", n < 64 && err == EMFILE, "opened %d, errno %d", n, err);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	int fd = open("/", O_RDONLY);
	CHECK("emfile.recovers", fd >= 0, "open after closing");
	close(fd);
}

static void test_enametoolong(void)
{
	static char path[5000];
	memset(path, 'a', sizeof path - 1);
	path[0] = '/';
	errno = 0;
	CHECK("enametoolong.path", open(path, O_RDONLY) < 0 && errno == ENAMETOOLONG, "5000-byte path");
	memset(path, 'b', 300);
	path[0] = '/';
	path[300] = 0;
	errno = 0;
	CHECK("enametoolong.component", open(path, O_CREAT | O_RDWR, 0644) < 0 && errno == ENAMETOOLONG, "300-byte name");
}

static void test_enospc(void)
{
	int fd = open("/fill", O_CREAT | O_RDWR | O_TRUNC, 0644);
	static char block[4096];
	long written = 0, r;
	int err = 0;
	for (int i = 0;; i++) {
		memset(block, 'A' + i % 26, sizeof block);
		r = write(fd, block, sizeof block);
		if (r < 0) {
			err = errno;
			break;
		}
		written += r;
		if (r < (long)sizeof block || written > (1 << 20))
			break;
	}
	CHECK("enospc", err == ENOSPC || (r >= 0 && r < (long)sizeof block), "wrote %ld, errno %d", written, err);
	/* Everything written before is intact. */
	int intact = 1;
	for (long off = 0; off + 4096 <= written && intact; off += 4096) {
		char c;
		if (pread(fd, &c, 1, off) != 1 || c != 'A' + (off / 4096) % 26)
			intact = 0;
	}
	CHECK("enospc.intact", intact && written > 0, "data before ENOSPC");
	close(fd);
	unlink("/fill");
	fd = open("/after", O_CREAT | O_RDWR, 0644);
	CHECK("enospc.space_back", fd >= 0 && write(fd, "x", 1) == 1, "after unlinking the full file");
	close(fd);
	unlink("/after");
}

static void test_files(void)
{
	mkdir("/d", 0755);
	int fd = open("/d/a.txt", O_CREAT | O_RDWR, 0644);
	CHECK("files.writev", dprintf(fd, "hello %d\n", 7) == 8, "dprintf");
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	CHECK("files.setlk", fcntl(fd, F_SETLK, &fl) == 0, "F_SETLK");
	fl.l_type = F_WRLCK;
	CHECK("files.getlk", fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type == F_UNLCK, "F_GETLK says unlocked");
	int fd2 = dup(fd);
	CHECK("files.dup", fd2 > fd, "dup gave %d", fd2);
	CHECK("files.lseek_shared", lseek(fd2, 0, SEEK_CUR) == 8, "dup shares the offset");
	close(fd2);
	struct stat st;
	CHECK("files.fstat", fstat(fd, &st) == 0 && st.st_size == 8 && S_ISREG(st.st_mode), "size %ld", (long)st.st_size);
	CHECK("files.ftruncate", ftruncate(fd, 3) == 0 && fstat(fd, &st) == 0 && st.st_size == 3, "size %ld", (long)st.st_size);
	close(fd);
	CHECK("files.rename", rename("/d/a.txt", "/d/b.txt") == 0 && access("/d/b.txt", F_OK) == 0, "rename");
	DIR *d = opendir("/d");
	int seen = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		seen += strcmp(e->d_name, "b.txt") == 0;
	if (d)
		closedir(d);
	CHECK("files.getdents64", seen == 1, "readdir saw b.txt %d times", seen);
	char cwd[64];
	CHECK("files.chdir", chdir("/d") == 0 && getcwd(cwd, sizeof cwd) && strcmp(cwd, "/d") == 0, "cwd");
	CHECK("files.relative", access("b.txt", R_OK) == 0, "relative path");
	chdir("/");
	CHECK("files.isatty", isatty(1) && !isatty(open("/d/b.txt", O_RDONLY)), "stdout is the console, a file is not");
	struct winsize ws;
	CHECK("files.tiocgwinsz", ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col == 80, "TIOCGWINSZ");
	/* musl 1.2.3 has no statx(): the raw call, stx_size at offset 40 of the 256-byte struct. */
	uint64_t sx[32] = {0};
	long r;
	__asm__ volatile("mov %5, %%r10\n\tmov %6, %%r8\n\tsyscall"
			 : "=a"(r)
			 : "a"((long)SYS_statx), "D"((long)AT_FDCWD), "S"("/d/b.txt"), "d"(0L), "r"(0x7ffL), "r"(sx)
			 : "rcx", "r11", "r8", "r10", "memory");
	CHECK("files.statx", r == 0 && sx[5] == 3, "statx gave %ld, size %lu", r, (unsigned long)sx[5]);
}

static void test_memory(void)
{
	size_t n = 3 << 20;
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("mm.mmap_anon", p != MAP_FAILED && p[0] == 0 && p[n - 1] == 0, "anonymous, zeroed");
	p[n - 1] = 5;
	char *q = mremap(p, n, 2 * n, MREMAP_MAYMOVE);
	CHECK("mm.mremap", q != MAP_FAILED && q[n - 1] == 5 && q[2 * n - 1] == 0, "kept contents");
	CHECK("mm.munmap", munmap(q, 2 * n) == 0, "munmap");
	CHECK("mm.mprotect_exec", mprotect(NULL, 4096, PROT_EXEC) < 0 && errno == EACCES, "no executable memory");
	int fd = open("/m", O_CREAT | O_RDWR, 0644);
	write(fd, "mapped file", 11);
	char *f = mmap(NULL, 11, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK("mm.mmap_file", f != MAP_FAILED && memcmp(f, "mapped file", 11) == 0, "private file mapping");
	CHECK("mm.mmap_shared_file", mmap(NULL, 11, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED && errno == ENODEV, "shared file mapping refused");
	close(fd);
	/* musl's sbrk(n != 0) always fails by design: the raw brk. */
	long b = raw3(SYS_brk, 0, 0, 0);
	CHECK("mm.brk", b > 0 && raw3(SYS_brk, b + 8192, 0, 0) == b + 8192 && raw3(SYS_brk, 0, 0, 0) == b + 8192 && ((char *)b)[8191] == 0, "brk");
	CHECK("mm.brk_too_far", raw3(SYS_brk, b + (1L << 40), 0, 0) == b + 8192, "an impossible break leaves it unchanged");
	char *m = malloc(10 << 20);
	CHECK("mm.malloc_large", m != NULL, "10 MiB malloc in 16 MiB");
	free(m);
}

static volatile int got_signal;
static void on_usr1(int sig) { got_signal = sig; }

static void test_process(void)
{
	CHECK("proc.ids", getpid() == 1 && getppid() == 0 && getuid() == 0 && gettid() == 1, "ids");
	struct utsname u;
	CHECK("proc.uname", uname(&u) == 0 && strcmp(u.machine, "x86_64") == 0, "uname");
	struct rlimit rl;
	CHECK("proc.rlimit_nofile", getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == 16, "RLIMIT_NOFILE %ld", (long)rl.rlim_cur);
	unsigned char r1[32] = {0}, r2[32] = {0};
	CHECK("proc.getrandom", getrandom(r1, sizeof r1, 0) == 32 && getrandom(r2, sizeof r2, 0) == 32 && memcmp(r1, r2, 32) != 0, "two draws differ");
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct timespec d = {0, 2000000};
	nanosleep(&d, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ns = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
	CHECK("time.nanosleep", ns >= 2000000, "slept %ld ns", ns);
	/* The console has no input waiting (or some, then it says so): poll waits out its timeout. */
	struct pollfd pf = {0, POLLIN, 0};
	clock_gettime(CLOCK_MONOTONIC, &a);
	int pr = poll(&pf, 1, 20);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
	CHECK("poll.timeout", (pr == 0 && ns >= 20000000) || (pr == 1 && (pf.revents & POLLIN)), "poll gave %d after %ld ns", pr, ns);
	struct pollfd bad = {1000, POLLIN, 0};
	CHECK("poll.nval", poll(&bad, 1, 0) == 1 && bad.revents == POLLNVAL, "closed descriptor");
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	CHECK("signal.raise", got_signal == SIGUSR1, "handler ran");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	got_signal = 0;
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	int before = got_signal;
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	CHECK("signal.blocked_then_delivered", before == 0 && got_signal == SIGUSR1, "pending until unblocked");
}

/* Pipes, as Linux has them: test/musl.test.ts also runs these natively ("posix-test pipe"). */
static volatile int got_sigpipe;
static void on_sigpipe(int sig) { got_sigpipe = sig; }

static void test_pipe(void)
{
	int p[2];
	char b[256];
	CHECK("pipe.create", pipe(p) == 0 && p[0] >= 0 && p[1] > p[0], "pipe gave %d %d", p[0], p[1]);
	CHECK("pipe.round_trip", write(p[1], "ping", 4) == 4 && read(p[0], b, sizeof b) == 4 && memcmp(b, "ping", 4) == 0, "ping");
	struct stat st;
	CHECK("pipe.fstat_fifo", fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode) && fstat(p[1], &st) == 0 && S_ISFIFO(st.st_mode), "mode 0%o", st.st_mode);
	CHECK("pipe.espipe", lseek(p[0], 0, SEEK_CUR) == -1 && errno == ESPIPE, "lseek");
	CHECK("pipe.getfl", fcntl(p[0], F_GETFL) == O_RDONLY && fcntl(p[1], F_GETFL) == O_WRONLY, "F_GETFL %d %d", fcntl(p[0], F_GETFL), fcntl(p[1], F_GETFL));
	struct pollfd pf[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
	CHECK("pipe.poll_empty", poll(pf, 2, 0) == 1 && pf[0].revents == 0 && pf[1].revents == POLLOUT, "revents %x %x", pf[0].revents, pf[1].revents);
	/* readv does not wait for its second element once the first got data. */
	write(p[1], "abcd", 4);
	char v2[8];
	struct iovec iov[2] = {{b, 4}, {v2, sizeof v2}};
	CHECK("pipe.poll_data", poll(pf, 1, 0) == 1 && pf[0].revents == POLLIN, "revents %x", pf[0].revents);
	CHECK("pipe.readv_no_wait", readv(p[0], iov, 2) == 4 && memcmp(b, "abcd", 4) == 0, "readv");
	/* dup shares the write end: EOF only once both are closed. */
	int w2 = dup(p[1]);
	close(p[1]);
	CHECK("pipe.dup_write_end", write(w2, "xy", 2) == 2, "write through the dup");
	close(w2);
	CHECK("pipe.eof", read(p[0], b, sizeof b) == 2 && read(p[0], b, sizeof b) == 0, "data then EOF");
	pf[0].revents = 0;
	CHECK("pipe.pollhup", poll(pf, 1, 0) == 1 && (pf[0].revents & POLLHUP), "revents %x", pf[0].revents);
	close(p[0]);

	/* No readers: EPIPE, and SIGPIPE (ignored, then caught). */
	pipe(p);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	errno = 0;
	CHECK("pipe.epipe", write(p[1], "x", 1) == -1 && errno == EPIPE, "write without readers");
	signal(SIGPIPE, on_sigpipe);
	CHECK("pipe.sigpipe", write(p[1], "x", 1) == -1 && errno == EPIPE && got_sigpipe == SIGPIPE, "signal %d", got_sigpipe);
	signal(SIGPIPE, SIG_DFL);
	pf[1].fd = p[1];
	pf[1].revents = 0;
	CHECK("pipe.pollerr", poll(&pf[1], 1, 0) == 1 && (pf[1].revents & POLLERR), "revents %x", pf[1].revents);
	close(p[1]);

	/* O_NONBLOCK: EAGAIN on an empty and on a full pipe; the capacity is Linux's default. */
	CHECK("pipe2.flags", pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0, "pipe2");
	CHECK("pipe2.cloexec", fcntl(p[0], F_GETFD) == FD_CLOEXEC && fcntl(p[1], F_GETFD) == FD_CLOEXEC, "F_GETFD");
	CHECK("pipe2.nonblock_flag", (fcntl(p[0], F_GETFL) & O_NONBLOCK) && (fcntl(p[1], F_GETFL) & O_NONBLOCK), "F_GETFL");
	CHECK("pipe2.eagain_read", read(p[0], b, sizeof b) == -1 && errno == EAGAIN, "empty");
	memset(b, 'q', sizeof b);
	long total = 0, r;
	while ((r = write(p[1], b, sizeof b)) > 0)
		total += r;
	CHECK("pipe2.eagain_write", r == -1 && errno == EAGAIN && total == 65536, "filled %ld bytes, then %ld", total, r);
	pf[1].revents = 0;
	CHECK("pipe2.poll_full", poll(&pf[1], 1, 0) == 0, "a full pipe is not writable");
	close(p[0]);
	close(p[1]);
	CHECK("pipe2.einval", pipe2(p, O_APPEND) == -1 && errno == EINVAL, "bad flag");
	CHECK("pipe2.efault", raw3(SYS_pipe2, 8, 0, 0) == -EFAULT, "fds in page 0");

	/* fcntl F_SETFL O_NONBLOCK on a blocking pipe. */
	pipe(p);
	CHECK("pipe.setfl_nonblock", fcntl(p[0], F_SETFL, O_NONBLOCK) == 0 && read(p[0], b, 1) == -1 && errno == EAGAIN, "F_SETFL");
	close(p[0]);
	close(p[1]);

	/* 1 MiB through the 64 KiB pipe by one thread: write until full, drain, check the bytes. */
	pipe2(p, O_NONBLOCK);
	static unsigned char chunk[3000], in[7000];
	long sent = 0, got = 0, bad = 0, want = 1 << 20;
	int rounds = 0;
	while (got < want && rounds < 100000) {
		rounds++;
		while (sent < want) {
			long n = want - sent < (long)sizeof chunk ? want - sent : (long)sizeof chunk;
			for (long i = 0; i < n; i++)
				chunk[i] = (unsigned char)((sent + i) * 13 + ((sent + i) >> 10));
			long w = write(p[1], chunk, (size_t)n);
			if (w < 0)
				break;
			sent += w;
		}
		long n;
		while ((n = read(p[0], in, sizeof in)) > 0) {
			for (long i = 0; i < n; i++)
				bad += in[i] != (unsigned char)((got + i) * 13 + ((got + i) >> 10));
			got += n;
		}
	}
	CHECK("pipe.large_transfer", sent == want && got == want && bad == 0, "sent %ld got %ld, %ld wrong bytes", sent, got, bad);
	close(p[0]);
	close(p[1]);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "sigpipe") == 0) { /* SIGPIPE's default action ends us */
		int p[2];
		pipe(p);
		close(p[0]);
		write(p[1], "x", 1);
		printf("still running after SIGPIPE\n");
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "pipe") == 0) {
		test_pipe();
		printf("posix-test: %d failures\n", failures);
		return failures;
	}
	test_fast_path();
	test_efault();
	test_enosys();
	test_clone();
	test_emfile();
	test_enametoolong();
	test_enospc();
	test_files();
	test_memory();
	test_process();
	test_pipe();
	printf("posix-test: %d failures\n", failures);
	return failures;
}
