/* The Linux peer of `kiln bench net`'s TCP test: a single-threaded epoll echo server on
 * loopback, the same job apps/echo does in a guest; with `discard` it reads and drops, with
 * `source` it sends until the peer goes (apps/echo's modes). Usage: echo-server PORT [MODE].
 * Prints "listening" once it accepts connections. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: echo-server PORT [discard|source]\n");
		return 2;
	}
	const char *mode = argc == 3 ? argv[2] : "echo";
	int discard = !strcmp(mode, "discard"), source = !strcmp(mode, "source");
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 128) < 0) {
		perror("echo-server: bind/listen");
		return 1;
	}
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	printf("listening\n");
	fflush(stdout);
	static char buf[1 << 16];
	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == l) {
				int c;
				while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					struct epoll_event ce = {.events = source ? EPOLLIN | EPOLLOUT : EPOLLIN, .data.fd = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
				}
				continue;
			}
			if (source) {
				if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
					close(fd);
					continue;
				}
				while (write(fd, buf, sizeof(buf)) > 0)
					;
				continue;
			}
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r > 0 && discard)
				continue;
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN) continue;
				close(fd);
				continue;
			}
			/* Write back all that was read, waiting for room: the client reads concurrently. */
			for (ssize_t off = 0; off < r;) {
				ssize_t w = write(fd, buf + off, (size_t)(r - off));
				if (w > 0) {
					off += w;
				} else if (w < 0 && errno == EAGAIN) {
					struct pollfd p = {.fd = fd, .events = POLLOUT};
					poll(&p, 1, -1);
				} else {
					break;
				}
			}
		}
	}
}
