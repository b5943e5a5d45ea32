/* devfs: a fixed directory of character devices. Nodes are static and never freed. */
#include <errno.h>
#include <string.h>
#include <arch/cpu.h>
#include <boot/init.h>
#include <console/console.h>
#include <devfs/devfs.h>
#include <random/random.h>
#include <vfs/vfs.h>
#include <vfs/vnode.h>
#if CONFIG_LIB_SCHED
#include <sched/sched.h> /* optional: sleep between console polls when there are threads */
#endif

enum dev { DEV_NULL, DEV_ZERO, DEV_FULL, DEV_RANDOM, DEV_URANDOM, DEV_CONSOLE, NDEV };

static const struct {
	const char *name;
	unsigned major, minor; /* Linux's numbers, so st_rdev reads as on Linux */
	uint32_t perm;
} devs[NDEV] = {
	[DEV_NULL] = {"null", 1, 3, 0666},    [DEV_ZERO] = {"zero", 1, 5, 0666},
	[DEV_FULL] = {"full", 1, 7, 0666},    [DEV_RANDOM] = {"random", 1, 8, 0666},
	[DEV_URANDOM] = {"urandom", 1, 9, 0666}, [DEV_CONSOLE] = {"console", 5, 1, 0600},
};

static const struct vnode_ops dir_ops, dev_ops;
static struct vnode root;
static struct vnode nodes[NDEV];
static int mounted;

static int devfs_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
	(void)dir;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
		*out = vfs_vnode_ref(&root);
		return 0;
	}
	for (int i = 0; i < NDEV; i++)
		if (strlen(devs[i].name) == len && memcmp(devs[i].name, name, len) == 0) {
			*out = vfs_vnode_ref(&nodes[i]);
			return 0;
		}
	return -ENOENT;
}

static int devfs_readdir(struct vnode *dir, uint64_t *pos, vfs_filldir_fn fill, void *ctx)
{
	(void)dir;
	for (; *pos < 2 + NDEV; ++*pos) {
		uint64_t p = *pos;
		int stop = p == 0   ? fill(ctx, ".", 1, root.ino, VFS_DT_DIR, 1)
			   : p == 1 ? fill(ctx, "..", 2, root.ino, VFS_DT_DIR, 2)
				    : fill(ctx, devs[p - 2].name, strlen(devs[p - 2].name), nodes[p - 2].ino, VFS_DT_CHR, p + 1);
		if (stop)
			return 0;
	}
	return 0;
}

static int dir_getattr(struct vnode *vn, struct vfs_stat *st)
{
	(void)vn;
	st->st_mode = VFS_S_IFDIR | 0755;
	st->st_nlink = 2;
	return 0;
}

/* A namespace change in /dev: not allowed. */
static int refuse_create(struct vnode *d, const char *n, size_t l, uint32_t m, struct vnode **o)
{
	(void)d, (void)n, (void)l, (void)m, (void)o;
	return -EPERM;
}

static enum dev which(const struct vnode *vn) { return (enum dev)(vn - nodes); }

/* A byte poll() took from the console to see whether input is waiting, or -1. */
static int console_peeked = -1;

static int console_next(void)
{
	int c = console_peeked;
	if (c >= 0) {
		console_peeked = -1;
		return c;
	}
	return console_getc();
}

/* As a terminal in canonical mode: a read returns a whole line (or n bytes); with O_NONBLOCK
 * it returns what is waiting, or -EAGAIN. */
static long console_read(char *buf, size_t n, int flags)
{
	size_t got = 0;
	while (got < n) {
		int c = console_next();
		if (c < 0) {
			if (flags & VFS_O_NONBLOCK) {
				if (got)
					break;
				return -EAGAIN;
			}
#if CONFIG_LIB_SCHED
			sched_sleep_ns(1000000);
#else
			for (int i = 0; i < 1000; i++)
				arch_pause();
#endif
			continue;
		}
		if (c == '\r')
			c = '\n';
		buf[got++] = (char)c;
		if (c == '\n')
			break;
	}
	return (long)got;
}

static long dev_read(struct vnode *vn, void *buf, size_t n, uint64_t off, int flags)
{
	(void)off;
	switch (which(vn)) {
	case DEV_NULL:
		return 0;
	case DEV_ZERO:
	case DEV_FULL:
		memset(buf, 0, n);
		return (long)n;
	case DEV_RANDOM:
	case DEV_URANDOM: {
		int err = random_bytes(buf, n);
		return err ? err : (long)n;
	}
	case DEV_CONSOLE:
		return console_read(buf, n, flags);
	default:
		return -ENXIO;
	}
}

static long dev_write(struct vnode *vn, const void *buf, size_t n, uint64_t off, int flags)
{
	(void)off, (void)flags;
	switch (which(vn)) {
	case DEV_FULL:
		return -ENOSPC;
	case DEV_CONSOLE:
		console_write(buf, n);
		return (long)n;
	default:
		return (long)n; /* null, zero, random: accepted and dropped (Linux mixes random's in) */
	}
}

static int dev_poll(struct vnode *vn, int events)
{
	int ready = events & (VFS_POLLIN | VFS_POLLOUT);
	if (which(vn) == DEV_CONSOLE && (events & VFS_POLLIN)) {
		if (console_peeked < 0)
			console_peeked = console_getc();
		if (console_peeked < 0)
			ready &= ~VFS_POLLIN;
	}
	return ready; /* the others never block: ready both ways, as on Linux */
}

static int dev_getattr(struct vnode *vn, struct vfs_stat *st)
{
	enum dev d = which(vn);
	st->st_mode = VFS_S_IFCHR | devs[d].perm;
	st->st_nlink = 1;
	st->st_rdev = (devs[d].minor & 0xff) | (devs[d].major << 8);
	st->st_size = 0;
	return 0;
}

static const struct vnode_ops dir_ops = {
	.lookup = devfs_lookup,
	.create = refuse_create,
	.readdir = devfs_readdir,
	.getattr = dir_getattr,
};

static const struct vnode_ops dev_ops = {
	.read = dev_read,
	.write = dev_write,
	.getattr = dev_getattr,
	.poll = dev_poll,
};

static int devfs_mount(const struct vfs_fstype *type, const void *data, struct vnode **out)
{
	(void)type, (void)data;
	if (mounted)
		return -EBUSY; /* one instance: the nodes are static */
	vfs_vnode_init(&root, &dir_ops, VFS_S_IFDIR, 1);
	for (int i = 0; i < NDEV; i++) {
		vfs_vnode_init(&nodes[i], &dev_ops, VFS_S_IFCHR, (uint64_t)i + 2);
		if (i == DEV_CONSOLE)
			nodes[i].flags = VFS_VN_NOSEEK;
	}
	mounted = 1;
	*out = vfs_vnode_ref(&root);
	return 0;
}

struct vfs_fstype devfs_fstype = {.name = "devfs", .mount = devfs_mount};

static int devfs_register(void) { return vfs_register_fs(&devfs_fstype); }
KILN_INIT(lib, 510, devfs_register);

static int devfs_mount_dev(void)
{
	int err = vfs_mkdir("/dev", 0755);
	if (err && err != -EEXIST) {
		console_puts("kiln: devfs: cannot make /dev\n");
		return err;
	}
	err = vfs_mount("/dev", "devfs", NULL);
	if (err) {
		console_puts("kiln: devfs: cannot mount on /dev (is /dev in the rootfs something other than a directory?)\n");
		return err;
	}
#if CONFIG_DEVFS_STDIO
	for (int fd = 0; fd < 3; fd++) {
		struct vfs_stat st;
		if (vfs_fstat(fd, &st) == 0)
			continue; /* someone else's */
		int got = vfs_open("/dev/console", fd == 0 ? VFS_O_RDONLY : VFS_O_WRONLY, 0);
		if (got != fd && got >= 0) {
			vfs_dup2(got, fd);
			vfs_close(got);
		}
	}
#endif
	return 0;
}
KILN_INIT(rootfs, 20, devfs_mount_dev);
