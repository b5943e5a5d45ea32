/* Guest tests of pipes, through the VFS's descriptor API; threads of the scheduler are the
 * other end where one side has to block. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pipe/pipe.h>
#include <sched/sched.h>
#include <test/test.h>
#include <vfs/vfs.h>

#define CAP ((long)CONFIG_PIPE_CAPACITY_KIB * 1024)

KTEST(pipe, round_trip_stat_flags)
{
	int before = vfs_open_fd_count(), fds[2];
	KT_ASSERT_EQ(pipe_create(fds, 0), 0);
	KT_ASSERT_EQ(vfs_open_fd_count(), before + 2);
	KT_ASSERT_EQ(vfs_write(fds[1], "hello", 5), 5);
	char b[16];
	KT_ASSERT_EQ(vfs_read(fds[0], b, 3), 3);
	KT_ASSERT_EQ(memcmp(b, "hel", 3), 0);
	KT_ASSERT_EQ(vfs_read(fds[0], b, sizeof b), 2); /* what is there, not what was asked */
	KT_ASSERT_EQ(memcmp(b, "lo", 2), 0);
	struct vfs_stat st;
	KT_ASSERT_EQ(vfs_fstat(fds[0], &st), 0);
	KT_ASSERT_EQ(st.st_mode & VFS_S_IFMT, VFS_S_IFIFO);
	KT_ASSERT_EQ(vfs_lseek(fds[0], 0, VFS_SEEK_SET), -ESPIPE);
	KT_ASSERT_EQ(vfs_pwrite(fds[1], "x", 1, 0), -ESPIPE);
	KT_ASSERT_EQ(vfs_read(fds[1], b, 1), -EBADF);  /* the write end is write-only */
	KT_ASSERT_EQ(vfs_write(fds[0], "x", 1), -EBADF);
	KT_ASSERT_EQ(vfs_fcntl(fds[0], VFS_F_GETFL, 0), VFS_O_RDONLY);
	KT_ASSERT_EQ(vfs_fcntl(fds[1], VFS_F_GETFL, 0), VFS_O_WRONLY);
	KT_ASSERT_EQ(vfs_fcntl(fds[0], VFS_F_GETFD, 0), 0);
	vfs_close(fds[0]);
	vfs_close(fds[1]);
	KT_ASSERT_EQ(vfs_open_fd_count(), before);
	KT_ASSERT_EQ(pipe_create(fds, VFS_O_CLOEXEC | VFS_O_NONBLOCK), 0);
	KT_ASSERT_EQ(vfs_fcntl(fds[1], VFS_F_GETFD, 0), VFS_FD_CLOEXEC);
	KT_ASSERT_EQ(vfs_fcntl(fds[1], VFS_F_GETFL, 0), VFS_O_WRONLY | VFS_O_NONBLOCK);
	vfs_close(fds[0]);
	vfs_close(fds[1]);
	KT_ASSERT_EQ(pipe_create(fds, VFS_O_DIRECT), -EINVAL);
	KT_ASSERT_EQ(vfs_open_fd_count(), before);
}

KTEST(pipe, eof_epipe_and_dup)
{
	int fds[2];
	char b[8];
	KT_ASSERT_EQ(pipe_create(fds, 0), 0);
	int w2 = vfs_dup(fds[1]);
	KT_ASSERT(w2 >= 0);
	vfs_close(fds[1]);
	KT_ASSERT_EQ(vfs_write(w2, "ab", 2), 2); /* the dup keeps the write end open */
	vfs_close(w2);
	KT_ASSERT_EQ(vfs_read(fds[0], b, sizeof b), 2); /* buffered data outlives the writers */
	KT_ASSERT_EQ(vfs_read(fds[0], b, sizeof b), 0);  /* then EOF */
	KT_ASSERT_EQ(vfs_poll(fds[0], VFS_POLLIN), VFS_POLLHUP);
	vfs_close(fds[0]);

	KT_ASSERT_EQ(pipe_create(fds, 0), 0);
	KT_ASSERT_EQ(vfs_dup2(fds[0], 20), 20);
	vfs_close(fds[0]);
	KT_ASSERT_EQ(vfs_write(fds[1], "a", 1), 1);
	vfs_close(20);
	KT_ASSERT_EQ(vfs_write(fds[1], "a", 1), -EPIPE);
	KT_ASSERT_EQ(vfs_poll(fds[1], VFS_POLLOUT), VFS_POLLERR);
	vfs_close(fds[1]);
}

KTEST(pipe, nonblocking_and_atomic_writes)
{
	int fds[2];
	char b[64];
	KT_ASSERT_EQ(pipe_create(fds, VFS_O_NONBLOCK), 0);
	KT_ASSERT_EQ(vfs_read(fds[0], b, sizeof b), -EAGAIN);
	KT_ASSERT_EQ(vfs_poll(fds[0], VFS_POLLIN), 0);
	KT_ASSERT_EQ(vfs_poll(fds[1], VFS_POLLOUT), VFS_POLLOUT);
	char *big = malloc((size_t)CAP + 100);
	KT_ASSERT_NOTNULL(big);
	memset(big, 'z', (size_t)CAP + 100);
	/* Room for all but PIPE_BUF - 1 bytes: an atomic write of PIPE_BUF does not fit at all. */
	KT_ASSERT_EQ(vfs_write(fds[1], big, (size_t)(CAP - PIPE_BUF + 1)), CAP - PIPE_BUF + 1);
	KT_ASSERT_EQ(vfs_poll(fds[1], VFS_POLLOUT), 0);
	KT_ASSERT_EQ(vfs_write(fds[1], big, PIPE_BUF), -EAGAIN);
	/* A longer write is split: what fits goes in. */
	KT_ASSERT_EQ(vfs_write(fds[1], big, PIPE_BUF + 1), PIPE_BUF - 1);
	KT_ASSERT_EQ(vfs_write(fds[1], big, 1), -EAGAIN);
	KT_ASSERT_EQ(vfs_poll(fds[0], VFS_POLLIN | VFS_POLLOUT), VFS_POLLIN);
	/* F_SETFL takes O_NONBLOCK off (checked with a read that has data: no block). */
	KT_ASSERT_EQ(vfs_fcntl(fds[0], VFS_F_SETFL, 0), 0);
	KT_ASSERT_EQ(vfs_fcntl(fds[0], VFS_F_GETFL, 0), VFS_O_RDONLY);
	long got = 0, r;
	while (got < CAP && (r = vfs_read(fds[0], big, (size_t)CAP)) > 0)
		got += r;
	KT_ASSERT_EQ(got, CAP);
	KT_ASSERT_EQ(vfs_fcntl(fds[0], VFS_F_SETFL, VFS_O_NONBLOCK), 0);
	KT_ASSERT_EQ(vfs_read(fds[0], b, sizeof b), -EAGAIN);
	free(big);
	vfs_close(fds[0]);
	vfs_close(fds[1]);
}

/* ---- with a second thread as the other end ---- */

struct xfer {
	int fd;
	size_t n;
	long result;
};

#define PATTERN(i) ((uint8_t)((i) * 7u + ((i) >> 11)))

static void *writer_fn(void *arg)
{
	struct xfer *x = arg;
	uint8_t *buf = malloc(x->n);
	for (size_t i = 0; i < x->n; i++)
		buf[i] = PATTERN(i);
	x->result = buf ? vfs_write(x->fd, buf, x->n) : -ENOMEM; /* one write, several times the capacity */
	free(buf);
	vfs_close(x->fd);
	return 0;
}

KTEST(pipe, blocking_large_transfer)
{
	int fds[2];
	KT_ASSERT_EQ(pipe_create(fds, 0), 0);
	struct xfer x = {fds[1], (size_t)CAP * 4 + 123, 0};
	struct sched_thread *t;
	KT_ASSERT_EQ(sched_thread_create(&t, 0, writer_fn, &x), 0);
	uint8_t b[1000]; /* reads smaller than the writes, at odd offsets of the ring */
	size_t got = 0, bad = 0;
	long r;
	while ((r = vfs_read(fds[0], b, sizeof b)) > 0) {
		for (long i = 0; i < r; i++)
			bad += b[i] != PATTERN(got + (size_t)i);
		got += (size_t)r;
	}
	KT_ASSERT_EQ(r, 0); /* EOF once the writer closed its end */
	KT_ASSERT_EQ(sched_thread_join(t, 0), 0);
	KT_ASSERT_EQ(x.result, (long)x.n);
	KT_ASSERT_EQ(got, x.n);
	KT_ASSERT_EQ(bad, 0);
	vfs_close(fds[0]);
}

static void *closer_fn(void *arg)
{
	vfs_close(*(int *)arg);
	return 0;
}

KTEST(pipe, blocked_ends_see_the_other_end_close)
{
	int fds[2];
	char b[8];
	struct sched_thread *t;
	/* A reader blocked on an empty pipe gets EOF when the writer closes. */
	KT_ASSERT_EQ(pipe_create(fds, 0), 0);
	KT_ASSERT_EQ(sched_thread_create(&t, 0, closer_fn, &fds[1]), 0);
	KT_ASSERT_EQ(vfs_read(fds[0], b, sizeof b), 0);
	KT_ASSERT_EQ(sched_thread_join(t, 0), 0);
	vfs_close(fds[0]);
	/* A writer blocked on a full pipe gets the count written so far, then EPIPE. */
	KT_ASSERT_EQ(pipe_create(fds, 0), 0);
	char *big = calloc(1, (size_t)CAP + 10);
	KT_ASSERT_NOTNULL(big);
	KT_ASSERT_EQ(sched_thread_create(&t, 0, closer_fn, &fds[0]), 0);
	KT_ASSERT_EQ(vfs_write(fds[1], big, (size_t)CAP + 10), CAP);
	KT_ASSERT_EQ(vfs_write(fds[1], big, 1), -EPIPE);
	KT_ASSERT_EQ(sched_thread_join(t, 0), 0);
	free(big);
	vfs_close(fds[1]);
}
