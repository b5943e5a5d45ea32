/* net-ipv4: IPv4 (RFC 791) for a host: header checks and checksum, routing to the subnet or the
 * gateway, TTL on output, receive-side reassembly with bounded memory and a timeout, and ICMP
 * echo (RFC 792). Transports register a receiver per protocol number. */
#ifndef KILN_NET_IPV4_H
#define KILN_NET_IPV4_H

#include <stdint.h>
#include <net/eth.h>

#define IP_HLEN 20
#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define IP_MAX_PROTOS 4
#define IP_REASM_SLOTS 4           /* datagrams reassembled at once; the oldest is evicted */
#define IP_LOOP_MAX 256            /* datagrams waiting for local delivery; more are dropped */
#define IP_LOOPBACK 0x7f000001u    /* 127.0.0.1 */

struct net_ip;

/* What a transport is told about a received datagram. The payload is only valid during the call:
 * a transport copies what it keeps. hdr is the IP header (for ICMP errors). */
struct ip_rx {
	uint32_t src, dst;
	uint8_t proto, ttl;
	const uint8_t *hdr;
	uint16_t hlen;
};

struct ip_proto {
	uint8_t proto;
	void (*input)(void *ctx, const struct ip_rx *rx, const uint8_t *payload, uint16_t len);
	void *ctx;
};

struct ip_reasm {
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto, used;
	uint32_t total;            /* payload length, known once the last fragment came; 0 before */
	uint32_t have;             /* bytes received */
	uint64_t deadline;
	uint8_t *data;             /* reasm_max bytes */
	uint8_t *map;              /* one bit per 8-byte block received */
	uint8_t hdr[60];
	uint16_t hlen;
};

struct ip_stats {
	uint64_t rx, rx_bad_header, rx_bad_csum, rx_not_ours, rx_no_proto, frags, reasm_ok, reasm_dropped,
		reasm_timeouts, echo_replies, tx, tx_no_route, tx_too_big, loop, loop_dropped;
};

struct net_ip {
	struct net_eth *eth;
	const struct net_env *env;
	uint32_t addr, mask, gw;
	uint8_t ttl;                   /* default 64 */
	uint16_t next_id;
	uint32_t reasm_max;            /* largest datagram reassembled (default 65535) */
	uint32_t reasm_timeout_ms;     /* RFC 791 suggests 15 s; default 30 s as Linux */
	struct ip_reasm reasm[IP_REASM_SLOTS];
	struct ip_proto protos[IP_MAX_PROTOS];
	struct ip_stats stats;
	/* Local delivery (to the stack's own address or 127.0.0.0/8): datagrams sent to ourselves
	 * wait here and are received inside the next ip_loop_poll (net_poll), never during the
	 * send, so a transport is never re-entered from its own output. */
	struct netbuf *loop_head, *loop_tail;
	uint32_t loop_len;
};

/* Sets up the layer over eth (it registers itself as eth's IPv4 receiver). */
void ip_init(struct net_ip *ip, struct net_eth *eth, const struct net_env *env, uint32_t addr, uint32_t mask, uint32_t gw);
void ip_fini(struct net_ip *ip);
int ip_register(struct net_ip *ip, const struct ip_proto *p);
/* Receives a datagram (data at the IP header); consumes nb. */
void ip_input(struct net_ip *ip, struct netbuf *nb);
/* A netbuf for a transport to fill (headroom for IP and Ethernet), or NULL. */
struct netbuf *ip_alloc(struct net_ip *ip);
/* Sends nb (data at the transport header) to dst from ip_source(ip, dst); consumes nb.
 * 0, -ENETUNREACH, -EMSGSIZE, -ENOBUFS (the local queue is full). */
int ip_output(struct net_ip *ip, struct netbuf *nb, uint32_t dst, uint8_t proto);
/* The same from a given local source address (a connection keeps the one it was made on). */
int ip_output_from(struct net_ip *ip, struct netbuf *nb, uint32_t src, uint32_t dst, uint8_t proto);
/* Nonzero when a is this host: its address, or 127.0.0.0/8 (delivered locally, never sent). */
int ip_is_local(const struct net_ip *ip, uint32_t a);
/* The source address for sending to dst: 127.0.0.1 for 127.0.0.0/8 (as Linux's lo), else ours. */
uint32_t ip_source(const struct net_ip *ip, uint32_t dst);
/* Receives up to budget datagrams of the local queue (only those queued before the call);
 * returns how many. */
int ip_loop_poll(struct net_ip *ip, int budget);
/* Largest transport payload+header that fits one unfragmented datagram. */
uint16_t ip_mtu_payload(const struct net_ip *ip);
/* ICMP destination unreachable (type 3) about a received datagram. */
void ip_icmp_unreachable(struct net_ip *ip, const struct ip_rx *rx, uint8_t code, const uint8_t *payload, uint16_t len);
/* Expires reassembly; call every few ms. */
void ip_timer(struct net_ip *ip);

/* RFC 1071 one's-complement sum of len bytes added to sum (not folded, not inverted). */
uint32_t inet_sum(const void *data, uint32_t len, uint32_t sum);
/* Folds and inverts a sum into a checksum field value. */
uint16_t inet_fold(uint32_t sum);
/* The TCP/UDP pseudo-header sum (RFC 9293 3.1, RFC 768). */
uint32_t inet_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

#endif
