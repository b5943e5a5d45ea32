/* HTTP/1.1 with keep-alive and pipelining: every GET (or HEAD) gets the same 612-byte page,
 * anything else 405, on sockloop's poll loop. A request is read
 * up to its blank line (a Content-Length body is skipped); the replies go into a per-connection
 * output buffer, and a connection reads no further while that buffer has no room for another
 * reply, so a client that does not read cannot make the server hold more. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/socket.h>
#include <sockloop/sockloop.h>

#define MAX_CONNS 512
#define IN_BYTES 4096
#define OUT_BYTES 8192

/* 612 bytes, like nginx's index.html (checked below). */
static const char PAGE[] =
	"<!DOCTYPE html>\n"
	"<html>\n"
	"<head>\n"
	"<title>Welcome to Kiln!</title>\n"
	"<style>\n"
	"    body {\n"
	"        width: 35em;\n"
	"        margin: 0 auto;\n"
	"        font-family: Tahoma, Verdana, Arial, sans-serif;\n"
	"    }\n"
	"</style>\n"
	"</head>\n"
	"<body>\n"
	"<h1>Welcome to Kiln!</h1>\n"
	"<p>If you see this page, the httpreply app of the Kiln unikernel is up and answering\n"
	"over its own TCP/IP stack. Every GET gets this same page of 612 bytes.</p>\n"
	"\n"
	"<p>The size is the one of nginx's default index.html, as in the static page\n"
	"benchmark of the Unikraft paper.</p>\n"
	"\n"
	"<p><em>Thank you for using Kiln.</em></p>\n"
	"<!-- .............................. -->\n"
	"</body>\n"
	"</html>\n";
_Static_assert(sizeof(PAGE) - 1 == 612, "the page is 612 bytes");

#define HEAD_OK "HTTP/1.1 200 OK\r\nServer: kiln-httpreply\r\nContent-Type: text/html\r\nContent-Length: 612\r\n"
#define HEAD_405 "HTTP/1.1 405 Method Not Allowed\r\nServer: kiln-httpreply\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n"
#define HEAD_BAD "HTTP/1.1 400 Bad Request\r\nServer: kiln-httpreply\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#define REPLY_MAX (sizeof(HEAD_OK) + 32 + sizeof(PAGE))

struct conn {
	struct sockloop_conn base;
	char in[IN_BYTES];
	char out[OUT_BYTES];
	size_t inlen, outlen, outsent;
	size_t skip;  /* body bytes of the last request still to discard */
	int closing;  /* close once the output is sent */
	int eof;
};


static void put(struct conn *c, const char *p, size_t n)
{
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
}

/* Case-insensitive prefix match of a header line. */
static int header_is(const char *line, const char *name)
{
	for (; *name; line++, name++) {
		char a = *line, b = *name;
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return 1;
}

static int contains_token(const char *v, const char *end, const char *tok)
{
	size_t n = strlen(tok);
	for (; v + n <= end; v++)
		if (header_is(v, tok))
			return 1;
	return 0;
}

/* Parses one request of n header bytes (ending in the blank line) and queues its reply. */
static void answer(struct conn *c, char *req, size_t n)
{
	char *eol = memchr(req, '\n', n);
	char *sp1 = eol ? memchr(req, ' ', (size_t)(eol - req)) : NULL;
	if (!sp1) {
		put(c, HEAD_BAD, sizeof(HEAD_BAD) - 1);
		c->closing = 1;
		return;
	}
	int get = sp1 - req == 3 && memcmp(req, "GET", 3) == 0;
	int head = sp1 - req == 4 && memcmp(req, "HEAD", 4) == 0;
	int http10 = eol - req >= 9 && memcmp(eol - 9, "HTTP/1.0", 8) == 0;
	int keep = !http10, close = 0;
	size_t length = 0;
	for (char *line = eol + 1; line < req + n;) {
		char *end = memchr(line, '\n', (size_t)(req + n - line));
		if (!end)
			break;
		if (header_is(line, "connection:")) {
			if (contains_token(line, end, "close"))
				close = 1;
			if (contains_token(line, end, "keep-alive"))
				keep = 1;
		} else if (header_is(line, "content-length:")) {
			length = strtoul(line + 15, NULL, 10);
		}
		line = end + 1;
	}
	c->skip = length;
	if (close || !keep)
		c->closing = 1;
	if (get || head) {
		put(c, HEAD_OK, sizeof(HEAD_OK) - 1);
	} else {
		put(c, HEAD_405, sizeof(HEAD_405) - 1);
	}
	const char *conn_hdr = c->closing ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
	put(c, conn_hdr, strlen(conn_hdr));
	if (get)
		put(c, PAGE, sizeof(PAGE) - 1);
}

/* Takes every complete request out of the input while the output has room for a reply. */
static void parse(struct conn *c)
{
	while (!c->closing) {
		if (c->skip) {
			size_t n = c->skip < c->inlen ? c->skip : c->inlen;
			memmove(c->in, c->in + n, c->inlen - n);
			c->inlen -= n;
			c->skip -= n;
			if (c->skip)
				return;
		}
		if (OUT_BYTES - c->outlen < REPLY_MAX)
			return;
		char *end = NULL;
		for (size_t i = 3; i < c->inlen && !end; i++)
			if (c->in[i] == '\n' && c->in[i - 1] == '\r' && c->in[i - 2] == '\n' && c->in[i - 3] == '\r')
				end = c->in + i + 1;
		if (!end) {
			if (c->inlen == IN_BYTES) { /* headers larger than the buffer */
				put(c, HEAD_BAD, sizeof(HEAD_BAD) - 1);
				c->closing = 1;
			}
			return;
		}
		size_t n = (size_t)(end - c->in);
		answer(c, c->in, n);
		memmove(c->in, end, c->inlen - n);
		c->inlen -= n;
	}
}

static int wants(struct sockloop_conn *b)
{
	const struct conn *c = (const struct conn *)b;
	return c->outsent < c->outlen ? NET_POLLOUT : NET_POLLIN;
}

static void serve(struct sockloop_conn *b)
{
	struct conn *c = (struct conn *)b;
	for (;;) {
		while (c->outsent < c->outlen) {
			long n = net_send(c->base.sock, c->out + c->outsent, c->outlen - c->outsent);
			if (n == -EAGAIN)
				return;
			if (n < 0) {
				sockloop_close(&c->base);
				return;
			}
			c->outsent += (size_t)n;
		}
		c->outlen = c->outsent = 0;
		if (c->closing || (c->eof && c->inlen == 0)) {
			sockloop_close(&c->base);
			return;
		}
		if (c->eof) {
			parse(c); /* pipelined requests before the end of stream still get answers */
			if (!c->outlen)
				c->closing = 1;
			continue;
		}
		long n = net_recv(c->base.sock, c->in + c->inlen, IN_BYTES - c->inlen);
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			sockloop_close(&c->base);
			return;
		}
		if (n == 0)
			c->eof = 1;
		c->inlen += (size_t)n;
		parse(c);
	}
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 80;
	if (port < 1 || port > 65535 || argc > 2) {
		printf("httpreply: bad arguments; usage: httpreply [PORT]\n");
		return 2;
	}
	/* 16 KiB each way per connection holds a dozen pipelined replies and lets 512 connections
	 * fit in the image's memory. */
	const struct sockloop_config cfg = {"httpreply", (uint16_t)port, 512, MAX_CONNS, 16 * 1024, 16 * 1024};
	const struct sockloop_ops ops = {sizeof(struct conn), wants, serve};
	return sockloop_run(&cfg, &ops);
}
