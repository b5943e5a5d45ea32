/* BSD sockets through musl, over loopback inside one process: TCP server and client with
 * non-blocking sockets and epoll (level- and edge-triggered), the same with blocking calls and
 * pthreads, UDP (sendto/recvfrom, connected, sendmsg/recvmsg with iovecs, MSG_TRUNC), poll and
 * select with timeouts, options, names, and the errors (ECONNREFUSED, EADDRINUSE, EAGAIN,
 * EFAULT, EBADF, ENOTSOCK ...). test/socket.test.ts boots it on Kiln and runs the same source
 * built natively on Linux: every "ok"/"FAIL" line must be the same. Lines that legitimately
 * differ are printed only on one side (on_kiln), each with the reason beside it.
 * The exit status is the number of failures. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int failures, on_kiln;

#include "../common/check.h"

/* An address no process can have mapped (above the user half on Linux, unmapped on Kiln). */
#define BAD_PTR ((void *)0xffff800000001000ul)

static struct sockaddr_in lo(uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return 0;
	return ntohs(a.sin_port);
}

/* A listening TCP socket on 127.0.0.1, an ephemeral port (bind to port 0). */
static int listener(int flags)
{
	int l = socket(AF_INET, SOCK_STREAM | flags, 0);
	struct sockaddr_in a = lo(0);
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 8) < 0)
		return -1;
	return l;
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static unsigned char pattern(size_t i) { return (unsigned char)(i * 131 + i / 977); }

static void test_errors(void)
{
	/* Kiln's stack is IPv4 only and has no AF_UNIX sockets; Linux has both. */
	if (on_kiln) {
		CHECK("socket.inet6_unsupported", socket(AF_INET6, SOCK_STREAM, 0) < 0 && errno == EAFNOSUPPORT, "AF_INET6");
		CHECK("socket.unix_unsupported", socket(AF_UNIX, SOCK_STREAM, 0) < 0 && errno == EAFNOSUPPORT, "AF_UNIX");
	}
	CHECK("socket.bad_protocol", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP) < 0 && errno == EPROTONOSUPPORT, "tcp over udp");
	CHECK("socket.bad_flags", socket(AF_INET, SOCK_STREAM | 0x100000, 0) < 0 && errno == EINVAL, "flags");
	char b[4];
	CHECK("ebadf.send", send(987, "x", 1, 0) < 0 && errno == EBADF, "send on no descriptor");
	CHECK("ebadf.bind", bind(-1, NULL, 0) < 0 && errno == EBADF, "bind -1");
	int p[2];
	pipe(p);
	CHECK("enotsock.recv", recv(p[0], b, 1, MSG_DONTWAIT) < 0 && errno == ENOTSOCK, "recv on a pipe");
	int v;
	socklen_t vl = sizeof v;
	CHECK("enotsock.getsockopt", getsockopt(p[1], SOL_SOCKET, SO_TYPE, &v, &vl) < 0 && errno == ENOTSOCK, "pipe");
	close(p[0]);
	close(p[1]);

	int s = socket(AF_INET, SOCK_STREAM, 0);
	CHECK("efault.bind", bind(s, BAD_PTR, sizeof(struct sockaddr_in)) < 0 && errno == EFAULT, "bad address");
	CHECK("efault.connect", connect(s, BAD_PTR, sizeof(struct sockaddr_in)) < 0 && errno == EFAULT, "bad address");
	struct sockaddr_in a;
	CHECK("efault.getsockname_len", getsockname(s, (struct sockaddr *)&a, BAD_PTR) < 0 && errno == EFAULT, "bad length");
	CHECK("efault.setsockopt", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, BAD_PTR, sizeof(int)) < 0 && errno == EFAULT, "bad value");
	a = lo(80);
	CHECK("einval.bind_short", bind(s, (struct sockaddr *)&a, 8) < 0 && errno == EINVAL, "addrlen 8");
	a.sin_family = AF_INET6;
	CHECK("eafnosupport.bind_family", bind(s, (struct sockaddr *)&a, sizeof a) < 0 && errno == EAFNOSUPPORT, "AF_INET6 address");
	CHECK("enotconn.shutdown", shutdown(s, SHUT_WR) < 0 && errno == ENOTCONN, "unconnected");
	CHECK("enotconn.getpeername", getpeername(s, (struct sockaddr *)&a, &vl) < 0 && errno == ENOTCONN, "unconnected");
	CHECK("enoprotoopt", getsockopt(s, SOL_SOCKET, 9999, &v, &vl) < 0 && errno == ENOPROTOOPT, "unknown option");
	close(s);

	int u = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK("eopnotsupp.listen_udp", listen(u, 1) < 0 && errno == EOPNOTSUPP, "listen on udp");
	close(u);

	/* Nothing listens on this port: a RST answers the SYN. */
	int l = listener(0);
	uint16_t dead = port_of(l);
	close(l);
	s = socket(AF_INET, SOCK_STREAM, 0);
	a = lo(dead);
	CHECK("econnrefused.blocking", connect(s, (struct sockaddr *)&a, sizeof a) < 0 && errno == ECONNREFUSED, "connect");
	close(s);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(s, (struct sockaddr *)&a, sizeof a);
	CHECK("econnrefused.nonblocking_inprogress", r < 0 && errno == EINPROGRESS, "r %d", r);
	struct pollfd pf = {s, POLLOUT, 0};
	r = poll(&pf, 1, 2000);
	CHECK("econnrefused.poll_err", r == 1 && (pf.revents & POLLERR), "r %d revents %#x", r, pf.revents);
	int err = 0;
	socklen_t el = sizeof err;
	CHECK("econnrefused.so_error", getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == ECONNREFUSED, "SO_ERROR %d", err);
	CHECK("econnrefused.so_error_cleared", getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0, "SO_ERROR %d", err);
	close(s);

	l = listener(0);
	int l2 = socket(AF_INET, SOCK_STREAM, 0);
	a = lo(port_of(l));
	CHECK("eaddrinuse.tcp", bind(l2, (struct sockaddr *)&a, sizeof a) < 0 && errno == EADDRINUSE, "second bind");
	close(l2);
	int lnb = fcntl(l, F_SETFL, O_NONBLOCK);
	CHECK("eagain.accept", lnb == 0 && accept(l, NULL, NULL) < 0 && errno == EAGAIN, "nothing pending");
	close(l);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	int u2 = socket(AF_INET, SOCK_DGRAM, 0);
	a = lo(0);
	bind(u, (struct sockaddr *)&a, sizeof a);
	a = lo(port_of(u));
	CHECK("eaddrinuse.udp", bind(u2, (struct sockaddr *)&a, sizeof a) < 0 && errno == EADDRINUSE, "second bind");
	CHECK("eagain.recv_dontwait", recv(u, b, sizeof b, MSG_DONTWAIT) < 0 && errno == EAGAIN, "empty");
	close(u);
	close(u2);
}

/* Non-blocking client and server in one thread, driven by epoll: the client sends `total`
 * bytes, the server echoes them (edge-triggered: reads until EAGAIN), the client checks them. */
static void test_epoll_echo(void)
{
	enum { total = 300000 };
	int l = listener(SOCK_NONBLOCK);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = lo(port_of(l));
	int r = connect(c, (struct sockaddr *)&a, sizeof a);
	CHECK("epoll.connect_inprogress", r < 0 && errno == EINPROGRESS, "r %d", r);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {EPOLLIN, {.u32 = 1}};
	CHECK("epoll.ctl_add", epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) == 0, "listener");
	CHECK("epoll.ctl_add_twice", epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) < 0 && errno == EEXIST, "again");
	ev = (struct epoll_event){EPOLLOUT, {.u32 = 2}};
	epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
	CHECK("epoll.ctl_mod_missing", epoll_ctl(ep, EPOLL_CTL_MOD, 0, &ev) < 0 && (errno == ENOENT || errno == EPERM), "stdin");
	/* On the heap: a Kiln image's .data and .bss must stay small. */
	unsigned char *out = malloc(total), *back = malloc(total), *relay = malloc(65536);
	enum { relay_size = 65536 };
	for (size_t i = 0; i < total; i++)
		out[i] = pattern(i);
	size_t sent = 0, echoed_in = 0, echoed_out = 0, got = 0;
	int srv = -1, connected = 0, accepted = 0, rdhup = 0, wakeups = 0;
	size_t pend = 0; /* relay bytes read by the server, not yet written back */
	long long start = now_ms();
	while ((got < total || !rdhup) && now_ms() - start < 20000) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, 1000);
		wakeups++;
		for (int i = 0; i < n; i++) {
			uint32_t id = evs[i].data.u32, e = evs[i].events;
			if (id == 1) {
				srv = accept4(l, NULL, NULL, SOCK_NONBLOCK);
				if (srv >= 0) {
					accepted = 1;
					struct epoll_event se = {EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, {.u32 = 3}};
					epoll_ctl(ep, EPOLL_CTL_ADD, srv, &se);
					epoll_ctl(ep, EPOLL_CTL_DEL, l, NULL);
				}
			} else if (id == 2) {
				if ((e & EPOLLOUT) && !connected) {
					int err = -1;
					socklen_t el = sizeof err;
					getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el);
					connected = err == 0;
					struct epoll_event ce = {EPOLLIN | EPOLLOUT, {.u32 = 2}};
					epoll_ctl(ep, EPOLL_CTL_MOD, c, &ce);
				}
				while ((e & EPOLLOUT) && sent < total) {
					ssize_t k = send(c, out + sent, total - sent > 40000 ? 40000 : total - sent, 0);
					if (k <= 0)
						break;
					sent += (size_t)k;
				}
				if (sent == total) {
					struct epoll_event ce = {EPOLLIN, {.u32 = 2}};
					epoll_ctl(ep, EPOLL_CTL_MOD, c, &ce);
					if (got == total)
						shutdown(c, SHUT_WR);
				}
				if (e & EPOLLIN) {
					ssize_t k;
					while ((k = recv(c, back + got, total - got, 0)) > 0)
						got += (size_t)k;
					if (got == total)
						shutdown(c, SHUT_WR); /* the server sees EPOLLRDHUP */
				}
			} else if (id == 3) {
				/* Edge-triggered: move everything possible, until EAGAIN either way. */
				for (;;) {
					if (pend) {
						ssize_t k = send(srv, relay, pend, 0);
						if (k <= 0)
							break;
						memmove(relay, relay + k, pend - (size_t)k);
						pend -= (size_t)k;
						echoed_out += (size_t)k;
						continue;
					}
					ssize_t k = recv(srv, relay, relay_size, 0);
					if (k <= 0)
						break;
					pend = (size_t)k;
					echoed_in += (size_t)k;
				}
				if (e & EPOLLRDHUP)
					rdhup = 1;
			}
		}
	}
	CHECK("epoll.accepted", accepted, "no connection");
	CHECK("epoll.connected", connected, "SO_ERROR after EPOLLOUT");
	CHECK("epoll.echo_intact", got == total && memcmp(out, back, total) == 0, "got %zu of %d", got, total);
	CHECK("epoll.rdhup", rdhup, "no EPOLLRDHUP after the client's shutdown");
	char x;
	CHECK("epoll.eof", srv >= 0 && recv(srv, &x, 1, 0) == 0, "server read after FIN");
	struct epoll_event evs[2];
	CHECK("epoll.einval_maxevents", epoll_wait(ep, evs, 0, 0) < 0 && errno == EINVAL, "maxevents 0");
	CHECK("epoll.efault_events", epoll_wait(ep, BAD_PTR, 2, 0) < 0 && errno == EFAULT, "bad events");
	CHECK("epoll.ebadf", epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev) < 0 && errno == EBADF, "fd 999");
	CHECK("epoll.einval_not_epoll", epoll_wait(c, evs, 2, 0) < 0 && errno == EINVAL, "not an epoll fd");
	/* A closed descriptor leaves the interest list (its file is gone). */
	close(srv);
	close(c);
	int n = epoll_wait(ep, evs, 2, 0);
	CHECK("epoll.closed_fds_leave", n == 0, "n %d", n);
	close(l);
	close(ep);
	free(out);
	free(back);
	free(relay);
}

static void *late_writer(void *p)
{
	struct timespec t = {0, 20 * 1000 * 1000};
	nanosleep(&t, NULL);
	write(*(int *)p, "w", 1);
	return NULL;
}

/* EPOLLONESHOT reports once until EPOLL_CTL_MOD; level-triggered reports while ready. */
static void test_epoll_modes(void)
{
	int u = socket(AF_INET, SOCK_DGRAM, 0), v = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = lo(0);
	bind(u, (struct sockaddr *)&a, sizeof a);
	a = lo(port_of(u));
	int ep = epoll_create(1);
	struct epoll_event ev = {EPOLLIN, {.u32 = 7}}, out[2];
	epoll_ctl(ep, EPOLL_CTL_ADD, u, &ev);
	CHECK("epoll.timeout_empty", epoll_wait(ep, out, 2, 30) == 0, "nothing sent");
	sendto(v, "a", 1, 0, (struct sockaddr *)&a, sizeof a);
	int n1 = epoll_wait(ep, out, 2, 1000), n2 = epoll_wait(ep, out, 2, 0);
	CHECK("epoll.level_repeats", n1 == 1 && n2 == 1 && out[0].data.u32 == 7 && out[0].events == EPOLLIN, "n %d %d", n1, n2);
	ev.events = EPOLLIN | EPOLLONESHOT;
	epoll_ctl(ep, EPOLL_CTL_MOD, u, &ev);
	n1 = epoll_wait(ep, out, 2, 0);
	n2 = epoll_wait(ep, out, 2, 0);
	CHECK("epoll.oneshot", n1 == 1 && n2 == 0, "n %d %d", n1, n2);
	epoll_ctl(ep, EPOLL_CTL_MOD, u, &ev);
	CHECK("epoll.oneshot_rearmed", epoll_wait(ep, out, 2, 0) == 1, "after MOD");
	ev.events = EPOLLIN | EPOLLET;
	epoll_ctl(ep, EPOLL_CTL_MOD, u, &ev);
	n1 = epoll_wait(ep, out, 2, 0);
	n2 = epoll_wait(ep, out, 2, 0);
	CHECK("epoll.edge_once", n1 == 1 && n2 == 0, "n %d %d", n1, n2);
	char b[4];
	recv(u, b, sizeof b, 0);
	CHECK("epoll.edge_drained", recv(u, b, sizeof b, MSG_DONTWAIT) < 0 && errno == EAGAIN, "empty");
	sendto(v, "b", 1, 0, (struct sockaddr *)&a, sizeof a);
	CHECK("epoll.edge_again", epoll_wait(ep, out, 2, 1000) == 1, "new datagram");
	/* epoll in poll: the epoll descriptor is readable while an item is ready. */
	struct pollfd pf = {ep, POLLIN, 0};
	ev.events = EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_MOD, u, &ev);
	CHECK("epoll.pollable", poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN), "revents %#x", pf.revents);
	CHECK("epoll.del", epoll_ctl(ep, EPOLL_CTL_DEL, u, NULL) == 0 && epoll_wait(ep, out, 2, 0) == 0, "after DEL");
	/* Any pollable descriptor: a pipe (IN, then HUP once the writer is gone); not a file. */
	int p[2];
	pipe(p);
	ev = (struct epoll_event){EPOLLIN, {.u32 = 9}};
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	write(p[1], "x", 1);
	n1 = epoll_wait(ep, out, 2, 0);
	CHECK("epoll.pipe_in", n1 == 1 && out[0].events == EPOLLIN && out[0].data.u32 == 9, "n %d events %#x", n1, out[0].events);
	close(p[1]);
	n1 = epoll_wait(ep, out, 2, 0);
	CHECK("epoll.pipe_hup", n1 == 1 && out[0].events == (EPOLLIN | EPOLLHUP), "n %d events %#x", n1, out[0].events);
	close(p[0]);
	/* Another thread makes the item ready while this one waits in epoll_wait. */
	pipe(p);
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	pthread_t w;
	pthread_create(&w, NULL, late_writer, &p[1]);
	n1 = epoll_wait(ep, out, 2, 5000);
	CHECK("epoll.woken_by_another_thread", n1 == 1 && out[0].events == EPOLLIN, "n %d", n1);
	pthread_join(w, NULL);
	close(p[0]);
	close(p[1]);
	mkdir("/tmp", 0777);
	int f = open("/tmp/kiln-socket-test.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK("epoll.eperm_file", f >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev) < 0 && errno == EPERM, "regular file");
	close(f);
	unlink("/tmp/kiln-socket-test.txt");
	close(ep);
	close(u);
	close(v);
}

#define STREAM_BYTES 200000

struct srv_arg {
	int l;
	size_t echoed;
	int inherited; /* the accepted socket has the listener's TCP_NODELAY */
};

/* Blocking server thread: accept, echo until EOF, close. */
static void *echo_server(void *p)
{
	struct srv_arg *a = p;
	struct sockaddr_in peer;
	socklen_t len = sizeof peer;
	int c = accept(a->l, (struct sockaddr *)&peer, &len);
	if (c < 0)
		return NULL;
	int v = 0;
	socklen_t vl = sizeof v;
	a->inherited = getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl) == 0 && v == 1;
	char buf[8192];
	ssize_t k;
	while ((k = read(c, buf, sizeof buf)) > 0) {
		ssize_t off = 0;
		while (off < k) {
			ssize_t w = write(c, buf + off, (size_t)(k - off));
			if (w <= 0)
				break;
			off += w;
		}
		a->echoed += (size_t)k;
	}
	close(c);
	return NULL;
}

static void *reader(void *p)
{
	int c = *(int *)p;
	unsigned char *back = malloc(STREAM_BYTES);
	size_t got = 0;
	ssize_t k;
	while (got < STREAM_BYTES && (k = recv(c, back + got, STREAM_BYTES - got, MSG_WAITALL)) > 0)
		got += (size_t)k;
	void *res = got == STREAM_BYTES ? NULL : (void *)2;
	for (size_t i = 0; i < got; i++)
		if (back[i] != pattern(i))
			res = (void *)1;
	free(back);
	return res;
}

static void test_blocking_threads(void)
{
	struct srv_arg sa = {listener(0), 0, 0};
	int on = 1;
	setsockopt(sa.l, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	pthread_t t, rt;
	pthread_create(&t, NULL, echo_server, &sa);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo(port_of(sa.l));
	CHECK("blocking.connect", connect(c, (struct sockaddr *)&a, sizeof a) == 0, "connect");
	struct sockaddr_in me, peer;
	socklen_t ml = sizeof me, pl = sizeof peer;
	getsockname(c, (struct sockaddr *)&me, &ml);
	getpeername(c, (struct sockaddr *)&peer, &pl);
	CHECK("blocking.names", ml == sizeof me && me.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && me.sin_port != 0 &&
				    peer.sin_port == a.sin_port && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	      "names");
	int one = 1, v = 0;
	socklen_t vl = sizeof v;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	CHECK("blocking.nodelay", getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl) == 0 && v == 1, "v %d", v);
	setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	CHECK("blocking.keepalive", getsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, &vl) == 0 && v == 1, "v %d", v);
	CHECK("blocking.so_type", getsockopt(c, SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_STREAM, "v %d", v);
	int big = 1 << 17;
	CHECK("blocking.rcvbuf", setsockopt(c, SOL_SOCKET, SO_RCVBUF, &big, sizeof big) == 0 &&
				     getsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, &vl) == 0 && v >= 2048, "v %d", v);
	/* A reader thread drains the echo while this one writes (the echo's window would stall a
	 * writer that does not read). */
	pthread_create(&rt, NULL, reader, &c);
	unsigned char *out = malloc(STREAM_BYTES);
	for (size_t i = 0; i < STREAM_BYTES; i++)
		out[i] = pattern(i);
	struct iovec iov[2] = {{out, 70000}, {out + 70000, STREAM_BYTES - 70000}};
	struct msghdr m = {0};
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	ssize_t w = sendmsg(c, &m, 0);
	CHECK("blocking.sendmsg_all", w == STREAM_BYTES, "w %zd", w);
	free(out);
	void *res = (void *)3;
	pthread_join(rt, &res);
	CHECK("blocking.echo_intact", res == NULL, "reader says %ld", (long)res);
	shutdown(c, SHUT_WR);
	char x;
	CHECK("blocking.eof_after_shutdown", read(c, &x, 1) == 0, "read");
	pthread_join(t, NULL);
	CHECK("blocking.server_echoed", sa.echoed == STREAM_BYTES, "echoed %zu", sa.echoed);
	CHECK("blocking.accept_inherits_options", sa.inherited, "TCP_NODELAY of the listener");
	struct stat st;
	CHECK("blocking.fstat_sock", fstat(c, &st) == 0 && S_ISSOCK(st.st_mode), "mode %o", st.st_mode);
	int d = dup(c);
	CHECK("blocking.dup", d >= 0 && getsockopt(d, SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_STREAM, "dup");
	close(d);
	close(c);
	close(sa.l);
}

static void test_udp(void)
{
	int srv = socket(AF_INET, SOCK_DGRAM, 0), cli = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = lo(0);
	CHECK("udp.bind", bind(srv, (struct sockaddr *)&a, sizeof a) == 0, "bind");
	a = lo(port_of(srv));
	CHECK("udp.sendto", sendto(cli, "query", 5, 0, (struct sockaddr *)&a, sizeof a) == 5, "sendto");
	char buf[64];
	struct sockaddr_in from;
	socklen_t fl = sizeof from;
	ssize_t n = recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
	CHECK("udp.recvfrom", n == 5 && memcmp(buf, "query", 5) == 0 && fl == sizeof from &&
				      from.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && ntohs(from.sin_port) == port_of(cli),
	      "n %zd", n);
	CHECK("udp.connect", connect(srv, (struct sockaddr *)&from, sizeof from) == 0, "connect");
	CHECK("udp.send_connected", send(srv, "answer", 6, 0) == 6, "send");
	n = recv(cli, buf, sizeof buf, 0);
	CHECK("udp.recv", n == 6 && memcmp(buf, "answer", 6) == 0, "n %zd", n);
	/* sendmsg gathers one datagram; recvmsg scatters it and says MSG_TRUNC when it is cut. */
	struct iovec iv[3] = {{"he", 2}, {"llo ", 4}, {"world", 5}};
	struct msghdr m = {0};
	m.msg_name = &a;
	m.msg_namelen = sizeof a;
	m.msg_iov = iv;
	m.msg_iovlen = 3;
	CHECK("udp.sendmsg", sendmsg(cli, &m, 0) == 11, "sendmsg");
	char p1[3], p2[5];
	struct iovec rv[2] = {{p1, 3}, {p2, 5}};
	struct sockaddr_in src;
	struct msghdr rm = {0};
	rm.msg_name = &src;
	rm.msg_namelen = sizeof src;
	rm.msg_iov = rv;
	rm.msg_iovlen = 2;
	n = recvmsg(srv, &rm, 0);
	CHECK("udp.recvmsg_trunc", n == 8 && memcmp(p1, "hel", 3) == 0 && memcmp(p2, "lo wo", 5) == 0 &&
					   (rm.msg_flags & MSG_TRUNC) && rm.msg_namelen == sizeof src && src.sin_port == htons(port_of(cli)),
	      "n %zd flags %#x", n, rm.msg_flags);
	sendto(cli, "0123456789", 10, 0, (struct sockaddr *)&a, sizeof a);
	n = recv(srv, buf, 4, MSG_TRUNC);
	CHECK("udp.msg_trunc_length", n == 10 && memcmp(buf, "0123", 4) == 0, "n %zd", n);
	/* A connected socket takes only its peer's datagrams. */
	int other = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(other, "noise", 5, 0, (struct sockaddr *)&a, sizeof a);
	CHECK("udp.connected_filters", recv(srv, buf, sizeof buf, MSG_DONTWAIT) < 0 && errno == EAGAIN, "noise");
	struct pollfd pf[2] = {{srv, POLLIN, 0}, {cli, POLLIN | POLLOUT, 0}};
	int r = poll(pf, 2, 0);
	CHECK("udp.poll", r == 1 && pf[0].revents == 0 && pf[1].revents == POLLOUT, "r %d %#x %#x", r, pf[0].revents, pf[1].revents);
	close(other);
	close(srv);
	close(cli);
}

static void test_poll_select(void)
{
	int l = listener(0);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo(port_of(l));
	connect(c, (struct sockaddr *)&a, sizeof a);
	int s = accept(l, NULL, NULL);
	struct pollfd pf = {s, POLLIN, 0};
	long long t0 = now_ms();
	int r = poll(&pf, 1, 100);
	long long waited = now_ms() - t0;
	CHECK("poll.timeout", r == 0 && waited >= 90, "r %d waited %lld ms", r, waited);
	write(c, "hi", 2);
	r = poll(&pf, 1, 1000);
	CHECK("poll.readable", r == 1 && pf.revents == POLLIN, "r %d revents %#x", r, pf.revents);
	fd_set rd, wr;
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(s, &rd);
	FD_SET(c, &wr);
	struct timeval tv = {1, 0};
	r = select((s > c ? s : c) + 1, &rd, &wr, NULL, &tv);
	CHECK("select.ready", r == 2 && FD_ISSET(s, &rd) && FD_ISSET(c, &wr), "r %d", r);
	char b[4];
	read(s, b, sizeof b);
	fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
	CHECK("fcntl.nonblock_read", read(s, b, sizeof b) < 0 && errno == EAGAIN, "empty");
	close(c);
	pf.events = POLLIN | POLLRDHUP;
	r = poll(&pf, 1, 1000);
	CHECK("poll.peer_closed", r == 1 && (pf.revents & POLLIN) && (pf.revents & POLLRDHUP) && read(s, b, sizeof b) == 0, "revents %#x", pf.revents);
	close(s);
	close(l);
}

/* `socket-test throughput [MiB]`: a figure, not a check - MiB from one thread to another
 * over a loopback TCP connection, blocking calls, 64 KiB writes. */
static void *sink(void *p)
{
	int c = accept(*(int *)p, NULL, NULL);
	char *buf = malloc(65536);
	long long n = 0;
	ssize_t k;
	while ((k = read(c, buf, 65536)) > 0)
		n += k;
	free(buf);
	close(c);
	return (void *)(intptr_t)(n >> 20);
}

static int throughput(long mib)
{
	int l = listener(0);
	pthread_t t;
	pthread_create(&t, NULL, sink, &l);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo(port_of(l));
	connect(c, (struct sockaddr *)&a, sizeof a);
	char *buf = calloc(1, 65536);
	long long t0 = now_ms();
	for (long i = 0; i < mib * 16; i++)
		if (write(c, buf, 65536) != 65536)
			return 1;
	close(c);
	void *got;
	pthread_join(t, &got);
	long long ms = now_ms() - t0;
	printf("throughput: %ld MiB over loopback TCP in %lld ms: %.1f MiB/s (received %ld MiB)\n", mib, ms,
	       ms ? mib * 1000.0 / (double)ms : 0.0, (long)(intptr_t)got);
	free(buf);
	return (long)(intptr_t)got == mib ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct utsname u;
	on_kiln = uname(&u) == 0 && strcmp(u.sysname, "Kiln") == 0;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "throughput") == 0)
		return throughput(argc > 2 ? atol(argv[2]) : 64);
	test_errors();
	test_udp();
	test_poll_select();
	test_epoll_modes();
	test_epoll_echo();
	test_blocking_threads();
	printf("socket-test: %d failures\n", failures);
	return failures;
}
