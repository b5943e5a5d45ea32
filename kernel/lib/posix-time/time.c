/* Clocks and sleeps. There is no wall clock yet (no RTC driver): CLOCK_REALTIME counts from
 * the Unix epoch at boot, like the monotonic clock (docs/porting-an-app.md). Sleeps busy-wait
 * on the TSC: one app, nothing else to run. */
#include <syscall/syscall.h>
#include <time/time.h>


struct timespec_k {
	int64_t sec, nsec;
};

static int valid_clock(long id)
{
	/* REALTIME, MONOTONIC, PROCESS_CPUTIME, THREAD_CPUTIME, MONOTONIC_RAW, REALTIME_COARSE,
	 * MONOTONIC_COARSE, BOOTTIME: all the same clock here. */
	return id >= 0 && id <= 7;
}

static long sys_clock_gettime(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (!valid_clock(a1))
		return -SYS_EINVAL;
	uint64_t ns = time_now_ns();
	struct timespec_k t = {(int64_t)(ns / 1000000000u), (int64_t)(ns % 1000000000u)};
	return syscall_copy_out((void *)a2, &t, sizeof t);
}
SYSCALL_REGISTER(228, sys_clock_gettime);

static long sys_clock_getres(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (!valid_clock(a1))
		return -SYS_EINVAL;
	if (!a2)
		return 0;
	struct timespec_k t = {0, 1};
	return syscall_copy_out((void *)a2, &t, sizeof t);
}
SYSCALL_REGISTER(229, sys_clock_getres);

static long sys_gettimeofday(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a1) {
		uint64_t ns = time_now_ns();
		int64_t tv[2] = {(int64_t)(ns / 1000000000u), (int64_t)(ns % 1000000000u / 1000u)};
		if (syscall_copy_out((void *)a1, tv, sizeof tv))
			return -SYS_EFAULT;
	}
	if (a2) {
		int tz[2] = {0, 0};
		if (syscall_copy_out((void *)a2, tz, sizeof tz))
			return -SYS_EFAULT;
	}
	return 0;
}
SYSCALL_REGISTER(96, sys_gettimeofday);

static long sys_time(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	int64_t s = (int64_t)(time_now_ns() / 1000000000u);
	if (a1 && syscall_copy_out((void *)a1, &s, sizeof s))
		return -SYS_EFAULT;
	return s;
}
SYSCALL_REGISTER(201, sys_time);

static long sleep_for(const struct timespec_k *t)
{
	if (t->sec < 0 || t->nsec < 0 || t->nsec >= 1000000000)
		return -SYS_EINVAL;
	uint64_t end = time_now_ns() + (uint64_t)t->sec * 1000000000u + (uint64_t)t->nsec;
	while (time_now_ns() < end)
		time_delay_us(10);
	return 0;
}

static long sys_nanosleep(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	struct timespec_k t;
	if (syscall_copy_in(&t, (const void *)a1, sizeof t))
		return -SYS_EFAULT;
	return sleep_for(&t);
}
SYSCALL_REGISTER(35, sys_nanosleep);

#define TIMER_ABSTIME_K 1

static long sys_clock_nanosleep(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (!valid_clock(a1))
		return -SYS_EINVAL;
	struct timespec_k t;
	if (syscall_copy_in(&t, (const void *)a3, sizeof t))
		return -SYS_EFAULT;
	if (a2 & TIMER_ABSTIME_K) {
		uint64_t now = time_now_ns(), until = (uint64_t)t.sec * 1000000000u + (uint64_t)t.nsec;
		if (t.sec < 0 || t.nsec < 0 || t.nsec >= 1000000000)
			return -SYS_EINVAL;
		uint64_t d = until > now ? until - now : 0;
		t.sec = (int64_t)(d / 1000000000u);
		t.nsec = (int64_t)(d % 1000000000u);
	}
	return sleep_for(&t);
}
SYSCALL_REGISTER(230, sys_clock_nanosleep);
