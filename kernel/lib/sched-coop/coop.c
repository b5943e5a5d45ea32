/*
 * The cooperative round-robin scheduler. One CPU, no preemption: a thread runs until it
 * yields, blocks or exits, so the queues below need no locks (interrupt shims never touch
 * them; they only post bits that the idle thread collects).
 *
 * Queues: the run queue (FIFO), the sleep queue (blocked threads with a deadline, sorted by
 * deadline) and the list of all threads (for stack-overflow reports). The running thread is
 * on none of the first two. The idle thread is never queued: it runs when the run queue is
 * empty, arms the LAPIC one-shot timer for the earliest sleeper and halts.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <alloc/alloc.h>
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/trap.h>
#include <boot/boot.h>
#include <boot/init.h>
#include <mmu/mmu.h>
#include <plat/lapic.h>
#include <sched/irq.h>
#include <sched/sched.h>
#include <sched-coop/coop.h>
#include <time/time.h>

#define PAGE 4096u
/* Room at the thread pointer: %fs:0 = self; gcc's stack protector reads %fs:0x28. */
#define TCB_SIZE 64u

enum { T_RUNNING, T_RUNNABLE, T_BLOCKED, T_EXITED };

struct sched_thread {
	uint64_t sp;     /* saved rsp while switched out (switch.S) */
	uint64_t fsbase; /* the thread pointer (TLS variant II), loaded at every switch in */
	struct sched_thread *next;               /* run queue / reap list */
	struct sched_thread *sprev, *snext;      /* sleep queue */
	struct sched_thread *aprev, *anext;      /* all threads */
	uint64_t deadline;                       /* valid while in_sleepq */
	int state;
	int in_sleepq;
	int timed_out; /* the last block ended at its deadline */
	int detached;
	struct sched_thread *joiner;
	void *retval;
	sched_entry_fn fn;
	void *arg;
	const char *name;
	uintptr_t stack_lo, stack_hi; /* usable stack; the guard page is just below stack_lo */
	void *stack_mem;              /* NULL for the boot thread */
	size_t stack_pages;           /* including the guard page */
	int guarded;
	void *tls_mem;
};

void sched_coop_switch(uint64_t *save_sp, uint64_t new_sp);
void sched_coop_thread_start(void);
_Noreturn void sched_coop_thread_main(struct sched_thread *t);

static struct sched coop_sched;
static struct alloc *heap;
static struct sched_thread *cur, *idle_thread, *main_thread;
static struct sched_thread *runq_head, *runq_tail;
static struct sched_thread *sleep_head;
static struct sched_thread *all_head;
static struct sched_thread *reap_head;
static struct sched_coop_stats stats;

/* ---- TLS image (x86_64 variant II) ----
 * The linker script marks the image: _kiln_tls_start.._kiln_tdata_end is initialized
 * (.tdata), up to _kiln_tls_end is zeroed (.tbss), _kiln_tls_align is the PT_TLS alignment.
 * The linker places variable v at %fs:(offset_in_image(v) - round_up(memsz, align)), so each
 * thread's block must be exactly that size and end at the (aligned) thread pointer. An image
 * without __thread variables has an empty block and every thread gets only its TCB. */
extern char _kiln_tls_start[], _kiln_tdata_end[], _kiln_tls_end[], _kiln_tls_align[];

static size_t tls_block, tls_align, tdata_len;

static void tls_layout(void)
{
	uintptr_t start = (uintptr_t)_kiln_tls_start, end = (uintptr_t)_kiln_tls_end;
	uintptr_t align = (uintptr_t)_kiln_tls_align; /* an absolute symbol: its value is the alignment */
	if (end <= start) {
		tls_block = 0;
		tls_align = 16;
		return;
	}
	if (!align || (align & (align - 1)))
		align = 16;
	tdata_len = (uintptr_t)_kiln_tdata_end - start;
	tls_block = ((end - start) + align - 1) & ~(align - 1);
	tls_align = align < 16 ? 16 : align;
}

size_t sched_coop_tls_size(void)
{
	return tls_block;
}

/* Allocates the TLS block + TCB; returns the thread pointer, 0 on failure. */
static uint64_t tls_new(struct sched_thread *t)
{
	void *mem;
	size_t size = tls_block + tls_align + TCB_SIZE;
	if (alloc_memalign(heap, &mem, tls_align, size) != 0)
		return 0;
	/* The TP must be aligned like the block: block start + tls_block, rounded up. */
	uintptr_t tp = ((uintptr_t)mem + tls_block + tls_align - 1) & ~(uintptr_t)(tls_align - 1);
	char *block = (char *)(tp - tls_block);
	if (tls_block) {
		memcpy(block, _kiln_tls_start, tdata_len);
		memset(block + tdata_len, 0, tls_block - tdata_len);
	}
	memset((void *)tp, 0, TCB_SIZE);
	*(uintptr_t *)tp = tp;
	t->tls_mem = mem;
	return tp;
}

/* ---- queues ---- */

static inline void runq_push(struct sched_thread *t)
{
	t->next = 0;
	if (runq_tail)
		runq_tail->next = t;
	else
		runq_head = t;
	runq_tail = t;
}

static inline struct sched_thread *runq_pop(void)
{
	struct sched_thread *t = runq_head;
	if (t) {
		runq_head = t->next;
		if (!runq_head)
			runq_tail = 0;
	}
	return t;
}

static void sleepq_insert(struct sched_thread *t, uint64_t deadline)
{
	t->deadline = deadline;
	t->in_sleepq = 1;
	struct sched_thread *prev = 0, *p = sleep_head;
	/* Equal deadlines keep their order (FIFO), so sleepers woken together run in order. */
	while (p && p->deadline <= deadline) {
		prev = p;
		p = p->snext;
	}
	t->sprev = prev;
	t->snext = p;
	if (p)
		p->sprev = t;
	if (prev)
		prev->snext = t;
	else
		sleep_head = t;
}

static void sleepq_remove(struct sched_thread *t)
{
	if (t->sprev)
		t->sprev->snext = t->snext;
	else
		sleep_head = t->snext;
	if (t->snext)
		t->snext->sprev = t->sprev;
	t->sprev = t->snext = 0;
	t->in_sleepq = 0;
}

/* Make every sleeper whose deadline has passed runnable (deadline order = run order). */
static void wake_due(uint64_t now)
{
	while (sleep_head && sleep_head->deadline <= now) {
		struct sched_thread *t = sleep_head;
		sleepq_remove(t);
		t->timed_out = 1;
		t->state = T_RUNNABLE;
		runq_push(t);
		stats.timer_wakeups++;
	}
}

static void all_add(struct sched_thread *t)
{
	t->aprev = 0;
	t->anext = all_head;
	if (all_head)
		all_head->aprev = t;
	all_head = t;
	stats.threads_live++;
}

static void all_remove(struct sched_thread *t)
{
	if (t->aprev)
		t->aprev->anext = t->anext;
	else
		all_head = t->anext;
	if (t->anext)
		t->anext->aprev = t->aprev;
	stats.threads_live--;
}

/* ---- thread memory ---- */

static void thread_free(struct sched_thread *t)
{
	all_remove(t);
	if (t->stack_mem) {
		/* The allocator may write into the pages once they are free: map the guard again. */
		if (t->guarded)
			mmu_unguard_page((uintptr_t)t->stack_mem);
		alloc_pfree(heap, t->stack_mem, t->stack_pages);
	}
	alloc_free(heap, t->tls_mem);
	alloc_free(heap, t);
}

/* A thread with its stack, guard page and TLS, not yet queued. 0 or -errno. */
static int thread_new(struct sched_thread **out, const struct sched_attr *attr, sched_entry_fn fn,
		      void *arg)
{
	size_t size = attr && attr->stack_size ? attr->stack_size : CONFIG_SCHED_COOP_STACK_SIZE;
	if (size > ((size_t)1 << 30))
		return -SCHED_EINVAL;
	size_t pages = (size + PAGE - 1) / PAGE;
	int guard = CONFIG_SCHED_COOP_GUARD;

	struct sched_thread *t = alloc_calloc(heap, 1, sizeof *t);
	if (!t)
		return -SCHED_ENOMEM;
	t->name = attr && attr->name ? attr->name : "thread";
	t->detached = attr ? attr->detached : 0;
	t->fn = fn;
	t->arg = arg;
	t->fsbase = tls_new(t);
	if (!t->fsbase) {
		alloc_free(heap, t);
		return -SCHED_ENOMEM;
	}
	t->stack_pages = pages + (guard ? 1 : 0);
	t->stack_mem = alloc_palloc(heap, t->stack_pages);
	if (!t->stack_mem) {
		alloc_free(heap, t->tls_mem);
		alloc_free(heap, t);
		return -SCHED_ENOMEM;
	}
	t->stack_lo = (uintptr_t)t->stack_mem + (guard ? PAGE : 0);
	t->stack_hi = t->stack_lo + pages * PAGE;
	if (guard) {
		int r = mmu_guard_page((uintptr_t)t->stack_mem);
		if (r) {
			alloc_pfree(heap, t->stack_mem, t->stack_pages);
			alloc_free(heap, t->tls_mem);
			alloc_free(heap, t);
			return r;
		}
		t->guarded = 1;
	}

	/* The frame sched_coop_switch pops: r15 r14 r13 r12(= t) rbx rbp(= 0), then "returns"
	 * into sched_coop_thread_start. */
	uint64_t *sp = (uint64_t *)t->stack_hi;
	*--sp = 0;
	*--sp = (uint64_t)(uintptr_t)sched_coop_thread_start;
	*--sp = 0;                      /* rbp */
	*--sp = 0;                      /* rbx */
	*--sp = (uint64_t)(uintptr_t)t; /* r12 */
	*--sp = 0;                      /* r13 */
	*--sp = 0;                      /* r14 */
	*--sp = 0;                      /* r15 */
	t->sp = (uint64_t)(uintptr_t)sp;
	t->state = T_RUNNABLE;
	all_add(t);
	*out = t;
	return 0;
}

/* ---- switching ---- */

static void reap(void)
{
	while (reap_head) {
		struct sched_thread *t = reap_head;
		reap_head = t->next;
		thread_free(t);
	}
}

static inline void switch_to(struct sched_thread *next)
{
	struct sched_thread *prev = cur;
	cur = next;
	next->state = T_RUNNING;
	if (next->fsbase != prev->fsbase)
		arch_set_fsbase(next->fsbase);
	stats.switches++;
	sched_coop_switch(&prev->sp, next->sp);
	/* Back in prev. A detached thread that exited cannot free its own stack: we do it. */
	if (__builtin_expect(reap_head != 0, 0))
		reap();
}

/* The caller (cur) is already queued, blocked or exited: run the next runnable thread. */
static void schedule(void)
{
	if (sleep_head)
		wake_due(time_now_ns());
	struct sched_thread *next = runq_pop();
	if (!next)
		next = idle_thread;
	if (next != cur)
		switch_to(next);
	else
		cur->state = T_RUNNING;
}

static _Noreturn void coop_exit(struct sched *s, void *retval);

_Noreturn void sched_coop_thread_main(struct sched_thread *t)
{
	if (reap_head)
		reap();
	void *r = t->fn(t->arg);
	coop_exit(&coop_sched, r);
}

/* ---- the idle thread and its timer ---- */

static void timer_arm(uint64_t deadline)
{
	/* Calibrate first (once, ~1 ms) so its time is not taken from this sleep. */
	uint64_t per_ms = plat_lapic_timer_ticks_per_ms(time_tsc_khz());
	uint64_t now = time_now_ns();
	uint64_t delta = deadline > now ? deadline - now : 0;
	unsigned __int128 ticks = ((unsigned __int128)delta * per_ms + 999999) / 1000000;
	/* A timer that fires early only costs one more round of this loop. */
	if (ticks > 0xffffffffu)
		ticks = 0xffffffffu;
	if (ticks == 0)
		ticks = 1;
	plat_lapic_timer_arm(SCHED_COOP_TIMER_VECTOR, (uint32_t)ticks);
	stats.timer_arms++;
}

#define TIMER_BIT (1ull << (SCHED_COOP_TIMER_VECTOR - ARCH_IRQ_VECTOR_FIRST))

static void *idle_main(void *arg)
{
	(void)arg;
	for (;;) {
		if (sleep_head)
			wake_due(time_now_ns());
		struct sched_thread *next = runq_pop();
		if (next) {
			switch_to(next);
			continue;
		}
		if (sleep_head)
			timer_arm(sleep_head->deadline);
		else if (!sched_irq_attached_count())
			kiln_panic("sched: deadlock: every thread is blocked without a timeout and no "
				   "interrupt handler is attached to wake one");
		stats.idle_halts++;
		/* IF is 0 at CPL 3, so an interrupt that is already due waits for the sti; hlt. */
		arch_idle_halt();
		/* The timer's bit needs no handler: wake_due compares deadlines with the clock, so
		 * a lost, early or stale timer interrupt is harmless. */
		sched_irq_dispatch(arch_irq_take_pending() & ~TIMER_BIT);
	}
	return 0;
}

/* ---- the ops ---- */

static struct sched_thread *coop_current(struct sched *s)
{
	(void)s;
	return cur;
}

static int coop_create(struct sched *s, struct sched_thread **out, const struct sched_attr *attr,
		       sched_entry_fn fn, void *arg)
{
	(void)s;
	if (!fn)
		return -SCHED_EINVAL;
	struct sched_thread *t;
	int r = thread_new(&t, attr, fn, arg);
	if (r)
		return r;
	runq_push(t);
	if (out)
		*out = t;
	return 0;
}

static int coop_block(struct sched *s, uint64_t deadline_ns);
static void coop_wake(struct sched *s, struct sched_thread *t);

static int coop_join(struct sched *s, struct sched_thread *t, void **retval)
{
	if (!t || t == idle_thread || t == main_thread || t->detached || (t->joiner && t->joiner != cur))
		return -SCHED_EINVAL;
	if (t == cur)
		return -SCHED_EDEADLK;
	while (t->state != T_EXITED) {
		t->joiner = cur;
		coop_block(s, SCHED_FOREVER);
	}
	if (retval)
		*retval = t->retval;
	thread_free(t);
	return 0;
}

static _Noreturn void coop_exit(struct sched *s, void *retval)
{
	struct sched_thread *t = cur;
	if (t == main_thread)
		kiln_panic("sched: the main thread cannot exit; return from main instead");
	if (t == idle_thread)
		kiln_panic("sched: an interrupt handler called sched_thread_exit");
	t->retval = retval;
	t->state = T_EXITED;
	if (t->detached) {
		t->next = reap_head;
		reap_head = t;
	} else if (t->joiner) {
		coop_wake(s, t->joiner);
	}
	schedule();
	kiln_panic("sched: an exited thread was scheduled again");
}

static void coop_yield(struct sched *s)
{
	(void)s;
	if (sleep_head)
		wake_due(time_now_ns());
	if (!runq_head || cur == idle_thread)
		return;
	struct sched_thread *next = runq_pop();
	cur->state = T_RUNNABLE;
	runq_push(cur);
	switch_to(next);
}

static int coop_block(struct sched *s, uint64_t deadline_ns)
{
	(void)s;
	struct sched_thread *t = cur;
	if (t == idle_thread)
		kiln_panic("sched: an interrupt handler tried to block (they run on the idle thread)");
	t->state = T_BLOCKED;
	t->timed_out = 0;
	if (deadline_ns != SCHED_FOREVER)
		sleepq_insert(t, deadline_ns);
	schedule();
	return t->timed_out ? -SCHED_ETIMEDOUT : 0;
}

static void coop_wake(struct sched *s, struct sched_thread *t)
{
	(void)s;
	if (!t || t->state != T_BLOCKED)
		return;
	if (t->in_sleepq)
		sleepq_remove(t);
	t->state = T_RUNNABLE;
	runq_push(t);
}

static const char *coop_name(struct sched *s, const struct sched_thread *t)
{
	(void)s;
	return t ? t->name : "?";
}

static void coop_set_fsbase(struct sched *s, uint64_t base)
{
	(void)s;
	cur->fsbase = base;
	arch_set_fsbase(base);
}

static const struct sched_ops coop_ops = {
	.current = coop_current,
	.create = coop_create,
	.join = coop_join,
	.exit = coop_exit,
	.yield = coop_yield,
	.block = coop_block,
	.wake = coop_wake,
	.name = coop_name,
	.set_fsbase = coop_set_fsbase,
};

/* ---- introspection ---- */

void sched_coop_get_stats(struct sched_coop_stats *out)
{
	*out = stats;
}

void sched_coop_stack_bounds(const struct sched_thread *t, uintptr_t *lo, uintptr_t *hi)
{
	*lo = t->stack_lo;
	*hi = t->stack_hi;
}

static char *put(char *p, char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

static char *put_hex(char *p, char *end, uint64_t v)
{
	p = put(p, end, "0x");
	for (int sh = 60; sh >= 0; sh -= 4)
		if (p < end)
			*p++ = "0123456789abcdef"[(v >> sh) & 15];
	return p;
}

const char *kiln_fault_hint(uint64_t addr)
{
	static char msg[160];
	for (struct sched_thread *t = all_head; t; t = t->anext) {
		if (addr >= t->stack_lo - PAGE && addr < t->stack_lo) {
			char *p = msg, *end = msg + sizeof msg - 1;
			p = put(p, end, "stack overflow: thread '");
			p = put(p, end, t->name);
			p = put(p, end, "' hit the guard page below its stack [");
			p = put_hex(p, end, t->stack_lo);
			p = put(p, end, ", ");
			p = put_hex(p, end, t->stack_hi);
			p = put(p, end, ")");
			*p = 0;
			return msg;
		}
	}
	return 0;
}

/* ---- init: the boot thread becomes "main", plus the idle thread ---- */

static int sched_coop_init(void)
{
	heap = alloc_default();
	if (!heap)
		return -SCHED_ENOMEM; /* no allocator initialized: select one (alloc-tlsf) */
	tls_layout();

	main_thread = alloc_calloc(heap, 1, sizeof *main_thread);
	if (!main_thread)
		return -SCHED_ENOMEM;
	main_thread->name = "main";
	main_thread->state = T_RUNNING;
	arch_boot_stack_bounds(&main_thread->stack_lo, &main_thread->stack_hi);
	main_thread->fsbase = tls_new(main_thread);
	if (!main_thread->fsbase)
		return -SCHED_ENOMEM;
	all_add(main_thread);
	cur = main_thread;
	arch_set_fsbase(main_thread->fsbase);

	/* Interrupt handlers run on idle's stack, so it gets a full one. */
	struct sched_attr ia = {.name = "idle", .stack_size = 0, .detached = 0};
	int r = thread_new(&idle_thread, &ia, idle_main, 0);
	if (r)
		return r;

	coop_sched.ops = &coop_ops;
	coop_sched.name = "sched-coop";
	sched_set_default(&coop_sched);
	return 0;
}
/* Class lib: after the allocator (plat) and before anything that creates threads. */
KILN_INIT(lib, 10, sched_coop_init);
