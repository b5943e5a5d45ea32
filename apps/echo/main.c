/* A TCP echo server (RFC 862) for many clients at once, on sockloop's poll loop. A connection
 * whose peer is slow to read keeps what it could not send yet and reads nothing more until that
 * is out, so memory per connection stays bounded. `discard` (RFC 863: read and drop, close at
 * the peer's end) and `source` (send until the peer goes) measure one direction at a time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/socket.h>
#include <sockloop/sockloop.h>
#include <virtio-net/virtio_net.h>

#define MAX_CONNS 256
#define BUF_BYTES 16384

struct conn {
	struct sockloop_conn base;
	char buf[BUF_BYTES];
	size_t len, sent; /* bytes read, and of them sent back */
	int eof;          /* the peer closed its side: finish sending, then close */
};

static int print_stats; /* "stats": the driver's counters after each connection */
static enum { ECHO, DISCARD, SOURCE } mode;

static void drop(struct conn *c)
{
	sockloop_close(&c->base);
	if (print_stats) {
		const struct virtio_net_stats *v = virtio_net_stats();
		printf("echo: virtio-net rx=%llu tx=%llu tx_notifies=%llu tx_suppressed=%llu tx_full=%llu waits=%llu "
		       "halts=%llu irq_wakes=%llu timer_wakes_with_frame=%llu irq_acks=%llu device_errors=%llu\n",
		       (unsigned long long)v->rx_frames, (unsigned long long)v->tx_frames, (unsigned long long)v->tx_notifies,
		       (unsigned long long)v->tx_suppressed, (unsigned long long)v->tx_full, (unsigned long long)v->waits,
		       (unsigned long long)v->halts, (unsigned long long)v->irq_wakes, (unsigned long long)v->timer_wakes_with_frame,
		       (unsigned long long)v->irq_acks, (unsigned long long)v->device_errors);
	}
}

/* Waiting to send: only POLLOUT; else read more. */
static int wants(struct sockloop_conn *b)
{
	const struct conn *c = (const struct conn *)b;
	if (mode == SOURCE)
		return NET_POLLOUT | NET_POLLIN;
	return c->sent < c->len ? NET_POLLOUT : NET_POLLIN;
}

/* source: the buffer again and again; anything read (or the peer's end) stops it. */
static void serve_source(struct conn *c)
{
	for (;;) {
		long r = net_recv(c->base.sock, c->buf, sizeof(c->buf));
		if (r != -EAGAIN) {
			drop(c);
			return;
		}
		long n = net_send(c->base.sock, c->buf, sizeof(c->buf));
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			drop(c);
			return;
		}
	}
}

/* Moves data both ways as far as the socket allows now. */
static void serve(struct sockloop_conn *b)
{
	struct conn *c = (struct conn *)b;
	if (mode == SOURCE) {
		serve_source(c);
		return;
	}
	for (;;) {
		if (mode == DISCARD)
			c->sent = c->len;
		while (c->sent < c->len) {
			long n = net_send(c->base.sock, c->buf + c->sent, c->len - c->sent);
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
		long n = net_recv(c->base.sock, c->buf, sizeof(c->buf));
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
	const char *word = argc > 2 ? argv[2] : "";
	print_stats = strcmp(word, "stats") == 0;
	mode = strcmp(word, "discard") == 0 ? DISCARD : strcmp(word, "source") == 0 ? SOURCE : ECHO;
	if (port < 1 || port > 65535 || argc > 3 || (argc == 3 && !print_stats && mode == ECHO)) {
		printf("echo: bad arguments; usage: echo [PORT] [stats|discard|source]\n");
		return 2;
	}
	/* 64 KiB each way per connection keeps 100 clients in the image's memory and a bulk
	 * transfer moving. */
	const struct sockloop_config cfg = {"echo", (uint16_t)port, 128, MAX_CONNS, 64 * 1024, 64 * 1024};
	const struct sockloop_ops ops = {sizeof(struct conn), wants, serve};
	return sockloop_run(&cfg, &ops);
}
