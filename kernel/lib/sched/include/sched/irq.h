/*
 * Interrupts as scheduler events (ARCHITECTURE.md section 4): the CPL-0 shim only sets a
 * pending bit; the scheduler collects the bits at CPL 3 (after it halted the idle CPU) and
 * runs the handlers attached here, in thread context, where they may wake threads
 * (sched_wake, sched_waitq_wake_one, sched_sem_up ...).
 */
#ifndef SCHED_IRQ_H
#define SCHED_IRQ_H

#include <stdint.h>

#define SCHED_IRQ_VECTOR_FIRST 32
#define SCHED_IRQ_VECTOR_LAST 95

typedef void (*sched_irq_fn)(void *arg, unsigned vector);

/* 0, -SCHED_EINVAL (vector outside 32-95 or fn NULL) or -SCHED_EBUSY (already attached). */
int sched_irq_attach(unsigned vector, sched_irq_fn fn, void *arg);
void sched_irq_detach(unsigned vector);
/* How many vectors have a handler (the idle loop uses it to tell waiting from deadlock). */
int sched_irq_attached_count(void);
/* For scheduler implementations: run the handler of each set bit (bit i = vector 32 + i). */
void sched_irq_dispatch(uint64_t pending);

#endif
