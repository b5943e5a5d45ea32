/* The VFS + ramfs suite (fs_suite.c) as guest tests: one KTEST per check. */
#include <test/test.h>

#include "fs_suite.h"

#define FS_KTEST(name)                                           \
	KTEST(fs, name)                                          \
	{                                                        \
		struct fs_t t = {0};                             \
		fs_t_##name(&t);                                 \
		if (t.failed)                                    \
			ktest_fail(t.file, t.line, "%s", t.msg); \
	}
FS_SUITE(FS_KTEST)
