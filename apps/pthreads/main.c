/* Threads as a musl app uses them. Prints only what is deterministic on any correct
 * implementation (the host runs the same program: test/pthreads.test.ts compares), and exits
 * with the number of failed checks. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* <linux/futex.h> is not in musl's headers: Linux's values. */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define FUTEX_WAIT_BITSET_PRIVATE 137
#define FUTEX_BITSET_MATCH_ANY 0xffffffff

#define NTHREADS 6
#define ROUNDS 1000

static int failures;
#define CHECK(cond, name)                                                                          \
	do {                                                                                       \
		if (cond)                                                                          \
			printf("ok %s\n", name);                                                   \
		else {                                                                             \
			printf("FAIL %s (line %d)\n", name, __LINE__);                             \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static __thread int tls_counter = 100; /* initialized TLS: each thread starts from 100 */
static __thread long tls_zero;         /* .tbss */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long shared_total;
static int turn; /* the condvar passes a baton 0, 1, ..., NTHREADS-1, 0, ... */
static int tids_distinct[NTHREADS];

struct arg {
	int index;
	long tls_seen;
	pid_t tid;
};

static void *worker(void *p)
{
	struct arg *a = p;
	a->tid = (pid_t)syscall(SYS_gettid);
	for (int i = 0; i < ROUNDS; i++) {
		tls_counter++;
		tls_zero += 2;
		pthread_mutex_lock(&lock);
		long t = shared_total;
		if (i % 7 == 0)
			sched_yield(); /* others run while we hold the lock: they must wait */
		shared_total = t + 1;
		pthread_mutex_unlock(&lock);
	}
	/* Three laps of the baton in thread order: each waits on the condvar for its turn. */
	for (int lap = 0; lap < 3; lap++) {
		pthread_mutex_lock(&lock);
		while (turn % NTHREADS != a->index)
			pthread_cond_wait(&cond, &lock);
		turn++;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
	}
	a->tls_seen = tls_counter * 1000000L + tls_zero;
	return (void *)(intptr_t)(a->index * 10);
}


/* clone as a raw syscall (no musl): the child must come back from the instruction with rax = 0,
 * rsp = the new stack and every other register as the parent had it (rcx and r11 aside). The
 * child sets one bit per register that matches in raw_bits, then exits (exit, not exit_group);
 * CLONE_CHILD_CLEARTID zeroes the tid word and wakes the parent's futex wait. */
#define RAW_FLAGS (0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x100000 | 0x200000)
static volatile int raw_bits;
static struct {
	char stack[16384] __attribute__((aligned(16)));
	volatile int ptid, ctid; /* CLONE_PARENT_SETTID's and CLONE_CHILD_CLEARTID's words */
} raw;

static long raw_thread(void)
{
	long ret;
	raw.ctid = -1; /* the child exists until this is 0 */
	register long r10 __asm__("r10") = (long)&raw.ctid;
	register long r8 __asm__("r8") = 0x8888;
	register long r9 __asm__("r9") = 0x9999;
	__asm__ volatile(
		"sub $128, %%rsp\n\t" /* past the red zone: the pushes below must not hit it */
		"push %%rbp\n\tpush %%rbx\n\tpush %%r12\n\tpush %%r13\n\tpush %%r14\n\tpush %%r15\n\t"
		"mov $0x1111, %%rbx\n\tmov $0x1212, %%r12\n\tmov $0x1313, %%r13\n\t"
		"mov $0x1414, %%r14\n\tmov $0x1515, %%r15\n\tmov $0x5555, %%rbp\n\t"
		"mov $56, %%eax\n\tsyscall\n\t"
		"test %%rax, %%rax\n\tjnz 1f\n\t"
		"xor %%ecx, %%ecx\n\t"
		"cmp $0x1111, %%rbx\n\tjne 2f\n\tor $1, %%ecx\n2:\t"
		"cmp $0x1212, %%r12\n\tjne 2f\n\tor $2, %%ecx\n2:\t"
		"cmp $0x1313, %%r13\n\tjne 2f\n\tor $4, %%ecx\n2:\t"
		"cmp $0x1414, %%r14\n\tjne 2f\n\tor $8, %%ecx\n2:\t"
		"cmp $0x1515, %%r15\n\tjne 2f\n\tor $16, %%ecx\n2:\t"
		"cmp $0x5555, %%rbp\n\tjne 2f\n\tor $32, %%ecx\n2:\t"
		"cmp %%rsi, %%rsp\n\tjne 2f\n\tor $64, %%ecx\n2:\t"
		"cmp $0x8888, %%r8\n\tjne 2f\n\tcmp $0x9999, %%r9\n\tjne 2f\n\tor $128, %%ecx\n2:\t"
		"cmp %[flags], %%rdi\n\tjne 2f\n\tlea 4(%%rdx), %%rax\n\tcmp %%r10, %%rax\n\tjne 2f\n\tor $256, %%ecx\n2:\t"
		"mov %%ecx, raw_bits(%%rip)\n\t"
		"mov $60, %%eax\n\txor %%edi, %%edi\n\tsyscall\n\tud2\n"
		"1:\tpop %%r15\n\tpop %%r14\n\tpop %%r13\n\tpop %%r12\n\tpop %%rbx\n\tpop %%rbp\n\t"
		"add $128, %%rsp"
		: "=a"(ret)
		: "D"((long)RAW_FLAGS), "S"(raw.stack + sizeof raw.stack), "d"(&raw.ptid), "r"(r10), "r"(r8),
		  "r"(r9), [flags] "i"(RAW_FLAGS)
		: "rcx", "r11", "memory", "cc");
	return ret;
}

/* Writes a byte into the pipe after 20 ms, while the main thread waits for it in poll or
 * epoll_wait: the wait must let this thread run (regression: they spun without yielding). */
static int wake_pipe[2];
static void *late_writer(void *p)
{
	(void)p;
	struct timespec t = {0, 20 * 1000 * 1000};
	nanosleep(&t, NULL);
	return (void *)(long)write(wake_pipe[1], "w", 1);
}

static int woken_by_thread(int use_epoll)
{
	pthread_t t;
	char c;
	int n;
	pthread_create(&t, NULL, late_writer, NULL);
	if (use_epoll) {
		int ep = epoll_create1(0);
		struct epoll_event ev = {EPOLLIN, {0}}, out;
		epoll_ctl(ep, EPOLL_CTL_ADD, wake_pipe[0], &ev);
		n = epoll_wait(ep, &out, 1, 5000);
		close(ep);
	} else {
		struct pollfd pf = {wake_pipe[0], POLLIN, 0};
		n = poll(&pf, 1, 5000);
	}
	pthread_join(t, NULL);
	long got = read(wake_pipe[0], &c, 1); /* drained either way: the next check starts empty */
	return n == 1 && got == 1;
}

int main(void)
{
	pthread_t th[NTHREADS];
	struct arg args[NTHREADS];
	tls_counter = 7; /* the main thread's copy only */
	for (int i = 0; i < NTHREADS; i++) {
		args[i] = (struct arg){i, 0, 0};
		if (pthread_create(&th[i], 0, worker, &args[i])) {
			printf("FAIL pthread_create %d\n", i);
			return 100;
		}
	}
	int joined = 0, retvals_ok = 1;
	for (int i = 0; i < NTHREADS; i++) {
		void *r;
		if (pthread_join(th[i], &r) == 0)
			joined++;
		retvals_ok &= (intptr_t)r == i * 10;
	}
	printf("joined %d threads\n", joined);
	CHECK(joined == NTHREADS && retvals_ok, "join.retval");
	printf("shared total %ld\n", shared_total);
	CHECK(shared_total == (long)NTHREADS * ROUNDS, "mutex.total");
	printf("baton turns %d\n", turn);
	CHECK(turn == 3 * NTHREADS, "cond.baton");
	int tls_ok = 1;
	for (int i = 0; i < NTHREADS; i++)
		tls_ok &= args[i].tls_seen == (100L + ROUNDS) * 1000000L + 2L * ROUNDS;
	CHECK(tls_ok, "tls.per_thread");
	CHECK(tls_counter == 7 && tls_zero == 0, "tls.main_untouched");
	pid_t me = (pid_t)syscall(SYS_gettid);
	int distinct = me == getpid();
	for (int i = 0; i < NTHREADS; i++) {
		tids_distinct[i] = args[i].tid;
		distinct &= args[i].tid != me && args[i].tid > 0;
		for (int j = 0; j < i; j++)
			distinct &= tids_distinct[j] != args[i].tid;
	}
	CHECK(distinct, "gettid.distinct");

	/* A futex wait that nobody wakes: ETIMEDOUT after the (relative) timeout, not before. */
	uint32_t word = 5;
	struct timespec t0, t1, rel = {0, 30 * 1000000};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 5, &rel, 0, 0);
	int err = errno;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long waited_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(r == -1 && err == ETIMEDOUT && waited_ms >= 30, "futex.timeout");
	r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 6, &rel, 0, 0);
	CHECK(r == -1 && errno == EAGAIN, "futex.eagain");
	/* Absolute (WAIT_BITSET, CLOCK_MONOTONIC), already in the past: at once. */
	struct timespec past = t0;
	r = syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 5, &past, 0, FUTEX_BITSET_MATCH_ANY);
	CHECK(r == -1 && errno == ETIMEDOUT, "futex.bitset_abs");
	/* A wait reads the word: a bad pointer is EFAULT. A private wake only hashes it: 0. */
	r = syscall(SYS_futex, (void *)8, FUTEX_WAIT_PRIVATE, 0, &rel, 0, 0);
	CHECK(r == -1 && errno == EFAULT, "futex.efault");
	r = syscall(SYS_futex, (void *)8, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
	CHECK(r == 0, "futex.wake_unmapped");
	r = syscall(SYS_futex, (char *)&word + 1, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
	CHECK(r == -1 && errno == EINVAL, "futex.unaligned");
	struct timespec bad = {0, 1000000000};
	r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 5, &bad, 0, 0);
	CHECK(r == -1 && errno == EINVAL, "futex.bad_timespec");
	r = syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
	CHECK(r == 0, "futex.wake_nobody");

	long rt = raw_thread();
	int tid_set = rt > 0 && raw.ptid == rt;
	/* pthread_join's wait, by hand; not PRIVATE: Linux's exit wakes the word as a shared futex. */
	for (int v; rt > 0 && (v = raw.ctid) != 0;)
		syscall(SYS_futex, &raw.ctid, 0 /* FUTEX_WAIT */, v, 0, 0, 0);
	printf("raw clone: child registers 0x%x\n", raw_bits);
	CHECK(tid_set && raw_bits == 0x1ff, "clone.registers");

	pipe(wake_pipe);
	CHECK(woken_by_thread(0), "poll.woken_by_another_thread");
	CHECK(woken_by_thread(1), "epoll.woken_by_another_thread");

	printf("pthreads: %d failures\n", failures);
	return failures;
}
