/* epoll over vfs_poll: an epoll instance is a descriptor (a vnode readable while an item is
 * ready) holding an interest list of (fd, events, data). epoll_wait checks every item and idles
 * in vfs_poll_idle (which drives the network stack when sockets exist) until one is ready.
 *
 * Items name a descriptor number and remember its vnode without a reference, so closing the
 * descriptor closes the file as on Linux; an item whose descriptor was closed (or now names
 * another file) is dropped at the next check.
 * Edge-triggered items (EPOLLET) report a condition once, and again after it went away or after
 * the app saw EAGAIN on the file in that direction (the VFS counts those: vnode.eagain_in/out),
 * which is when Linux's wake-ups would have re-armed it for an app that reads until EAGAIN. EPOLLONESHOT disables an
 * item after one report until EPOLL_CTL_MOD. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <syscall/syscall.h>
#include <time/time.h>
#include <sched/sched.h>
#include <vfs/vnode.h>


#define EPOLLIN_K 0x001u
#define EPOLLPRI_K 0x002u
#define EPOLLOUT_K 0x004u
#define EPOLLERR_K 0x008u
#define EPOLLHUP_K 0x010u
#define EPOLLRDNORM_K 0x040u
#define EPOLLWRNORM_K 0x100u
#define EPOLLRDHUP_K 0x2000u
#define EPOLLEXCLUSIVE_K (1u << 28)
#define EPOLLWAKEUP_K (1u << 29)
#define EPOLLONESHOT_K (1u << 30)
#define EPOLLET_K (1u << 31)
#define EPOLL_CTL_ADD_K 1
#define EPOLL_CTL_DEL_K 2
#define EPOLL_CTL_MOD_K 3
#define EPOLL_MAXEVENTS_K (INT32_MAX / 12)
#define NESTING_MAX 4 /* epoll in epoll: deeper checks report nothing (no loops) */

struct epoll_event_k {
	uint32_t events;
	uint64_t data;
} __attribute__((packed));
_Static_assert(sizeof(struct epoll_event_k) == 12, "struct epoll_event is packed on x86_64");

struct ep_item {
	int fd;
	struct vnode *vn;    /* identity only (no reference) */
	uint32_t events;     /* wanted, with EPOLLET/EPOLLONESHOT */
	uint64_t data;
	uint32_t fired;      /* EPOLLET: conditions reported and not re-armed yet */
	uint32_t eagain_in, eagain_out; /* the vnode's counts when last reported */
	int disabled;        /* EPOLLONESHOT after its report */
};

struct epoll {
	struct vnode vn;
	struct ep_item *items;
	int n, cap;
	int next;            /* where the next check starts (fairness beyond maxevents) */
};

static const struct vnode_ops epoll_ops;
static uint64_t next_ino = 1;
static int depth;

/* What item it is ready for now, as events (before EPOLLET filtering); 0 and *gone = 1 when
 * its descriptor no longer names its file. */
static uint32_t item_ready(struct ep_item *it, int *gone)
{
	struct vnode *vn;
	*gone = 0;
	if (vfs_fd_vnode(it->fd, &vn) < 0) {
		*gone = 1;
		return 0;
	}
	int same = vn == it->vn;
	vfs_vnode_put(vn);
	if (!same) {
		*gone = 1;
		return 0;
	}
	int want = (int)(it->events & (EPOLLIN_K | EPOLLPRI_K | EPOLLOUT_K | EPOLLRDHUP_K));
	int r = vfs_poll(it->fd, want);
	if (r < 0) {
		*gone = 1;
		return 0;
	}
	return (uint32_t)r & (it->events | EPOLLERR_K | EPOLLHUP_K);
}

static void drop(struct epoll *ep, int i)
{
	ep->items[i] = ep->items[--ep->n];
	if (ep->next >= ep->n)
		ep->next = 0;
}

/* Fills up to max events (out may be NULL: count only, no state changes); returns the count. */
static int collect(struct epoll *ep, struct epoll_event_k *out, int max)
{
	if (depth >= NESTING_MAX)
		return 0;
	depth++;
	int got = 0, n = ep->n, start = ep->next;
	for (int k = 0; k < n && got < max && ep->n; k++) {
		int i = (start + k) % n;
		if (i >= ep->n)
			continue;
		struct ep_item *it = &ep->items[i];
		if (it->disabled)
			continue;
		int gone;
		uint32_t r = item_ready(it, &gone);
		if (gone) {
			if (out)
				drop(ep, i);
			continue;
		}
		if (it->events & EPOLLET_K) {
			/* The app read (wrote) until EAGAIN since: that direction is re-armed. */
			if (it->vn->eagain_in != it->eagain_in)
				it->fired &= ~(EPOLLIN_K | EPOLLRDHUP_K | EPOLLPRI_K);
			if (it->vn->eagain_out != it->eagain_out)
				it->fired &= ~EPOLLOUT_K;
			it->fired &= r;     /* conditions that went away re-arm */
			r &= ~it->fired;
		}
		if (!r)
			continue;
		got++;
		if (!out)
			continue;
		out[got - 1].events = r;
		out[got - 1].data = it->data;
		if (it->events & EPOLLET_K) {
			it->fired |= r;
			it->eagain_in = it->vn->eagain_in;
			it->eagain_out = it->vn->eagain_out;
		}
		if (it->events & EPOLLONESHOT_K)
			it->disabled = 1;
		ep->next = (i + 1) % (ep->n ? ep->n : 1);
	}
	depth--;
	return got;
}

static int epoll_poll(struct vnode *vn, int events)
{
	struct epoll *ep = vn->priv;
	return (events & VFS_POLLIN) && collect(ep, NULL, 1) ? VFS_POLLIN : 0;
}

static int epoll_getattr(struct vnode *vn, struct vfs_stat *st)
{
	(void)vn;
	st->st_mode = 0600; /* an anonymous inode: no file type, as Linux's */
	return 0;
}

static void epoll_inactive(struct vnode *vn)
{
	struct epoll *ep = vn->priv;
	free(ep->items);
	free(ep);
}

static const struct vnode_ops epoll_ops = {
	.getattr = epoll_getattr,
	.poll = epoll_poll,
	.inactive = epoll_inactive,
};

static long sys_epoll_create1(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a1 & ~(long)VFS_O_CLOEXEC)
		return -EINVAL;
	struct epoll *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	vfs_vnode_init(&ep->vn, &epoll_ops, 0, next_ino++);
	ep->vn.flags = VFS_VN_NOSEEK;
	ep->vn.priv = ep;
	struct vfs_file *f = NULL;
	int r = vfs_file_open_vnode(&ep->vn, VFS_O_RDONLY, &f);
	if (r < 0) {
		free(ep);
		return r;
	}
	int fd = vfs_fd_install(f, (a1 & VFS_O_CLOEXEC) != 0);
	if (fd < 0)
		vfs_file_put(f); /* inactive frees ep */
	return fd;
}
SYSCALL_REGISTER(291, sys_epoll_create1);

static long sys_epoll_create(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return a1 <= 0 ? -EINVAL : sys_epoll_create1(0, 0, 0, 0, 0, 0);
}
SYSCALL_REGISTER(213, sys_epoll_create);

/* The epoll behind fd with a reference (vfs_vnode_put it); -EBADF, or -EINVAL: not an epoll. */
static int epoll_of(long fd, struct epoll **out)
{
	struct vnode *vn;
	int r = vfs_fd_vnode_of(fd, &epoll_ops, &vn);
	if (r)
		return r < 0 ? r : -EINVAL;
	*out = vn->priv;
	return 0;
}

static long ctl(struct epoll *ep, long op, long fd, long evp)
{
	struct epoll_event_k ev = {0, 0};
	if (op != EPOLL_CTL_DEL_K && syscall_copy_in(&ev, (const void *)evp, sizeof ev))
		return -EFAULT;
	if (fd < 0 || fd > INT32_MAX)
		return -EBADF;
	struct vnode *vn;
	int r = vfs_fd_vnode((int)fd, &vn);
	if (r < 0)
		return r;
	uint32_t type = vn->type & VFS_S_IFMT;
	vfs_vnode_put(vn); /* identity only from here */
	if (vn == &ep->vn)
		return -EINVAL;
	if (type == VFS_S_IFREG || type == VFS_S_IFDIR)
		return -EPERM; /* always ready: Linux refuses them too */
	int i = 0;
	while (i < ep->n && !(ep->items[i].fd == (int)fd && ep->items[i].vn == vn))
		i++;
	int found = i < ep->n;
	if (op == EPOLL_CTL_ADD_K || op == EPOLL_CTL_MOD_K) {
		if (ev.events & EPOLLEXCLUSIVE_K && op == EPOLL_CTL_MOD_K)
			return -EINVAL;
		ev.events &= ~(EPOLLEXCLUSIVE_K | EPOLLWAKEUP_K); /* one process: nothing to wake */
		ev.events |= EPOLLERR_K | EPOLLHUP_K;           /* always reported */
	}
	switch (op) {
	case EPOLL_CTL_ADD_K:
		if (found)
			return -EEXIST;
		if (ep->n == ep->cap) {
			int cap = ep->cap ? ep->cap * 2 : 8;
			struct ep_item *m = realloc(ep->items, (size_t)cap * sizeof(*m));
			if (!m)
				return -ENOMEM;
			ep->items = m;
			ep->cap = cap;
		}
		ep->items[ep->n++] = (struct ep_item){(int)fd, vn, ev.events, ev.data, 0, vn->eagain_in, vn->eagain_out, 0};
		return 0;
	case EPOLL_CTL_MOD_K:
		if (!found)
			return -ENOENT;
		ep->items[i] = (struct ep_item){(int)fd, vn, ev.events, ev.data, 0, vn->eagain_in, vn->eagain_out, 0};
		return 0;
	case EPOLL_CTL_DEL_K:
		if (!found)
			return -ENOENT;
		drop(ep, i);
		return 0;
	default:
		return -EINVAL;
	}
}

static long sys_epoll_ctl(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	struct epoll *ep;
	int r = epoll_of(a1, &ep);
	if (r < 0)
		return r;
	long res = ctl(ep, a2, a3, a4);
	vfs_vnode_put(&ep->vn);
	return res;
}
SYSCALL_REGISTER(233, sys_epoll_ctl);

#define NO_DEADLINE UINT64_MAX

static long do_wait(long epfd, long evs, long max, uint64_t deadline)
{
	if (max <= 0 || max > EPOLL_MAXEVENTS_K)
		return -EINVAL;
	if (!syscall_user_ok((const void *)evs, (size_t)max * sizeof(struct epoll_event_k), 1))
		return -EFAULT;
	struct epoll *ep;
	int r = epoll_of(epfd, &ep);
	if (r < 0)
		return r;
	long got;
	for (;;) {
		vfs_poll_kick();
		got = collect(ep, (struct epoll_event_k *)evs, (int)max);
		if (got || deadline == 0 || (deadline != NO_DEADLINE && time_now_ns() >= deadline))
			break;
		sched_yield(); /* another thread may be what makes an item ready */
		vfs_poll_idle(deadline);
	}
	vfs_vnode_put(&ep->vn);
	return got;
}

static long sys_epoll_wait(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	int ms = (int)a4;
	return do_wait(a1, a2, a3, ms < 0 ? NO_DEADLINE : ms == 0 ? 0 : time_now_ns() + (uint64_t)ms * 1000000u);
}
SYSCALL_REGISTER(232, sys_epoll_wait);
/* epoll_pwait: the signal mask does not matter, no signal arrives while the app waits. */
SYSCALL_REGISTER(281, sys_epoll_wait);

static long sys_epoll_pwait2(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	uint64_t deadline = NO_DEADLINE;
	if (a4) {
		int64_t t[2];
		if (syscall_copy_in(t, (const void *)a4, sizeof t))
			return -EFAULT;
		if (t[0] < 0 || t[1] < 0 || t[1] >= 1000000000)
			return -EINVAL;
		deadline = (t[0] == 0 && t[1] == 0) ? 0 : time_now_ns() + (uint64_t)t[0] * 1000000000u + (uint64_t)t[1];
	}
	return do_wait(a1, a2, a3, deadline);
}
SYSCALL_REGISTER(441, sys_epoll_pwait2);
