/* BSD sockets as file descriptors: each socket is a VFS vnode (S_IFSOCK) whose file ops (read,
 * write, poll, close, fcntl O_NONBLOCK, dup) the VFS and posix-fd already provide; the socket
 * calls below map onto net/socket.h over the image's stack (net_default: the NIC's, or
 * loopback-only without one). The stack runs only when driven: a blocked call idles in
 * sock_idle, which lets other threads run and then drives the stack (net_wait); poll, select
 * and epoll_wait idle there too once a socket exists (vfs_set_poll_idler).
 * Every app pointer is checked before anything happens, so a bad one loses nothing. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <net/socket.h>
#include <print/print.h>
#include <sched/sched.h>
#include <syscall/syscall.h>
#include <time/time.h>
#include <vfs/vnode.h>

/* Linux x86_64 values. */
#define AF_UNIX_K 1
#define AF_INET_K 2
#define AF_INET6_K 10
#define SOCK_STREAM_K 1
#define SOCK_DGRAM_K 2
#define SOCK_TYPE_MASK_K 0xf
#define IPPROTO_TCP_K 6
#define IPPROTO_UDP_K 17
#define SOL_SOCKET_K 1
#define SO_REUSEADDR_K 2
#define SO_TYPE_K 3
#define SO_ERROR_K 4
#define SO_SNDBUF_K 7
#define SO_RCVBUF_K 8
#define SO_KEEPALIVE_K 9
#define SO_ACCEPTCONN_K 30
#define TCP_NODELAY_K 1
#define MSG_PEEK_K 0x2
#define MSG_TRUNC_K 0x20
#define MSG_DONTWAIT_K 0x40
#define MSG_WAITALL_K 0x100
#define MSG_NOSIGNAL_K 0x4000
#define MSG_MORE_K 0x8000
#define SEND_FLAGS_K (MSG_DONTWAIT_K | MSG_NOSIGNAL_K | MSG_MORE_K)
#define RECV_FLAGS_K (MSG_DONTWAIT_K | MSG_WAITALL_K | MSG_TRUNC_K)
#define SIGPIPE_K 13
#define NR_TKILL 200

struct sockaddr_in_k {
	uint16_t family;
	uint16_t port;     /* network order */
	uint32_t addr;     /* network order */
	uint8_t zero[8];
};
_Static_assert(sizeof(struct sockaddr_in_k) == 16, "struct sockaddr_in is 16 bytes");

struct msghdr_k {
	void *name;
	uint32_t namelen;
	struct syscall_iovec *iov;
	size_t iovlen;
	void *control;
	size_t controllen;
	int flags;
};
_Static_assert(sizeof(struct msghdr_k) == 56, "struct msghdr is 56 bytes on x86_64");
#define DGRAM_MAX 65535

struct psock {
	struct vnode vn;
	struct net_stack *st;
	struct net_sock *ns;   /* NULL only between making the descriptor and accept filling it */
	int type;              /* SOCK_STREAM_K, SOCK_DGRAM_K */
	int listening, connecting;
	int err_reported;      /* the connection's error was given once (SO_ERROR, connect) */
	int reuseaddr, keepalive, nodelay, sndbuf, rcvbuf;
};

static const struct vnode_ops sock_ops;
static uint64_t next_ino = 1;
static uint16_t next_port = 49152; /* bind to port 0 */

static uint32_t bswap32(uint32_t v) { return __builtin_bswap32(v); }
static uint16_t bswap16(uint16_t v) { return __builtin_bswap16(v); }

/* ---- waiting ---- */

static struct net_stack *stack(void)
{
	static int told;
	const char *why = NULL;
	struct net_stack *st = net_default(&why);
	if (!st && !told) {
		told = 1;
		kprintf("kiln: sockets: %s\n", why);
	}
	return st;
}

/* One idle step: let the other threads run, then drive the stack for up to ~1 ms (less when
 * the deadline is nearer; it returns early on progress). */
static void sock_idle(uint64_t deadline_ns)
{
	sched_yield();
	struct net_stack *st = net_default(NULL);
	uint64_t now = time_now_ns();
	if (!st) {
		time_delay_us(100);
		return;
	}
	net_wait(st, deadline_ns != UINT64_MAX && deadline_ns <= now + 1000000u ? 0 : 1);
}

/* Drives the stack once without waiting: what arrived (or was sent to ourselves) is taken in. */
static void sock_kick(void)
{
	struct net_stack *st = net_default(NULL);
	if (st)
		net_poll(st, 64);
}

static const struct vfs_poll_driver sock_driver = {sock_kick, sock_idle};

/* Waits until one of events (or an error/hangup) is ready; never returns without one. */
static void wait_events(struct psock *s, int events)
{
	while (!(net_sock_events(s->ns) & (events | NET_POLLERR | NET_POLLHUP)))
		sock_idle(UINT64_MAX);
}

/* ---- vnode ops ---- */

static int nonblocking(int flags) { return (flags & VFS_O_NONBLOCK) != 0; }

/* The connection's error once (as SO_ERROR clears it), 0 afterwards. */
static int take_error(struct psock *s)
{
	int e = net_sock_error(s->ns);
	if (!e || s->err_reported)
		return 0;
	s->err_reported = 1;
	return e;
}

static long do_recv(struct psock *s, void *buf, size_t n, struct net_sockaddr *from, int nb, int waitall)
{
	size_t got = 0;
	int kicked = 0;
	for (;;) {
		long r = net_recvfrom(s->ns, (char *)buf + got, n - got, from);
		if (r > 0) {
			got += (size_t)r;
			if (!waitall || s->type != SOCK_STREAM_K || got == n)
				return (long)got;
			continue;
		}
		if (r == 0)
			return (long)got; /* end of stream, or an empty datagram */
		if (r != -EAGAIN) {
			if (got)
				return (long)got;
			s->err_reported = 1;
			return r;
		}
		if (got && !waitall)
			return (long)got;
		if (nb && !kicked) {
			kicked = 1; /* a non-blocking call drives the stack once before saying EAGAIN */
			sock_kick();
			continue;
		}
		if (nb) {
			if (got)
				return (long)got;
			s->vn.eagain_in++;
			return -EAGAIN;
		}
		wait_events(s, NET_POLLIN);
	}
}

static long do_send(struct psock *s, const void *buf, size_t n, const struct net_sockaddr *to, int nb)
{
	size_t done = 0;
	int kicked = 0;
	/* Still connecting: a blocking send waits for the handshake, as Linux's. */
	while (s->type == SOCK_STREAM_K && s->connecting && !(net_sock_events(s->ns) & (NET_POLLOUT | NET_POLLERR | NET_POLLHUP))) {
		if (nb && !kicked) {
			kicked = 1;
			sock_kick();
			continue;
		}
		if (nb) {
			s->vn.eagain_out++;
			return -EAGAIN;
		}
		wait_events(s, NET_POLLOUT);
	}
	for (;;) {
		long r = to ? net_sendto(s->ns, (const char *)buf + done, n - done, to)
			    : net_send(s->ns, (const char *)buf + done, n - done);
		if (r >= 0) {
			done += (size_t)r;
			if (s->type != SOCK_STREAM_K || done == n)
				return (long)done;
			continue;
		}
		if (r != -EAGAIN) {
			if (r != -EPIPE)
				s->err_reported = 1;
			return done ? (long)done : r;
		}
		if (nb && !kicked) {
			kicked = 1;
			sock_kick();
			continue;
		}
		if (nb) {
			if (done)
				return (long)done;
			s->vn.eagain_out++;
			return -EAGAIN;
		}
		wait_events(s, NET_POLLOUT);
	}
}

static long sock_read(struct vnode *vn, void *buf, size_t n, uint64_t off, int flags)
{
	(void)off;
	struct psock *s = vn->priv;
	if (s->listening)
		return -ENOTCONN;
	return do_recv(s, buf, n, NULL, nonblocking(flags), 0);
}

static long sock_write(struct vnode *vn, const void *buf, size_t n, uint64_t off, int flags)
{
	(void)off;
	struct psock *s = vn->priv;
	if (s->listening)
		return -ENOTCONN;
	return do_send(s, buf, n, NULL, nonblocking(flags));
}

static int is_connected(struct psock *s)
{
	struct net_sockaddr a;
	return net_getpeername(s->ns, &a) == 0;
}

static int sock_poll(struct vnode *vn, int events)
{
	struct psock *s = vn->priv;
	int e = net_sock_events(s->ns);
	/* A stream socket that is neither connected, connecting nor listening: Linux says OUT|HUP. */
	if (s->type == SOCK_STREAM_K && !s->listening && !s->connecting && !(e & (NET_POLLIN | NET_POLLOUT)) &&
	    !is_connected(s))
		e |= NET_POLLOUT | NET_POLLHUP;
	return e & (events | NET_POLLERR | NET_POLLHUP);
}

static int sock_getattr(struct vnode *vn, struct vfs_stat *st)
{
	(void)vn;
	st->st_mode = VFS_S_IFSOCK | 0777;
	st->st_size = 0;
	st->st_blksize = 4096;
	return 0;
}

static void sock_inactive(struct vnode *vn)
{
	struct psock *s = vn->priv;
	if (s->ns)
		net_close(s->ns);
	free(s);
}

static const struct vnode_ops sock_ops = {
	.read = sock_read,
	.write = sock_write,
	.getattr = sock_getattr,
	.poll = sock_poll,
	.inactive = sock_inactive,
};

/* A descriptor for a new socket of type over ns (NULL: filled in later by accept); fd or -errno.
 * On failure ns is left to the caller. */
static int make_fd(int type, struct net_sock *ns, int flags, struct psock **out)
{
	struct psock *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	vfs_vnode_init(&s->vn, &sock_ops, VFS_S_IFSOCK, next_ino++);
	s->vn.flags = VFS_VN_NOSEEK;
	s->vn.priv = s;
	s->type = type;
	s->st = net_default(NULL);
	struct vfs_file *f = NULL;
	int r = vfs_file_open_vnode(&s->vn, VFS_O_RDWR | (flags & VFS_O_NONBLOCK), &f);
	if (r < 0) {
		free(s);
		return r;
	}
	int fd = vfs_fd_install(f, (flags & VFS_O_CLOEXEC) != 0);
	if (fd < 0) {
		vfs_file_put(f); /* the last reference: inactive frees s (ns still NULL) */
		return fd;
	}
	s->ns = ns;
	if (out)
		*out = s;
	return fd;
}

/* The socket behind fd with a reference (put it with vfs_vnode_put(&s->vn)), and the file's
 * flags; -EBADF or -ENOTSOCK. */
static int sock_of(long fd, struct psock **out, int *flags)
{
	struct vnode *vn;
	int r = vfs_fd_vnode_of(fd, &sock_ops, &vn);
	if (r)
		return r < 0 ? r : -ENOTSOCK;
	int fl = vfs_fcntl((int)fd, VFS_F_GETFL, 0);
	if (flags)
		*flags = fl < 0 ? 0 : fl;
	*out = vn->priv;
	return 0;
}

#define SOCK_OR_RETURN(fd, s, fl)                                                                  \
	struct psock *s;                                                                           \
	int fl;                                                                                    \
	do {                                                                                       \
		int r_ = sock_of((fd), &s, &fl);                                                   \
		if (r_)                                                                            \
			return r_;                                                                 \
	} while (0)
/* ---- addresses ---- */

/* An app's sockaddr into a net address; 0, -EFAULT, -EINVAL (length), -EAFNOSUPPORT. */
static int addr_in(long p, long len, struct net_sockaddr *a)
{
	if (len < 0)
		return -EINVAL;
	if (len < 2)
		return -EINVAL;
	uint16_t family;
	if (syscall_copy_in(&family, (const void *)p, 2))
		return -EFAULT;
	if (family != AF_INET_K)
		return -EAFNOSUPPORT;
	if ((size_t)len < sizeof(struct sockaddr_in_k))
		return -EINVAL;
	struct sockaddr_in_k in;
	if (syscall_copy_in(&in, (const void *)p, sizeof in))
		return -EFAULT;
	a->addr = bswap32(in.addr);
	a->port = bswap16(in.port);
	return 0;
}

/* Checks an output (addr, addrlen) pair: addrlen readable and writable, addr writable for
 * what will be written. NULL addr: nothing to do (1). 0 when usable, -EFAULT/-EINVAL. */
static int addr_out_ok(long p, long lenp)
{
	if (!p)
		return 1;
	int32_t len;
	if (!syscall_user_ok((const void *)lenp, 4, 1) || syscall_copy_in(&len, (const void *)lenp, 4))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	size_t n = (size_t)len < sizeof(struct sockaddr_in_k) ? (size_t)len : sizeof(struct sockaddr_in_k);
	return syscall_user_ok((const void *)p, n, 1) ? 0 : -EFAULT;
}

/* Writes a (checked by addr_out_ok) address, cut to the app's length; *addrlen = 16. */
static void addr_out(long p, long lenp, const struct net_sockaddr *a)
{
	if (!p)
		return;
	int32_t len;
	syscall_copy_in(&len, (const void *)lenp, 4);
	struct sockaddr_in_k in = {AF_INET_K, bswap16(a->port), bswap32(a->addr), {0}};
	size_t n = (size_t)len < sizeof in ? (size_t)len : sizeof in;
	syscall_copy_out((void *)p, &in, n);
	int32_t full = (int32_t)sizeof in;
	syscall_copy_out((void *)lenp, &full, 4);
}

/* ---- the calls ---- */

static long sys_socket(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	int domain = (int)a1, type = (int)a2 & SOCK_TYPE_MASK_K, flags = (int)a2 & ~SOCK_TYPE_MASK_K;
	if (domain == AF_INET6_K || domain == AF_UNIX_K || domain != AF_INET_K)
		return -EAFNOSUPPORT; /* IPv4 only */
	if (flags & ~(VFS_O_NONBLOCK | VFS_O_CLOEXEC))
		return -EINVAL;
	if (type != SOCK_STREAM_K && type != SOCK_DGRAM_K)
		return -ESOCKTNOSUPPORT;
	if (a3 != 0 && a3 != (type == SOCK_STREAM_K ? IPPROTO_TCP_K : IPPROTO_UDP_K))
		return -EPROTONOSUPPORT;
	struct net_stack *st = stack();
	if (!st)
		return -ENETDOWN;
	vfs_set_poll_driver(&sock_driver); /* poll/select/epoll now drive the stack */
	int err = 0;
	struct net_sock *ns = net_socket(st, type == SOCK_STREAM_K ? NET_SOCK_STREAM : NET_SOCK_DGRAM, &err);
	if (!ns)
		return err == -EINVAL ? -ENOBUFS : err; /* -ENOMEM, or the stack's socket limit */
	int fd = make_fd(type, ns, flags, NULL);
	if (fd < 0)
		net_close(ns);
	return fd;
}
SYSCALL_REGISTER(41, sys_socket);

/* Binds a; port 0 takes a free ephemeral port, as Linux (the stack's UDP picks its own). */
static int bind_to(struct psock *s, struct net_sockaddr a)
{
	if (a.port || s->type != SOCK_STREAM_K)
		return net_bind(s->ns, &a);
	int r = -EADDRINUSE;
	for (int i = 0; i < 16384 && r == -EADDRINUSE; i++) {
		a.port = next_port;
		next_port = (uint16_t)(next_port == 65535 ? 49152 : next_port + 1);
		r = net_bind(s->ns, &a);
	}
	return r;
}

static long sys_bind(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	SOCK_OR_RETURN(a1, s, fl);
	(void)fl;
	struct net_sockaddr a;
	long r = addr_in(a2, a3, &a);
	if (r == 0)
		r = bind_to(s, a);
	vfs_vnode_put(&s->vn);
	return r;
}
SYSCALL_REGISTER(49, sys_bind);

static long sys_listen(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	SOCK_OR_RETURN(a1, s, fl);
	(void)fl;
	long r;
	if (s->type != SOCK_STREAM_K) {
		r = -EOPNOTSUPP;
	} else {
		struct net_sockaddr me;
		r = 0;
		if (net_getsockname(s->ns, &me) == 0 && me.port == 0)
			r = bind_to(s, (struct net_sockaddr){0, 0}); /* unbound: an ephemeral port, as Linux */
		if (r == 0)
			r = s->listening ? 0 : net_listen(s->ns, a2 < 1 ? 1 : a2 > 4096 ? 4096 : (int)a2);
		if (r == 0)
			s->listening = 1;
	}
	vfs_vnode_put(&s->vn);
	return r;
}
SYSCALL_REGISTER(50, sys_listen);

static long do_accept(long fd, long addr, long lenp, long flags)
{
	if (flags & ~(long)(VFS_O_NONBLOCK | VFS_O_CLOEXEC))
		return -EINVAL;
	long r = addr_out_ok(addr, lenp);
	if (r < 0)
		return r;
	SOCK_OR_RETURN(fd, s, fl);
	if (!s->listening) {
		vfs_vnode_put(&s->vn);
		return s->type == SOCK_STREAM_K ? -EINVAL : -EOPNOTSUPP;
	}
	for (int kicked = 0;; kicked = 1) {
		if (net_sock_events(s->ns) & NET_POLLIN)
			break;
		if (nonblocking(fl) && !kicked) {
			sock_kick();
			continue;
		}
		if (nonblocking(fl)) {
			s->vn.eagain_in++;
			vfs_vnode_put(&s->vn);
			return -EAGAIN;
		}
		wait_events(s, NET_POLLIN);
	}
	/* The descriptor first, then the connection: with no descriptor free (EMFILE) the
	 * connection stays in the queue for a later accept. */
	struct psock *c;
	int nfd = make_fd(SOCK_STREAM_K, NULL, (int)flags, &c);
	if (nfd < 0) {
		vfs_vnode_put(&s->vn);
		return nfd;
	}
	struct net_sockaddr peer;
	int err = 0;
	c->ns = net_accept(s->ns, &peer, &err);
	if (!c->ns) {
		vfs_vnode_put(&s->vn);
		vfs_close(nfd); /* inactive frees c */
		return err;
	}
	/* The connection has the listener's options (the stack copied them), as on Linux. */
	c->reuseaddr = s->reuseaddr, c->keepalive = s->keepalive, c->nodelay = s->nodelay;
	c->sndbuf = s->sndbuf, c->rcvbuf = s->rcvbuf;
	vfs_vnode_put(&s->vn);
	addr_out(addr, lenp, &peer);
	return nfd;
}

static long sys_accept(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return do_accept(a1, a2, a3, 0);
}
SYSCALL_REGISTER(43, sys_accept);

static long sys_accept4(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return do_accept(a1, a2, a3, a4);
}
SYSCALL_REGISTER(288, sys_accept4);

static long sys_connect(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	SOCK_OR_RETURN(a1, s, fl);
	struct net_sockaddr a;
	long r = addr_in(a2, a3, &a);
	if (r == 0 && s->type == SOCK_STREAM_K) {
		if (s->listening) {
			r = -EISCONN;
		} else if (s->connecting) {
			int e = net_sock_events(s->ns);
			int err = net_sock_error(s->ns);
			r = err ? (s->err_reported ? -ECONNABORTED : (s->err_reported = 1, err))
			    : (e & NET_POLLOUT) ? -EISCONN : -EALREADY;
		} else {
			r = net_connect(s->ns, &a);
			if (r == -EINPROGRESS) {
				s->connecting = 1;
				if (!nonblocking(fl)) {
					wait_events(s, NET_POLLOUT);
					r = take_error(s);
				}
			}
		}
	} else if (r == 0) {
		r = net_connect(s->ns, &a);
	}
	vfs_vnode_put(&s->vn);
	return r;
}
SYSCALL_REGISTER(42, sys_connect);

/* SIGPIPE for EPIPE on a stream, unless MSG_NOSIGNAL (through the signal library's tkill when
 * the image has one). */
static long epipe(long r, long flags)
{
	if (r == -EPIPE && !(flags & MSG_NOSIGNAL_K) && syscall_implemented(NR_TKILL))
		kiln_syscall_dispatch(NR_TKILL, 1, SIGPIPE_K, 0, 0, 0, 0);
	return r;
}

static long sys_sendto(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a4 & ~(long)SEND_FLAGS_K)
		return -EOPNOTSUPP; /* MSG_OOB, MSG_CONFIRM, ...: not supported */
	SYSCALL_USER_OR_FAULT(a2, a3, 0);
	struct net_sockaddr to;
	int have_to = 0;
	if (a5) {
		long r = addr_in(a5, a6, &to);
		if (r < 0)
			return r;
		have_to = 1;
	}
	SOCK_OR_RETURN(a1, s, fl);
	long r;
	if (s->listening)
		r = -ENOTCONN;
	else /* a stream ignores the address, as Linux's TCP */
		r = do_send(s, (const void *)a2, (size_t)a3, have_to && s->type == SOCK_DGRAM_K ? &to : NULL,
			    nonblocking(fl) || (a4 & MSG_DONTWAIT_K));
	vfs_vnode_put(&s->vn);
	return s->type == SOCK_STREAM_K ? epipe(r, a4) : r;
}
SYSCALL_REGISTER(44, sys_sendto);

static long sys_recvfrom(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a4 & ~(long)RECV_FLAGS_K)
		return -EOPNOTSUPP; /* MSG_PEEK, MSG_OOB, MSG_ERRQUEUE: not supported */
	SYSCALL_USER_OR_FAULT(a2, a3, 1);
	long r = addr_out_ok(a5, a6);
	if (r < 0)
		return r;
	SOCK_OR_RETURN(a1, s, fl);
	struct net_sockaddr from = {0, 0};
	if (s->listening) {
		r = -ENOTCONN;
	} else if (s->type == SOCK_DGRAM_K && (a4 & MSG_TRUNC_K)) {
		/* MSG_TRUNC: the datagram's real length, as Linux. */
		char *tmp = malloc(DGRAM_MAX);
		r = tmp ? do_recv(s, tmp, DGRAM_MAX, &from, nonblocking(fl) || (a4 & MSG_DONTWAIT_K), 0) : -ENOMEM;
		if (r > 0)
			memcpy((void *)a2, tmp, (size_t)r < (size_t)a3 ? (size_t)r : (size_t)a3);
		free(tmp);
	} else {
		r = do_recv(s, (void *)a2, (size_t)a3, &from, nonblocking(fl) || (a4 & MSG_DONTWAIT_K), (a4 & MSG_WAITALL_K) != 0);
	}
	if (r >= 0 && a5) {
		if (s->type == SOCK_DGRAM_K) {
			addr_out(a5, a6, &from);
		} else {
			int32_t zero = 0; /* a stream has no datagram source: Linux sets the length to 0 */
			syscall_copy_out((void *)a6, &zero, 4);
		}
	}
	vfs_vnode_put(&s->vn);
	return r;
}
SYSCALL_REGISTER(45, sys_recvfrom);

/* A msghdr checked: the header, the iovec array, every buffer (writable for recv), the name
 * (writable for recv). Returns the total length or -errno. */
static long msg_check(long p, int recv, struct msghdr_k *m)
{
	SYSCALL_USER_OR_FAULT(p, sizeof *m, recv);
	memcpy(m, (const void *)p, sizeof *m);
	if (m->iovlen > SYSCALL_IOV_MAX)
		return -EMSGSIZE;
	SYSCALL_USER_OR_FAULT(m->iov, m->iovlen * sizeof(struct syscall_iovec), 0);
	size_t total = 0;
	for (size_t i = 0; i < m->iovlen; i++) {
		if (m->iov[i].len > (size_t)INT32_MAX - total)
			return -EINVAL;
		SYSCALL_USER_OR_FAULT(m->iov[i].base, m->iov[i].len, recv);
		total += m->iov[i].len;
	}
	if (m->name && m->namelen > 0)
		SYSCALL_USER_OR_FAULT(m->name, m->namelen < 16 ? m->namelen : 16, recv);
	return (long)total;
}

static long sys_sendmsg(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	struct msghdr_k m;
	long total = msg_check(a2, 0, &m);
	if (total < 0)
		return total;
	if (a3 & ~(long)SEND_FLAGS_K)
		return -EOPNOTSUPP;
	struct net_sockaddr to;
	if (m.name) {
		long r = addr_in((long)m.name, m.namelen, &to);
		if (r < 0)
			return r;
	}
	SOCK_OR_RETURN(a1, s, fl);
	int nb = nonblocking(fl) || (a3 & MSG_DONTWAIT_K);
	long r = 0;
	if (s->listening) {
		r = -ENOTCONN;
	} else if (s->type == SOCK_DGRAM_K) {
		/* One datagram: gathered first. */
		char *tmp = total > DGRAM_MAX ? NULL : malloc(total ? (size_t)total : 1);
		if (!tmp) {
			r = total > DGRAM_MAX ? -EMSGSIZE : -ENOMEM;
		} else {
			size_t off = 0;
			for (size_t i = 0; i < m.iovlen; i++) {
				memcpy(tmp + off, m.iov[i].base, m.iov[i].len);
				off += m.iov[i].len;
			}
			r = do_send(s, tmp, off, m.name ? &to : NULL, nb);
			free(tmp);
		}
	} else {
		long done = 0;
		for (size_t i = 0; i < m.iovlen && r >= 0; i++) {
			if (!m.iov[i].len)
				continue;
			r = do_send(s, m.iov[i].base, m.iov[i].len, NULL, nb);
			if (r > 0)
				done += r;
			if (r >= 0 && (size_t)r < m.iov[i].len)
				break;
		}
		r = done ? done : r;
	}
	vfs_vnode_put(&s->vn);
	return s->type == SOCK_STREAM_K ? epipe(r, a3) : r;
}
SYSCALL_REGISTER(46, sys_sendmsg);

static long sys_recvmsg(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	struct msghdr_k m;
	long total = msg_check(a2, 1, &m);
	if (total < 0)
		return total;
	if (a3 & ~(long)RECV_FLAGS_K)
		return -EOPNOTSUPP;
	SOCK_OR_RETURN(a1, s, fl);
	int nb = nonblocking(fl) || (a3 & MSG_DONTWAIT_K);
	struct net_sockaddr from = {0, 0};
	long r = 0;
	int mflags = 0;
	if (s->listening) {
		r = -ENOTCONN;
	} else if (s->type == SOCK_DGRAM_K) {
		/* One datagram, scattered; MSG_TRUNC when it did not fit. */
		char *tmp = malloc(DGRAM_MAX);
		r = tmp ? do_recv(s, tmp, DGRAM_MAX, &from, nb, 0) : -ENOMEM;
		if (r >= 0) {
			size_t off = 0;
			for (size_t i = 0; i < m.iovlen && off < (size_t)r; i++) {
				size_t k = (size_t)r - off < m.iov[i].len ? (size_t)r - off : m.iov[i].len;
				memcpy(m.iov[i].base, tmp + off, k);
				off += k;
			}
			if (off < (size_t)r) {
				mflags |= MSG_TRUNC_K;
				if (!(a3 & MSG_TRUNC_K))
					r = (long)off;
			}
		}
		free(tmp);
	} else {
		long done = 0;
		for (size_t i = 0; i < m.iovlen && r >= 0; i++) {
			if (!m.iov[i].len)
				continue;
			/* Later elements take only what is already there (as readv on a stream). */
			if (done && !(a3 & MSG_WAITALL_K) && !(net_sock_events(s->ns) & NET_POLLIN))
				break;
			r = do_recv(s, m.iov[i].base, m.iov[i].len, NULL, nb || (done && !(a3 & MSG_WAITALL_K)), (a3 & MSG_WAITALL_K) != 0);
			if (r == -EAGAIN && done)
				r = 0;
			if (r > 0)
				done += r;
			if (r >= 0 && (size_t)r < m.iov[i].len)
				break;
		}
		r = done ? done : r;
	}
	if (r >= 0) {
		struct msghdr_k *um = (struct msghdr_k *)a2;
		if (m.name && s->type == SOCK_DGRAM_K) {
			struct sockaddr_in_k in = {AF_INET_K, bswap16(from.port), bswap32(from.addr), {0}};
			memcpy(m.name, &in, m.namelen < sizeof in ? m.namelen : sizeof in);
			um->namelen = sizeof in;
		} else {
			um->namelen = 0;
		}
		um->controllen = 0; /* no ancillary data */
		um->flags = mflags;
	}
	vfs_vnode_put(&s->vn);
	return r;
}
SYSCALL_REGISTER(47, sys_recvmsg);

static long sys_shutdown(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	SOCK_OR_RETURN(a1, s, fl);
	(void)fl;
	long r;
	if (a2 < 0 || a2 > 2)
		r = -EINVAL;
	else if (s->listening || (s->type == SOCK_STREAM_K && !s->connecting && !is_connected(s)))
		r = -ENOTCONN;
	else
		r = net_shutdown(s->ns, (enum net_shut)a2);
	vfs_vnode_put(&s->vn);
	return r;
}
SYSCALL_REGISTER(48, sys_shutdown);

static long names(long fd, long addr, long lenp, int peer)
{
	if (!addr)
		return -EFAULT;
	long r = addr_out_ok(addr, lenp);
	if (r < 0)
		return r;
	SOCK_OR_RETURN(fd, s, fl);
	(void)fl;
	struct net_sockaddr a;
	r = peer ? net_getpeername(s->ns, &a) : net_getsockname(s->ns, &a);
	if (r == 0)
		addr_out(addr, lenp, &a);
	vfs_vnode_put(&s->vn);
	return r;
}

static long sys_getsockname(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return names(a1, a2, a3, 0);
}
SYSCALL_REGISTER(51, sys_getsockname);

static long sys_getpeername(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	return names(a1, a2, a3, 1);
}
SYSCALL_REGISTER(52, sys_getpeername);

static long sys_setsockopt(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	if (a5 < 0)
		return -EINVAL;
	int v = 0;
	if (a5 >= (long)sizeof(int)) {
		if (syscall_copy_in(&v, (const void *)a4, sizeof v))
			return -EFAULT;
	}
	SOCK_OR_RETURN(a1, s, fl);
	(void)fl;
	long r = 0;
	int stream = s->type == SOCK_STREAM_K;
	if (a5 < (long)sizeof(int) && ((a2 == SOL_SOCKET_K && (a3 == SO_REUSEADDR_K || a3 == SO_KEEPALIVE_K ||
								  a3 == SO_SNDBUF_K || a3 == SO_RCVBUF_K)) ||
				       (a2 == IPPROTO_TCP_K && a3 == TCP_NODELAY_K))) {
		r = -EINVAL;
	} else if (a2 == SOL_SOCKET_K && a3 == SO_REUSEADDR_K) {
		s->reuseaddr = v != 0; /* the stack always lets a port used only by connections be bound */
	} else if (a2 == SOL_SOCKET_K && a3 == SO_KEEPALIVE_K) {
		s->keepalive = v != 0;
		if (stream)
			r = net_setsockopt(s->ns, NET_SO_KEEPALIVE, v != 0);
	} else if (a2 == SOL_SOCKET_K && (a3 == SO_SNDBUF_K || a3 == SO_RCVBUF_K)) {
		/* As Linux: clamped (2 KiB .. 4 MiB here), and too late to change once connected
		 * (the stack sizes buffers at connect/listen) is not an error. */
		int n = v < 2048 ? 2048 : v > (4 << 20) ? (4 << 20) : v;
		int opt = a3 == SO_SNDBUF_K ? NET_SO_SNDBUF : NET_SO_RCVBUF;
		if (stream || opt == NET_SO_RCVBUF)
			net_setsockopt(s->ns, (enum net_sockopt)opt, n);
		if (a3 == SO_SNDBUF_K)
			s->sndbuf = n;
		else
			s->rcvbuf = n;
	} else if (a2 == IPPROTO_TCP_K && a3 == TCP_NODELAY_K && stream) {
		s->nodelay = v != 0;
		r = net_setsockopt(s->ns, NET_SO_NODELAY, v != 0);
	} else {
		r = -ENOPROTOOPT;
	}
	vfs_vnode_put(&s->vn);
	return r;
}
SYSCALL_REGISTER(54, sys_setsockopt);

static long sys_getsockopt(SYSCALL_ARGS)
{
	SYSCALL_UNUSED_ARGS;
	int32_t len;
	if (!syscall_user_ok((const void *)a5, 4, 1) || syscall_copy_in(&len, (const void *)a5, 4))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	size_t n = (size_t)len < sizeof(int) ? (size_t)len : sizeof(int);
	SYSCALL_USER_OR_FAULT(a4, n, 1);
	SOCK_OR_RETURN(a1, s, fl);
	(void)fl;
	long r = 0;
	int v = 0;
	int stream = s->type == SOCK_STREAM_K;
	if (a2 == SOL_SOCKET_K) {
		switch (a3) {
		case SO_REUSEADDR_K: v = s->reuseaddr; break;
		case SO_KEEPALIVE_K: v = s->keepalive; break;
		case SO_TYPE_K: v = s->type; break;
		case SO_ACCEPTCONN_K: v = s->listening; break;
		case SO_ERROR_K: v = -take_error(s); break;
		/* The stack's defaults (TCP's rings; a UDP socket's 64 KiB queue) until set. */
		case SO_SNDBUF_K: v = s->sndbuf ? s->sndbuf : stream ? (int)s->st->tcp.cfg.sndbuf : 65536; break;
		case SO_RCVBUF_K: v = s->rcvbuf ? s->rcvbuf : stream ? (int)s->st->tcp.cfg.rcvbuf : 65536; break;
		default: r = -ENOPROTOOPT;
		}
	} else if (a2 == IPPROTO_TCP_K && a3 == TCP_NODELAY_K && stream) {
		v = s->nodelay;
	} else {
		r = -ENOPROTOOPT;
	}
	if (r == 0) {
		syscall_copy_out((void *)a4, &v, n);
		int32_t out = (int32_t)n;
		syscall_copy_out((void *)a5, &out, 4);
	}
	vfs_vnode_put(&s->vn);
	return r;
}
SYSCALL_REGISTER(55, sys_getsockopt);
