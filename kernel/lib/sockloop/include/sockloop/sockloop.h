/* sockloop: the event loop of a TCP server on the net socket API, for native apps (apps/echo,
 * apps/httpreply): one net_sock_poll over the listener and every connection, accept, and the
 * bookkeeping of connection state. The app says what each connection waits for and serves it
 * when that is ready. */
#ifndef KILN_SOCKLOOP_H
#define KILN_SOCKLOOP_H

#include <stddef.h>
#include <net/socket.h>

/* The first member of an app's connection struct. */
struct sockloop_conn {
	struct net_sock *sock; /* set to NULL (after net_close) to end it: the loop frees the struct */
};

struct sockloop_ops {
	size_t conn_size;                               /* bytes of the app's struct (zeroed) */
	int (*wants)(struct sockloop_conn *c);          /* NET_POLLIN and/or NET_POLLOUT now */
	void (*serve)(struct sockloop_conn *c);         /* it is ready (or has an error, or hung up) */
};

struct sockloop_config {
	const char *name;      /* the app, for its lines ("echo: listening on tcp port 7") */
	uint16_t port;
	int backlog;
	int max_conns;         /* beyond it, a new connection is closed at once */
	int sndbuf, rcvbuf;    /* per connection, inherited from the listener (0: the stack's default) */
};

/* Listens on net_default()'s stack, prints "<name>: listening on tcp port <port>" and serves
 * forever; returns 1 (after one line saying why) only when it cannot start. New connections get
 * TCP_NODELAY and are served once at once (data may have come with the handshake). */
int sockloop_run(const struct sockloop_config *cfg, const struct sockloop_ops *ops);

/* Closes c's socket; the loop frees c after the current round. */
void sockloop_close(struct sockloop_conn *c);

#endif
