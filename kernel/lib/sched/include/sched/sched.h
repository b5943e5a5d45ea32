/*
 * The scheduler API. A scheduler is a `struct sched` whose `ops` table does the work (as the
 * allocator API), so the cooperative round-robin scheduler (sched-coop) can be swapped for
 * another without its callers knowing. Callers use the sched_* functions below, which go to
 * the default scheduler (set by the implementation's init through sched_set_default).
 *
 * Threads are opaque handles (`struct sched_thread`, defined by the implementation). Every
 * function here is for thread context only: interrupt handlers never call into the scheduler
 * (they only post events; the scheduler picks them up at CPL 3 when it next runs).
 *
 * Errors are negative errno values (Linux numbering, defined here so the API needs no libc).
 */
#ifndef SCHED_SCHED_H
#define SCHED_SCHED_H

#include <stddef.h>
#include <stdint.h>

#define SCHED_ENOMEM 12
#define SCHED_EBUSY 16
#define SCHED_EINVAL 22
#define SCHED_EDEADLK 35
#define SCHED_ETIMEDOUT 110

/* A deadline meaning "never": block without a timeout. */
#define SCHED_FOREVER UINT64_MAX

struct sched_thread;
struct sched;

typedef void *(*sched_entry_fn)(void *arg);

/* Thread creation attributes; a zeroed struct (or NULL) means the defaults. */
struct sched_attr {
	const char *name;  /* kept by pointer; NULL = "thread" */
	size_t stack_size; /* usable bytes, rounded up to 4 KiB; 0 = the scheduler's default */
	int detached;      /* nonzero: resources are freed at exit, the thread cannot be joined */
};

struct sched_ops {
	/* The running thread (never NULL once the scheduler is initialized). */
	struct sched_thread *(*current)(struct sched *s);
	/* Create a runnable thread; it starts at the next switch. 0 or -errno. */
	int (*create)(struct sched *s, struct sched_thread **out, const struct sched_attr *attr,
		      sched_entry_fn fn, void *arg);
	/* Wait for a joinable thread to exit, take its return value, free it. 0 or -errno. */
	int (*join)(struct sched *s, struct sched_thread *t, void **retval);
	/* End the calling thread (returning from its entry function does the same); never
	 * returns (C cannot say _Noreturn on a function pointer). */
	void (*exit)(struct sched *s, void *retval);
	/* Let every other runnable thread run once. */
	void (*yield)(struct sched *s);
	/*
	 * Block the calling thread until wake() is called for it or time_now_ns() >= deadline_ns
	 * (SCHED_FOREVER: no deadline). Returns 0 when woken, -SCHED_ETIMEDOUT at the deadline.
	 * A wake() that arrives while the thread is not blocked is lost (callers keep their own
	 * "woken" flag: see <sched/wait.h>).
	 */
	int (*block)(struct sched *s, uint64_t deadline_ns);
	/* Make a blocked thread runnable; no effect on a thread that is not blocked. */
	void (*wake)(struct sched *s, struct sched_thread *t);
	/* The thread's name (from its attributes). */
	const char *(*name)(struct sched *s, const struct sched_thread *t);
	/* Set the calling thread's %fs base (kept across switches); for libcs with their own TCB. */
	void (*set_fsbase)(struct sched *s, uint64_t base);
};

struct sched {
	const struct sched_ops *ops;
	const char *name;
};

/* ---- the default-scheduler hook ---- */
void sched_set_default(struct sched *s);
/* NULL until an implementation's init has run. */
struct sched *sched_default(void);

/* ---- calling the default scheduler ---- */
int sched_thread_create(struct sched_thread **out, const struct sched_attr *attr, sched_entry_fn fn,
			void *arg);
int sched_thread_join(struct sched_thread *t, void **retval);
_Noreturn void sched_thread_exit(void *retval);
struct sched_thread *sched_current(void);
const char *sched_thread_name(const struct sched_thread *t);
void sched_yield(void);
/* 0 when woken by sched_wake, -SCHED_ETIMEDOUT at the deadline (see sched_ops.block). */
int sched_block(uint64_t deadline_ns);
void sched_wake(struct sched_thread *t);
/* Sleep until time_now_ns() >= deadline_ns (absolute, monotonic since boot). */
void sched_sleep_until(uint64_t deadline_ns);
void sched_sleep_ns(uint64_t ns);
/* The calling thread's %fs base from now on (the scheduler restores it at every switch). */
void sched_set_fsbase(uint64_t base);

#endif
