/*
 * Guest tests of the cooperative scheduler: ordering, sleeps (accuracy), wake-ups from
 * interrupts, 1000 threads, TLS, guard pages.
 *
 * Time tolerances hold under QEMU TCG on a shared host (no KVM on the development machine): a
 * sleep never ends before its deadline; one of up to SLEEP_TRIES tries ends within
 * SLEEP_BEST_NS of it (a mis-programmed timer is late every time; a loaded host only now and
 * then, when it leaves QEMU waiting for a CPU after the halt); every one within SLEEP_LATE_NS.
 */
#include <stddef.h>
#include <stdint.h>
#include <alloc/alloc.h>
#include <mmu/mmu.h>
#include <plat/lapic.h>
#include <sched/irq.h>
#include <sched/sched.h>
#include <sched/wait.h>
#include <sched-coop/coop.h>
#include <test/test.h>
#include <time/time.h>

#define MS 1000000ull
#define SLEEP_LATE_NS (100 * MS)
#define SLEEP_BEST_NS (10 * MS)
#define SLEEP_TRIES 20

/* ---- ordering ---- */

static char order_log[64];
static int order_n;

static void *order_fn(void *arg)
{
	char id = (char)(uintptr_t)arg;
	for (int i = 0; i < 3; i++) {
		order_log[order_n++] = id;
		sched_yield();
	}
	return (void *)(uintptr_t)(id + 100);
}

KTEST(sched, round_robin_order)
{
	struct sched_thread *t[3];
	order_n = 0;
	for (int i = 0; i < 3; i++)
		KT_ASSERT_EQ(sched_thread_create(&t[i], 0, order_fn, (void *)(uintptr_t)('A' + i)), 0);
	/* Creation does not run them; joining A blocks main, then A B C take turns. */
	KT_ASSERT_EQ(order_n, 0);
	for (int i = 0; i < 3; i++) {
		void *r;
		KT_ASSERT_EQ(sched_thread_join(t[i], &r), 0);
		KT_ASSERT_EQ((uintptr_t)r, (uintptr_t)('A' + i + 100));
	}
	order_log[order_n] = 0;
	KT_ASSERT_STREQ(order_log, "ABCABCABC");
}

static void *self_fn(void *arg)
{
	*(struct sched_thread **)arg = sched_current();
	return 0;
}

KTEST(sched, current_name_and_join_errors)
{
	struct sched_thread *t, *seen = 0;
	struct sched_attr a = {.name = "worker-x"};
	KT_ASSERT_EQ(sched_thread_create(&t, &a, self_fn, &seen), 0);
	KT_ASSERT_STREQ(sched_thread_name(t), "worker-x");
	KT_ASSERT_STREQ(sched_thread_name(sched_current()), "main");
	KT_ASSERT_EQ(sched_thread_join(sched_current(), 0), -SCHED_EINVAL); /* main */
	KT_ASSERT_EQ(sched_thread_join(t, 0), 0);
	KT_ASSERT(seen == t);
	KT_ASSERT_EQ(sched_thread_create(&t, 0, 0, 0), -SCHED_EINVAL);
}

static int detached_ran;

static void *detached_fn(void *arg)
{
	(void)arg;
	detached_ran++;
	sched_thread_exit(0); /* explicit exit, not a return */
}

KTEST(sched, detached_threads_are_freed)
{
	struct sched_coop_stats s0, s1;
	sched_coop_get_stats(&s0);
	struct sched_attr a = {.name = "detached", .detached = 1};
	for (int i = 0; i < 10; i++)
		KT_ASSERT_EQ(sched_thread_create(0, &a, detached_fn, 0), 0);
	for (int i = 0; i < 1000 && detached_ran < 10; i++)
		sched_yield();
	sched_yield(); /* the last one is reaped by whoever runs after it */
	KT_ASSERT_EQ(detached_ran, 10);
	sched_coop_get_stats(&s1);
	KT_ASSERT_EQ(s1.threads_live, s0.threads_live);
}

/* ---- sleeps ---- */

KTEST(sched, sleep_accuracy)
{
	static const uint64_t ms[] = {1, 5, 20, 50};
	for (unsigned i = 0; i < sizeof ms / sizeof ms[0]; i++) {
		uint64_t best = UINT64_MAX;
		for (int k = 0; k < SLEEP_TRIES && best >= SLEEP_BEST_NS; k++) {
			uint64_t t0 = time_now_ns();
			sched_sleep_ns(ms[i] * MS);
			uint64_t dt = time_now_ns() - t0;
			KT_ASSERT(dt >= ms[i] * MS);
			KT_ASSERT_LT(dt, ms[i] * MS + SLEEP_LATE_NS);
			if (dt - ms[i] * MS < best)
				best = dt - ms[i] * MS;
		}
		KT_ASSERT_LT(best, SLEEP_BEST_NS);
	}
}

KTEST(sched, idle_halts_instead_of_spinning)
{
	struct sched_coop_stats s0, s1;
	sched_coop_get_stats(&s0);
	sched_sleep_ns(30 * MS);
	sched_coop_get_stats(&s1);
	/* One sleep = one halt (a few more if the timer fires early), never a busy loop. */
	KT_ASSERT(s1.idle_halts > s0.idle_halts);
	KT_ASSERT_LT(s1.idle_halts - s0.idle_halts, 10);
	KT_ASSERT(s1.timer_arms > s0.timer_arms);
}

static char wake_log[8];
static int wake_n;

static void *sleeper_fn(void *arg)
{
	uint64_t ms = (uintptr_t)arg;
	sched_sleep_ns(ms * MS);
	wake_log[wake_n++] = (char)('0' + ms / 10);
	return 0;
}

KTEST(sched, sleepers_wake_in_deadline_order)
{
	struct sched_thread *t[3];
	static const uintptr_t ms[] = {30, 10, 20};
	wake_n = 0;
	uint64_t t0 = time_now_ns();
	for (int i = 0; i < 3; i++)
		KT_ASSERT_EQ(sched_thread_create(&t[i], 0, sleeper_fn, (void *)ms[i]), 0);
	for (int i = 0; i < 3; i++)
		KT_ASSERT_EQ(sched_thread_join(t[i], 0), 0);
	uint64_t dt = time_now_ns() - t0;
	wake_log[wake_n] = 0;
	KT_ASSERT_STREQ(wake_log, "123");
	KT_ASSERT(dt >= 30 * MS);
	KT_ASSERT_LT(dt, 30 * MS + SLEEP_LATE_NS);
}

static void *busy_fn(void *arg)
{
	volatile int *stop = arg;
	while (!*stop)
		sched_yield();
	return 0;
}

KTEST(sched, sleeper_wakes_while_others_yield)
{
	/* No idle time at all: the deadline is checked on every yield. */
	int stop = 0;
	struct sched_thread *t;
	KT_ASSERT_EQ(sched_thread_create(&t, 0, busy_fn, &stop), 0);
	uint64_t t0 = time_now_ns();
	sched_sleep_ns(5 * MS);
	uint64_t dt = time_now_ns() - t0;
	stop = 1;
	KT_ASSERT_EQ(sched_thread_join(t, 0), 0);
	KT_ASSERT(dt >= 5 * MS);
	KT_ASSERT_LT(dt, 5 * MS + SLEEP_LATE_NS);
}

/* ---- wake-ups from interrupts ---- */

#define TEST_VECTOR 77
#define LAPIC_REG_ICR_LO 0x300

static struct sched_waitq irq_wq = SCHED_WAITQ_INIT;
static int irq_count;

static void test_irq(void *arg, unsigned vector)
{
	(void)arg;
	if (vector == TEST_VECTOR)
		irq_count++;
	sched_waitq_wake_one(&irq_wq);
}

KTEST(sched, interrupt_wakes_waiting_thread)
{
	KT_ASSERT_EQ(sched_irq_attach(TEST_VECTOR, test_irq, 0), 0);
	KT_ASSERT_EQ(sched_irq_attach(TEST_VECTOR, test_irq, 0), -SCHED_EBUSY);
	irq_count = 0;
	/* A self-IPI: pending in the LAPIC while IF = 0, delivered when idle halts. */
	plat_lapic_init();
	plat_lapic_write(LAPIC_REG_ICR_LO, (1u << 18) | TEST_VECTOR);
	uint64_t t0 = time_now_ns();
	int r = sched_waitq_wait(&irq_wq, t0 + 2000 * MS);
	uint64_t dt = time_now_ns() - t0;
	sched_irq_detach(TEST_VECTOR);
	KT_ASSERT_EQ(r, 0);
	KT_ASSERT_EQ(irq_count, 1);
	KT_ASSERT_LT(dt, 100 * MS);
}

KTEST(sched, waitq_timeout)
{
	struct sched_waitq q = SCHED_WAITQ_INIT;
	uint64_t t0 = time_now_ns();
	KT_ASSERT_EQ(sched_waitq_wait(&q, t0 + 10 * MS), -SCHED_ETIMEDOUT);
	uint64_t dt = time_now_ns() - t0;
	KT_ASSERT(sched_waitq_empty(&q));
	KT_ASSERT(dt >= 10 * MS);
	KT_ASSERT_LT(dt, 10 * MS + SLEEP_LATE_NS);
}

/* ---- many threads ---- */

#define MANY 1000

static int many_ran;

static void *many_fn(void *arg)
{
	many_ran++;
	sched_yield();
	return (void *)((uintptr_t)arg * 3);
}

KTEST(sched, thousand_threads)
{
	static struct sched_thread *t[MANY];
	struct sched_coop_stats s0, s1;
	sched_coop_get_stats(&s0);
	struct alloc *a = alloc_default();
	size_t avail0 = alloc_availmem(a);
	/* 4 KiB stacks: ~9 KiB a thread with guard page, TLS and struct. Run them in waves if
	 * the image's memory cannot hold all 1000 at once (still 1000 created and joined). */
	size_t per = 3 * 4096;
	size_t wave = avail0 / 2 / per;
	if (wave > MANY)
		wave = MANY;
	KT_ASSERT(wave >= 50);
	struct sched_attr at = {.name = "many", .stack_size = 4096};
	many_ran = 0;
	for (size_t base = 0; base < MANY; base += wave) {
		size_t n = MANY - base < wave ? MANY - base : wave;
		for (size_t i = 0; i < n; i++)
			KT_ASSERT_EQ(sched_thread_create(&t[base + i], &at, many_fn, (void *)(base + i)), 0);
		for (size_t i = 0; i < n; i++) {
			void *r;
			KT_ASSERT_EQ(sched_thread_join(t[base + i], &r), 0);
			KT_ASSERT_EQ((uintptr_t)r, (base + i) * 3);
		}
	}
	KT_ASSERT_EQ(many_ran, MANY);
	sched_coop_get_stats(&s1);
	KT_ASSERT_EQ(s1.threads_live, s0.threads_live);
	/* Everything came back, except page tables split for guard pages (kept for reuse). */
	KT_ASSERT(alloc_availmem(a) + 64 * 4096 >= avail0);
}

/* ---- per-thread storage ---- */

static void *tp_fn(void *arg)
{
	uint64_t *out = arg;
	uint64_t self;
	__asm__ volatile("movq %%fs:0, %0" : "=r"(self));
	out[0] = self;
	sched_yield();
	__asm__ volatile("movq %%fs:0, %0" : "=r"(self));
	out[1] = self;
	return 0;
}

KTEST(sched, thread_pointer_switches_with_thread)
{
	uint64_t a[2], b[2], mine;
	struct sched_thread *ta, *tb;
	KT_ASSERT_EQ(sched_thread_create(&ta, 0, tp_fn, a), 0);
	KT_ASSERT_EQ(sched_thread_create(&tb, 0, tp_fn, b), 0);
	KT_ASSERT_EQ(sched_thread_join(ta, 0), 0);
	KT_ASSERT_EQ(sched_thread_join(tb, 0), 0);
	__asm__ volatile("movq %%fs:0, %0" : "=r"(mine));
	/* %fs:0 is the thread pointer itself (TLS variant II), one per thread, kept across yields. */
	KT_ASSERT(a[0] != 0 && b[0] != 0 && mine != 0);
	KT_ASSERT_EQ(a[0], a[1]);
	KT_ASSERT_EQ(b[0], b[1]);
	KT_ASSERT_NE(a[0], b[0]);
	KT_ASSERT_NE(a[0], mine);
	KT_ASSERT_EQ(a[0] & 15, 0);
}

static __thread int tls_counter = 42;
static __thread char tls_zero[200];

static void *tls_fn(void *arg)
{
	int *ok = arg;
	*ok = tls_counter == 42 && tls_zero[0] == 0 && tls_zero[199] == 0;
	tls_counter += (int)(uintptr_t)ok & 0xff;
	tls_zero[199] = 1;
	int mine = tls_counter;
	sched_yield();
	*ok = *ok && tls_counter == mine && tls_zero[199] == 1;
	return 0;
}

KTEST(sched, thread_local_variables)
{
	int ok1 = 0, ok2 = 0;
	struct sched_thread *a, *b;
	tls_counter = 7;
	KT_ASSERT(sched_coop_tls_size() >= 204);
	KT_ASSERT_EQ(sched_thread_create(&a, 0, tls_fn, &ok1), 0);
	KT_ASSERT_EQ(sched_thread_create(&b, 0, tls_fn, &ok2), 0);
	KT_ASSERT_EQ(sched_thread_join(a, 0), 0);
	KT_ASSERT_EQ(sched_thread_join(b, 0), 0);
	KT_ASSERT(ok1);
	KT_ASSERT(ok2);
	KT_ASSERT_EQ(tls_counter, 7);
}

/* ---- guard pages (the overflow itself is tested by apps/bench-sched "overflow") ---- */

static void *idle_fn(void *arg)
{
	(void)arg;
	return 0;
}

KTEST(sched, stack_has_guard_page)
{
	struct sched_thread *t;
	struct sched_attr a = {.name = "guarded", .stack_size = 8192};
	KT_ASSERT_EQ(sched_thread_create(&t, &a, idle_fn, 0), 0);
	uintptr_t lo, hi;
	sched_coop_stack_bounds(t, &lo, &hi);
	KT_ASSERT_EQ(hi - lo, 8192);
#if CONFIG_SCHED_COOP_GUARD
	KT_ASSERT(mmu_is_guard_page(lo - 4096));
	KT_ASSERT(mmu_is_guard_page(lo - 1));
	KT_ASSERT(!mmu_is_guard_page(lo));
	const char *hint = kiln_fault_hint(lo - 8);
	KT_ASSERT_NOTNULL(hint);
	KT_ASSERT_NULL(kiln_fault_hint(lo));
#endif
	KT_ASSERT_EQ(sched_thread_join(t, 0), 0);
#if CONFIG_SCHED_COOP_GUARD
	/* Freed stacks are mapped again before the allocator gets them back. */
	KT_ASSERT(!mmu_is_guard_page(lo - 4096));
#endif
}

KTEST(mmu, guard_and_unguard)
{
	struct alloc *a = alloc_default();
	char *p = alloc_palloc(a, 2);
	KT_ASSERT_NOTNULL(p);
	p[4096] = 1;
	KT_ASSERT_EQ(mmu_guard_page((uintptr_t)p + 4096), 0);
	KT_ASSERT(mmu_is_guard_page((uintptr_t)p + 4096 + 100));
	KT_ASSERT(!mmu_is_guard_page((uintptr_t)p));
	KT_ASSERT_EQ(mmu_guard_page((uintptr_t)p + 4096), 0); /* idempotent */
	KT_ASSERT_EQ(mmu_guard_page((uintptr_t)p + 1), -22);
	KT_ASSERT_EQ(mmu_unguard_page((uintptr_t)p), -22); /* not a guard page */
	KT_ASSERT_EQ(mmu_unguard_page((uintptr_t)p + 4096), 0);
	KT_ASSERT_EQ(p[4096], 1); /* same frame, contents kept */
	p[4096] = 2;
	alloc_pfree(a, p, 2);
}
