/* Threads of the one process, as musl's pthread_create makes them: each clone(CLONE_THREAD...)
 * child is a detached thread of the scheduler (sched-coop: cooperative, one CPU), tid 2, 3, ...
 * (the first thread is the process, tid = pid = 1).
 *
 * How a child starts (the delicate part). Linux returns from clone twice: in the parent with
 * the tid, in the child with rax = 0, rsp = the new stack and every other register as the
 * caller had it. Here the syscall is a function call on the caller's own stack (the stubs
 * kiln_syscall_cpl3 / kiln_syscall_fast, then kiln_syscall_dispatch), so the child cannot
 * return through that path: it is a new scheduler thread whose entry function jumps straight
 * into the app at the instruction after the syscall (posix_thread_enter, enter.S) with a
 * register set captured from the parent's call:
 *   - rdi rsi rdx r10 r8 r9: the syscall's six arguments (the handler's a1..a6, unchanged);
 *   - rbx r12-r15: live in the registers on entry to the handler (enter.S: the dispatcher
 *     tail-calls and the stubs leave them alone);
 *   - rbp and the return address: in the stub's frame, found from the stub's frame pointer
 *     with the layout of whichever stub it is (told apart by the return address into it:
 *     kiln_syscall_cpl3_ret / kiln_syscall_fast_ret). Anything else refuses the clone;
 *   - rsp = the new stack, rax = 0, rcx = rip and r11 = rflags (what `syscall` leaves), and
 *     the FS base = the TLS argument (CLONE_SETTLS) or the parent's.
 * From then on the child's syscalls run on its own (app) stack; a block or switch saves its
 * rsp there. The scheduler's own stack for the thread (one page) only runs the entry function.
 *
 * Exit: `exit` (60) ends the calling thread: CLONE_CHILD_CLEARTID / set_tid_address's word is
 * set to 0 and futex-woken (pthread_join waits on it), then the scheduler thread exits (and is
 * reaped). The last thread's exit ends the process with its status; the first thread exiting
 * while others run waits for them. exit_group (231) ends the process at once. */
#include <alloc/alloc.h>
#include <arch/cpu.h>
#include <boot/boot.h>
#include <console/console.h>
#include <posix-thread/futex.h>
#include <sched/sched.h>
#include <syscall/syscall.h>

#define PID 1

#define CLONE_VM_K 0x100
#define CLONE_FS_K 0x200
#define CLONE_FILES_K 0x400
#define CLONE_SIGHAND_K 0x800
#define CLONE_THREAD_K 0x10000
#define CLONE_SYSVSEM_K 0x40000
#define CLONE_SETTLS_K 0x80000
#define CLONE_PARENT_SETTID_K 0x100000
#define CLONE_CHILD_CLEARTID_K 0x200000
#define CLONE_DETACHED_K 0x400000 /* ignored by Linux */
#define CLONE_CHILD_SETTID_K 0x1000000
#define CLONE_THREAD_SET                                                                           \
	(CLONE_VM_K | CLONE_FS_K | CLONE_FILES_K | CLONE_SIGHAND_K | CLONE_THREAD_K | CLONE_SYSVSEM_K)
#define CLONE_THREAD_OPTIONAL                                                                      \
	(CLONE_SETTLS_K | CLONE_PARENT_SETTID_K | CLONE_CHILD_CLEARTID_K | CLONE_CHILD_SETTID_K |   \
	 CLONE_DETACHED_K)

/* The child's registers; offsets used by enter.S. */
struct posix_uregs {
	uint64_t rbx, r12, r13, r14, r15, rbp, rip, rsi, rdx, r10, r8, r9, rsp, rdi;
};
_Static_assert(sizeof(struct posix_uregs) == 112, "enter.S uses these offsets");

/* Written by posix_thread_sys_clone (enter.S) just before the C handler runs. */
struct entry_regs {
	uint64_t rbx, r12, r13, r14, r15, stub_rbp, ret;
};
struct entry_regs posix_thread_entry_regs;
long posix_thread_sys_clone(SYSCALL_ARGS);
long posix_thread_clone(SYSCALL_ARGS);
_Noreturn void posix_thread_enter(const struct posix_uregs *r);

/* The stubs' return addresses (weak: fast.S is left out when the fast path is off). */
extern const char kiln_syscall_cpl3_ret[] __attribute__((weak));
extern const char kiln_syscall_fast_ret[] __attribute__((weak));

struct uthread {
	struct sched_thread *thread; /* NULL for the first thread until it is looked up */
	int tid;
	uint32_t *clear_tid; /* set_tid_address / CLONE_CHILD_CLEARTID */
	uint64_t robust_list;
	struct posix_uregs start;
	uint64_t fsbase;
	struct uthread *next;
};

static struct uthread first = {0, PID, 0, 0, {0}, 0, 0};
static struct uthread *children; /* the clone()d threads alive */
static int next_tid = PID + 1;
static int first_exited, live_children;

/* The calling thread's record. Scheduler threads the app did not clone (a driver's, say) share
 * the first thread's: they are the process as far as the app can tell. */
static struct uthread *self(void)
{
	struct sched_thread *t = sched_current();
	for (struct uthread *u = children; u; u = u->next)
		if (u->thread == t)
			return u;
	return &first;
}

static void *child_main(void *arg)
{
	struct uthread *u = arg;
	sched_set_fsbase(u->fsbase);
	posix_thread_enter(&u->start);
}

long posix_thread_clone(SYSCALL_ARGS)
{
	struct entry_regs e = posix_thread_entry_regs;
	uint64_t flags = (uint64_t)a1;
	/* What Linux itself refuses, then what Kiln does not do (no fork, no vfork, no other
	 * address space): -ENOSYS, so musl's posix_spawn/fork report it plainly. */
	if ((flags & CLONE_THREAD_K) && !(flags & CLONE_SIGHAND_K))
		return -SYS_EINVAL;
	if ((flags & CLONE_SIGHAND_K) && !(flags & CLONE_VM_K))
		return -SYS_EINVAL;
	if ((flags & CLONE_THREAD_SET) != CLONE_THREAD_SET ||
	    (flags & ~(uint64_t)(CLONE_THREAD_SET | CLONE_THREAD_OPTIONAL)))
		return -SYS_ENOSYS;
	if (!a2 || ((uint64_t)a2 >> 47))
		return -SYS_EINVAL; /* a thread needs its own stack */
	if ((flags & CLONE_SETTLS_K) && ((uint64_t)a5 >> 47))
		return -SYS_EPERM; /* non-canonical: wrfsbase would #GP (as arch_prctl) */

	uint64_t ret, rbp;
	const uint64_t *frame = (const uint64_t *)e.stub_rbp;
	if (kiln_syscall_cpl3_ret && e.ret == (uint64_t)(uintptr_t)kiln_syscall_cpl3_ret) {
		ret = frame[7];
	} else if (kiln_syscall_fast_ret && e.ret == (uint64_t)(uintptr_t)kiln_syscall_fast_ret) {
		ret = frame[17];
	} else {
		console_puts("kiln: clone: not called through a syscall stub (dispatcher changed?): -ENOSYS\n");
		return -SYS_ENOSYS;
	}
	rbp = frame[0];

	if ((flags & CLONE_PARENT_SETTID_K) && !syscall_user_ok((void *)a3, 4, 1))
		return -SYS_EFAULT;
	if ((flags & (CLONE_CHILD_CLEARTID_K | CLONE_CHILD_SETTID_K)) && !syscall_user_ok((void *)a4, 4, 1))
		return -SYS_EFAULT;

	struct uthread *u = alloc_calloc(alloc_default(), 1, sizeof *u);
	if (!u)
		return -SYS_ENOMEM;
	u->tid = next_tid++;
	u->clear_tid = (flags & CLONE_CHILD_CLEARTID_K) ? (uint32_t *)a4 : 0;
	u->fsbase = (flags & CLONE_SETTLS_K) ? (uint64_t)a5 : arch_get_fsbase();
	u->start = (struct posix_uregs){.rbx = e.rbx, .r12 = e.r12, .r13 = e.r13, .r14 = e.r14,
					.r15 = e.r15, .rbp = rbp, .rip = ret, .rdi = (uint64_t)a1,
					.rsi = (uint64_t)a2, .rdx = (uint64_t)a3, .r10 = (uint64_t)a4,
					.r8 = (uint64_t)a5, .r9 = (uint64_t)a6, .rsp = (uint64_t)a2};
	/* One page: the scheduler's stack runs only child_main; the app's code runs on a2. */
	struct sched_attr attr = {"clone", 4096, 1};
	int r = sched_thread_create(&u->thread, &attr, child_main, u);
	if (r) {
		alloc_free(alloc_default(), u);
		return r;
	}
	u->next = children;
	children = u;
	live_children++;
	/* Both before the child runs (it first runs at our next block or yield), as Linux. */
	if (flags & CLONE_PARENT_SETTID_K)
		*(volatile uint32_t *)a3 = (uint32_t)u->tid;
	if (flags & CLONE_CHILD_SETTID_K)
		*(volatile uint32_t *)a4 = (uint32_t)u->tid;
	return u->tid;
}
SYSCALL_REGISTER(56, posix_thread_sys_clone);

static long sys_exit(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	struct uthread *u = self();
	int status = (int)(a1 & 0xff);
	if (u->clear_tid && syscall_user_ok(u->clear_tid, 4, 1)) {
		*(volatile uint32_t *)u->clear_tid = 0;
		posix_futex_wake(u->clear_tid, 1);
	}
	if (u == &first) {
		if (!live_children)
			kiln_exit(status);
		first_exited = 1; /* the process lives on in its other threads */
		for (;;)
			sched_block(SCHED_FOREVER);
	}
	for (struct uthread **p = &children; *p; p = &(*p)->next)
		if (*p == u) {
			*p = u->next;
			break;
		}
	live_children--;
	alloc_free(alloc_default(), u);
	if (!live_children && first_exited)
		kiln_exit(status);
	sched_thread_exit(0); /* detached: the scheduler frees its stack at the next switch */
}
SYSCALL_REGISTER(60, sys_exit);

static long sys_gettid(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return self()->tid;
}
SYSCALL_REGISTER(186, sys_gettid);

static long sys_set_tid_address(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	struct uthread *u = self();
	u->clear_tid = (uint32_t *)a1; /* checked when used: Linux does not check it here either */
	return u->tid;
}
SYSCALL_REGISTER(218, sys_set_tid_address);

/* The list is stored, not walked at exit: a robust mutex held by an exiting thread is not
 * marked FUTEX_OWNER_DIED (nothing here uses robust mutexes yet). */
static long sys_set_robust_list(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a2 != 24) /* sizeof(struct robust_list_head) */
		return -SYS_EINVAL;
	self()->robust_list = (uint64_t)a1;
	return 0;
}
SYSCALL_REGISTER(273, sys_set_robust_list);

static long sys_sched_yield(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	sched_yield();
	return 0;
}
SYSCALL_REGISTER(24, sys_sched_yield);

#define ARCH_SET_FS_K 0x1002
#define ARCH_GET_FS_K 0x1003

static long sys_arch_prctl(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	switch (a1) {
	case ARCH_SET_FS_K:
		if ((uint64_t)a2 >> 47)
			return -SYS_EPERM; /* non-canonical: wrfsbase would #GP */
		sched_set_fsbase((uint64_t)a2); /* per thread: the scheduler restores it at switches */
		return 0;
	case ARCH_GET_FS_K: {
		uint64_t b = arch_get_fsbase();
		return syscall_copy_out((void *)a2, &b, sizeof b);
	}
	default:
		return -SYS_EINVAL; /* GS is the kernel's (not given to apps) */
	}
}
SYSCALL_REGISTER(158, sys_arch_prctl);
