/* Signals within the one process: rt_sigaction/rt_sigprocmask, and kill/tkill/tgkill to
 * itself, delivered synchronously (a blocked signal stays pending until unblocked). Default
 * actions: ignore for SIGCHLD/SIGCONT/SIGURG/SIGWINCH, otherwise end the image with status
 * 128 + signal, as a shell reports a killed process. No signal comes from outside. */
#include <syscall/syscall.h>
#include <boot/boot.h>
#include <console/console.h>

#define NSIG_K 64
#define SIGKILL_K 9
#define SIGSTOP_K 19
#define SA_SIGINFO_K 4
#define SA_NODEFER_K 0x40000000
#define SA_RESETHAND_K 0x80000000
#define SIG_DFL_K 0
#define SIG_IGN_K 1
#define BIT(s) (1ull << ((s) - 1))

struct ksigaction {
	uintptr_t handler;
	unsigned long flags;
	uintptr_t restorer;
	uint64_t mask;
};

static struct ksigaction actions[NSIG_K + 1];
static uint64_t blocked, pending;

static const char *const sig_names[] = {
	[1] = "SIGHUP", [2] = "SIGINT", [3] = "SIGQUIT", [4] = "SIGILL", [5] = "SIGTRAP", [6] = "SIGABRT",
	[7] = "SIGBUS", [8] = "SIGFPE", [9] = "SIGKILL", [10] = "SIGUSR1", [11] = "SIGSEGV", [12] = "SIGUSR2",
	[13] = "SIGPIPE", [14] = "SIGALRM", [15] = "SIGTERM",
};

static int ignored_by_default(int sig)
{
	return sig == 17 || sig == 18 || sig == 23 || sig == 28; /* CHLD CONT URG WINCH */
}

static void deliver(int sig)
{
	struct ksigaction *a = &actions[sig];
	if (a->handler == SIG_IGN_K || (a->handler == SIG_DFL_K && ignored_by_default(sig)))
		return;
	if (a->handler == SIG_DFL_K) {
		console_puts("kiln: killed by signal ");
		console_put_dec((uint64_t)sig);
		if (sig < (int)(sizeof sig_names / sizeof *sig_names) && sig_names[sig]) {
			console_puts(" (");
			console_puts(sig_names[sig]);
			console_puts(")");
		}
		console_puts("\n");
		kiln_exit(128 + sig);
	}
	uint64_t saved = blocked;
	blocked |= a->mask | (a->flags & SA_NODEFER_K ? 0 : BIT(sig));
	uintptr_t h = a->handler;
	unsigned long flags = a->flags;
	if (flags & SA_RESETHAND_K)
		a->handler = SIG_DFL_K;
	if (flags & SA_SIGINFO_K) {
		/* siginfo_t for a signal sent by the process to itself (SI_TKILL). */
		struct {
			int signo, err, code, pad;
			int pid, uid;
			char rest[104];
		} info = {sig, 0, -6, 0, 1, 0, {0}};
		((void (*)(int, void *, void *))h)(sig, &info, NULL);
	} else {
		((void (*)(int))h)(sig);
	}
	blocked = saved;
}

/* Delivers the pending signals that are no longer blocked, lowest first. */
static void deliver_pending(void)
{
	uint64_t ready;
	while ((ready = pending & ~blocked) != 0) {
		int sig = __builtin_ctzll(ready) + 1;
		pending &= ~BIT(sig);
		deliver(sig);
	}
}

static long raise_sig(long sig)
{
	if (sig == 0)
		return 0;
	if (sig < 1 || sig > NSIG_K)
		return -SYS_EINVAL;
	pending |= BIT(sig);
	deliver_pending();
	return 0;
}

static long sys_rt_sigaction(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a1 < 1 || a1 > NSIG_K || a4 != 8)
		return -SYS_EINVAL;
	struct ksigaction next;
	if (a2) {
		if (a1 == SIGKILL_K || a1 == SIGSTOP_K)
			return -SYS_EINVAL;
		if (syscall_copy_in(&next, (const void *)a2, sizeof next))
			return -SYS_EFAULT;
	}
	if (a3 && syscall_copy_out((void *)a3, &actions[a1], sizeof actions[a1]))
		return -SYS_EFAULT;
	if (a2) {
		next.mask &= ~(BIT(SIGKILL_K) | BIT(SIGSTOP_K));
		actions[a1] = next;
	}
	return 0;
}
SYSCALL_REGISTER(13, sys_rt_sigaction);

#define SIG_BLOCK_K 0
#define SIG_UNBLOCK_K 1
#define SIG_SETMASK_K 2

static long sys_rt_sigprocmask(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a4 != 8)
		return -SYS_EINVAL;
	uint64_t set = 0;
	if (a2 && syscall_copy_in(&set, (const void *)a2, sizeof set))
		return -SYS_EFAULT;
	if (a2 && (a1 < SIG_BLOCK_K || a1 > SIG_SETMASK_K))
		return -SYS_EINVAL;
	if (a3 && syscall_copy_out((void *)a3, &blocked, sizeof blocked))
		return -SYS_EFAULT;
	if (!a2)
		return 0;
	set &= ~(BIT(SIGKILL_K) | BIT(SIGSTOP_K));
	if (a1 == SIG_BLOCK_K)
		blocked |= set;
	else if (a1 == SIG_UNBLOCK_K)
		blocked &= ~set;
	else
		blocked = set;
	deliver_pending();
	return 0;
}
SYSCALL_REGISTER(14, sys_rt_sigprocmask);

static long sys_rt_sigpending(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	uint64_t p = pending & blocked;
	return syscall_copy_out((void *)a1, &p, sizeof p);
}
SYSCALL_REGISTER(127, sys_rt_sigpending);

static long sys_kill(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a1 != 1 && a1 != 0 && a1 != -1)
		return -SYS_ESRCH;
	return raise_sig(a2);
}
SYSCALL_REGISTER(62, sys_kill);

static long sys_tkill(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return a1 == 1 ? raise_sig(a2) : -SYS_ESRCH;
}
SYSCALL_REGISTER(200, sys_tkill);

static long sys_tgkill(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return (a1 == 1 && a2 == 1) ? raise_sig(a3) : -SYS_ESRCH;
}
SYSCALL_REGISTER(234, sys_tgkill);

static long sys_sigaltstack(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	/* Handlers run on the stack of the call that raised them: an alternate stack is accepted
	 * and reported as disabled. */
	if (a2) {
		struct {
			void *sp;
			int flags;
			size_t size;
		} old = {0, 2 /* SS_DISABLE */, 0};
		if (syscall_copy_out((void *)a2, &old, sizeof old))
			return -SYS_EFAULT;
	}
	return 0;
}
SYSCALL_REGISTER(131, sys_sigaltstack);
