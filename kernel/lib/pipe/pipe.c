/* Pipes: one ring buffer, two vnodes (the read end and the write end). Each end is its own
 * vnode so that the VFS's reference counting says when the last descriptor of an end is gone
 * (its inactive op): that is EOF for readers, EPIPE for writers. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pipe/pipe.h>
#include <sched/wait.h>
#include <vfs/vnode.h>

#define CAPACITY ((size_t)CONFIG_PIPE_CAPACITY_KIB * 1024u)
_Static_assert(CONFIG_PIPE_CAPACITY_KIB * 1024 >= PIPE_BUF, "a pipe holds at least PIPE_BUF bytes");

struct pipe {
	struct vnode rend, wend;
	uint8_t *buf;
	size_t head, len;       /* the oldest byte's index, bytes buffered */
	int readers, writers;   /* is the end still open (1) or gone (0) */
	struct sched_waitq rq;  /* readers waiting for data or EOF */
	struct sched_waitq wq;  /* writers waiting for room or EPIPE */
	uint64_t mtime;         /* vfs_stamp of the last transfer */
};

static uint64_t next_ino = 1;

static struct pipe *of(struct vnode *vn) { return vn->priv; }

static void ring_get(struct pipe *p, uint8_t *dst, size_t n)
{
	size_t first = CAPACITY - p->head < n ? CAPACITY - p->head : n;
	memcpy(dst, p->buf + p->head, first);
	memcpy(dst + first, p->buf, n - first);
	p->head = (p->head + n) % CAPACITY;
	p->len -= n;
}

static void ring_put(struct pipe *p, const uint8_t *src, size_t n)
{
	size_t tail = (p->head + p->len) % CAPACITY;
	size_t first = CAPACITY - tail < n ? CAPACITY - tail : n;
	memcpy(p->buf + tail, src, first);
	memcpy(p->buf, src + first, n - first);
	p->len += n;
}

static long pipe_read(struct vnode *vn, void *buf, size_t n, uint64_t off, int flags)
{
	(void)off;
	struct pipe *p = of(vn);
	if (n == 0)
		return 0;
	while (p->len == 0) {
		if (!p->writers)
			return 0;
		if (flags & VFS_O_NONBLOCK)
			return -EAGAIN;
		sched_waitq_wait(&p->rq, SCHED_FOREVER);
	}
	size_t k = n < p->len ? n : p->len;
	ring_get(p, buf, k);
	p->mtime = vfs_stamp();
	sched_waitq_wake_all(&p->wq);
	return (long)k;
}

static long pipe_write(struct vnode *vn, const void *buf, size_t n, uint64_t off, int flags)
{
	(void)off;
	struct pipe *p = of(vn);
	const uint8_t *src = buf;
	size_t done = 0;
	if (n == 0)
		return 0;
	if (!p->readers)
		return -EPIPE;
	while (done < n) {
		size_t room = CAPACITY - p->len, want = n - done;
		/* At most PIPE_BUF bytes go in whole or not at all; more may be split. */
		size_t need = n <= PIPE_BUF ? want : 1;
		if (room < need) {
			if (flags & VFS_O_NONBLOCK)
				return done ? (long)done : -EAGAIN;
			sched_waitq_wait(&p->wq, SCHED_FOREVER);
			if (!p->readers) /* the readers left while we waited */
				return done ? (long)done : -EPIPE;
			continue;
		}
		size_t k = want < room ? want : room;
		ring_put(p, src + done, k);
		done += k;
		p->mtime = vfs_stamp();
		sched_waitq_wake_all(&p->rq);
	}
	return (long)done;
}

static int pipe_poll(struct vnode *vn, int events)
{
	struct pipe *p = of(vn);
	int r = 0;
	if (vn == &p->rend) {
		if (p->len)
			r |= VFS_POLLIN;
		if (!p->writers)
			r |= VFS_POLLHUP; /* reported whatever was asked, as Linux */
		return r & (events | VFS_POLLHUP);
	}
	if (!p->readers)
		return VFS_POLLERR; /* likewise */
	/* Writable when an atomic write fits (Linux: when a buffer page is free). */
	if (CAPACITY - p->len >= PIPE_BUF)
		r |= VFS_POLLOUT;
	return r & events;
}

static int pipe_getattr(struct vnode *vn, struct vfs_stat *st)
{
	struct pipe *p = of(vn);
	st->st_mode = VFS_S_IFIFO | 0600;
	st->st_size = 0;
	vfs_stamp_time(p->mtime, &st->st_mtim);
	st->st_atim = st->st_ctim = st->st_mtim;
	return 0;
}

/* The last descriptor of one end closed: wake the other side, free the pipe when both are gone. */
static void pipe_inactive(struct vnode *vn)
{
	struct pipe *p = of(vn);
	if (vn == &p->rend) {
		p->readers = 0;
		sched_waitq_wake_all(&p->wq);
	} else {
		p->writers = 0;
		sched_waitq_wake_all(&p->rq);
	}
	if (!p->readers && !p->writers) {
		free(p->buf);
		free(p);
	}
}

static const struct vnode_ops pipe_ops = {
	.read = pipe_read,
	.write = pipe_write,
	.getattr = pipe_getattr,
	.poll = pipe_poll,
	.inactive = pipe_inactive,
};

int pipe_create(int fds[2], int flags)
{
	if (flags & ~(VFS_O_NONBLOCK | VFS_O_CLOEXEC))
		return -EINVAL; /* O_DIRECT (packet mode) and O_NOTIFICATION_PIPE are not supported */
	struct pipe *p = calloc(1, sizeof(*p));
	uint8_t *buf = malloc(CAPACITY);
	if (!p || !buf) {
		free(p);
		free(buf);
		return -ENOMEM;
	}
	p->buf = buf;
	p->readers = p->writers = 1;
	p->mtime = vfs_stamp();
	sched_waitq_init(&p->rq);
	sched_waitq_init(&p->wq);
	uint64_t ino = next_ino++;
	vfs_vnode_init(&p->rend, &pipe_ops, VFS_S_IFIFO, ino);
	vfs_vnode_init(&p->wend, &pipe_ops, VFS_S_IFIFO, ino);
	p->rend.flags = p->wend.flags = VFS_VN_NOSEEK;
	p->rend.priv = p->wend.priv = p;

	int fl = flags & VFS_O_NONBLOCK, cloexec = !!(flags & VFS_O_CLOEXEC);
	struct vfs_file *rf = NULL, *wf = NULL;
	int err = vfs_file_open_vnode(&p->rend, VFS_O_RDONLY | fl, &rf);
	if (!err)
		err = vfs_file_open_vnode(&p->wend, VFS_O_WRONLY | fl, &wf);
	int rfd = err ? err : vfs_fd_install(rf, cloexec);
	if (rfd < 0) {
		err = rfd;
		goto fail;
	}
	rf = NULL; /* the table holds it now */
	int wfd = vfs_fd_install(wf, cloexec);
	if (wfd < 0) {
		err = wfd;
		vfs_close(rfd);
		goto fail;
	}
	fds[0] = rfd;
	fds[1] = wfd;
	return 0;
fail:
	/* Dropping the files drops the ends' references; an end never opened is let go by hand. */
	if (rf)
		vfs_file_put(rf);
	else if (p->readers && !p->rend.refs)
		pipe_inactive(&p->rend);
	if (wf)
		vfs_file_put(wf);
	else if (p->writers && !p->wend.refs)
		pipe_inactive(&p->wend);
	return err;
}
