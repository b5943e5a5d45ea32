/* futex(2) on the cooperative scheduler: a hash of waiter lists keyed by the word's address
 * (one address space, so PRIVATE and shared futexes are the same). A waiter lives on its
 * thread's stack while it blocks; the waker unlinks it, sets `woken` and sched_wake()s it.
 * No locking: the scheduler is cooperative on one CPU, so nothing runs between the value
 * check and the queueing (the atomicity FUTEX_WAIT promises).
 *
 * Ops: WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE, CMP_REQUEUE (musl's condvars requeue);
 * the rest (WAKE_OP, the PI ops, WAIT_REQUEUE_PI) are -ENOSYS. Timeouts: WAIT's is relative,
 * WAIT_BITSET's absolute, on CLOCK_MONOTONIC or, with FUTEX_CLOCK_REALTIME, CLOCK_REALTIME -
 * the same clock in Kiln (no wall clock: both count from boot, see posix-time). */
#include <posix-thread/futex.h>
#include <sched/sched.h>
#include <syscall/syscall.h>
#include <time/time.h>


#define FUTEX_WAIT_K 0
#define FUTEX_WAKE_K 1
#define FUTEX_REQUEUE_K 3
#define FUTEX_CMP_REQUEUE_K 4
#define FUTEX_WAIT_BITSET_K 9
#define FUTEX_WAKE_BITSET_K 10
#define FUTEX_PRIVATE_K 128
#define FUTEX_CLOCK_REALTIME_K 256
#define SYS_ETIMEDOUT 110

struct fwaiter {
	uintptr_t addr;
	uint32_t bitset;
	int woken;
	struct sched_thread *thread;
	struct fwaiter *next;
};

#define BUCKETS 64
static struct fwaiter *buckets[BUCKETS];

static struct fwaiter **bucket(uintptr_t addr)
{
	return &buckets[(addr >> 2) * 0x9e3779b97f4a7c15ull >> 58]; /* top 6 bits: 64 buckets */
}

static void push_tail(struct fwaiter **head, struct fwaiter *w)
{
	w->next = 0;
	while (*head)
		head = &(*head)->next;
	*head = w;
}

static void unlink_waiter(struct fwaiter *w)
{
	for (struct fwaiter **p = bucket(w->addr); *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			return;
		}
}

/* Wake up to n waiters on addr whose bitset meets `bitset`, then move up to n2 more to addr2
 * (requeue; n2 = 0 for a plain wake). Linux counts like this too: at least one is woken when
 * anyone waits, even for n <= 0. Returns woken + requeued. */
static int wake_requeue(uintptr_t addr, int n, uint32_t bitset, uintptr_t addr2, int n2)
{
	int woken = 0, moved = 0;
	struct fwaiter **p = bucket(addr);
	while (*p) {
		struct fwaiter *w = *p;
		if (w->addr != addr || !(w->bitset & bitset)) {
			p = &w->next;
			continue;
		}
		*p = w->next;
		if (woken < n || woken == 0) {
			w->woken = 1;
			sched_wake(w->thread);
			woken++;
		} else if (moved < n2) {
			w->addr = addr2;
			push_tail(bucket(addr2), w);
			moved++;
		} else {
			*p = w; /* keep it: put it back where it was */
			break;
		}
		if (woken >= (n > 0 ? n : 1) && moved >= n2)
			break;
	}
	return woken + moved;
}

int posix_futex_wake(const volatile uint32_t *addr, int n)
{
	return wake_requeue((uintptr_t)addr, n, 0xffffffffu, 0, 0);
}

/* The deadline in time_now_ns() terms, or SCHED_FOREVER for no timeout. 0 or -errno. */
static long deadline_of(long uts, int absolute, uint64_t *out)
{
	*out = SCHED_FOREVER;
	if (!uts)
		return 0;
	int64_t t[2];
	if (syscall_copy_in(t, (const void *)uts, sizeof t))
		return -SYS_EFAULT;
	if (t[0] < 0 || t[1] < 0 || t[1] >= 1000000000)
		return -SYS_EINVAL;
	uint64_t ns = (uint64_t)t[0] > (UINT64_MAX - 1000000000u) / 1000000000u
			      ? UINT64_MAX - 1
			      : (uint64_t)t[0] * 1000000000u + (uint64_t)t[1];
	if (absolute) {
		*out = ns;
	} else {
		uint64_t now = time_now_ns();
		*out = ns > UINT64_MAX - 1 - now ? UINT64_MAX - 1 : now + ns;
	}
	return 0;
}

static long futex_wait(uintptr_t addr, uint32_t val, uint64_t deadline, uint32_t bitset)
{
	if (*(volatile uint32_t *)addr != val)
		return -SYS_EAGAIN;
	struct fwaiter w = {addr, bitset, 0, sched_current(), 0};
	push_tail(bucket(addr), &w);
	while (!w.woken) {
		int r = sched_block(deadline);
		if (w.woken)
			break; /* a wake that races with the deadline wins */
		if (r == -SCHED_ETIMEDOUT) {
			unlink_waiter(&w);
			return -SYS_ETIMEDOUT;
		}
	}
	return 0;
}

static long sys_futex(SYSCALL_ARGS)
{
	int op = (int)a2 & ~(FUTEX_PRIVATE_K | FUTEX_CLOCK_REALTIME_K);
	int realtime = (int)a2 & FUTEX_CLOCK_REALTIME_K;
	if (realtime && op != FUTEX_WAIT_K && op != FUTEX_WAIT_BITSET_K)
		return -SYS_ENOSYS; /* as Linux */
	if (a1 & 3)
		return -SYS_EINVAL;
	/* Linux reads the word for WAIT and CMP_REQUEUE, and looks up the page of a shared futex:
	 * -EFAULT for a bad pointer then. A PRIVATE wake or requeue only hashes the address. */
	int reads = op == FUTEX_WAIT_K || op == FUTEX_WAIT_BITSET_K || op == FUTEX_CMP_REQUEUE_K;
	if ((reads || !((int)a2 & FUTEX_PRIVATE_K)) && !syscall_user_ok((void *)a1, 4, 0))
		return -SYS_EFAULT;
	uintptr_t addr = (uintptr_t)a1;
	uint64_t deadline;
	long r;
	switch (op) {
	case FUTEX_WAIT_K:
		if ((r = deadline_of(a4, 0, &deadline)))
			return r;
		return futex_wait(addr, (uint32_t)a3, deadline, 0xffffffffu);
	case FUTEX_WAIT_BITSET_K:
		if (!(uint32_t)a6)
			return -SYS_EINVAL;
		if ((r = deadline_of(a4, 1, &deadline)))
			return r;
		return futex_wait(addr, (uint32_t)a3, deadline, (uint32_t)a6);
	case FUTEX_WAKE_K:
		return wake_requeue(addr, (int)a3, 0xffffffffu, 0, 0);
	case FUTEX_WAKE_BITSET_K:
		if (!(uint32_t)a6)
			return -SYS_EINVAL;
		return wake_requeue(addr, (int)a3, (uint32_t)a6, 0, 0);
	case FUTEX_CMP_REQUEUE_K:
	case FUTEX_REQUEUE_K:
		/* val2 (how many to requeue) comes in the timeout slot, as an int. */
		if ((int)a3 < 0 || (int)a4 < 0)
			return -SYS_EINVAL;
		if (a5 & 3)
			return -SYS_EINVAL;
		if (!((int)a2 & FUTEX_PRIVATE_K) && !syscall_user_ok((void *)a5, 4, 0))
			return -SYS_EFAULT;
		if (op == FUTEX_CMP_REQUEUE_K && *(volatile uint32_t *)addr != (uint32_t)a6)
			return -SYS_EAGAIN;
		return wake_requeue(addr, (int)a3, 0xffffffffu, (uintptr_t)a5, (int)a4);
	default:
		return -SYS_ENOSYS;
	}
}
SYSCALL_REGISTER(202, sys_futex);
