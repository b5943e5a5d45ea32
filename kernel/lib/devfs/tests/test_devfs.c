/* Guest tests of /dev, through the VFS's descriptor API. */
#include <errno.h>
#include <string.h>
#include <test/test.h>
#include <vfs/vfs.h>

KTEST(devfs, null_zero_full)
{
	char b[32];
	int fd = vfs_open("/dev/null", VFS_O_RDWR, 0);
	KT_ASSERT(fd >= 0);
	KT_ASSERT_EQ(vfs_read(fd, b, sizeof(b)), 0);
	KT_ASSERT_EQ(vfs_write(fd, "gone", 4), 4);
	vfs_close(fd);
	fd = vfs_open("/dev/zero", VFS_O_RDONLY, 0);
	memset(b, 0x55, sizeof(b));
	KT_ASSERT_EQ(vfs_read(fd, b, sizeof(b)), (long)sizeof(b));
	for (size_t i = 0; i < sizeof(b); i++)
		KT_ASSERT_EQ(b[i], 0);
	vfs_close(fd);
	fd = vfs_open("/dev/full", VFS_O_WRONLY, 0);
	KT_ASSERT_EQ(vfs_write(fd, "x", 1), -ENOSPC);
	vfs_close(fd);
	/* O_TRUNC on a device is harmless (shells open /dev/null that way) */
	fd = vfs_open("/dev/null", VFS_O_WRONLY | VFS_O_TRUNC | VFS_O_CREAT, 0644);
	KT_ASSERT(fd >= 0);
	vfs_close(fd);
}

KTEST(devfs, urandom)
{
	unsigned char a[32], b[32];
	int fd = vfs_open("/dev/urandom", VFS_O_RDONLY, 0);
	KT_ASSERT(fd >= 0);
	KT_ASSERT_EQ(vfs_read(fd, a, sizeof(a)), (long)sizeof(a));
	KT_ASSERT_EQ(vfs_read(fd, b, sizeof(b)), (long)sizeof(b));
	KT_ASSERT(memcmp(a, b, sizeof(a)) != 0);
	vfs_close(fd);
}

KTEST(devfs, console_and_stdio)
{
	struct vfs_stat st;
	KT_ASSERT_EQ(vfs_stat("/dev/console", &st), 0);
	KT_ASSERT_EQ(st.st_mode & VFS_S_IFMT, VFS_S_IFCHR);
	KT_ASSERT_EQ(st.st_rdev, (5u << 8) | 1);
	/* stdio is open on the console */
	for (int fd = 0; fd < 3; fd++) {
		KT_ASSERT_EQ(vfs_fstat(fd, &st), 0);
		KT_ASSERT_EQ(st.st_rdev, (5u << 8) | 1);
	}
	KT_ASSERT_EQ(vfs_write(1, "devfs: hello through fd 1\n", 26), 26);
	KT_ASSERT_EQ(vfs_lseek(1, 0, VFS_SEEK_SET), -ESPIPE);
	int fd = vfs_open("/dev/console", VFS_O_RDONLY | VFS_O_NONBLOCK, 0);
	char c;
	KT_ASSERT_EQ(vfs_read(fd, &c, 1), -EAGAIN); /* the tests run without console input */
	KT_ASSERT_EQ(vfs_poll(fd, VFS_POLLIN | VFS_POLLOUT), VFS_POLLOUT);
	vfs_close(fd);
	fd = vfs_open("/dev/zero", VFS_O_RDONLY, 0);
	KT_ASSERT_EQ(vfs_poll(fd, VFS_POLLIN | VFS_POLLOUT), VFS_POLLIN | VFS_POLLOUT);
	vfs_close(fd);
	KT_ASSERT_EQ(vfs_poll(fd, VFS_POLLIN), -EBADF);
}

KTEST(devfs, directory)
{
	KT_ASSERT_EQ(vfs_open("/dev/new", VFS_O_RDWR | VFS_O_CREAT, 0644), -EPERM);
	KT_ASSERT_EQ(vfs_mkdir("/dev/sub", 0755), -EPERM);
	KT_ASSERT_EQ(vfs_unlink("/dev/null"), -EPERM);
	int fd = vfs_open("/dev", VFS_O_RDONLY | VFS_O_DIRECTORY, 0);
	char buf[512];
	long n = vfs_getdents64(fd, buf, sizeof(buf));
	int devices = 0;
	for (long o = 0; o < n;) {
		struct vfs_dirent64 *d = (struct vfs_dirent64 *)(buf + o);
		o += d->d_reclen;
		devices += d->d_type == VFS_DT_CHR;
	}
	KT_ASSERT_EQ(devices, 6);
	vfs_close(fd);
	char cwd[16];
	KT_ASSERT_EQ(vfs_chdir("/dev"), 0);
	KT_ASSERT_EQ(vfs_getcwd(cwd, sizeof(cwd)), 5);
	KT_ASSERT_STREQ(cwd, "/dev");
	vfs_chdir("/");
}
