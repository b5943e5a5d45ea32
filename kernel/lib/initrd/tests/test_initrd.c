/* Guest tests of the initrd: archives made in memory, unpacked into the running VFS. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <initrd/cpio.h>
#include <initrd/initrd.h>
#include <test/test.h>
#include <vfs/vfs.h>

#include "newc_build.h"

static uint8_t storage[4096];
static char msg[320];

static struct newc_buf sample(void)
{
	struct newc_buf b = {storage, 0, sizeof(storage), {0}, 0};
	newc_add(&b, ".", 040755, NULL, 0);
	newc_add(&b, "etc", 040755, NULL, 0);
	newc_add(&b, "etc/motd", 0100644, "from the archive\n", 17);
	newc_add(&b, "etc/link", 0120777, "motd", 4);
	newc_add(&b, "TRAILER!!!", 0, NULL, 0);
	return b;
}

static long slurp(const char *path, char *buf, size_t n)
{
	int fd = vfs_open(path, VFS_O_RDONLY, 0);
	if (fd < 0)
		return fd;
	long r = vfs_read(fd, buf, n - 1);
	vfs_close(fd);
	if (r >= 0)
		buf[r] = 0;
	return r;
}

KTEST(initrd, unpacks_and_borrows)
{
	struct newc_buf b = sample();
	KT_ASSERT_EQ(vfs_mkdir("/initrd-t", 0755), 0);
	struct initrd_stats st;
	KT_ASSERT_EQ(initrd_unpack(b.p, b.n, "/initrd-t", 1, msg, sizeof(msg), &st), 0);
	KT_ASSERT_EQ(st.files, 1);
	KT_ASSERT_EQ(st.dirs, 1);
	KT_ASSERT_EQ(st.symlinks, 1);
	KT_ASSERT_EQ(st.borrowed_bytes, 17);
	char buf[64];
	KT_ASSERT_EQ(slurp("/initrd-t/etc/link", buf, sizeof(buf)), 17);
	KT_ASSERT_STREQ(buf, "from the archive\n");
	/* a write copies: the archive keeps its bytes */
	int fd = vfs_open("/initrd-t/etc/motd", VFS_O_WRONLY, 0);
	KT_ASSERT_EQ(vfs_write(fd, "FROM", 4), 4);
	vfs_close(fd);
	KT_ASSERT_EQ(slurp("/initrd-t/etc/motd", buf, sizeof(buf)), 17);
	KT_ASSERT_STREQ(buf, "FROM the archive\n");
	int intact = 0;
	for (size_t i = 0; i + 4 <= b.n; i++)
		intact |= memcmp(b.p + i, "from the archive", 16) == 0;
	KT_ASSERT(intact);
}

/* Unpacks a one-entry archive into a fresh directory; the error or 0. */
static int unpack_one(const char *name, uint32_t mode, const void *data, size_t size, int cut)
{
	struct newc_buf b = {storage, 0, sizeof(storage), {0}, 0};
	newc_add(&b, name, mode, data, size);
	newc_add(&b, "TRAILER!!!", 0, NULL, 0);
	vfs_mkdir("/initrd-bad", 0755);
	msg[0] = 0;
	return initrd_unpack(b.p, b.n - (size_t)cut, "/initrd-bad", 1, msg, sizeof(msg), NULL);
}

KTEST(initrd, malformed_archives_name_the_entry)
{
	/* data cut short */
	struct newc_buf b = sample();
	KT_ASSERT_EQ(initrd_unpack(b.p, b.headers[2] + 120, "/", 1, msg, sizeof(msg), NULL), -EINVAL);
	char want[128];
	snprintf(want, sizeof(want), "entry 2 \"etc/motd\" at offset 0x%zx: the data (filesize 17) runs past the end of the archive", b.headers[2]);
	KT_ASSERT_STREQ(msg, want);
	KT_ASSERT_EQ(unpack_one("../escape", 0100644, "x", 1, 0), -EINVAL);
	KT_ASSERT(strstr(msg, "entry 0 \"../escape\"") && strstr(msg, "\"..\" component"));
	KT_ASSERT_EQ(unpack_one("dev/sda", 060600, NULL, 0, 0), -EINVAL);
	KT_ASSERT(strstr(msg, "unsupported file type (mode 060600)") != NULL);
	KT_ASSERT_EQ(unpack_one("missing/parent", 0100644, "x", 1, 0), -ENOENT);
	KT_ASSERT(strstr(msg, "cannot create the file") != NULL);
	/* no trailer */
	KT_ASSERT_EQ(unpack_one("f", 0100644, "x", 1, 124), -EINVAL);
	KT_ASSERT(strstr(msg, "without a TRAILER!!!") != NULL);
	/* not an archive at all */
	KT_ASSERT_EQ(initrd_unpack("hello, world", 12, "/", 1, msg, sizeof(msg), NULL), -EINVAL);
	KT_ASSERT(strstr(msg, "truncated header") != NULL);
	struct vfs_stat st;
	KT_ASSERT_EQ(vfs_stat("/escape", &st), -ENOENT);
}
