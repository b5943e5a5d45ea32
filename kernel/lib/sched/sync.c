/*
 * Wait queues, mutex, semaphore and condition variable, written against the scheduler API only
 * (block/wake), so every scheduler gets them. No locks: the scheduler is cooperative on one
 * CPU, so nothing runs between two statements here unless we block or yield.
 */
#include <sched/wait.h>
#include <sched/mutex.h>
#include <sched/sem.h>
#include <sched/cond.h>

/* ---- wait queues ---- */

static void waitq_unlink(struct sched_waitq *q, struct sched_waiter *w)
{
	struct sched_waiter **pp = &q->head, *prev = 0;
	while (*pp && *pp != w) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = w->next;
	if (q->tail == w)
		q->tail = prev;
}

/* The waiter lives on this stack frame: it is unlinked (by the waker or by the timeout path
 * below) before we return, which gcc cannot see. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
int sched_waitq_wait(struct sched_waitq *q, uint64_t deadline_ns)
{
	struct sched_waiter w = {sched_current(), 0, 0};
	if (q->tail)
		q->tail->next = &w;
	else
		q->head = &w;
	q->tail = &w;
	while (!w.woken) {
		if (sched_block(deadline_ns) == -SCHED_ETIMEDOUT && !w.woken) {
			waitq_unlink(q, &w);
			return -SCHED_ETIMEDOUT;
		}
	}
	return 0;
}
#pragma GCC diagnostic pop

struct sched_thread *sched_waitq_wake_one(struct sched_waitq *q)
{
	struct sched_waiter *w = q->head;
	if (!w)
		return 0;
	q->head = w->next;
	if (!q->head)
		q->tail = 0;
	w->woken = 1;
	/* w sits on the woken thread's stack: read the thread before it can run and return. */
	struct sched_thread *t = w->thread;
	sched_wake(t);
	return t;
}

int sched_waitq_wake_all(struct sched_waitq *q)
{
	int n = 0;
	while (sched_waitq_wake_one(q))
		n++;
	return n;
}

/* ---- mutex ---- */

void sched_mutex_init(struct sched_mutex *m)
{
	m->owner = 0;
	sched_waitq_init(&m->waiters);
}

int sched_mutex_lock_until(struct sched_mutex *m, uint64_t deadline_ns)
{
	struct sched_thread *self = sched_current();
	if (!m->owner) {
		m->owner = self;
		return 0;
	}
	if (m->owner == self)
		return -SCHED_EDEADLK;
	/* Unlock hands the mutex over (owner = us) before it wakes us. */
	int r = sched_waitq_wait(&m->waiters, deadline_ns);
	return r;
}

int sched_mutex_lock(struct sched_mutex *m)
{
	return sched_mutex_lock_until(m, SCHED_FOREVER);
}

int sched_mutex_trylock(struct sched_mutex *m)
{
	if (m->owner)
		return -SCHED_EBUSY;
	m->owner = sched_current();
	return 0;
}

int sched_mutex_unlock(struct sched_mutex *m)
{
	if (m->owner != sched_current())
		return -SCHED_EINVAL;
	/* FIFO hand-off: the first waiter owns it now, even if we try to relock at once. */
	m->owner = 0;
	struct sched_waiter *w = m->waiters.head;
	if (w)
		m->owner = w->thread;
	sched_waitq_wake_one(&m->waiters);
	return 0;
}

/* ---- semaphore ---- */

void sched_sem_init(struct sched_sem *s, long count)
{
	s->count = count;
	sched_waitq_init(&s->waiters);
}

int sched_sem_down_until(struct sched_sem *s, uint64_t deadline_ns)
{
	if (s->count > 0) {
		s->count--;
		return 0;
	}
	/* up() hands its unit to us directly instead of incrementing count. */
	return sched_waitq_wait(&s->waiters, deadline_ns);
}

void sched_sem_down(struct sched_sem *s)
{
	sched_sem_down_until(s, SCHED_FOREVER);
}

int sched_sem_trydown(struct sched_sem *s)
{
	if (s->count <= 0)
		return -SCHED_EBUSY;
	s->count--;
	return 0;
}

void sched_sem_up(struct sched_sem *s)
{
	if (!sched_waitq_wake_one(&s->waiters))
		s->count++;
}

/* ---- condition variable ---- */

void sched_cond_init(struct sched_cond *c)
{
	sched_waitq_init(&c->waiters);
}

int sched_cond_wait_until(struct sched_cond *c, struct sched_mutex *m, uint64_t deadline_ns)
{
	/*
	 * Unlock only wakes (never switches), so no signal can slip in between the unlock and
	 * queueing ourselves in sched_waitq_wait.
	 */
	if (sched_mutex_unlock(m) != 0)
		return -SCHED_EINVAL;
	int r = sched_waitq_wait(&c->waiters, deadline_ns);
	sched_mutex_lock(m);
	return r;
}

int sched_cond_wait(struct sched_cond *c, struct sched_mutex *m)
{
	return sched_cond_wait_until(c, m, SCHED_FOREVER);
}

void sched_cond_signal(struct sched_cond *c)
{
	sched_waitq_wake_one(&c->waiters);
}

void sched_cond_broadcast(struct sched_cond *c)
{
	sched_waitq_wake_all(&c->waiters);
}
