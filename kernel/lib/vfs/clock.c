/* Guest glue: timestamps from the TSC clock (nanoseconds since boot: there is no wall clock). */
#include <time/time.h>
#include <vfs/vnode.h>

void vfs_now(struct vfs_timespec *ts)
{
	uint64_t ns = time_now_ns();
	ts->sec = (int64_t)(ns / 1000000000u);
	ts->nsec = (int64_t)(ns % 1000000000u);
}
