/*
 * Condition variables over sched_mutex. As with POSIX, wake-ups may be spurious from the
 * caller's point of view (another thread may have changed the state first): wait in a loop.
 */
#ifndef SCHED_COND_H
#define SCHED_COND_H

#include <sched/mutex.h>

struct sched_cond {
	struct sched_waitq waiters;
};

#define SCHED_COND_INIT {SCHED_WAITQ_INIT}

void sched_cond_init(struct sched_cond *c);
/* Unlock m, wait for a signal, relock m. 0, or -SCHED_EINVAL when the caller does not hold m. */
int sched_cond_wait(struct sched_cond *c, struct sched_mutex *m);
/* As sched_cond_wait, -SCHED_ETIMEDOUT at the (absolute) deadline; m is held again either way. */
int sched_cond_wait_until(struct sched_cond *c, struct sched_mutex *m, uint64_t deadline_ns);
void sched_cond_signal(struct sched_cond *c);
void sched_cond_broadcast(struct sched_cond *c);

#endif
