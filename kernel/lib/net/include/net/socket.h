/* net sockets: one socket-like API over TCP and UDP for native (micro-library) apps, and the
 * layer the POSIX socket calls will map file descriptors onto. Each type is a struct of ops
 * (tcp, udp); every call is non-blocking and returns a negative errno (-EAGAIN when it would
 * block); net_sock_poll() waits, driving the stack meanwhile. Addresses are host order. */
#ifndef KILN_NET_SOCKET_H
#define KILN_NET_SOCKET_H

#include <stddef.h>
#include <net/stack.h>

enum net_sock_type { NET_SOCK_STREAM = 1, NET_SOCK_DGRAM = 2 };
enum net_shut { NET_SHUT_RD = 0, NET_SHUT_WR = 1, NET_SHUT_RDWR = 2 };
enum net_sockopt { NET_SO_NODELAY, NET_SO_KEEPALIVE, NET_SO_SNDBUF, NET_SO_RCVBUF };

#define NET_POLLIN 1
#define NET_POLLOUT 4
#define NET_POLLERR 8
#define NET_POLLHUP 16
#define NET_POLLRDHUP 0x2000 /* the peer shut down its sending side (stream) */

struct net_sockaddr {
	uint32_t addr;
	uint16_t port;
};

struct net_sock;

/* A socket of the type, or NULL with *err (-EINVAL for a type, -ENOMEM). */
struct net_sock *net_socket(struct net_stack *st, enum net_sock_type type, int *err);
int net_bind(struct net_sock *s, const struct net_sockaddr *a);
int net_listen(struct net_sock *s, int backlog);              /* stream only */
/* The next connection (peer address in *peer when not NULL), or NULL with *err. */
struct net_sock *net_accept(struct net_sock *s, struct net_sockaddr *peer, int *err);
/* Stream: starts the handshake (-EINPROGRESS). Datagram: sets the default peer (0). */
int net_connect(struct net_sock *s, const struct net_sockaddr *a);
long net_send(struct net_sock *s, const void *buf, size_t len);
long net_sendto(struct net_sock *s, const void *buf, size_t len, const struct net_sockaddr *to);
long net_recv(struct net_sock *s, void *buf, size_t len);
long net_recvfrom(struct net_sock *s, void *buf, size_t len, struct net_sockaddr *from);
int net_shutdown(struct net_sock *s, enum net_shut how);
/* Releases the socket (a TCP connection closes gracefully in the background). */
void net_close(struct net_sock *s);
int net_setsockopt(struct net_sock *s, enum net_sockopt opt, int value);
int net_getsockname(struct net_sock *s, struct net_sockaddr *a);
int net_getpeername(struct net_sock *s, struct net_sockaddr *a); /* -ENOTCONN */
/* NET_POLLIN / NET_POLLOUT / NET_POLLERR / NET_POLLHUP / NET_POLLRDHUP now. */
int net_sock_events(struct net_sock *s);
/* The connection's error (-ECONNREFUSED, -ECONNRESET, -ETIMEDOUT ...), 0 when none; it stays. */
int net_sock_error(struct net_sock *s);

struct net_pollitem {
	struct net_sock *sock;
	int events;       /* wanted */
	int revents;      /* got (ERR and HUP always reported) */
};

/* Polls the stack until an item is ready or timeout_ms passed (0: check once, -1: forever);
 * returns the number of ready items. */
int net_sock_poll(struct net_stack *st, struct net_pollitem *items, int n, int timeout_ms);

#endif
