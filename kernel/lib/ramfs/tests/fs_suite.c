/* See fs_suite.h. Every CHECK names the expression and the values it saw. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <ramfs/ramfs.h>
#include <vfs/vfs.h>
#include <vfs/vnode.h>

#include "fs_suite.h"

__attribute__((format(printf, 3, 4))) static void fs_fail(struct fs_t *t, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	t->failed = 1;
	t->file = __FILE__;
	t->line = line;
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
}
#define FAILF(...)                                  \
	do {                                        \
		fs_fail(t, __LINE__, __VA_ARGS__);  \
		return;                             \
	} while (0)
#define CHECK(c)                                    \
	do {                                        \
		if (!(c))                           \
			FAILF("check %s", #c);      \
	} while (0)
#define EQ(a, b)                                                                         \
	do {                                                                             \
		long long a_ = (long long)(a), b_ = (long long)(b);                      \
		if (a_ != b_)                                                            \
			FAILF("%s == %s: %lld vs %lld", #a, #b, a_, b_);                 \
	} while (0)
#define STREQ(a, b)                                                             \
	do {                                                                    \
		const char *a_ = (a), *b_ = (b);                                \
		if (strcmp(a_, b_) != 0)                                        \
			FAILF("%s == %s: \"%s\" vs \"%s\"", #a, #b, a_, b_);    \
	} while (0)

#define O_RW_CREAT (VFS_O_RDWR | VFS_O_CREAT)

/* Removes a tree (used to clean up each check's directory, and by the initrd fuzzer). */
void fs_suite_rm_tree(const char *path)
{
	struct vfs_stat st;
	if (vfs_lstat(path, &st) != 0)
		return;
	if (!VFS_S_ISDIR(st.st_mode)) {
		vfs_unlink(path);
		return;
	}
	int fd = vfs_open(path, VFS_O_RDONLY | VFS_O_DIRECTORY, 0);
	if (fd < 0)
		return;
	char buf[512], child[VFS_PATH_MAX];
	for (;;) {
		long n = vfs_getdents64(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (long o = 0; o < n;) {
			struct vfs_dirent64 *d = (struct vfs_dirent64 *)(buf + o);
			o += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
				continue;
			snprintf(child, sizeof(child), "%s/%s", path, d->d_name);
			fs_suite_rm_tree(child);
		}
	}
	vfs_close(fd);
	vfs_rmdir(path);
}

static char dirbuf[128];
/* A fresh directory for one check: /fs-suite/<name>. */
static const char *fresh(const char *name)
{
	vfs_mkdir("/fs-suite", 0755);
	snprintf(dirbuf, sizeof(dirbuf), "/fs-suite/%s", name);
	fs_suite_rm_tree(dirbuf);
	vfs_mkdir(dirbuf, 0755);
	vfs_chdir(dirbuf);
	return dirbuf;
}
static void done(void)
{
	vfs_chdir("/");
	fs_suite_rm_tree(dirbuf);
}

static long put(const char *path, const char *s)
{
	int fd = vfs_open(path, VFS_O_WRONLY | VFS_O_CREAT | VFS_O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	long r = vfs_write(fd, s, strlen(s));
	vfs_close(fd);
	return r;
}

static char got[256];
/* The file's contents as a string (or "<-errno>"). */
static const char *get(const char *path)
{
	int fd = vfs_open(path, VFS_O_RDONLY, 0);
	if (fd < 0) {
		snprintf(got, sizeof(got), "<%d>", fd);
		return got;
	}
	long n = vfs_read(fd, got, sizeof(got) - 1);
	vfs_close(fd);
	if (n < 0) {
		snprintf(got, sizeof(got), "<%ld>", n);
		return got;
	}
	got[n] = 0;
	return got;
}

void fs_t_create_write_read(struct fs_t *t)
{
	fresh("cwr");
	int fds_before = vfs_open_fd_count();
	int fd = vfs_open("a.txt", O_RW_CREAT, 0644);
	CHECK(fd >= 0);
	EQ(vfs_write(fd, "hello world", 11), 11);
	EQ(vfs_lseek(fd, 0, VFS_SEEK_SET), 0);
	char b[32] = {0};
	EQ(vfs_read(fd, b, 5), 5);
	STREQ(b, "hello");
	EQ(vfs_read(fd, b, sizeof(b)), 6);
	EQ(vfs_read(fd, b, sizeof(b)), 0); /* EOF */
	memset(b, 0, sizeof(b));
	EQ(vfs_pread(fd, b, 5, 6), 5);
	STREQ(b, "world");
	EQ(vfs_pwrite(fd, "W", 1, 6), 1);
	EQ(vfs_lseek(fd, 0, VFS_SEEK_CUR), 11); /* pread/pwrite leave the offset alone */
	EQ(vfs_poll(fd, VFS_POLLIN | VFS_POLLOUT | VFS_POLLPRI), VFS_POLLIN | VFS_POLLOUT); /* a file is always ready */
	EQ(vfs_close(fd), 0);
	STREQ(get("a.txt"), "hello World");
	EQ(vfs_close(fd), -EBADF);
	EQ(vfs_read(fd, b, 1), -EBADF);
	EQ(vfs_open_fd_count(), fds_before);
	/* write on a read-only descriptor and read on a write-only one */
	fd = vfs_open("a.txt", VFS_O_RDONLY, 0);
	EQ(vfs_write(fd, "x", 1), -EBADF);
	vfs_close(fd);
	fd = vfs_open("a.txt", VFS_O_WRONLY, 0);
	EQ(vfs_read(fd, b, 1), -EBADF);
	vfs_close(fd);
	done();
}

void fs_t_open_flags(struct fs_t *t)
{
	fresh("flags");
	EQ(vfs_open("missing", VFS_O_RDONLY, 0), -ENOENT);
	EQ(put("f", "data"), 4);
	EQ(vfs_open("f", VFS_O_RDWR | VFS_O_CREAT | VFS_O_EXCL, 0644), -EEXIST);
	int fd = vfs_open("g", VFS_O_RDWR | VFS_O_CREAT | VFS_O_EXCL, 0600);
	CHECK(fd >= 0);
	vfs_close(fd);
	EQ(vfs_open("f", VFS_O_RDONLY | VFS_O_DIRECTORY, 0), -ENOTDIR);
	EQ(vfs_open(".", VFS_O_WRONLY, 0), -EISDIR);
	EQ(vfs_open(".", VFS_O_RDONLY | VFS_O_CREAT, 0644), -EISDIR);
	EQ(vfs_open("f", 3, 0), -EINVAL);
	EQ(vfs_open("newdir/", VFS_O_RDWR | VFS_O_CREAT, 0644), -EISDIR);
	EQ(vfs_open("f/", VFS_O_RDONLY, 0), -ENOTDIR);
	/* O_TRUNC empties, O_CREAT on an existing file keeps it */
	fd = vfs_open("f", VFS_O_RDWR | VFS_O_CREAT, 0644);
	vfs_close(fd);
	STREQ(get("f"), "data");
	fd = vfs_open("f", VFS_O_WRONLY | VFS_O_TRUNC, 0);
	vfs_close(fd);
	STREQ(get("f"), "");
	/* the umask applies to new files */
	uint32_t old = vfs_umask(077);
	fd = vfs_open("masked", VFS_O_WRONLY | VFS_O_CREAT, 0666);
	vfs_umask(old);
	struct vfs_stat st;
	EQ(vfs_fstat(fd, &st), 0);
	EQ(st.st_mode, VFS_S_IFREG | 0600);
	vfs_close(fd);
	/* O_PATH: no reads or writes, but fstat and *at work */
	fd = vfs_open(".", VFS_O_PATH, 0);
	CHECK(fd >= 0);
	char b[4];
	EQ(vfs_read(fd, b, 1), -EBADF);
	EQ(vfs_fstatat(fd, "f", &st, 0), 0);
	vfs_close(fd);
	EQ(vfs_open("f", VFS_O_TMPFILE | VFS_O_RDWR, 0600), -EOPNOTSUPP);
	done();
}

void fs_t_append_and_offsets(struct fs_t *t)
{
	fresh("append");
	EQ(put("log", "one\n"), 4);
	int fd = vfs_open("log", VFS_O_WRONLY | VFS_O_APPEND, 0);
	EQ(vfs_lseek(fd, 0, VFS_SEEK_SET), 0);
	EQ(vfs_write(fd, "two\n", 4), 4); /* O_APPEND writes at the end, whatever the offset */
	EQ(vfs_lseek(fd, 0, VFS_SEEK_CUR), 8);
	vfs_close(fd);
	STREQ(get("log"), "one\ntwo\n");
	fd = vfs_open("log", VFS_O_RDONLY, 0);
	EQ(vfs_lseek(fd, -3, VFS_SEEK_END), 5);
	EQ(vfs_lseek(fd, -10, VFS_SEEK_CUR), -EINVAL);
	EQ(vfs_lseek(fd, 0, 7), -EINVAL);
	EQ(vfs_lseek(fd, 1000, VFS_SEEK_SET), 1000); /* past the end is allowed */
	char b[4];
	EQ(vfs_read(fd, b, 4), 0);
	EQ(vfs_pread(fd, b, 1, -1), -EINVAL);
	vfs_close(fd);
	/* F_SETFL can turn O_APPEND on */
	fd = vfs_open("log", VFS_O_WRONLY, 0);
	EQ(vfs_fcntl(fd, VFS_F_SETFL, VFS_O_APPEND), 0);
	CHECK(vfs_fcntl(fd, VFS_F_GETFL, 0) & VFS_O_APPEND);
	EQ(vfs_write(fd, "3\n", 2), 2);
	vfs_close(fd);
	STREQ(get("log"), "one\ntwo\n3\n");
	done();
}

void fs_t_holes_and_truncate(struct fs_t *t)
{
	fresh("holes");
	int fd = vfs_open("h", O_RW_CREAT, 0644);
	EQ(vfs_pwrite(fd, "end", 3, 100), 3);
	struct vfs_stat st;
	EQ(vfs_fstat(fd, &st), 0);
	EQ(st.st_size, 103);
	char b[103];
	EQ(vfs_pread(fd, b, sizeof(b), 0), 103);
	for (int i = 0; i < 100; i++)
		EQ(b[i], 0);
	CHECK(memcmp(b + 100, "end", 3) == 0);
	EQ(vfs_ftruncate(fd, 2), 0);
	EQ(vfs_fstat(fd, &st), 0);
	EQ(st.st_size, 2);
	EQ(vfs_ftruncate(fd, 50), 0);
	EQ(vfs_pread(fd, b, sizeof(b), 0), 50);
	for (int i = 0; i < 50; i++)
		EQ(b[i], 0);
	EQ(vfs_ftruncate(fd, -1), -EINVAL);
	vfs_close(fd);
	fd = vfs_open("h", VFS_O_RDONLY, 0);
	EQ(vfs_ftruncate(fd, 0), -EINVAL); /* not open for writing */
	vfs_close(fd);
	EQ(vfs_truncate("h", 7), 0);
	EQ(vfs_stat("h", &st), 0);
	EQ(st.st_size, 7);
	EQ(vfs_truncate(".", 0), -EISDIR);
	done();
}

/* Lists a directory into one string "a b c" (without . and ..), in getdents order. */
static long list(const char *dir, char *out, size_t outn, size_t bufsize)
{
	int fd = vfs_open(dir, VFS_O_RDONLY | VFS_O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	char buf[1024];
	out[0] = 0;
	long total = 0;
	for (;;) {
		long n = vfs_getdents64(fd, buf, bufsize);
		if (n < 0) {
			vfs_close(fd);
			return n;
		}
		if (n == 0)
			break;
		for (long o = 0; o < n;) {
			struct vfs_dirent64 *d = (struct vfs_dirent64 *)(buf + o);
			o += d->d_reclen;
			total++;
			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
				continue;
			if (out[0])
				strncat(out, " ", outn - strlen(out) - 1);
			strncat(out, d->d_name, outn - strlen(out) - 1);
		}
	}
	vfs_close(fd);
	return total;
}

void fs_t_dirs_and_getdents(struct fs_t *t)
{
	fresh("dirs");
	EQ(vfs_mkdir("d", 0755), 0);
	EQ(vfs_mkdir("d", 0755), -EEXIST);
	EQ(vfs_mkdir("d/e/", 0755), 0); /* a trailing slash is fine for mkdir */
	EQ(put("d/f", "x"), 1);
	EQ(vfs_symlink("f", "d/l"), 0);
	char names[128];
	EQ(list("d", names, sizeof(names), 1024), 5);
	STREQ(names, "e f l");
	/* d_type of each entry */
	int fd = vfs_open("d", VFS_O_RDONLY | VFS_O_DIRECTORY, 0);
	char buf[512];
	long n = vfs_getdents64(fd, buf, sizeof(buf));
	CHECK(n > 0);
	int seen = 0;
	for (long o = 0; o < n;) {
		struct vfs_dirent64 *d = (struct vfs_dirent64 *)(buf + o);
		EQ(d->d_reclen % 8, 0);
		if (strcmp(d->d_name, "e") == 0) {
			EQ(d->d_type, VFS_DT_DIR);
			seen++;
		}
		if (strcmp(d->d_name, "f") == 0) {
			EQ(d->d_type, VFS_DT_REG);
			seen++;
		}
		if (strcmp(d->d_name, "l") == 0) {
			EQ(d->d_type, VFS_DT_LNK);
			seen++;
		}
		o += d->d_reclen;
	}
	EQ(seen, 3);
	EQ(vfs_getdents64(fd, buf, sizeof(buf)), 0);
	EQ(vfs_lseek(fd, 0, VFS_SEEK_SET), 0); /* rewinddir */
	EQ(vfs_getdents64(fd, buf, 8), -EINVAL); /* too small for one record */
	CHECK(vfs_getdents64(fd, buf, sizeof(buf)) > 0);
	EQ(vfs_read(fd, buf, 1), -EISDIR);
	vfs_close(fd);
	fd = vfs_open("d/f", VFS_O_RDONLY, 0);
	EQ(vfs_getdents64(fd, buf, sizeof(buf)), -ENOTDIR);
	vfs_close(fd);
	EQ(vfs_rmdir("d"), -ENOTEMPTY);
	EQ(vfs_rmdir("d/f"), -ENOTDIR);
	EQ(vfs_unlink("d/e"), -EISDIR);
	EQ(vfs_rmdir("d/e/."), -EINVAL);
	EQ(vfs_rmdir("d/e"), 0);
	EQ(vfs_rmdir("d/e"), -ENOENT);
	struct vfs_stat st;
	EQ(vfs_stat("d", &st), 0);
	EQ(st.st_nlink, 2); /* ".", its entry; e is gone */
	done();
}

void fs_t_getdents_resume(struct fs_t *t)
{
	fresh("resume");
	char name[16];
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "file%02d", i);
		EQ(put(name, "x"), 1);
	}
	/* A small buffer: many calls, each resuming where the last stopped; every entry once. */
	char names[512];
	EQ(list(".", names, sizeof(names), 64), 42);
	/* Removing entries while listing: the rest are still each seen once. */
	int fd = vfs_open(".", VFS_O_RDONLY | VFS_O_DIRECTORY, 0);
	char buf[96];
	int count = 0;
	int removed = 0;
	for (;;) {
		long n = vfs_getdents64(fd, buf, sizeof(buf));
		CHECK(n >= 0);
		if (n == 0)
			break;
		for (long o = 0; o < n;) {
			struct vfs_dirent64 *d = (struct vfs_dirent64 *)(buf + o);
			o += d->d_reclen;
			if (d->d_name[0] == 'f')
				count++;
		}
		if (!removed) { /* drop one already seen and one not yet seen */
			EQ(vfs_unlink("file00"), 0);
			EQ(vfs_unlink("file39"), 0);
			removed = 1;
		}
	}
	vfs_close(fd);
	EQ(count, 39);
	done();
}

void fs_t_dot_dotdot(struct fs_t *t)
{
	fresh("dots");
	EQ(vfs_mkdir("a", 0755), 0);
	EQ(vfs_mkdir("a/b", 0755), 0);
	EQ(put("a/b/f", "deep"), 4);
	STREQ(get("a/./b/../b/./f"), "deep");
	STREQ(get("a//b///f"), "deep");
	STREQ(get("/fs-suite/dots/a/b/../../a/b/f"), "deep");
	/* ".." at the root stays at the root */
	struct vfs_stat r1, r2;
	EQ(vfs_stat("/", &r1), 0);
	EQ(vfs_stat("/../../..", &r2), 0);
	EQ(r1.st_ino, r2.st_ino);
	STREQ(get("/../fs-suite/dots/a/b/f"), "deep");
	EQ(vfs_mkdir("a/.", 0755), -EEXIST);
	EQ(vfs_mkdir("/", 0755), -EEXIST);
	EQ(vfs_unlink("/"), -EISDIR);
	EQ(vfs_stat("", &r1), -ENOENT);
	EQ(vfs_fstatat(VFS_AT_FDCWD, "", &r1, VFS_AT_EMPTY_PATH), 0);
	EQ(r1.st_mode & VFS_S_IFMT, VFS_S_IFDIR);
	done();
}

void fs_t_symlinks(struct fs_t *t)
{
	fresh("links");
	EQ(vfs_mkdir("real", 0755), 0);
	EQ(put("real/f", "through"), 7);
	EQ(vfs_symlink("real", "rel"), 0);
	EQ(vfs_symlink("/fs-suite/links/real/f", "abs"), 0);
	EQ(vfs_symlink("../real", "real/up"), 0); /* relative to the link's directory */
	EQ(vfs_symlink("nowhere", "dangling"), 0);
	STREQ(get("rel/f"), "through");
	STREQ(get("abs"), "through");
	STREQ(get("real/up/up/up/f"), "through");
	EQ(vfs_symlink("x", "rel"), -EEXIST);
	EQ(vfs_symlink("", "empty"), -ENOENT);
	char b[64];
	EQ(vfs_readlink("abs", b, sizeof(b)), 22);
	CHECK(memcmp(b, "/fs-suite/links/real/f", 22) == 0);
	EQ(vfs_readlink("abs", b, 4), 4); /* cut to the buffer, no NUL */
	EQ(vfs_readlink("real", b, sizeof(b)), -EINVAL);
	EQ(vfs_readlink("abs", b, 0), -EINVAL);
	struct vfs_stat st;
	EQ(vfs_lstat("abs", &st), 0);
	EQ(st.st_mode & VFS_S_IFMT, VFS_S_IFLNK);
	EQ(st.st_size, 22);
	EQ(vfs_stat("abs", &st), 0);
	EQ(st.st_mode & VFS_S_IFMT, VFS_S_IFREG);
	EQ(vfs_stat("dangling", &st), -ENOENT);
	EQ(vfs_open("abs", VFS_O_RDONLY | VFS_O_NOFOLLOW, 0), -ELOOP);
	/* O_CREAT through a dangling link creates its target; O_EXCL refuses the link itself */
	EQ(vfs_open("dangling", VFS_O_WRONLY | VFS_O_CREAT | VFS_O_EXCL, 0644), -EEXIST);
	int fd = vfs_open("dangling", VFS_O_WRONLY | VFS_O_CREAT, 0644);
	CHECK(fd >= 0);
	vfs_close(fd);
	EQ(vfs_stat("nowhere", &st), 0);
	/* a trailing slash follows a symlink to a directory */
	EQ(vfs_lstat("rel/", &st), 0);
	EQ(st.st_mode & VFS_S_IFMT, VFS_S_IFDIR);
	/* unlink removes the link, not the target */
	EQ(vfs_unlink("rel"), 0);
	EQ(vfs_stat("real/f", &st), 0);
	done();
}

void fs_t_symlink_loop(struct fs_t *t)
{
	fresh("loop");
	EQ(vfs_symlink("b", "a"), 0);
	EQ(vfs_symlink("a", "b"), 0);
	EQ(vfs_symlink("self/x", "self"), 0);
	struct vfs_stat st;
	EQ(vfs_stat("a", &st), -ELOOP);
	EQ(vfs_open("a", VFS_O_RDONLY, 0), -ELOOP);
	EQ(vfs_stat("self", &st), -ELOOP);
	EQ(vfs_lstat("a", &st), 0); /* the link itself is fine */
	/* a chain of exactly VFS_SYMLOOP_MAX links resolves, one more does not */
	EQ(put("target", "end"), 3);
	char name[16], to[16];
	for (int i = 1; i <= VFS_SYMLOOP_MAX + 1; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		if (i == 1)
			snprintf(to, sizeof(to), "target");
		else
			snprintf(to, sizeof(to), "c%d", i - 1);
		EQ(vfs_symlink(to, name), 0);
	}
	snprintf(name, sizeof(name), "c%d", VFS_SYMLOOP_MAX);
	STREQ(get(name), "end");
	snprintf(name, sizeof(name), "c%d", VFS_SYMLOOP_MAX + 1);
	EQ(vfs_stat(name, &st), -ELOOP);
	done();
}

void fs_t_name_too_long(struct fs_t *t)
{
	fresh("long");
	static char p[VFS_PATH_MAX + 16];
	memset(p, 'n', VFS_NAME_MAX);
	p[VFS_NAME_MAX] = 0;
	EQ(put(p, "ok"), 2); /* 255 bytes: allowed */
	p[VFS_NAME_MAX] = 'n';
	p[VFS_NAME_MAX + 1] = 0;
	EQ(vfs_open(p, O_RW_CREAT, 0644), -ENAMETOOLONG);
	EQ(vfs_mkdir(p, 0755), -ENAMETOOLONG);
	/* a whole path of VFS_PATH_MAX bytes without its NUL is too long; one less resolves */
	size_t i = 0;
	while (i + 2 < VFS_PATH_MAX - 1) {
		p[i++] = '.';
		p[i++] = '/';
	}
	while (i < VFS_PATH_MAX - 1)
		p[i++] = '/';
	p[i] = 0;
	struct vfs_stat st;
	EQ(vfs_stat(p, &st), 0);
	p[i++] = '/';
	p[i] = 0;
	EQ(vfs_stat(p, &st), -ENAMETOOLONG);
	/* a symlink expansion past VFS_PATH_MAX */
	static char target[VFS_PATH_MAX];
	memset(target, '/', VFS_PATH_MAX - 10);
	target[VFS_PATH_MAX - 10] = 0;
	EQ(vfs_symlink(target, "big"), 0);
	EQ(vfs_stat("big/0123456789", &st), -ENAMETOOLONG);
	done();
}

void fs_t_notdir_enoent(struct fs_t *t)
{
	fresh("notdir");
	EQ(put("file", "x"), 1);
	struct vfs_stat st;
	EQ(vfs_stat("file/x", &st), -ENOTDIR);
	EQ(vfs_open("file/x", O_RW_CREAT, 0644), -ENOTDIR);
	EQ(vfs_mkdir("file/d", 0755), -ENOTDIR);
	EQ(vfs_stat("nodir/x", &st), -ENOENT);
	EQ(vfs_open("nodir/x", O_RW_CREAT, 0644), -ENOENT);
	EQ(vfs_mkdir("nodir/d", 0755), -ENOENT);
	EQ(vfs_unlink("nothing"), -ENOENT);
	EQ(vfs_chdir("file"), -ENOTDIR);
	EQ(vfs_fstatat(999, "x", &st, 0), -EBADF);
	int fd = vfs_open("file", VFS_O_RDONLY, 0);
	EQ(vfs_fstatat(fd, "x", &st, 0), -ENOTDIR);
	EQ(vfs_fstatat(fd, "", &st, VFS_AT_EMPTY_PATH), 0);
	EQ(st.st_size, 1);
	EQ(vfs_fstatat(fd, "x", &st, 0x8000), -EINVAL);
	vfs_close(fd);
	done();
}

void fs_t_unlink_open_file(struct fs_t *t)
{
	fresh("unlinked");
	int fd = vfs_open("tmp", O_RW_CREAT, 0644);
	EQ(vfs_write(fd, "still here", 10), 10);
	EQ(vfs_unlink("tmp"), 0);
	struct vfs_stat st;
	EQ(vfs_stat("tmp", &st), -ENOENT);
	EQ(vfs_fstat(fd, &st), 0);
	EQ(st.st_nlink, 0);
	char b[16] = {0};
	EQ(vfs_pread(fd, b, 10, 0), 10);
	STREQ(b, "still here");
	EQ(vfs_close(fd), 0); /* the node is freed here (ASan on the host checks it) */
	/* a removed cwd */
	EQ(vfs_mkdir("gone", 0755), 0);
	EQ(vfs_chdir("gone"), 0);
	EQ(vfs_rmdir("/fs-suite/unlinked/gone"), 0);
	char cwd[64];
	EQ(vfs_getcwd(cwd, sizeof(cwd)), -ENOENT);
	EQ(vfs_open("new", O_RW_CREAT, 0644), -ENOENT);
	done();
}

void fs_t_rename_cases(struct fs_t *t)
{
	fresh("rename");
	EQ(put("a", "A"), 1);
	EQ(put("b", "B"), 1);
	EQ(vfs_rename("a", "c"), 0);
	STREQ(get("c"), "A");
	EQ(vfs_rename("c", "b"), 0); /* replaces b */
	STREQ(get("b"), "A");
	struct vfs_stat st;
	EQ(vfs_stat("c", &st), -ENOENT);
	EQ(vfs_rename("b", "b"), 0);
	EQ(vfs_mkdir("d1", 0755), 0);
	EQ(vfs_mkdir("d2", 0755), 0);
	EQ(put("d2/x", "x"), 1);
	EQ(vfs_rename("b", "d1"), -EISDIR);
	EQ(vfs_rename("d1", "b"), -ENOTDIR);
	EQ(vfs_rename("d1", "d2"), -ENOTEMPTY);
	EQ(vfs_rename("d1", "d1/sub"), -EINVAL); /* into itself */
	EQ(vfs_mkdir("d1/in", 0755), 0);
	EQ(vfs_rename("d1", "d1/in/deeper"), -EINVAL);
	EQ(vfs_rename("missing", "z"), -ENOENT);
	EQ(vfs_rename("d1/in", "d2/in"), 0); /* a directory moves: link counts follow */
	EQ(vfs_stat("d1", &st), 0);
	EQ(st.st_nlink, 2);
	EQ(vfs_stat("d2", &st), 0);
	EQ(st.st_nlink, 3);
	EQ(vfs_stat("d2/in/..", &st), 0);
	struct vfs_stat d2;
	EQ(vfs_stat("d2", &d2), 0);
	EQ(st.st_ino, d2.st_ino);
	EQ(vfs_rmdir("d1"), 0);
	EQ(vfs_mkdir("empty", 0755), 0);
	EQ(vfs_rename("d2/in", "empty"), 0); /* replaces an empty directory */
	EQ(vfs_stat("d2/in", &st), -ENOENT);
	EQ(vfs_rename("b/", "q"), -ENOTDIR);
	done();
}

void fs_t_dup_fcntl(struct fs_t *t)
{
	fresh("dup");
	int fd = vfs_open("f", O_RW_CREAT, 0644);
	int d = vfs_dup(fd);
	CHECK(d >= 0 && d != fd);
	EQ(vfs_write(fd, "ab", 2), 2);
	EQ(vfs_lseek(d, 0, VFS_SEEK_CUR), 2); /* a dup shares the offset */
	int hi = vfs_fcntl(fd, VFS_F_DUPFD_CLOEXEC, 10);
	CHECK(hi >= 10);
	EQ(vfs_fcntl(hi, VFS_F_GETFD, 0), VFS_FD_CLOEXEC);
	EQ(vfs_fcntl(fd, VFS_F_GETFD, 0), 0);
	EQ(vfs_fcntl(fd, VFS_F_SETFD, VFS_FD_CLOEXEC), 0);
	EQ(vfs_fcntl(fd, VFS_F_GETFD, 0), VFS_FD_CLOEXEC);
	EQ(vfs_fcntl(fd, VFS_F_GETFL, 0) & VFS_O_ACCMODE, VFS_O_RDWR);
	EQ(vfs_fcntl(fd, 9999, 0), -EINVAL);
	int other = vfs_open("g", O_RW_CREAT, 0644);
	EQ(vfs_dup2(fd, other), other); /* closes g's descriptor, now f */
	EQ(vfs_write(other, "c", 1), 1);
	EQ(vfs_dup2(fd, fd), fd);
	EQ(vfs_dup3(fd, fd, 0), -EINVAL);
	EQ(vfs_dup3(fd, other, 12345), -EINVAL);
	EQ(vfs_dup2(fd, 100000), -EBADF);
	EQ(vfs_dup(12345), -EBADF);
	vfs_close(fd);
	EQ(vfs_write(d, "d", 1), 1); /* the file lives while any descriptor does */
	vfs_close(d);
	vfs_close(hi);
	vfs_close(other);
	STREQ(get("f"), "abcd");
	done();
}

void fs_t_emfile(struct fs_t *t)
{
	fresh("emfile");
	EQ(put("f", "x"), 1);
	int fds[CONFIG_VFS_MAX_FDS];
	int n = 0;
	for (;;) {
		int fd = vfs_open("f", VFS_O_RDONLY, 0);
		if (fd < 0) {
			EQ(fd, -EMFILE);
			break;
		}
		CHECK(n < CONFIG_VFS_MAX_FDS);
		fds[n++] = fd;
	}
	EQ(vfs_open_fd_count(), CONFIG_VFS_MAX_FDS);
	/* a full table creates nothing */
	EQ(vfs_open("new", O_RW_CREAT, 0644), -EMFILE);
	EQ(vfs_dup(fds[0]), -EMFILE);
	for (int i = 0; i < n; i++)
		EQ(vfs_close(fds[i]), 0);
	struct vfs_stat st;
	EQ(vfs_stat("new", &st), -ENOENT);
	int fd = vfs_open("f", VFS_O_RDONLY, 0);
	CHECK(fd >= 0);
	vfs_close(fd);
	done();
}

void fs_t_cwd(struct fs_t *t)
{
	fresh("cwd");
	char b[128];
	long n = vfs_getcwd(b, sizeof(b));
	EQ(n, (long)strlen("/fs-suite/cwd") + 1);
	STREQ(b, "/fs-suite/cwd");
	EQ(vfs_mkdir("sub", 0755), 0);
	EQ(vfs_symlink("sub", "link"), 0);
	EQ(vfs_chdir("link"), 0);
	EQ(vfs_getcwd(b, sizeof(b)), (long)strlen("/fs-suite/cwd/sub") + 1);
	STREQ(b, "/fs-suite/cwd/sub"); /* the real path, not the link's */
	EQ(vfs_getcwd(b, 5), -ERANGE);
	EQ(put("here", "h"), 1);
	STREQ(get("/fs-suite/cwd/sub/here"), "h");
	EQ(vfs_chdir(".."), 0);
	int fd = vfs_open("sub", VFS_O_RDONLY | VFS_O_DIRECTORY, 0);
	EQ(vfs_chdir("/"), 0);
	EQ(vfs_getcwd(b, sizeof(b)), 2);
	STREQ(b, "/");
	EQ(vfs_fchdir(fd), 0);
	STREQ(get("here"), "h");
	vfs_close(fd);
	/* *at with a directory descriptor */
	fd = vfs_open("/fs-suite/cwd", VFS_O_RDONLY | VFS_O_DIRECTORY, 0);
	EQ(vfs_mkdirat(fd, "viaat", 0755), 0);
	int f2 = vfs_openat(fd, "viaat/file", O_RW_CREAT, 0644);
	CHECK(f2 >= 0);
	vfs_close(f2);
	EQ(vfs_unlinkat(fd, "viaat/file", 0), 0);
	EQ(vfs_unlinkat(fd, "viaat", VFS_AT_REMOVEDIR), 0);
	EQ(vfs_unlinkat(fd, "viaat", 0x1), -EINVAL);
	vfs_close(fd);
	EQ(vfs_faccessat(VFS_AT_FDCWD, "here", VFS_R_OK | VFS_W_OK, 0), 0);
	EQ(vfs_faccessat(VFS_AT_FDCWD, "here", VFS_X_OK, 0), -EACCES);
	EQ(vfs_faccessat(VFS_AT_FDCWD, "nothere", VFS_F_OK, 0), -ENOENT);
	done();
}

void fs_t_mounts(struct fs_t *t)
{
	fresh("mounts");
	EQ(vfs_mkdir("mnt", 0755), 0);
	EQ(put("mnt/hidden", "under"), 5);
	EQ(put("file", "f"), 1);
	EQ(vfs_mount("mnt", "nosuchfs", NULL), -ENODEV);
	EQ(vfs_mount("file", "ramfs", NULL), -ENOTDIR);
	EQ(vfs_mount("nothere", "ramfs", NULL), -ENOENT);
	int before = vfs_mount_count();
	EQ(vfs_mount("mnt", "ramfs", NULL), 0);
	EQ(vfs_mount_count(), before + 1);
	EQ(vfs_mount("mnt", "ramfs", NULL), -EBUSY);
	struct vfs_stat st, root;
	EQ(vfs_stat("mnt/hidden", &st), -ENOENT); /* covered */
	EQ(put("mnt/new", "over"), 4);
	STREQ(get("mnt/new"), "over");
	STREQ(get("mnt/../file"), "f"); /* .. leaves the mount */
	STREQ(get("mnt/./../mnt/new"), "over");
	EQ(vfs_stat("mnt", &st), 0);
	EQ(vfs_stat("/", &root), 0);
	CHECK(st.st_dev != root.st_dev);
	EQ(vfs_rmdir("mnt"), -EBUSY);
	EQ(vfs_rename("mnt", "elsewhere"), -EBUSY);
	EQ(vfs_rename("mnt/new", "moved"), -EXDEV);
	EQ(vfs_chdir("mnt"), 0);
	char b[128];
	EQ(vfs_getcwd(b, sizeof(b)) > 0, 1);
	STREQ(b, "/fs-suite/mounts/mnt");
	EQ(vfs_chdir("/"), 0);
	/* the mount stays (there is no umount): leave it, but empty */
	EQ(vfs_unlink("/fs-suite/mounts/mnt/new"), 0);
	vfs_chdir("/");
	/* the suite's directory cannot be removed while the mount is in it: rename it aside */
	EQ(vfs_mkdir("/fs-suite-mounts", 0755) == 0 || vfs_stat("/fs-suite-mounts", &st) == 0, 1);
	char aside[64];
	snprintf(aside, sizeof(aside), "/fs-suite-mounts/%d", before);
	EQ(vfs_rename("/fs-suite/mounts", aside), 0);
}

void fs_t_enospc_keeps_data(struct fs_t *t)
{
	fresh("enospc");
	EQ(vfs_mkdir("small", 0755), 0);
	struct ramfs_options o = {.max_bytes = 64 * 1024};
	EQ(vfs_mount("small", "ramfs", &o), 0);
	int fd = vfs_open("small/fill", O_RW_CREAT, 0644);
	CHECK(fd >= 0);
	static char chunk[1000];
	long total = 0, r;
	int i = 0;
	for (;; i++) {
		memset(chunk, 'a' + i % 26, sizeof(chunk));
		r = vfs_write(fd, chunk, sizeof(chunk));
		if (r < 0)
			break;
		total += r;
		if (r < (long)sizeof(chunk)) { /* a short write: the next one fails */
			i++;
			r = vfs_write(fd, chunk, sizeof(chunk));
			break;
		}
		CHECK(total < 64 * 1024);
	}
	EQ(r, -ENOSPC);
	CHECK(total >= 56 * 1024); /* most of the limit is usable for data (it is charged in 4 KiB pages) */
	/* everything written is intact */
	struct vfs_stat st;
	EQ(vfs_fstat(fd, &st), 0);
	EQ(st.st_size, total);
	for (long off = 0; off < total; off += (long)sizeof(chunk)) {
		long k = vfs_pread(fd, chunk, sizeof(chunk), off);
		CHECK(k > 0);
		for (long j = 0; j < k; j++)
			if (chunk[j] != 'a' + (off / 1000) % 26)
				FAILF("byte %ld is %d", off + j, chunk[j]);
	}
	/* new files and directories fail too, and freeing space makes room again */
	int fd2 = vfs_open("small/more", O_RW_CREAT, 0644);
	if (fd2 >= 0) { /* the node itself may still fit, and a little data: only the slack */
		long extra = 0, w;
		while ((w = vfs_write(fd2, chunk, sizeof(chunk))) > 0)
			extra += w;
		vfs_close(fd2);
		EQ(w, -ENOSPC);
		CHECK(extra < 4096);
	} else {
		EQ(fd2, -ENOSPC);
	}
	EQ(vfs_ftruncate(fd, 0), 0);
	EQ(vfs_lseek(fd, 0, VFS_SEEK_SET), 0); /* truncation leaves the offset where it was */
	EQ(vfs_write(fd, chunk, sizeof(chunk)), (long)sizeof(chunk));
	vfs_close(fd);
	vfs_unlink("small/fill");
	vfs_unlink("small/more");
	vfs_chdir("/");
	EQ(vfs_mkdir("/fs-suite-mounts", 0755) == 0 || vfs_stat("/fs-suite-mounts", &st) == 0, 1);
	char aside[64];
	snprintf(aside, sizeof(aside), "/fs-suite-mounts/enospc%d", vfs_mount_count());
	EQ(vfs_rename("/fs-suite/enospc", aside), 0);
}

void fs_t_borrowed_file(struct fs_t *t)
{
	fresh("borrow");
	/* const: on the host it sits in read-only memory, so a write into it would crash */
	static const char image[] = "borrowed bytes";
	int fd = vfs_open("b", O_RW_CREAT, 0644);
	struct vnode *vn;
	EQ(vfs_fd_vnode(fd, &vn), 0);
	CHECK(ramfs_is_ramfs(vn));
	uint64_t used = ramfs_used_bytes(vn);
	EQ(ramfs_file_borrow(vn, image, 14), 0);
	EQ(ramfs_used_bytes(vn), used + 14);
	EQ(ramfs_file_borrow(vn, image, 14), -EINVAL); /* not empty any more */
	STREQ(get("b"), "borrowed bytes");
	EQ(vfs_pwrite(fd, "B", 1, 0), 1); /* the first change copies */
	STREQ(get("b"), "Borrowed bytes");
	CHECK(image[0] == 'b');
	vfs_vnode_put(vn);
	/* truncating a borrowed file keeps a prefix, growing it copies */
	int fd2 = vfs_open("c", O_RW_CREAT, 0644);
	EQ(vfs_fd_vnode(fd2, &vn), 0);
	EQ(ramfs_file_borrow(vn, image, 14), 0);
	EQ(vfs_ftruncate(fd2, 8), 0);
	STREQ(get("c"), "borrowed");
	EQ(vfs_ftruncate(fd2, 10), 0);
	char b[16];
	EQ(vfs_pread(fd2, b, sizeof(b), 0), 10);
	CHECK(memcmp(b, "borrowed\0\0", 10) == 0);
	vfs_vnode_put(vn);
	EQ(vfs_fd_vnode(99999, &vn), -EBADF);
	vfs_close(fd);
	vfs_close(fd2);
	done();
}

void fs_t_stat_fields(struct fs_t *t)
{
	fresh("stat");
	EQ(put("f", "12345"), 5);
	struct vfs_stat a, b;
	EQ(vfs_stat("f", &a), 0);
	EQ(a.st_mode, VFS_S_IFREG | 0644);
	EQ(a.st_nlink, 1);
	EQ(a.st_size, 5);
	EQ(a.st_blocks, 1);
	EQ(a.st_uid, 0);
	CHECK(a.st_ino != 0);
	EQ(put("g", "1"), 1);
	EQ(vfs_stat("g", &b), 0);
	CHECK(a.st_ino != b.st_ino);
	EQ(a.st_dev, b.st_dev);
	CHECK(b.st_mtim.sec > a.st_mtim.sec || (b.st_mtim.sec == a.st_mtim.sec && b.st_mtim.nsec >= a.st_mtim.nsec));
	EQ(vfs_mkdir("d", 0700), 0);
	EQ(vfs_stat("d", &a), 0);
	EQ(a.st_mode, VFS_S_IFDIR | 0700);
	EQ(a.st_nlink, 2);
	done();
}
