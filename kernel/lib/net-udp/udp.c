#include <errno.h>
#include <string.h>
#include <net/udp.h>

struct udp_dgram {
	struct udp_dgram *next;
	uint32_t src;
	uint16_t sport, len;
	uint8_t data[];
};

static void udp_input(void *ctx, const struct ip_rx *rx, const uint8_t *p, uint16_t len)
{
	struct udp_stack *st = ctx;
	st->stats.rx++;
	if (len < UDP_HLEN) goto bad;
	uint16_t ulen = net_get16(p + 4);
	if (ulen < UDP_HLEN || ulen > len) goto bad;
	if (net_get16(p + 6) != 0 &&
	    inet_fold(inet_sum(p, ulen, inet_pseudo_sum(rx->src, rx->dst, IP_PROTO_UDP, ulen))) != 0)
		goto bad;
	uint16_t dport = net_get16(p + 2);
	struct udp_sock *s = NULL;
	for (int i = 0; i < UDP_MAX_SOCKS; i++)
		if (st->socks[i].port == dport) s = &st->socks[i];
	if (!s) {
		st->stats.rx_no_port++;
		ip_icmp_unreachable(st->ip, rx, 3, p, len);
		return;
	}
	uint16_t n = (uint16_t)(ulen - UDP_HLEN);
	if (s->queued + n > s->rcvbuf) {
		s->drops++;
		return;
	}
	struct udp_dgram *d = net_alloc(st->env, sizeof(*d) + n);
	if (!d) {
		s->drops++;
		return;
	}
	d->next = NULL;
	d->src = rx->src;
	d->sport = net_get16(p);
	d->len = n;
	memcpy(d->data, p + UDP_HLEN, n);
	if (s->tail) s->tail->next = d;
	else s->head = d;
	s->tail = d;
	s->queued += n;
	return;
bad:
	st->stats.rx_bad++;
}

void udp_init(struct udp_stack *st, struct net_ip *ip, const struct net_env *env)
{
	memset(st, 0, sizeof(*st));
	st->ip = ip;
	st->env = env;
	st->next_ephemeral = (uint16_t)(49152 + net_random(env) % 16384);
	struct ip_proto p = {IP_PROTO_UDP, udp_input, st};
	ip_register(ip, &p);
}

void udp_fini(struct udp_stack *st)
{
	for (int i = 0; i < UDP_MAX_SOCKS; i++)
		if (st->socks[i].port) udp_close(&st->socks[i]);
}

static struct udp_sock *find(struct udp_stack *st, uint16_t port)
{
	for (int i = 0; i < UDP_MAX_SOCKS; i++)
		if (st->socks[i].port == port) return &st->socks[i];
	return NULL;
}

struct udp_sock *udp_open(struct udp_stack *st, uint16_t port, int *err)
{
	if (port == 0) {
		for (int tries = 0; tries < 16384 && !port; tries++) {
			uint16_t p = st->next_ephemeral;
			st->next_ephemeral = (uint16_t)(p == 65535 ? 49152 : p + 1);
			if (!find(st, p)) port = p;
		}
	} else if (find(st, port)) {
		*err = -EADDRINUSE;
		return NULL;
	}
	struct udp_sock *s = port ? find(st, 0) : NULL;
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->st = st;
	s->port = port;
	s->rcvbuf = 65536;
	return s;
}

void udp_close(struct udp_sock *s)
{
	while (s->head) {
		struct udp_dgram *d = s->head;
		s->head = d->next;
		net_free(s->st->env, d);
	}
	memset(s, 0, sizeof(*s));
}

int udp_sendto(struct udp_sock *s, uint32_t dst, uint16_t dport, const void *buf, uint16_t len)
{
	struct net_ip *ip = s->st->ip;
	if ((uint32_t)len + UDP_HLEN > ip_mtu_payload(ip)) return -EMSGSIZE;
	struct netbuf *nb = ip_alloc(ip);
	if (!nb) return -ENOBUFS;
	uint8_t *p = netbuf_data(nb);
	uint16_t ulen = (uint16_t)(len + UDP_HLEN);
	net_put16(p, s->port);
	net_put16(p + 2, dport);
	net_put16(p + 4, ulen);
	net_put16(p + 6, 0);
	memcpy(p + UDP_HLEN, buf, len);
	nb->len = ulen;
	uint16_t c = inet_fold(inet_sum(p, ulen, inet_pseudo_sum(ip_source(ip, dst), dst, IP_PROTO_UDP, ulen)));
	net_put16(p + 6, c ? c : 0xffff); /* 0 means "no checksum" on the wire */
	s->st->stats.tx++;
	int r = ip_output(ip, nb, dst, IP_PROTO_UDP);
	return r < 0 ? r : len;
}

int udp_recvfrom(struct udp_sock *s, void *buf, uint16_t cap, uint32_t *src, uint16_t *sport)
{
	struct udp_dgram *d = s->head;
	if (!d) return -EAGAIN;
	s->head = d->next;
	if (!s->head) s->tail = NULL;
	s->queued -= d->len;
	uint16_t n = d->len < cap ? d->len : cap;
	memcpy(buf, d->data, n);
	if (src) *src = d->src;
	if (sport) *sport = d->sport;
	net_free(s->st->env, d);
	return n;
}

int udp_readable(const struct udp_sock *s) { return s->head != NULL; }
