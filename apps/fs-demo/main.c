/* fs-demo: the filesystem libraries from an app. Every step checks its result; the first that
 * fails prints "fs-demo: FAILED <step>: <error>" and the app exits 1. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <random/random.h> /* devfs brings it: only to say what seeded /dev/urandom */
#include <vfs/vfs.h>

static int failed;

static long check(const char *step, long r)
{
	if (r < 0 && !failed) {
		printf("fs-demo: FAILED %s: %s (%ld)\n", step, strerror((int)-r), r);
		failed = 1;
	}
	return r;
}

static void cat(const char *path)
{
	int fd = (int)check(path, vfs_open(path, VFS_O_RDONLY, 0));
	if (fd < 0)
		return;
	char buf[256];
	long n;
	while ((n = check(path, vfs_read(fd, buf, sizeof(buf)))) > 0)
		vfs_write(1, buf, (size_t)n); /* fd 1 is /dev/console */
	vfs_close(fd);
}

static void tree(const char *dir, int depth)
{
	int fd = (int)check(dir, vfs_open(dir, VFS_O_RDONLY | VFS_O_DIRECTORY, 0));
	if (fd < 0)
		return;
	char buf[1024], path[VFS_PATH_MAX];
	long n;
	while ((n = check(dir, vfs_getdents64(fd, buf, sizeof(buf)))) > 0) {
		for (long o = 0; o < n;) {
			struct vfs_dirent64 *d = (struct vfs_dirent64 *)(buf + o);
			o += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", d->d_name);
			struct vfs_stat st;
			check(path, vfs_lstat(path, &st));
			printf("%*s%s", depth * 2, "", d->d_name);
			if (d->d_type == VFS_DT_DIR) {
				printf("/\n");
				tree(path, depth + 1);
			} else if (d->d_type == VFS_DT_LNK) {
				char t[VFS_PATH_MAX];
				long k = check(path, vfs_readlink(path, t, sizeof(t) - 1));
				printf(" -> %.*s\n", (int)(k > 0 ? k : 0), t);
			} else if (d->d_type == VFS_DT_CHR) {
				printf(" (device %lu:%lu)\n", (unsigned long)(st.st_rdev >> 8), (unsigned long)(st.st_rdev & 0xff));
			} else {
				printf(" (%ld bytes, mode %o)\n", (long)st.st_size, st.st_mode & 07777);
			}
		}
	}
	vfs_close(fd);
}

static void put(const char *path, const char *text, int flags)
{
	int fd = (int)check(path, vfs_open(path, VFS_O_WRONLY | VFS_O_CREAT | flags, 0644));
	if (fd < 0)
		return;
	check(path, vfs_write(fd, text, strlen(text)));
	vfs_close(fd);
}

/* `-- read-line`: one line from fd 0 (/dev/console), echoed back: console input through devfs. */
static int read_line(void)
{
	char line[128];
	long n = check("read fd 0", vfs_read(0, line, sizeof(line) - 1));
	if (n < 0)
		return 1;
	line[n] = 0;
	printf("fs-demo: read %ld bytes from the console: %s", n, line);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "read-line"))
		return read_line();
	printf("== /etc/welcome (a symlink to motd, from the rootfs)\n");
	cat("/etc/welcome");

	printf("== the numbers in /data/numbers.txt\n");
	int fd = (int)check("numbers", vfs_open("/data/numbers.txt", VFS_O_RDONLY, 0));
	char buf[128] = {0};
	long n = check("numbers", vfs_read(fd, buf, sizeof(buf) - 1));
	vfs_close(fd);
	long sum = 0, count = 0, v = 0;
	for (long i = 0; i < n; i++) {
		if (buf[i] >= '0' && buf[i] <= '9') {
			v = v * 10 + (buf[i] - '0');
		} else if (buf[i] == '\n') {
			sum += v;
			count++;
			v = 0;
		}
	}
	printf("%ld numbers, sum %ld\n", count, sum);

	printf("== writing /tmp/notes.txt\n");
	check("mkdir /tmp", vfs_mkdir("/tmp", 0755));
	put("/tmp/notes.txt", "first line\n", VFS_O_TRUNC);
	put("/tmp/notes.txt", "second line, appended\n", VFS_O_APPEND);
	check("rename", vfs_rename("/tmp/notes.txt", "/tmp/notes.old"));
	cat("/tmp/notes.old");
	check("chdir", vfs_chdir("/data/nested"));
	char cwd[64];
	check("getcwd", vfs_getcwd(cwd, sizeof(cwd)));
	printf("cwd %s holds: ", cwd);
	cat("leaf.txt");

	printf("== 16 bytes of /dev/urandom\n");
	unsigned char rnd[16];
	fd = (int)check("urandom", vfs_open("/dev/urandom", VFS_O_RDONLY, 0));
	check("urandom", vfs_read(fd, rnd, sizeof(rnd)));
	vfs_close(fd);
	for (size_t i = 0; i < sizeof(rnd); i++)
		printf("%02x", rnd[i]);
	printf("\n(seeded from %s)\n", random_source());

	printf("== the tree\n");
	tree("/", 0);
	if (failed)
		return 1;
	printf("fs-demo: ok\n");
	return 0;
}
