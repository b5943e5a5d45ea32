/* Guest glue: timestamps are TSC readings, converted with the time library when read (so the
 * clock's calibration happens at the first stat, not at the first file created during boot). */
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
