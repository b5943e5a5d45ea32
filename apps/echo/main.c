/* A TCP echo server (RFC 862) for many clients at once: one poll loop over the listener and
 * every connection. A connection whose peer is slow to read keeps what it could not send yet
 * and reads nothing more until that is out, so memory per connection stays bounded. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/socket.h>

#define MAX_CONNS 256
#define BUF_BYTES 16384

struct conn {
	struct net_sock *s;
	char buf[BUF_BYTES];
	size_t len, sent; /* bytes read, and of them sent back */
	int eof;          /* the peer closed its side: finish sending, then close */
};

static struct conn *conns[MAX_CONNS]; /* allocated at accept, freed at close */
static struct net_pollitem items[MAX_CONNS + 1];
static int owner[MAX_CONNS + 1]; /* poll item -> connection */

static void drop(struct conn *c)
{
	net_close(c->s);
	c->s = NULL; /* the poll loop frees it */
}

/* Moves data both ways as far as the socket allows now. */
static void serve(struct conn *c)
{
	for (;;) {
		while (c->sent < c->len) {
			long n = net_send(c->s, c->buf + c->sent, c->len - c->sent);
			if (n == -EAGAIN)
				return;
			if (n < 0) {
				drop(c);
				return;
			}
			c->sent += (size_t)n;
		}
		c->len = c->sent = 0;
		if (c->eof) {
			drop(c);
			return;
		}
		long n = net_recv(c->s, c->buf, sizeof(c->buf));
		if (n == -EAGAIN)
			return;
		if (n <= 0) { /* end of stream or an error */
			if (n < 0) {
				drop(c);
				return;
			}
			c->eof = 1;
			continue;
		}
		c->len = (size_t)n;
	}
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 7;
	if (port < 1 || port > 65535) {
		printf("echo: %s is not a port (1-65535); usage: echo [PORT]\n", argv[1]);
		return 2;
	}
	const char *why = NULL;
	struct net_stack *st = net_default(&why);
	if (!st) {
		printf("echo: no network: %s\n", why);
		return 1;
	}
	int err = 0;
	struct net_sock *l = net_socket(st, NET_SOCK_STREAM, &err);
	/* Every connection inherits the listener's buffers: 64 KiB each way keeps 100 clients in
	 * the image's memory and a bulk transfer moving. */
	if (l) {
		net_setsockopt(l, NET_SO_SNDBUF, 64 * 1024);
		net_setsockopt(l, NET_SO_RCVBUF, 64 * 1024);
	}
	if (!l || (err = net_bind(l, &(struct net_sockaddr){0, (uint16_t)port})) || (err = net_listen(l, 128))) {
		printf("echo: cannot listen on port %d: error %d\n", port, err);
		return 1;
	}
	printf("echo: listening on tcp port %d\n", port);
	for (;;) {
		int n = 0;
		items[n++] = (struct net_pollitem){l, NET_POLLIN, 0};
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = conns[i];
			if (c && !c->s) {
				free(c);
				conns[i] = c = NULL;
			}
			if (c) {
				owner[n] = i;
				/* Waiting to send: only POLLOUT; else read more. */
				items[n++] = (struct net_pollitem){c->s, c->sent < c->len ? NET_POLLOUT : NET_POLLIN, 0};
			}
		}
		if (net_sock_poll(st, items, n, -1) <= 0)
			continue;
		for (int k = 1; k < n; k++)
			if (items[k].revents)
				serve(conns[owner[k]]);
		if (items[0].revents & NET_POLLIN) {
			struct net_sock *c;
			while ((c = net_accept(l, NULL, &err))) {
				int slot = -1;
				for (int i = 0; i < MAX_CONNS && slot < 0; i++)
					if (!conns[i])
						slot = i;
				struct conn *cn = slot >= 0 ? calloc(1, sizeof(*cn)) : NULL;
				if (!cn) { /* full: refuse this one, keep serving the others */
					net_close(c);
					continue;
				}
				cn->s = c;
				conns[slot] = cn;
				net_setsockopt(c, NET_SO_NODELAY, 1);
				serve(cn);
			}
		}
	}
}
