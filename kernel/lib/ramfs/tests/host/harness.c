/* Host runner for the VFS + ramfs suite (../fs_suite.c), built by ../host.test.ts with ASan and
 * UBSan (leak checking on: a node or file left behind fails the run). Prints one line per
 * check, "PASS name" or "FAIL name file:line: message", then "SUMMARY passed=N failed=N". */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <ramfs/ramfs.h>
#include <vfs/vfs.h>
#include <vfs/vnode.h>

#include "../fs_suite.h"

uint64_t vfs_stamp(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void vfs_stamp_time(uint64_t stamp, struct vfs_timespec *ts)
{
	ts->sec = (int64_t)(stamp / 1000000000u);
	ts->nsec = (int64_t)(stamp % 1000000000u);
}

int main(int argc, char **argv)
{
	if (vfs_register_fs(&ramfs_fstype) != 0 || vfs_mount("/", "ramfs", NULL) != 0) {
		fprintf(stderr, "cannot mount the root ramfs\n");
		return 2;
	}
	int passed = 0, failed = 0;
#define RUN(name)                                                                          \
	if (argc < 2 || strcmp(argv[1], #name) == 0) {                                     \
		struct fs_t t = {0};                                                       \
		fs_t_##name(&t);                                                           \
		if (t.failed) {                                                            \
			printf("FAIL %s %s:%d: %s\n", #name, t.file, t.line, t.msg);       \
			failed++;                                                          \
		} else {                                                                   \
			printf("PASS %s\n", #name);                                        \
			passed++;                                                          \
		}                                                                          \
		vfs_chdir("/");                                                            \
	}
	FS_SUITE(RUN)
	if (vfs_open_fd_count() != 0) {
		printf("FAIL leak: %d descriptors left open\n", vfs_open_fd_count());
		failed++;
	}
	printf("SUMMARY passed=%d failed=%d\n", passed, failed);
	return failed != 0;
}
