#include <errno.h>
#include <string.h>
#include <net/eth.h>

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

void eth_init(struct net_eth *e, struct netdev *dev, const struct net_env *env, uint32_t ip)
{
	memset(e, 0, sizeof(*e));
	e->dev = dev;
	e->env = env;
	e->ip = ip;
	e->arp_valid_ms = 60000;
	e->arp_retry_ms = 1000;
	e->arp_max_tries = 3;
}

static void send_frame(struct net_eth *e, struct netbuf *nb, const uint8_t dst[6], uint16_t type)
{
	uint8_t *h = netbuf_push(nb, ETH_HLEN);
	if (!h) {
		netbuf_free(e->dev->pool, nb);
		return;
	}
	memcpy(h, dst, 6);
	memcpy(h + 6, e->dev->mac, 6);
	net_put16(h + 12, type);
	netdev_tx_one(e->dev, nb);
}

static void arp_send(struct net_eth *e, uint16_t op, const uint8_t tha[6], uint32_t tpa, const uint8_t dst[6])
{
	struct netbuf *nb = netbuf_alloc(e->dev->pool);
	if (!nb) return;
	uint8_t *a = netbuf_data(nb);
	net_put16(a, 1);                 /* Ethernet */
	net_put16(a + 2, ETH_TYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	net_put16(a + 6, op);
	memcpy(a + 8, e->dev->mac, 6);
	net_put32(a + 14, e->ip);
	memcpy(a + 18, tha, 6);
	net_put32(a + 24, tpa);
	nb->len = 28;
	/* Pad to the 60-byte minimum frame (some peers drop runts). */
	memset(a + 28, 0, 18);
	nb->len = 46;
	send_frame(e, nb, dst, ETH_TYPE_ARP);
	if (op == 1) e->stats.arp_requests_sent++;
	else e->stats.arp_replies_sent++;
}

static struct arp_entry *arp_find(struct net_eth *e, uint32_t ip)
{
	for (int i = 0; i < ETH_ARP_CACHE; i++)
		if (e->cache[i].state != ARP_FREE && e->cache[i].ip == ip) return &e->cache[i];
	return NULL;
}

static void arp_drop_pending(struct net_eth *e, struct arp_entry *a)
{
	for (int i = 0; i < a->npending; i++) {
		netbuf_free(e->dev->pool, a->pending[i]);
		e->stats.arp_unresolved_drops++;
	}
	a->npending = 0;
}

static struct arp_entry *arp_new(struct net_eth *e, uint32_t ip)
{
	struct arp_entry *victim = NULL;
	for (int i = 0; i < ETH_ARP_CACHE; i++) {
		struct arp_entry *a = &e->cache[i];
		if (a->state == ARP_FREE) { victim = a; break; }
		if (!victim || a->deadline < victim->deadline) victim = a;
	}
	arp_drop_pending(e, victim);
	memset(victim, 0, sizeof(*victim));
	victim->ip = ip;
	return victim;
}

static void arp_learn(struct net_eth *e, struct arp_entry *a, const uint8_t mac[6])
{
	memcpy(a->mac, mac, 6);
	a->state = ARP_VALID;
	a->deadline = net_now(e->env) + e->arp_valid_ms;
	uint8_t n = a->npending;
	a->npending = 0;
	for (int i = 0; i < n; i++) send_frame(e, a->pending[i], a->mac, ETH_TYPE_IPV4);
}

static void arp_input(struct net_eth *e, struct netbuf *nb)
{
	const uint8_t *a = netbuf_data(nb);
	if (nb->len < 28 || net_get16(a) != 1 || net_get16(a + 2) != ETH_TYPE_IPV4 || a[4] != 6 || a[5] != 4) {
		e->stats.rx_bad++;
		return;
	}
	uint16_t op = net_get16(a + 6);
	uint8_t sha[6];
	memcpy(sha, a + 8, 6);
	uint32_t spa = net_get32(a + 14), tpa = net_get32(a + 24);
	/* No learning from broadcast/multicast/zero senders: they would poison the cache. */
	if ((sha[0] & 1) || spa == 0 || e->ip == 0) return;
	/* RFC 826: update an existing entry; create one only when we are the target. */
	struct arp_entry *ent = arp_find(e, spa);
	if (ent) arp_learn(e, ent, sha);
	if (tpa != e->ip) return;
	if (!ent) arp_learn(e, arp_new(e, spa), sha);
	if (op == 1) arp_send(e, 2, sha, spa, sha);
}

void eth_input(struct net_eth *e, struct netbuf *nb)
{
	const uint8_t *h = netbuf_data(nb);
	if (nb->len < ETH_HLEN) {
		e->stats.rx_bad++;
		netbuf_free(e->dev->pool, nb);
		return;
	}
	int for_us = memcmp(h, e->dev->mac, 6) == 0 || memcmp(h, bcast, 6) == 0;
	uint16_t type = net_get16(h + 12);
	netbuf_pull(nb, ETH_HLEN);
	if (for_us && type == ETH_TYPE_ARP) {
		arp_input(e, nb);
	} else if (for_us && type == ETH_TYPE_IPV4 && e->ipv4_input) {
		e->ipv4_input(e->ipv4_ctx, nb);
		return;
	} else {
		e->stats.rx_other_type++;
	}
	netbuf_free(e->dev->pool, nb);
}

int eth_output_ipv4(struct net_eth *e, uint32_t next_hop, struct netbuf *nb)
{
	if (next_hop == 0xffffffffu) {
		send_frame(e, nb, bcast, ETH_TYPE_IPV4);
		return 0;
	}
	struct arp_entry *a = arp_find(e, next_hop);
	if (a && a->state == ARP_VALID) {
		send_frame(e, nb, a->mac, ETH_TYPE_IPV4);
		return 0;
	}
	if (!a) {
		a = arp_new(e, next_hop);
		a->state = ARP_PENDING;
		a->tries = 1;
		a->deadline = net_now(e->env) + e->arp_retry_ms;
		arp_send(e, 1, (const uint8_t[6]){0}, next_hop, bcast);
	}
	if (a->npending == ETH_ARP_PENDING) {
		netbuf_free(e->dev->pool, nb);
		e->stats.arp_unresolved_drops++;
		return -EHOSTUNREACH;
	}
	a->pending[a->npending++] = nb;
	return 0;
}

void eth_fini(struct net_eth *e)
{
	for (int i = 0; i < ETH_ARP_CACHE; i++) {
		arp_drop_pending(e, &e->cache[i]);
		e->cache[i].state = ARP_FREE;
	}
}

void eth_timer(struct net_eth *e)
{
	uint64_t now = net_now(e->env);
	for (int i = 0; i < ETH_ARP_CACHE; i++) {
		struct arp_entry *a = &e->cache[i];
		if (a->state == ARP_FREE || now < a->deadline) continue;
		if (a->state == ARP_VALID || a->tries >= e->arp_max_tries) {
			arp_drop_pending(e, a);
			a->state = ARP_FREE;
			continue;
		}
		a->tries++;
		a->deadline = now + e->arp_retry_ms;
		arp_send(e, 1, (const uint8_t[6]){0}, a->ip, bcast);
	}
}

int eth_arp_lookup(struct net_eth *e, uint32_t ip, uint8_t mac[6])
{
	struct arp_entry *a = arp_find(e, ip);
	if (!a || a->state != ARP_VALID) return -ENOENT;
	memcpy(mac, a->mac, 6);
	return 0;
}
