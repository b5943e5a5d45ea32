/* Guest tests of the sync primitives (library sched) running on sched-coop. */
#include <stddef.h>
#include <stdint.h>
#include <sched/cond.h>
#include <sched/mutex.h>
#include <sched/sched.h>
#include <sched/sem.h>
#include <sched/wait.h>
#include <test/test.h>
#include <time/time.h>

#define MS 1000000ull

/* ---- mutex ---- */

#define FAIR_THREADS 3
#define FAIR_ROUNDS 50

static struct sched_mutex fair_m = SCHED_MUTEX_INIT;
static int fair_log[FAIR_THREADS * FAIR_ROUNDS];
static int fair_n;
static int in_critical;
static int overlap;

static void *fair_fn(void *arg)
{
	int id = (int)(uintptr_t)arg;
	for (int i = 0; i < FAIR_ROUNDS; i++) {
		sched_mutex_lock(&fair_m);
		if (in_critical++)
			overlap = 1;
		fair_log[fair_n++] = id;
		sched_yield(); /* the others queue up on the mutex meanwhile */
		in_critical--;
		sched_mutex_unlock(&fair_m);
		/* No yield here: a barging mutex would let us take it again at once. */
	}
	return 0;
}

KTEST(sync, mutex_fair_fifo_handoff)
{
	struct sched_thread *t[FAIR_THREADS];
	fair_n = 0;
	overlap = 0;
	for (int i = 0; i < FAIR_THREADS; i++)
		KT_ASSERT_EQ(sched_thread_create(&t[i], 0, fair_fn, (void *)(uintptr_t)i), 0);
	for (int i = 0; i < FAIR_THREADS; i++)
		KT_ASSERT_EQ(sched_thread_join(t[i], 0), 0);
	KT_ASSERT_EQ(overlap, 0);
	KT_ASSERT_EQ(fair_n, FAIR_THREADS * FAIR_ROUNDS);
	/* Strict turns: 0 1 2 0 1 2 ... */
	for (int i = 0; i < fair_n; i++)
		KT_ASSERT_EQ(fair_log[i], i % FAIR_THREADS);
}

static void *hold_fn(void *arg)
{
	struct sched_mutex *m = arg;
	sched_mutex_lock(m);
	sched_sleep_ns(20 * MS);
	sched_mutex_unlock(m);
	return 0;
}

KTEST(sync, mutex_errors_and_timeout)
{
	struct sched_mutex m;
	sched_mutex_init(&m);
	KT_ASSERT_EQ(sched_mutex_unlock(&m), -SCHED_EINVAL);
	KT_ASSERT_EQ(sched_mutex_trylock(&m), 0);
	KT_ASSERT_EQ(sched_mutex_lock(&m), -SCHED_EDEADLK);
	KT_ASSERT_EQ(sched_mutex_unlock(&m), 0);

	struct sched_thread *t;
	KT_ASSERT_EQ(sched_thread_create(&t, 0, hold_fn, &m), 0);
	sched_yield(); /* it takes the mutex and sleeps */
	KT_ASSERT_EQ(sched_mutex_trylock(&m), -SCHED_EBUSY);
	uint64_t t0 = time_now_ns();
	KT_ASSERT_EQ(sched_mutex_lock_until(&m, t0 + 5 * MS), -SCHED_ETIMEDOUT);
	KT_ASSERT(time_now_ns() - t0 >= 5 * MS);
	KT_ASSERT(sched_waitq_empty(&m.waiters));
	KT_ASSERT_EQ(sched_mutex_lock(&m), 0); /* handed over when the holder wakes */
	KT_ASSERT(time_now_ns() - t0 >= 15 * MS);
	KT_ASSERT_EQ(sched_mutex_unlock(&m), 0);
	KT_ASSERT_EQ(sched_thread_join(t, 0), 0);
}

/* ---- semaphore ---- */

static struct sched_sem items;
static int produced[20], consumed[20];
static int n_prod, n_cons;

static void *consumer_fn(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20; i++) {
		sched_sem_down(&items);
		consumed[n_cons] = produced[n_cons];
		n_cons++;
	}
	return 0;
}

KTEST(sync, semaphore_producer_consumer)
{
	sched_sem_init(&items, 0);
	n_prod = n_cons = 0;
	struct sched_thread *c;
	KT_ASSERT_EQ(sched_thread_create(&c, 0, consumer_fn, 0), 0);
	for (int i = 0; i < 20; i++) {
		produced[n_prod++] = i * 7;
		sched_sem_up(&items);
		if (i % 3 == 0)
			sched_yield();
	}
	KT_ASSERT_EQ(sched_thread_join(c, 0), 0);
	KT_ASSERT_EQ(n_cons, 20);
	for (int i = 0; i < 20; i++)
		KT_ASSERT_EQ(consumed[i], i * 7);
	KT_ASSERT_EQ(items.count, 0);

	KT_ASSERT_EQ(sched_sem_trydown(&items), -SCHED_EBUSY);
	uint64_t t0 = time_now_ns();
	KT_ASSERT_EQ(sched_sem_down_until(&items, t0 + 5 * MS), -SCHED_ETIMEDOUT);
	KT_ASSERT(time_now_ns() - t0 >= 5 * MS);
	sched_sem_up(&items);
	KT_ASSERT_EQ(sched_sem_trydown(&items), 0);
}

/* ---- condition variable ---- */

static struct sched_mutex cv_m = SCHED_MUTEX_INIT;
static struct sched_cond cv = SCHED_COND_INIT;
static int cv_ready, cv_woke, cv_waiting;

static void *cv_waiter(void *arg)
{
	(void)arg;
	sched_mutex_lock(&cv_m);
	cv_waiting++; /* then straight into the wait: nothing in between yields */
	while (!cv_ready)
		sched_cond_wait(&cv, &cv_m);
	cv_woke++;
	sched_mutex_unlock(&cv_m);
	return 0;
}

KTEST(sync, cond_signal_and_broadcast)
{
	struct sched_thread *t[4];
	cv_ready = cv_woke = cv_waiting = 0;
	for (int i = 0; i < 4; i++)
		KT_ASSERT_EQ(sched_thread_create(&t[i], 0, cv_waiter, 0), 0);
	/* Wait on the count, not on time: a slow host (TCG under load) can stretch any sleep. */
	for (int i = 0; i < 1000 && cv_waiting < 4; i++)
		sched_yield();
	KT_ASSERT_EQ(cv_waiting, 4);
	KT_ASSERT_EQ(cv_woke, 0);

	sched_mutex_lock(&cv_m);
	cv_ready = 1;
	sched_cond_signal(&cv);
	sched_mutex_unlock(&cv_m);
	for (int i = 0; i < 1000 && cv_woke < 1; i++)
		sched_yield();
	for (int i = 0; i < 20; i++)
		sched_yield(); /* time for a wrongly woken waiter to show itself */
	KT_ASSERT_EQ(cv_woke, 1); /* signal wakes exactly one */

	sched_mutex_lock(&cv_m);
	sched_cond_broadcast(&cv);
	sched_mutex_unlock(&cv_m);
	for (int i = 0; i < 4; i++)
		KT_ASSERT_EQ(sched_thread_join(t[i], 0), 0);
	KT_ASSERT_EQ(cv_woke, 4);

	/* Timed wait: times out with the mutex held again. */
	sched_mutex_lock(&cv_m);
	uint64_t t0 = time_now_ns();
	KT_ASSERT_EQ(sched_cond_wait_until(&cv, &cv_m, t0 + 5 * MS), -SCHED_ETIMEDOUT);
	KT_ASSERT(cv_m.owner == sched_current());
	KT_ASSERT(time_now_ns() - t0 >= 5 * MS);
	sched_mutex_unlock(&cv_m);
}
