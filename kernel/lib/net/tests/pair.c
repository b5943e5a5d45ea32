#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "pair.h"

static uint64_t p_now(void *ctx) { return ((struct pair *)ctx)->now; }

/* malloc: on the host ASan checks every allocation; in a guest test image it is the default
 * allocator (net requires alloc). */
static void *p_alloc(void *ctx, size_t n)
{
	struct pair *p = ctx;
	/* Counted (the size sits in a header before the block) so tests can measure what a
	 * connection costs; alloc_limit makes larger blocks fail, as an allocator out of memory. */
	if (p->alloc_limit && n > p->alloc_limit) {
		p->alloc_failures++;
		return NULL;
	}
	max_align_t *h = malloc(sizeof(max_align_t) + n);
	if (!h) return NULL;
	*(size_t *)h = n;
	p->live_bytes += n;
	p->live_allocs++;
	return h + 1;
}
static void p_free(void *ctx, void *q)
{
	struct pair *p = ctx;
	if (!q) return;
	max_align_t *h = (max_align_t *)q - 1;
	p->live_bytes -= *(size_t *)h;
	p->live_allocs--;
	free(h);
}
static uint32_t p_random(void *ctx)
{
	struct pair *p = ctx;
	p->rng = p->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(p->rng >> 33);
}
static const struct net_env_ops pair_ops = {p_now, p_alloc, p_free, p_random};

static uint16_t node_rx(struct netdev *d, struct netbuf **bufs, uint16_t n)
{
	struct node *nd = d->priv;
	uint16_t k = 0;
	while (k < n && nd->nrx) {
		bufs[k++] = nd->rxq[0];
		memmove(nd->rxq, nd->rxq + 1, sizeof(nd->rxq[0]) * (size_t)(--nd->nrx));
	}
	return k;
}

int frame_tcp(const uint8_t *f, uint16_t len, uint8_t *flags, uint32_t *seq)
{
	if (len < 54 || net_get16(f + 12) != ETH_TYPE_IPV4 || f[23] != IP_PROTO_TCP) return -1;
	const uint8_t *ip = f + 14, *t = ip + (ip[0] & 15) * 4;
	if (flags) *flags = t[13];
	if (seq) *seq = net_get32(t + 4);
	return net_get16(ip + 2) - (ip[0] & 15) * 4 - (t[12] >> 4) * 4;
}

static uint16_t node_tx(struct netdev *d, struct netbuf **bufs, uint16_t n)
{
	struct node *nd = d->priv;
	struct pair *p = nd->p;
	struct node *peer = &p->n[!nd->id];
	for (uint16_t i = 0; i < n; i++) {
		struct netbuf *nb = bufs[i];
		uint8_t fl;
		int dl = frame_tcp(netbuf_data(nb), nb->len, &fl, NULL);
		if (dl > 0) nd->data_segs_sent++;
		else if (dl == 0 && fl == 0x10) nd->pure_acks_sent++;
		if (dl >= 0) {
			const uint8_t *ip = netbuf_data(nb) + 14, *t = ip + (ip[0] & 15) * 4;
			for (const uint8_t *o = t + 20, *end = t + (t[12] >> 4) * 4; o < end && *o;)
				if (*o == 1) o++;
				else if (o[1] < 2) break;
				else {
					if (*o == 5) nd->sack_acks_sent++;
					o += o[1];
				}
		}
		struct netbuf *c = NULL;
		if (!(p->drop && p->drop(p, nd->id, netbuf_data(nb), nb->len)) && peer->nrx < PAIR_QUEUE)
			c = netbuf_alloc(&peer->pool);
		if (c) {
			memcpy(netbuf_data(c), netbuf_data(nb), nb->len);
			c->len = nb->len;
			peer->rxq[peer->nrx++] = c;
		} else {
			p->drop_count++;
		}
		netbuf_free(&nd->pool, nb);
	}
	return n;
}

static const struct netdev_ops node_ops = {.rx_burst = node_rx, .tx_burst = node_tx};

int pair_init(struct pair *p, const struct tcp_config *cfg)
{
	memset(p, 0, sizeof(*p));
	p->env.ops = &pair_ops;
	p->env.ctx = p;
	p->now = 1000;
	p->rng = 42;
	struct net_config c;
	net_config_default(&c);
	if (cfg) c.tcp = *cfg;
	else {
		c.tcp.sndbuf = c.tcp.rcvbuf = 32768;
		c.tcp.msl_ms = 1000;
		c.tcp.sack = 1; /* so the SACK paths are tested too */
	}
	for (int i = 0; i < 2; i++) {
		struct node *nd = &p->n[i];
		nd->p = p;
		nd->id = i;
		if (netbuf_pool_init(&nd->pool, &p->env, PAIR_QUEUE + 64, 2048) < 0) return -ENOMEM;
		nd->dev.ops = &node_ops;
		nd->dev.priv = nd;
		nd->dev.pool = &nd->pool;
		nd->dev.mtu = 1500;
		uint8_t mac[6] = {2, 0, 0, 0, 0, (uint8_t)(i + 1)};
		memcpy(nd->dev.mac, mac, 6);
		c.addr = i ? PAIR_B : PAIR_A;
		net_stack_init(&nd->st, &nd->dev, &p->env, &c);
	}
	return 0;
}

void pair_fini(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		struct node *nd = &p->n[i];
		net_stack_fini(&nd->st);
		for (int k = 0; k < nd->nrx; k++) netbuf_free(&nd->pool, nd->rxq[k]);
		nd->nrx = 0;
		netbuf_pool_fini(&nd->pool);
	}
}

void pair_deliver(struct pair *p)
{
	int n[2] = {p->n[0].nrx, p->n[1].nrx};
	for (int i = 0; i < 2; i++) {
		struct node *nd = &p->n[i];
		struct netbuf *bufs[PAIR_QUEUE];
		uint16_t k = netdev_rx_burst(&nd->dev, bufs, (uint16_t)n[i]);
		for (uint16_t j = 0; j < k; j++) eth_input(&nd->st.eth, bufs[j]);
	}
}

static void step(struct pair *p)
{
	/* A few rounds, so answers to answers arrive within the same millisecond. */
	for (int round = 0; round < 4; round++) {
		int moved = 0;
		for (int i = 0; i < 2; i++) moved += net_poll(&p->n[i].st, 64);
		if (!moved) break;
	}
}

void pair_run(struct pair *p, uint32_t ms)
{
	for (uint32_t t = 0; t < ms; t++) {
		step(p);
		p->now++;
	}
	step(p);
}

int pair_until(struct pair *p, int (*cond)(void *), void *arg, uint32_t limit_ms)
{
	for (uint32_t t = 0; t <= limit_ms; t++) {
		step(p);
		if (cond(arg)) return 1;
		p->now++;
	}
	return 0;
}

void pair_inject_tcp(struct pair *p, int to, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		     uint8_t flags, uint16_t wnd, const void *data, uint16_t dlen, uint32_t tsval)
{
	struct node *nd = &p->n[to];
	struct netbuf *nb = netbuf_alloc(&nd->pool);
	if (!nb) return;
	uint8_t *f = netbuf_data(nb);
	memset(f, 0, 66);
	memcpy(f, nd->dev.mac, 6);
	memcpy(f + 6, p->n[!to].dev.mac, 6);
	net_put16(f + 12, ETH_TYPE_IPV4);
	uint8_t *ip = f + 14, *t = ip + 20;
	uint16_t thl = tsval ? 32 : 20;
	uint16_t tot = (uint16_t)(20 + thl + dlen);
	uint32_t src = to ? PAIR_A : PAIR_B, dst = to ? PAIR_B : PAIR_A;
	ip[0] = 0x45;
	net_put16(ip + 2, tot);
	ip[8] = 64;
	ip[9] = IP_PROTO_TCP;
	net_put32(ip + 12, src);
	net_put32(ip + 16, dst);
	net_put16(ip + 10, inet_fold(inet_sum(ip, 20, 0)));
	net_put16(t, sport);
	net_put16(t + 2, dport);
	net_put32(t + 4, seq);
	net_put32(t + 8, ack);
	t[12] = (uint8_t)(thl / 4 << 4);
	t[13] = flags;
	net_put16(t + 14, wnd);
	if (tsval) {
		static const uint8_t ts[4] = {1, 1, 8, 10};
		memcpy(t + 20, ts, 4);
		net_put32(t + 24, tsval);
		net_put32(t + 28, 0);
	}
	if (dlen) memcpy(t + thl, data, dlen);
	uint16_t tl = (uint16_t)(thl + dlen);
	net_put16(t + 16, inet_fold(inet_sum(t, tl, inet_pseudo_sum(src, dst, IP_PROTO_TCP, tl))));
	nb->len = (uint16_t)(14 + tot);
	nd->rxq[nd->nrx++] = nb;
}

enum tcp_state sock_state(const struct tcp_sock *s)
{
	struct tcp_info ti;
	tcp_get_info(s, &ti);
	return ti.state;
}
