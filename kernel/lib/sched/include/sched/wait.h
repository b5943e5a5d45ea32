/*
 * Wait queues: a FIFO of blocked threads. Each waiter lives on its waiting thread's stack, so
 * queues need no allocation and do not care how the scheduler lays out its threads. There is
 * no locking: the scheduler is cooperative on one CPU and interrupt handlers never touch a
 * queue, so a thread cannot be preempted between checking a condition and queueing itself.
 */
#ifndef SCHED_WAIT_H
#define SCHED_WAIT_H

#include <sched/sched.h>

struct sched_waiter {
	struct sched_thread *thread;
	struct sched_waiter *next;
	int woken; /* set by the waker, which also unlinks the waiter */
};

struct sched_waitq {
	struct sched_waiter *head;
	struct sched_waiter *tail;
};

#define SCHED_WAITQ_INIT {0, 0}

static inline void sched_waitq_init(struct sched_waitq *q)
{
	q->head = q->tail = 0;
}

static inline int sched_waitq_empty(const struct sched_waitq *q)
{
	return q->head == 0;
}

/*
 * Queue the calling thread and block until woken (0) or time_now_ns() >= deadline_ns
 * (-SCHED_ETIMEDOUT; SCHED_FOREVER waits forever). A wake that races with the timeout wins:
 * once a waker has taken the waiter, the result is 0.
 */
int sched_waitq_wait(struct sched_waitq *q, uint64_t deadline_ns);
/* Wake the longest waiting thread; returns it, or NULL when the queue is empty. */
struct sched_thread *sched_waitq_wake_one(struct sched_waitq *q);
/* Wake every waiting thread; returns how many. */
int sched_waitq_wake_all(struct sched_waitq *q);

#endif
