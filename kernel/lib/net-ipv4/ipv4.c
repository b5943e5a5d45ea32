#include <errno.h>
#include <string.h>
#include <net/ipv4.h>

uint32_t inet_sum(const void *data, uint32_t len, uint32_t sum)
{
	const uint8_t *p = data;
	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
		if (sum & 0x80000000u) sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len) sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t inet_fold(uint32_t sum)
{
	while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t inet_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

static void ip_eth_input(void *ctx, struct netbuf *nb) { ip_input(ctx, nb); }

void ip_init(struct net_ip *ip, struct net_eth *eth, const struct net_env *env, uint32_t addr, uint32_t mask, uint32_t gw)
{
	memset(ip, 0, sizeof(*ip));
	ip->eth = eth;
	ip->env = env;
	ip->addr = addr;
	ip->mask = mask;
	ip->gw = gw;
	ip->ttl = 64;
	ip->next_id = (uint16_t)net_random(env);
	ip->reasm_max = 65535;
	ip->reasm_timeout_ms = 30000;
	eth->ip = addr;
	eth->ipv4_input = ip_eth_input;
	eth->ipv4_ctx = ip;
}

static void reasm_free(struct net_ip *ip, struct ip_reasm *r)
{
	net_free(ip->env, r->data);
	net_free(ip->env, r->map);
	memset(r, 0, sizeof(*r));
}

void ip_fini(struct net_ip *ip)
{
	while (ip->loop_head) {
		struct netbuf *nb = ip->loop_head;
		ip->loop_head = nb->next;
		netbuf_free(ip->eth->dev->pool, nb);
	}
	ip->loop_tail = NULL;
	ip->loop_len = 0;
	for (int i = 0; i < IP_REASM_SLOTS; i++)
		if (ip->reasm[i].used) reasm_free(ip, &ip->reasm[i]);
}

int ip_register(struct net_ip *ip, const struct ip_proto *p)
{
	for (int i = 0; i < IP_MAX_PROTOS; i++) {
		if (ip->protos[i].input == NULL || ip->protos[i].proto == p->proto) {
			ip->protos[i] = *p;
			return 0;
		}
	}
	return -ENOSPC;
}

struct netbuf *ip_alloc(struct net_ip *ip) { return netbuf_alloc(ip->eth->dev->pool); }

uint16_t ip_mtu_payload(const struct net_ip *ip) { return (uint16_t)(ip->eth->dev->mtu - IP_HLEN); }

int ip_is_local(const struct net_ip *ip, uint32_t a)
{
	return (a >> 24) == 127 || (ip->addr && a == ip->addr);
}

uint32_t ip_source(const struct net_ip *ip, uint32_t dst)
{
	return (dst >> 24) == 127 ? IP_LOOPBACK : ip->addr;
}

static int send_packet(struct net_ip *ip, struct netbuf *nb, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id, uint16_t frag)
{
	uint32_t hop;
	int local = ip_is_local(ip, dst);
	if (local || dst == 0xffffffffu || (dst & ip->mask) == (ip->addr & ip->mask)) hop = dst;
	else if (ip->gw) hop = ip->gw;
	else {
		ip->stats.tx_no_route++;
		netbuf_free(ip->eth->dev->pool, nb);
		return -ENETUNREACH;
	}
	uint8_t *h = netbuf_push(nb, IP_HLEN);
	if (!h || nb->len > ip->eth->dev->mtu) {
		ip->stats.tx_too_big++;
		netbuf_free(ip->eth->dev->pool, nb);
		return -EMSGSIZE;
	}
	h[0] = 0x45;
	h[1] = 0;
	net_put16(h + 2, nb->len);
	net_put16(h + 4, id);
	net_put16(h + 6, frag);
	h[8] = ip->ttl;
	h[9] = proto;
	net_put16(h + 10, 0);
	net_put32(h + 12, src);
	net_put32(h + 16, dst);
	net_put16(h + 10, inet_fold(inet_sum(h, IP_HLEN, 0)));
	ip->stats.tx++;
	if (!local) return eth_output_ipv4(ip->eth, hop, nb);
	if (ip->loop_len >= IP_LOOP_MAX) {
		ip->stats.loop_dropped++;
		netbuf_free(ip->eth->dev->pool, nb);
		return -ENOBUFS;
	}
	nb->next = NULL;
	if (ip->loop_tail) ip->loop_tail->next = nb;
	else ip->loop_head = nb;
	ip->loop_tail = nb;
	ip->loop_len++;
	return 0;
}

int ip_output_from(struct net_ip *ip, struct netbuf *nb, uint32_t src, uint32_t dst, uint8_t proto)
{
	/* DF set: the stack never fragments on output, transports size segments to the MTU. */
	return send_packet(ip, nb, src, dst, proto, ip->next_id++, 0x4000);
}

int ip_output(struct net_ip *ip, struct netbuf *nb, uint32_t dst, uint8_t proto)
{
	return ip_output_from(ip, nb, ip_source(ip, dst), dst, proto);
}

static void deliver(struct net_ip *ip, const struct ip_rx *rx, const uint8_t *payload, uint16_t len)
{
	if (rx->proto == IP_PROTO_ICMP) {
		/* Echo request -> reply with the same identifier, sequence and data. */
		if (len < 8 || payload[0] != 8 || inet_fold(inet_sum(payload, len, 0)) != 0) return;
		if (!ip_is_local(ip, rx->dst)) return; /* no replies to broadcast pings (smurf) */
		struct netbuf *nb = ip_alloc(ip);
		if (!nb || len > nb->cap - nb->off || len > ip_mtu_payload(ip)) {
			netbuf_free(ip->eth->dev->pool, nb);
			return;
		}
		uint8_t *p = netbuf_data(nb);
		memcpy(p, payload, len);
		nb->len = len;
		p[0] = 0;
		net_put16(p + 2, 0);
		net_put16(p + 2, inet_fold(inet_sum(p, len, 0)));
		ip->stats.echo_replies++;
		ip_output_from(ip, nb, rx->dst, rx->src, IP_PROTO_ICMP);
		return;
	}
	for (int i = 0; i < IP_MAX_PROTOS; i++) {
		if (ip->protos[i].input && ip->protos[i].proto == rx->proto) {
			ip->protos[i].input(ip->protos[i].ctx, rx, payload, len);
			return;
		}
	}
	ip->stats.rx_no_proto++;
	ip_icmp_unreachable(ip, rx, 2, payload, len);
}

static int map_get(const uint8_t *m, uint32_t b) { return m[b >> 3] >> (b & 7) & 1; }

/* Adds one fragment; delivers the datagram when complete. */
static void reassemble(struct net_ip *ip, const struct ip_rx *rx, uint16_t id, uint32_t off, int more,
		       const uint8_t *payload, uint16_t len)
{
	ip->stats.frags++;
	uint64_t now = net_now(ip->env);
	struct ip_reasm *r = NULL, *victim = NULL;
	for (int i = 0; i < IP_REASM_SLOTS; i++) {
		struct ip_reasm *c = &ip->reasm[i];
		if (c->used && c->src == rx->src && c->dst == rx->dst && c->id == id && c->proto == rx->proto) {
			r = c;
			break;
		}
		if (!victim || !c->used || (victim->used && c->deadline < victim->deadline)) victim = c;
	}
	/* Fragments other than the last carry a multiple of 8 bytes. */
	if ((more && (len & 7)) || off + len > ip->reasm_max || (more && len == 0)) {
		ip->stats.reasm_dropped++;
		if (r) reasm_free(ip, r);
		return;
	}
	if (!r) {
		if (victim->used) {
			ip->stats.reasm_dropped++;
			reasm_free(ip, victim);
		}
		r = victim;
		r->data = net_alloc(ip->env, ip->reasm_max);
		r->map = net_alloc(ip->env, (ip->reasm_max + 63) / 64);
		if (!r->data || !r->map) {
			reasm_free(ip, r);
			ip->stats.reasm_dropped++;
			return;
		}
		memset(r->map, 0, (ip->reasm_max + 63) / 64);
		r->used = 1;
		r->src = rx->src;
		r->dst = rx->dst;
		r->id = id;
		r->proto = rx->proto;
		r->deadline = now + ip->reasm_timeout_ms;
	}
	if (!more) {
		if (r->total && r->total != off + len) goto bad;
		r->total = off + len;
	}
	if (r->total && off + len > r->total) goto bad;
	/* An exact duplicate is ignored; a partial overlap drops the datagram (overlap attacks). */
	uint32_t b0 = off / 8, b1 = (off + len + 7) / 8, seen = 0;
	for (uint32_t b = b0; b < b1; b++) seen += (uint32_t)map_get(r->map, b);
	if (seen == b1 - b0 && len) return;
	if (seen) goto bad;
	for (uint32_t b = b0; b < b1; b++) r->map[b >> 3] = (uint8_t)(r->map[b >> 3] | 1u << (b & 7));
	memcpy(r->data + off, payload, len);
	r->have += len;
	if (off == 0) {
		memcpy(r->hdr, rx->hdr, rx->hlen);
		r->hlen = rx->hlen;
	}
	if (r->total && r->have == r->total && r->hlen) {
		struct ip_rx whole = *rx;
		whole.hdr = r->hdr;
		whole.hlen = r->hlen;
		ip->stats.reasm_ok++;
		if (r->total <= 0xffff) deliver(ip, &whole, r->data, (uint16_t)r->total);
		reasm_free(ip, r);
	}
	return;
bad:
	ip->stats.reasm_dropped++;
	reasm_free(ip, r);
}

static void input(struct net_ip *ip, struct netbuf *nb, int looped)
{
	const uint8_t *h = netbuf_data(nb);
	ip->stats.rx++;
	if (nb->len < IP_HLEN || (h[0] >> 4) != 4) goto bad;
	uint16_t hlen = (uint16_t)((h[0] & 15) * 4), tot = net_get16(h + 2);
	if (hlen < IP_HLEN || tot < hlen || tot > nb->len) goto bad;
	if (inet_fold(inet_sum(h, hlen, 0)) != 0) {
		ip->stats.rx_bad_csum++;
		goto drop;
	}
	struct ip_rx rx = {.src = net_get32(h + 12), .dst = net_get32(h + 16), .proto = h[9], .ttl = h[8], .hdr = h, .hlen = hlen};
	uint32_t bcast = ip->addr | ~ip->mask;
	/* 127.0.0.0/8 only ever comes from ourselves (the local queue): from the wire it is martian. */
	if (looped ? !ip_is_local(ip, rx.dst) : rx.dst != ip->addr && rx.dst != 0xffffffffu && rx.dst != bcast) {
		ip->stats.rx_not_ours++;
		goto drop;
	}
	/* Martian sources: no replies to broadcast or multicast senders; our own addresses only
	 * come from ourselves (a spoofed one would make us answer ourselves). */
	if (rx.src == 0xffffffffu || (rx.src >> 28) == 14 || rx.src == bcast || (!looped && ip_is_local(ip, rx.src))) goto bad;
	uint16_t frag = net_get16(h + 6);
	if (frag & 0x8000) goto bad; /* reserved bit */
	uint32_t off = (uint32_t)(frag & 0x1fff) * 8;
	int more = (frag & 0x2000) != 0;
	if (off || more) reassemble(ip, &rx, net_get16(h + 4), off, more, h + hlen, (uint16_t)(tot - hlen));
	else deliver(ip, &rx, h + hlen, (uint16_t)(tot - hlen));
	goto drop;
bad:
	ip->stats.rx_bad_header++;
drop:
	netbuf_free(ip->eth->dev->pool, nb);
}

void ip_input(struct net_ip *ip, struct netbuf *nb) { input(ip, nb, 0); }

int ip_loop_poll(struct net_ip *ip, int budget)
{
	/* Only what is queued now: what these deliveries send waits for the next call. */
	int n = (int)ip->loop_len < budget ? (int)ip->loop_len : budget;
	for (int i = 0; i < n; i++) {
		struct netbuf *nb = ip->loop_head;
		ip->loop_head = nb->next;
		if (!ip->loop_head) ip->loop_tail = NULL;
		ip->loop_len--;
		ip->stats.loop++;
		input(ip, nb, 1);
	}
	return n;
}

void ip_icmp_unreachable(struct net_ip *ip, const struct ip_rx *rx, uint8_t code, const uint8_t *payload, uint16_t len)
{
	/* RFC 1122 3.2.2: never about broadcasts. */
	if (!ip_is_local(ip, rx->dst)) return;
	struct netbuf *nb = ip_alloc(ip);
	if (!nb) return;
	uint16_t keep = len < 8 ? len : 8;
	uint8_t *p = netbuf_data(nb);
	memset(p, 0, 8);
	p[0] = 3;
	p[1] = code;
	memcpy(p + 8, rx->hdr, rx->hlen);
	memcpy(p + 8 + rx->hlen, payload, keep);
	nb->len = (uint16_t)(8 + rx->hlen + keep);
	net_put16(p + 2, inet_fold(inet_sum(p, nb->len, 0)));
	ip_output_from(ip, nb, rx->dst, rx->src, IP_PROTO_ICMP);
}

void ip_timer(struct net_ip *ip)
{
	uint64_t now = net_now(ip->env);
	for (int i = 0; i < IP_REASM_SLOTS; i++) {
		struct ip_reasm *r = &ip->reasm[i];
		if (r->used && now >= r->deadline) {
			ip->stats.reasm_timeouts++;
			reasm_free(ip, r);
		}
	}
}
