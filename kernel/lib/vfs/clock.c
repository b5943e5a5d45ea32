/* Guest glue: timestamps are TSC readings, converted with the time library when read (so the
 * clock's calibration happens at the first stat, not at the first file created during boot);
 * and the idle step of a poll that waits. */
#include <arch/cpu.h>
#include <time/time.h>
#include <vfs/vnode.h>

uint64_t vfs_stamp(void) { return arch_rdtsc(); }

void vfs_stamp_time(uint64_t stamp, struct vfs_timespec *ts)
{
	uint64_t tsc = arch_rdtsc(), now = time_now_ns();
	uint64_t age = stamp < tsc ? time_tsc_to_ns(tsc - stamp) : 0;
	uint64_t ns = now > age ? now - age : 0;
	ts->sec = (int64_t)(ns / 1000000000u);
	ts->nsec = (int64_t)(ns % 1000000000u);
}

static const struct vfs_poll_driver *driver;

int vfs_set_poll_driver(const struct vfs_poll_driver *d)
{
	if (driver && d && driver != d)
		return -16; /* EBUSY: one library drives waits */
	driver = d;
	return 0;
}

void vfs_poll_kick(void)
{
	if (driver)
		driver->kick();
}

void vfs_poll_idle(uint64_t deadline_ns)
{
	if (driver)
		driver->idle(deadline_ns);
	else
		time_delay_us(100); /* only console input becomes ready by itself */
}
