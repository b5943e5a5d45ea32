/* A counting semaphore; waiters are served in FIFO order (up hands the unit to the first). */
#ifndef SCHED_SEM_H
#define SCHED_SEM_H

#include <sched/wait.h>

struct sched_sem {
	long count;
	struct sched_waitq waiters;
};

void sched_sem_init(struct sched_sem *s, long count);
void sched_sem_down(struct sched_sem *s);
/* 0, or -SCHED_ETIMEDOUT when no unit arrived by the (absolute) deadline. */
int sched_sem_down_until(struct sched_sem *s, uint64_t deadline_ns);
/* 0, or -SCHED_EBUSY when the count is 0. */
int sched_sem_trydown(struct sched_sem *s);
void sched_sem_up(struct sched_sem *s);

#endif
