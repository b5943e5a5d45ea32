/* net-eth: Ethernet II framing and ARP (RFC 826) with a cache, retries and timeouts.
 * IPv4 addresses are host-order uint32_t throughout the stack. */
#ifndef KILN_NET_ETH_H
#define KILN_NET_ETH_H

#include <stdint.h>
#include <netdev/netdev.h>

#define ETH_HLEN 14
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_ARP_CACHE 32       /* entries; the oldest is reused when full */
#define ETH_ARP_PENDING 4      /* packets held per unresolved address */

enum arp_state { ARP_FREE, ARP_PENDING, ARP_VALID };

struct arp_entry {
	uint32_t ip;
	uint8_t mac[6];
	uint8_t state, tries;
	uint64_t deadline;       /* VALID: expiry; PENDING: next request */
	struct netbuf *pending[ETH_ARP_PENDING];
	uint8_t npending;
};

struct eth_stats {
	uint64_t rx_bad, rx_other_type, arp_requests_sent, arp_replies_sent, arp_unresolved_drops;
};

struct net_eth {
	struct netdev *dev;
	const struct net_env *env;
	uint32_t ip;                         /* our address, answered in ARP */
	/* The IPv4 receiver: gets netbufs whose data starts at the IP header, and owns them. */
	void (*ipv4_input)(void *ctx, struct netbuf *nb);
	void *ipv4_ctx;
	uint32_t arp_valid_ms;               /* cache lifetime (default 60 s) */
	uint32_t arp_retry_ms;               /* between requests (default 1 s) */
	uint8_t arp_max_tries;               /* requests before giving up (default 3) */
	struct arp_entry cache[ETH_ARP_CACHE];
	struct eth_stats stats;
};

void eth_init(struct net_eth *e, struct netdev *dev, const struct net_env *env, uint32_t ip);
/* Frees the packets still waiting for ARP. */
void eth_fini(struct net_eth *e);
/* Consumes a received frame. */
void eth_input(struct net_eth *e, struct netbuf *nb);
/* Sends an IPv4 packet (data at the IP header) to next_hop; consumes nb. Queues it while the
 * address resolves; 0, or -EHOSTUNREACH when the queue is full or resolution failed. */
int eth_output_ipv4(struct net_eth *e, uint32_t next_hop, struct netbuf *nb);
/* Retries and expiry; call every few ms. */
void eth_timer(struct net_eth *e);
/* 0 and the MAC when ip is cached and valid, else -ENOENT. */
int eth_arp_lookup(struct net_eth *e, uint32_t ip, uint8_t mac[6]);

#endif
