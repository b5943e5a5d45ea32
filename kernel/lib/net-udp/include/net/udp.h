/* net-udp: UDP (RFC 768) sockets over net-ipv4, with a bounded receive queue per socket and ICMP
 * port unreachable for closed ports. Non-blocking: calls return -EAGAIN instead of waiting. */
#ifndef KILN_NET_UDP_H
#define KILN_NET_UDP_H

#include <stdint.h>
#include <net/ipv4.h>

#define UDP_HLEN 8
#define UDP_MAX_SOCKS 16

struct udp_dgram;

struct udp_sock {
	struct udp_stack *st;
	uint16_t port;                  /* 0: unused slot */
	uint32_t rcvbuf;                /* queued payload bytes allowed (default 64 KiB) */
	uint32_t queued;
	struct udp_dgram *head, *tail;
	uint64_t drops;
};

struct udp_stats {
	uint64_t rx, rx_bad, rx_no_port, tx;
};

struct udp_stack {
	struct net_ip *ip;
	const struct net_env *env;
	uint16_t next_ephemeral;
	struct udp_sock socks[UDP_MAX_SOCKS];
	struct udp_stats stats;
};

void udp_init(struct udp_stack *st, struct net_ip *ip, const struct net_env *env);
void udp_fini(struct udp_stack *st);
/* A socket bound to port (0: an ephemeral port); NULL with *err = -EADDRINUSE or -ENOMEM. */
struct udp_sock *udp_open(struct udp_stack *st, uint16_t port, int *err);
void udp_close(struct udp_sock *s);
/* Sends one datagram; len bytes or -EMSGSIZE, -ENOBUFS, -ENETUNREACH. */
int udp_sendto(struct udp_sock *s, uint32_t dst, uint16_t dport, const void *buf, uint16_t len);
/* Takes the oldest datagram (truncated to cap); its length, or -EAGAIN when none is queued. */
int udp_recvfrom(struct udp_sock *s, void *buf, uint16_t cap, uint32_t *src, uint16_t *sport);
int udp_readable(const struct udp_sock *s);

#endif
