/*
 * A sleeping mutex with FIFO hand-off: unlock gives the mutex straight to the longest waiting
 * thread, so a thread that unlocks and relocks at once cannot starve the others (fairness).
 * Not recursive: locking a mutex the caller already holds returns -SCHED_EDEADLK.
 */
#ifndef SCHED_MUTEX_H
#define SCHED_MUTEX_H

#include <sched/wait.h>

struct sched_mutex {
	struct sched_thread *owner; /* NULL when free */
	struct sched_waitq waiters;
};

#define SCHED_MUTEX_INIT {0, SCHED_WAITQ_INIT}

void sched_mutex_init(struct sched_mutex *m);
/* 0, or -SCHED_EDEADLK when the caller already holds it. */
int sched_mutex_lock(struct sched_mutex *m);
/* 0, -SCHED_ETIMEDOUT at the (absolute) deadline, or -SCHED_EDEADLK. */
int sched_mutex_lock_until(struct sched_mutex *m, uint64_t deadline_ns);
/* 0, or -SCHED_EBUSY when someone holds it. */
int sched_mutex_trylock(struct sched_mutex *m);
/* 0, or -SCHED_EINVAL when the caller does not hold it. */
int sched_mutex_unlock(struct sched_mutex *m);

#endif
