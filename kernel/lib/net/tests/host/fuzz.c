/* Seeded fuzz loop for the whole stack (eth, ARP, IPv4 + reassembly, ICMP, UDP, TCP), run under
 * ASan/UBSan with no network at all: frames go in through an in-memory netdev and the stack's
 * output is captured. Each step is one of: a random frame; a well-formed frame (ARP, ICMP, UDP,
 * TCP with options, IPv4 fragments) built to look like it belongs to a connection the stack has
 * (sequence numbers taken from what it sent) then mutated, with the checksums fixed up or not;
 * a jump of the virtual clock (timers fire); or an application call (accept, send, recv,
 * shutdown, close, abort, connect). Usage: fuzz SEED FRAMES. Prints "OK ..." at the end after
 * checking that every netbuf came back and, once everything is closed, no memory is left. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <net/stack.h>
#include "host_env.h"

static struct host_env henv;
static uint64_t rng;
static struct netbuf_pool pool;
static struct netdev dev;
static struct net_stack net;

static const uint32_t ME = 0x0ac80002, PEER = 0x0ac80001;
static const uint8_t MYMAC[6] = {2, 0, 0, 0, 0, 2}, PEERMAC[6] = {2, 0, 0, 0, 0, 1};

static uint32_t R(void) { return host_rand(&rng); }
static uint32_t RN(uint32_t n) { return n ? R() % n : 0; }

/* What the stack last said on each of a few TCP flows: lets the fuzzer answer in sequence. */
struct flow { uint16_t sport, dport; uint32_t seq, ack, segseq; int used; };
static struct flow flows[16];
static uint64_t tx_frames;

static uint16_t fake_tx(struct netdev *d, struct netbuf **bufs, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		uint8_t *f = netbuf_data(bufs[i]);
		uint16_t len = bufs[i]->len;
		tx_frames++;
		if (len >= 54 && f[12] == 8 && f[13] == 0 && f[23] == 6) {
			uint8_t *t = f + 14 + (f[14] & 15) * 4;
			struct flow *fl = &flows[RN(16)];
			fl->used = 1;
			fl->sport = net_get16(t + 2); /* the peer's port */
			fl->dport = net_get16(t);     /* ours */
			uint32_t dl = (uint32_t)(net_get16(f + 16) - (f[14] & 15) * 4 - (t[12] >> 4) * 4);
			fl->seq = net_get32(t + 8);
			fl->ack = net_get32(t + 4) + dl + ((t[13] & 3) ? 1 : 0);
			fl->segseq = net_get32(t + 4);
		}
		netbuf_free(d->pool, bufs[i]);
	}
	return n;
}

static struct netbuf *inq[64];
static int ninq;

static uint16_t fake_rx(struct netdev *d, struct netbuf **bufs, uint16_t n)
{
	(void)d;
	uint16_t k = 0;
	while (k < n && ninq) bufs[k++] = inq[--ninq];
	return k;
}

static const struct netdev_ops fake_ops = {.rx_burst = fake_rx, .tx_burst = fake_tx};

static void fix_l4(uint8_t *ip4, uint16_t tot)
{
	uint16_t hl = (uint16_t)((ip4[0] & 15) * 4);
	if (hl > tot) return;
	uint8_t *l4 = ip4 + hl;
	uint16_t n = (uint16_t)(tot - hl);
	uint32_t src = net_get32(ip4 + 12), dst = net_get32(ip4 + 16);
	if (ip4[9] == 6 && n >= 20) {
		net_put16(l4 + 16, 0);
		net_put16(l4 + 16, inet_fold(inet_sum(l4, n, inet_pseudo_sum(src, dst, 6, n))));
	} else if (ip4[9] == 17 && n >= 8) {
		net_put16(l4 + 6, 0);
		net_put16(l4 + 6, inet_fold(inet_sum(l4, n, inet_pseudo_sum(src, dst, 17, n))));
	} else if (ip4[9] == 1 && n >= 4) {
		net_put16(l4 + 2, 0);
		net_put16(l4 + 2, inet_fold(inet_sum(l4, n, 0)));
	}
}

static void fix_ip(uint8_t *ip4)
{
	uint16_t hl = (uint16_t)((ip4[0] & 15) * 4);
	net_put16(ip4 + 10, 0);
	net_put16(ip4 + 10, inet_fold(inet_sum(ip4, hl, 0)));
}

/* Builds a plausible frame into f; returns its length. */
static uint16_t build(uint8_t *f)
{
	memcpy(f, RN(8) ? MYMAC : (const uint8_t[6]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 6);
	memcpy(f + 6, PEERMAC, 6);
	if (RN(10) == 0) {
		net_put16(f + 12, 0x0806);
		uint8_t *a = f + 14;
		net_put16(a, 1); net_put16(a + 2, 0x0800); a[4] = 6; a[5] = 4;
		net_put16(a + 6, (uint16_t)(1 + RN(2)));
		memcpy(a + 8, PEERMAC, 6);
		net_put32(a + 14, RN(4) ? PEER : 0x0ac80000 | RN(256));
		memset(a + 18, 0, 6);
		net_put32(a + 24, RN(4) ? ME : R());
		return 14 + 28;
	}
	net_put16(f + 12, 0x0800);
	uint8_t *h = f + 14;
	uint16_t optlen = RN(8) == 0 ? (uint16_t)(4 * RN(11)) : 0;
	h[0] = (uint8_t)(0x40 | (5 + optlen / 4));
	h[1] = 0;
	net_put16(h + 4, (uint16_t)RN(8)); /* few ids: fragments collide */
	h[8] = 64;
	net_put32(h + 12, RN(16) ? PEER : R());
	net_put32(h + 16, RN(16) ? ME : 0x0ac800ff);
	memset(h + 20, 1, optlen);
	uint8_t *p = h + 20 + optlen;
	uint16_t plen;
	int kind = (int)RN(10);
	if (kind == 0) {
		h[9] = 1;
		p[0] = RN(4) ? 8 : (uint8_t)R();
		p[1] = 0;
		plen = (uint16_t)(8 + RN(200));
		for (int i = 4; i < plen; i++) p[i] = (uint8_t)R();
	} else if (kind <= 2) {
		h[9] = 17;
		net_put16(p, (uint16_t)(1000 + RN(4)));
		net_put16(p + 2, RN(3) ? 53 : (uint16_t)R());
		plen = (uint16_t)(8 + RN(600));
		net_put16(p + 4, plen);
		for (int i = 8; i < plen; i++) p[i] = (uint8_t)R();
	} else {
		h[9] = 6;
		struct flow *fl = &flows[RN(16)];
		int known = fl->used && RN(4);
		net_put16(p, known ? fl->sport : (uint16_t)(1000 + RN(8)));
		net_put16(p + 2, known ? fl->dport : (RN(2) ? 80 : (uint16_t)(1 + RN(65535))));
		/* In sequence, a little ahead (holes to fill later), or far off; acking all, all but
		 * the last segment (duplicate ACKs), or anything. */
		uint32_t r = RN(6);
		uint32_t seq = !known ? R() : r < 3 ? fl->seq : r < 5 ? fl->seq + 100 * RN(5) : fl->seq + R() % 70000 - 35000;
		r = RN(6);
		uint32_t ack = !known ? R() : r < 3 ? fl->ack : r < 5 ? fl->segseq : fl->ack + R() % 70000 - 35000;
		net_put32(p + 4, seq);
		net_put32(p + 8, ack);
		static const uint8_t flagsets[] = {0x02, 0x10, 0x18, 0x11, 0x12, 0x04, 0x14, 0x19, 0x01, 0x03, 0x06};
		p[13] = RN(8) ? flagsets[RN(sizeof(flagsets))] : (uint8_t)R();
		net_put16(p + 14, (uint16_t)(RN(4) ? 65535 : R()));
		net_put16(p + 18, 0);
		/* Options: MSS, window scale, timestamps, SACK-permitted, junk. */
		uint8_t *o = p + 20;
		int nopt = (int)RN(4);
		uint16_t ol = 0;
		for (int i = 0; i < nopt && ol < 36; i++) {
			switch (RN(5)) {
			case 0: o[ol] = 2; o[ol + 1] = 4; net_put16(o + ol + 2, (uint16_t)R()); ol += 4; break;
			case 1: o[ol] = 3; o[ol + 1] = 3; o[ol + 2] = (uint8_t)RN(20); ol += 3; break;
			case 2: o[ol] = 8; o[ol + 1] = 10; net_put32(o + ol + 2, (uint32_t)henv.vnow + RN(3) - 1); net_put32(o + ol + 6, R()); ol += 10; break;
			case 3: o[ol] = 4; o[ol + 1] = 2; ol += 2; break;
			default: o[ol] = (uint8_t)R(); o[ol + 1] = (uint8_t)R(); ol += 2; break;
			}
		}
		while (ol % 4) o[ol++] = 1;
		p[12] = (uint8_t)((20 + ol) / 4 << 4);
		uint16_t dl = RN(3) ? 0 : RN(2) ? (uint16_t)(100 * (1 + RN(3))) : (uint16_t)RN(1400);
		for (int i = 0; i < dl; i++) o[ol + i] = (uint8_t)R();
		plen = (uint16_t)(20 + ol + dl);
	}
	uint16_t tot = (uint16_t)(20 + optlen + plen);
	net_put16(h + 2, tot);
	if (RN(12) == 0) {
		/* An IPv4 fragment: a random piece of the datagram with an offset. */
		uint16_t off8 = (uint16_t)RN(16);
		net_put16(h + 6, (uint16_t)((RN(2) ? 0x2000 : 0) | off8));
	} else {
		net_put16(h + 6, 0x4000);
	}
	fix_l4(h, tot);
	fix_ip(h);
	return (uint16_t)(14 + tot);
}

static void mutate(uint8_t *f, uint16_t *len, uint16_t cap)
{
	int n = (int)RN(4);
	for (int i = 0; i < n && *len; i++) {
		switch (RN(5)) {
		case 0: f[RN(*len)] ^= (uint8_t)(1u << RN(8)); break;
		case 1: f[RN(*len)] = (uint8_t)R(); break;
		case 2: *len = (uint16_t)RN(*len + 1); break;
		case 3: { uint16_t add = (uint16_t)RN(64); if (*len + add <= cap) { for (int k = 0; k < add; k++) f[*len + k] = (uint8_t)R(); *len = (uint16_t)(*len + add); } break; }
		default: { static const uint8_t magic[] = {0, 1, 0x7f, 0x80, 0xff, 0xfe}; f[RN(*len)] = magic[RN(sizeof(magic))]; break; }
		}
	}
	/* Half the time the checksums are made right again, so the mutation reaches the parsers. */
	if (RN(2) && *len >= 34 && f[12] == 8 && f[13] == 0) {
		uint8_t *h = f + 14;
		uint16_t tot = net_get16(h + 2);
		if ((h[0] & 15) >= 5 && (size_t)(h[0] & 15) * 4 + 14 <= *len) {
			if (tot <= *len - 14) fix_l4(h, tot);
			fix_ip(h);
		}
	}
}

static struct tcp_sock *socks[32];
static int nsocks;
static struct tcp_sock *listener;
static struct udp_sock *usock;

static void app_step(void)
{
	static uint8_t buf[8192];
	int err;
	if (nsocks && RN(2)) {
		int i = (int)RN((uint32_t)nsocks);
		struct tcp_sock *s = socks[i];
		switch (RN(8)) {
		case 0: case 1: tcp_recv(s, buf, RN(sizeof(buf)) + 1); return;
		case 2: case 3: for (uint32_t k = 0, n = RN(sizeof(buf)); k < n; k++) buf[k] = (uint8_t)k; tcp_send(s, buf, RN(sizeof(buf))); return;
		case 4: tcp_shutdown(s); return;
		case 5: tcp_setopt(s, (enum tcp_opt)RN(2), RN(2)); return;
		case 6: tcp_poll_events(s); return;
		default: break;
		}
		if (RN(2)) tcp_close(s);
		else tcp_abort(s);
		socks[i] = socks[--nsocks];
		return;
	}
	if (nsocks < 32) {
		struct tcp_sock *s = tcp_accept(listener, &err);
		if (!s && RN(4) == 0 && (s = tcp_socket(&net.tcp))) {
			if (tcp_connect(s, RN(8) ? PEER : R(), (uint16_t)(1000 + RN(8))) != -EINPROGRESS) {
				tcp_close(s);
				s = NULL;
			}
		}
		if (s) socks[nsocks++] = s;
	}
	uint32_t src;
	uint16_t sp;
	if (udp_recvfrom(usock, buf, sizeof(buf), &src, &sp) >= 0) udp_sendto(usock, src, sp, buf, 100);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "doublefree")) {
		/* A netbuf freed twice must trap rather than corrupt the pool's free list. */
		host_env_init(&henv, 1, 1);
		if (netbuf_pool_init(&pool, &henv.env, 4, 256) < 0) return 2;
		struct netbuf *nb = netbuf_alloc(&pool);
		netbuf_free(&pool, nb);
		netbuf_free(&pool, nb);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: fuzz SEED FRAMES | fuzz doublefree\n");
		return 2;
	}
	uint64_t seed = strtoull(argv[1], NULL, 0);
	long frames = atol(argv[2]);
	host_env_init(&henv, seed, 1);
	rng = seed * 0x9E3779B97F4A7C15ULL + 77;
	struct net_config nc;
	net_config_default(&nc);
	nc.addr = ME;
	nc.gw = 0x0ac800fe;
	nc.tcp.sndbuf = nc.tcp.rcvbuf = 32768;
	nc.tcp.max_socks = 64;
	nc.tcp.keep_idle_ms = 20000;
	nc.tcp.keep_intvl_ms = 2000;
	nc.tcp.sack = 1;
	if (netbuf_pool_init(&pool, &henv.env, 256, 2048) < 0) return 2;
	size_t base_mem = henv.live_bytes;
	dev.ops = &fake_ops;
	dev.pool = &pool;
	dev.mtu = 1500;
	memcpy(dev.mac, MYMAC, 6);
	net_stack_init(&net, &dev, &henv.env, &nc);
	net.ip.reasm_max = 16384;
	listener = tcp_socket(&net.tcp);
	tcp_bind(listener, 80);
	tcp_listen(listener, 4);
	int err;
	usock = udp_open(&net.udp, 53, &err);
	size_t peak = 0;
	long fed = 0;
	while (fed < frames) {
		uint32_t what = RN(100);
		if (what < 90) {
			struct netbuf *nb = netbuf_alloc(&pool);
			if (!nb) {
				fprintf(stderr, "FAIL netbuf pool exhausted: a layer leaks netbufs (free %u of %u)\n", pool.nfree, pool.count);
				return 1;
			}
			uint8_t *f = netbuf_data(nb);
			uint16_t cap = (uint16_t)(nb->cap - nb->off);
			uint16_t len;
			if (what < 15) {
				len = (uint16_t)RN(cap + 1);
				for (int i = 0; i < len; i++) f[i] = (uint8_t)R();
			} else {
				len = build(f);
				if (what >= 35) mutate(f, &len, cap);
			}
			nb->len = len;
			inq[ninq++] = nb;
			fed++;
			/* Sometimes the same frame three more times: duplicate ACKs, retransmissions. */
			for (int k = RN(10) ? 0 : 3; k > 0; k--) {
				struct netbuf *c = netbuf_alloc(&pool);
				if (!c) break;
				memcpy(netbuf_data(c), f, len);
				c->len = len;
				inq[ninq++] = c;
				fed++;
			}
			struct netbuf *bufs[8];
			uint16_t n = netdev_rx_burst(&dev, bufs, 8);
			for (uint16_t i = 0; i < n; i++) eth_input(&net.eth, bufs[i]);
			ip_loop_poll(&net.ip, 8); /* datagrams the API calls sent to ourselves */
		} else if (what < 95) {
			henv.vnow += RN(4) ? RN(50) : RN(5000);
			eth_timer(&net.eth);
			ip_timer(&net.ip);
			tcp_timer(&net.tcp);
		} else {
			app_step();
		}
		if (henv.live_bytes > peak) peak = henv.live_bytes;
	}
	/* Everything closed: every netbuf back (ARP may still hold some: let it time out). */
	for (int i = 0; i < nsocks; i++) tcp_abort(socks[i]);
	tcp_close(listener);
	udp_close(usock);
	for (int i = 0; i < 20; i++) {
		henv.vnow += 10 * 60 * 1000;
		eth_timer(&net.eth);
		ip_timer(&net.ip);
		tcp_timer(&net.tcp);
		ip_loop_poll(&net.ip, IP_LOOP_MAX);
	}
	if (pool.nfree != pool.count) {
		fprintf(stderr, "FAIL %u of %u netbufs not returned\n", pool.count - pool.nfree, pool.count);
		return 1;
	}
	if (net.tcp.socks) {
		struct tcp_info ti;
		tcp_get_info(net.tcp.socks, &ti);
		fprintf(stderr, "FAIL a socket left in %s (port %u -> %u, unacked %u, unread %u, error %d)\n",
			tcp_state_name(ti.state), ti.lport, ti.rport, ti.unacked, ti.unread, ti.error);
	}
	if (net.tcp.nsocks != 0 || henv.live_bytes != base_mem) {
		fprintf(stderr, "FAIL left after closing everything: %u sockets, %zu bytes (pool %zu)\n", net.tcp.nsocks,
			henv.live_bytes, base_mem);
		return 1;
	}
	printf("OK seed=%llu frames=%ld tx=%llu peak_mem=%zu tcp_rx=%llu rst=%llu bad_csum=%llu reasm_ok=%llu echo=%llu\n",
	       (unsigned long long)seed, fed, (unsigned long long)tx_frames, peak, (unsigned long long)net.tcp.stats.rx_segs,
	       (unsigned long long)net.tcp.stats.tx_rst, (unsigned long long)net.tcp.stats.rx_bad_csum,
	       (unsigned long long)net.ip.stats.reasm_ok, (unsigned long long)net.ip.stats.echo_replies);
	netbuf_pool_fini(&pool);
	return 0;
}
