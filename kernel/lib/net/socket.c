#include <errno.h>
#include <string.h>
#include <net/socket.h>

struct net_sock_ops {
	int (*bind)(struct net_sock *s, const struct net_sockaddr *a);
	int (*listen)(struct net_sock *s, int backlog);
	struct net_sock *(*accept)(struct net_sock *s, struct net_sockaddr *peer, int *err);
	int (*connect)(struct net_sock *s, const struct net_sockaddr *a);
	long (*sendto)(struct net_sock *s, const void *buf, size_t len, const struct net_sockaddr *to);
	long (*recvfrom)(struct net_sock *s, void *buf, size_t len, struct net_sockaddr *from);
	int (*shutdown)(struct net_sock *s, enum net_shut how);
	void (*close)(struct net_sock *s);
	int (*setopt)(struct net_sock *s, enum net_sockopt opt, int value);
	int (*names)(struct net_sock *s, struct net_sockaddr *local, struct net_sockaddr *peer);
	int (*events)(struct net_sock *s);
	int (*error)(struct net_sock *s);
};

struct net_sock {
	const struct net_sock_ops *ops;
	struct net_stack *st;
	struct tcp_sock *tcp;
	struct udp_sock *udp;
	uint16_t port;                 /* UDP: bound port, opened lazily */
	struct net_sockaddr peer;      /* UDP: the connected peer (port 0: none) */
	uint32_t baddr;                /* the address bound (0: any); ports are bound for all */
	uint8_t rd_shut;
};

static struct net_sock *sock_alloc(struct net_stack *st, const struct net_sock_ops *ops)
{
	struct net_sock *s = net_alloc(st->env, sizeof(*s));
	if (!s) return NULL;
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->st = st;
	return s;
}

static int no_listen(struct net_sock *s, int b) { (void)s; (void)b; return -EOPNOTSUPP; }
static struct net_sock *no_accept(struct net_sock *s, struct net_sockaddr *p, int *err)
{
	(void)s; (void)p;
	*err = -EOPNOTSUPP;
	return NULL;
}

/* ---- TCP ---- */

static const struct net_sock_ops tcp_ops;

static int t_bind(struct net_sock *s, const struct net_sockaddr *a)
{
	if (a->addr && !ip_is_local(&s->st->ip, a->addr)) return -EADDRNOTAVAIL;
	int r = tcp_bind(s->tcp, a->port);
	if (!r) s->baddr = a->addr;
	return r;
}

static int t_listen(struct net_sock *s, int backlog)
{
	return tcp_listen(s->tcp, (uint16_t)(backlog < 1 ? 1 : backlog > 4096 ? 4096 : backlog));
}

static int t_names(struct net_sock *s, struct net_sockaddr *local, struct net_sockaddr *peer)
{
	struct tcp_info ti;
	tcp_get_info(s->tcp, &ti);
	if (local) *local = (struct net_sockaddr){ti.laddr ? ti.laddr : s->baddr, ti.lport};
	if (peer) {
		if (!ti.raddr || ti.state == TCP_LISTEN) return -ENOTCONN;
		*peer = (struct net_sockaddr){ti.raddr, ti.rport};
	}
	return 0;
}

static struct net_sock *t_accept(struct net_sock *s, struct net_sockaddr *peer, int *err)
{
	struct tcp_sock *c = tcp_accept(s->tcp, err);
	if (!c) return NULL;
	struct net_sock *n = sock_alloc(s->st, &tcp_ops);
	if (!n) {
		tcp_abort(c);
		*err = -ENOMEM;
		return NULL;
	}
	n->tcp = c;
	if (peer) t_names(n, NULL, peer);
	return n;
}

static int t_connect(struct net_sock *s, const struct net_sockaddr *a) { return tcp_connect(s->tcp, a->addr, a->port); }

static long t_sendto(struct net_sock *s, const void *buf, size_t len, const struct net_sockaddr *to)
{
	if (to) return -EISCONN;
	return tcp_send(s->tcp, buf, len > 0x7fffffff ? 0x7fffffff : (uint32_t)len);
}

static long t_recvfrom(struct net_sock *s, void *buf, size_t len, struct net_sockaddr *from)
{
	if (s->rd_shut) return 0;
	int n = tcp_recv(s->tcp, buf, len > 0x7fffffff ? 0x7fffffff : (uint32_t)len);
	if (n >= 0 && from) t_names(s, NULL, from);
	return n;
}

static int t_shutdown(struct net_sock *s, enum net_shut how)
{
	if (how == NET_SHUT_RD || how == NET_SHUT_RDWR) s->rd_shut = 1;
	return how == NET_SHUT_RD ? 0 : tcp_shutdown(s->tcp);
}

static void t_close(struct net_sock *s) { tcp_close(s->tcp); }

static int t_setopt(struct net_sock *s, enum net_sockopt opt, int v)
{
	static const enum tcp_opt map[] = {TCP_OPT_NODELAY, TCP_OPT_KEEPALIVE, TCP_OPT_SNDBUF, TCP_OPT_RCVBUF};
	if ((unsigned)opt > NET_SO_RCVBUF || v < 0) return -EINVAL;
	return tcp_setopt(s->tcp, map[opt], (uint32_t)v);
}

static int t_events(struct net_sock *s)
{
	int e = tcp_poll_events(s->tcp), r = 0;
	struct tcp_info ti;
	tcp_get_info(s->tcp, &ti);
	if (e & TCP_EV_READ || s->rd_shut) r |= NET_POLLIN;
	if (e & TCP_EV_WRITE) r |= NET_POLLOUT;
	if (e & TCP_EV_ERR) r |= NET_POLLERR;
	if (ti.state == TCP_CLOSED && ti.raddr) r |= NET_POLLHUP;
	/* A FIN received: the states after ESTABLISHED that only a peer's FIN leads to. */
	if (ti.state == TCP_CLOSE_WAIT || ti.state == TCP_LAST_ACK || ti.state == TCP_CLOSING || ti.state == TCP_TIME_WAIT ||
	    (ti.state == TCP_CLOSED && ti.raddr))
		r |= NET_POLLRDHUP;
	return r;
}

static int t_error(struct net_sock *s)
{
	struct tcp_info ti;
	tcp_get_info(s->tcp, &ti);
	return -ti.error; /* the stack keeps it positive */
}

static const struct net_sock_ops tcp_ops = {t_bind, t_listen, t_accept, t_connect, t_sendto, t_recvfrom,
					    t_shutdown, t_close, t_setopt, t_names, t_events, t_error};

/* ---- UDP ---- */

static int u_open(struct net_sock *s, uint16_t port)
{
	int err = 0;
	s->udp = udp_open(&s->st->udp, port, &err);
	if (!s->udp) return err;
	s->port = s->udp->port;
	return 0;
}

static int u_bind(struct net_sock *s, const struct net_sockaddr *a)
{
	if (s->udp) return -EINVAL;
	if (a->addr && !ip_is_local(&s->st->ip, a->addr)) return -EADDRNOTAVAIL;
	int r = u_open(s, a->port);
	if (!r) s->baddr = a->addr;
	return r;
}

static int u_connect(struct net_sock *s, const struct net_sockaddr *a)
{
	if (!s->udp) {
		int r = u_open(s, 0);
		if (r < 0) return r;
	}
	s->peer = *a;
	return 0;
}

static long u_sendto(struct net_sock *s, const void *buf, size_t len, const struct net_sockaddr *to)
{
	if (!to) {
		if (!s->peer.port) return -EDESTADDRREQ;
		to = &s->peer;
	}
	if (!s->udp) {
		int r = u_open(s, 0); /* an ephemeral port on first send, as BSD does */
		if (r < 0) return r;
	}
	if (len > 0xffff) return -EMSGSIZE;
	return udp_sendto(s->udp, to->addr, to->port, buf, (uint16_t)len);
}

static long u_recvfrom(struct net_sock *s, void *buf, size_t len, struct net_sockaddr *from)
{
	if (!s->udp) return -EAGAIN;
	for (;;) {
		uint32_t src;
		uint16_t sport;
		int n = udp_recvfrom(s->udp, buf, (uint16_t)(len > 0xffff ? 0xffff : len), &src, &sport);
		if (n < 0) return s->rd_shut ? 0 : n;
		/* A connected datagram socket only takes its peer's datagrams. */
		if (s->peer.port && (src != s->peer.addr || sport != s->peer.port)) continue;
		if (from) *from = (struct net_sockaddr){src, sport};
		return n;
	}
}

static int u_shutdown(struct net_sock *s, enum net_shut how)
{
	if (!s->peer.port) return -ENOTCONN;
	if (how != NET_SHUT_WR) s->rd_shut = 1;
	return 0;
}

static void u_close(struct net_sock *s)
{
	if (s->udp) udp_close(s->udp);
}

static int u_setopt(struct net_sock *s, enum net_sockopt opt, int v)
{
	if (opt != NET_SO_RCVBUF || v < 0) return -ENOPROTOOPT;
	if (!s->udp) {
		int r = u_open(s, 0);
		if (r < 0) return r;
	}
	s->udp->rcvbuf = (uint32_t)v;
	return 0;
}

static int u_names(struct net_sock *s, struct net_sockaddr *local, struct net_sockaddr *peer)
{
	/* As Linux: the bound address, else the source a connected socket sends from, else any. */
	uint32_t la = s->baddr ? s->baddr : s->peer.port ? ip_source(&s->st->ip, s->peer.addr) : 0;
	if (local) *local = (struct net_sockaddr){la, s->port};
	if (peer) {
		if (!s->peer.port) return -ENOTCONN;
		*peer = s->peer;
	}
	return 0;
}

static int u_events(struct net_sock *s)
{
	return (s->udp && udp_readable(s->udp) ? NET_POLLIN : 0) | NET_POLLOUT;
}

static int u_error(struct net_sock *s)
{
	(void)s;
	return 0; /* ICMP errors are not reported to UDP sockets */
}

static const struct net_sock_ops udp_ops = {u_bind, no_listen, no_accept, u_connect, u_sendto, u_recvfrom,
					    u_shutdown, u_close, u_setopt, u_names, u_events, u_error};

/* ---- the API ---- */

struct net_sock *net_socket(struct net_stack *st, enum net_sock_type type, int *err)
{
	if (type != NET_SOCK_STREAM && type != NET_SOCK_DGRAM) {
		*err = -EINVAL;
		return NULL;
	}
	struct net_sock *s = sock_alloc(st, type == NET_SOCK_STREAM ? &tcp_ops : &udp_ops);
	if (s && type == NET_SOCK_STREAM && !(s->tcp = tcp_socket(&st->tcp))) {
		net_free(st->env, s);
		s = NULL;
	}
	if (!s) *err = -ENOMEM;
	return s;
}

/* Calls that may send end with a flush, so a driver that defers its notification (netdev
 * flush) never leaves an app's frames waiting for the next net_poll. */
static long flushed(struct net_sock *s, long r)
{
	netdev_flush(s->st->dev);
	return r;
}

int net_bind(struct net_sock *s, const struct net_sockaddr *a) { return s->ops->bind(s, a); }
int net_listen(struct net_sock *s, int backlog) { return s->ops->listen(s, backlog); }
struct net_sock *net_accept(struct net_sock *s, struct net_sockaddr *peer, int *err) { return s->ops->accept(s, peer, err); }
int net_connect(struct net_sock *s, const struct net_sockaddr *a) { return (int)flushed(s, s->ops->connect(s, a)); }
long net_send(struct net_sock *s, const void *buf, size_t len) { return flushed(s, s->ops->sendto(s, buf, len, NULL)); }
long net_sendto(struct net_sock *s, const void *buf, size_t len, const struct net_sockaddr *to) { return flushed(s, s->ops->sendto(s, buf, len, to)); }
/* A read may open the window: the update goes out now. */
long net_recv(struct net_sock *s, void *buf, size_t len) { return flushed(s, s->ops->recvfrom(s, buf, len, NULL)); }
long net_recvfrom(struct net_sock *s, void *buf, size_t len, struct net_sockaddr *from) { return flushed(s, s->ops->recvfrom(s, buf, len, from)); }
int net_shutdown(struct net_sock *s, enum net_shut how) { return (int)flushed(s, s->ops->shutdown(s, how)); }
int net_setsockopt(struct net_sock *s, enum net_sockopt opt, int value) { return (int)flushed(s, s->ops->setopt(s, opt, value)); }
int net_getsockname(struct net_sock *s, struct net_sockaddr *a) { return s->ops->names(s, a, NULL); }
int net_getpeername(struct net_sock *s, struct net_sockaddr *a) { return s->ops->names(s, NULL, a); }
int net_sock_error(struct net_sock *s) { return s->ops->error(s); }
int net_sock_events(struct net_sock *s) { return s->ops->events(s); }

void net_close(struct net_sock *s)
{
	struct netdev *dev = s->st->dev;
	s->ops->close(s);
	net_free(s->st->env, s);
	netdev_flush(dev); /* the FIN or RST */
}

int net_sock_poll(struct net_stack *st, struct net_pollitem *items, int n, int timeout_ms)
{
	uint64_t end = net_now(st->env) + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	for (;;) {
		int ready = 0;
		for (int i = 0; i < n; i++) {
			int ev = net_sock_events(items[i].sock);
			items[i].revents = ev & (items[i].events | NET_POLLERR | NET_POLLHUP);
			ready += items[i].revents != 0;
		}
		uint64_t now = net_now(st->env);
		if (ready || (timeout_ms >= 0 && now >= end)) return ready;
		net_wait(st, timeout_ms < 0 ? -1 : (int)(end - now));
	}
}
