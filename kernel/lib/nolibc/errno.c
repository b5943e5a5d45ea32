/* errno storage: one global for now (a single thread); becomes per-thread with the scheduler. */
#include <errno.h>

static int errno_value;

int *__errno_location(void)
{
	return &errno_value;
}
