/*
 * sched-coop: the cooperative round-robin scheduler (provides API sched, see <sched/sched.h>).
 * Threads run until they yield, block, sleep or exit; runnable threads run in FIFO order.
 * When none is runnable the idle thread arms the LAPIC one-shot timer for the earliest
 * sleeper and halts; interrupts only post bits, which idle turns into wake-ups (at CPL 3).
 *
 * Each thread has its own stack (a guard page below it unless guard=false), and its own
 * TLS block, x86_64 variant II: the TLS image sits just below the thread pointer, %fs:0
 * holds the thread pointer itself, and the %fs base moves with the thread.
 */
#ifndef SCHED_COOP_COOP_H
#define SCHED_COOP_COOP_H

#include <stddef.h>
#include <stdint.h>
#include <sched/sched.h>

/* The LAPIC vector the idle timer uses (its pending bit is the scheduler's own). */
#define SCHED_COOP_TIMER_VECTOR 32

struct sched_coop_stats {
	uint64_t switches;     /* context switches */
	uint64_t idle_halts;   /* times idle halted the CPU */
	uint64_t timer_arms;   /* LAPIC one-shot programmings */
	uint64_t timer_wakeups;/* sleepers woken by their deadline */
	uint64_t threads_live; /* created and not yet freed (including main and idle) */
};

void sched_coop_get_stats(struct sched_coop_stats *out);

/* Bytes of one thread's TLS block: the linker's TLS image (memsz) rounded up to its
 * alignment, 0 when the image has no TLS. The 64-byte TCB at the thread pointer comes on top.
 * __thread variables work from sched-coop's init (class lib, priority 10) on. */
size_t sched_coop_tls_size(void);

/* Stack bounds [lo, hi) of a thread (the guard page is the 4 KiB below lo). */
void sched_coop_stack_bounds(const struct sched_thread *t, uintptr_t *lo, uintptr_t *hi);

/*
 * If addr is in a thread's stack guard page, a one-line description
 * ("stack overflow: thread 'x' hit the guard page below its stack [lo, hi)"), else NULL.
 * The hook for the fatal page-fault report: boot's kiln_trap_report prints it when boot
 * defines a weak default of the same name (a strong definition here overrides it).
 */
const char *kiln_fault_hint(uint64_t addr);

#endif
