/* TCP, RFC 9293. Section numbers in comments refer to it unless another RFC is named. */
#include <errno.h>
#include <string.h>
#include <net/tcp.h>

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TCP_HLEN 20
#define OOO_MAX 8
#define SB_MAX 12                  /* SACKed ranges a sender remembers (RFC 6675 scoreboard) */
/* Rings start small and double when the connection needs more (up to sndbuf/rcvbuf): an idle
 * connection costs one receive ring of TCP_RBUF_INIT; the send ring comes with the first send. */
#define TCP_RBUF_INIT 16384u
#define TCP_SBUF_INIT 4096u

#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_LE(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)
#define SEQ_GE(a, b) ((int32_t)((a) - (b)) >= 0)

struct seg {
	uint32_t seq, ack, len;       /* len counts SYN and FIN */
	uint16_t wnd, dlen, mss;
	uint8_t flags, ws, has_ws, has_ts, has_mss, sack_ok, has_sack;
	uint32_t sack_hi;             /* highest right edge of the SACK blocks */
	uint32_t sack_s[4], sack_e[4];
	uint8_t nsack;
	uint32_t tsval, tsecr;
	const uint8_t *data;
};

struct tcp_sock {
	struct tcp_sock *next;        /* st->socks */
	struct tcp_stack *st;
	uint8_t state;
	uint8_t app_owned;            /* the app holds the pointer (not yet for the accept queue) */
	uint8_t app_closed;           /* the app called close: nobody will read any more */
	uint8_t nodelay, keepalive, ts_ok, ws_ok, sack_ok, snd_wscale, rcv_wscale;
	uint8_t fin_queued, fin_pending, in_recovery, dupacks, ack_pending, keep_sent;
	uint8_t retries, rtt_active, fin_rcvd;
	uint8_t shut_pending;         /* shutdown/close asked in SYN_RECEIVED: FIN once established */
	int err;
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	/* listener side */
	struct tcp_sock *parent, *aq_next;
	struct tcp_sock *aq_head, *aq_tail;
	uint16_t backlog, nembryo, naccept;
	/* send */
	uint32_t snd_fin;             /* our FIN's sequence number, once fin_queued */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, max_snd_wnd, snd_wl1, snd_wl2;
	uint16_t mss, peer_mss;
	uint8_t *sbuf;
	uint32_t scap;                /* the limit (SO_SNDBUF); ssize is what sbuf holds now */
	uint32_t ssize, slen, shead;  /* bytes from snd_una (excluding SYN) at sbuf[shead] */
	uint8_t sgrow_failed;         /* the last growth found no memory: no EV_WRITE until an ACK */
	uint8_t rx_done;              /* no more data can arrive: the receive ring is gone */
	/* receive */
	uint32_t irs, rcv_nxt, rcv_adv, fin_seq;
	uint8_t *rbuf;
	uint32_t rcap;                /* the limit (SO_RCVBUF); rsize is what rbuf holds now */
	uint32_t rsize, rlen, rhead;  /* in-order unread bytes at rbuf[rhead] */
	uint32_t ooo_s[OOO_MAX], ooo_e[OOO_MAX];
	uint8_t nooo;
	uint32_t ts_recent, last_ack_sent;
	/* RTT (RFC 6298), in ms scaled by 8 (srtt) and 4 (rttvar) as in the classic code */
	uint32_t srtt8, rttvar4, rto, rtt_seq;
	uint64_t rtt_start;
	/* congestion (RFC 5681, 6582) */
	uint32_t cwnd, ssthresh, recover;
	uint32_t sack_hi;             /* highest byte the peer SACKed so far */
	/* RFC 6675 scoreboard: what the peer SACKed above snd_una, ascending, disjoint; and
	 * HighRxt, the end of what this recovery retransmitted */
	uint32_t sb_s[SB_MAX], sb_e[SB_MAX];
	uint8_t nsb;
	uint32_t high_rxt;
	uint32_t rxt_fence;           /* snd_max when the last retransmission went */
	/* timers: absolute ms, 0 = off */
	uint64_t t_rexmt, t_persist, t_delack, t_keep, t_2msl, last_rx;
	uint64_t t_tlp;               /* tail loss probe (RFC 8985 7), with SACK */
	uint8_t tlp_sent;
	uint32_t persist_backoff;
	uint64_t retransmits;
};

static const char *const state_names[] = {"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
					  "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"};

const char *tcp_state_name(enum tcp_state s) { return (unsigned)s <= TCP_TIME_WAIT ? state_names[s] : "?"; }

void tcp_config_default(struct tcp_config *c)
{
	c->sndbuf = c->rcvbuf = 256 * 1024;
	c->rto_initial_ms = 1000;
	c->rto_min_ms = 200;
	c->rto_max_ms = 60000;
	c->msl_ms = 30000;
	c->delack_ms = 40;
	c->fin_wait2_ms = 60000;
	c->keep_idle_ms = 7200000;
	c->keep_intvl_ms = 75000;
	c->keep_probes = 9;
	c->syn_retries = 5;
	c->data_retries = 12;
	c->max_socks = 1024;
	c->syn_backlog = 64;
	c->sack = 1;
}

static uint64_t now(struct tcp_stack *st) { return net_now(st->env); }

static void tcp_input(void *ctx, const struct ip_rx *rx, const uint8_t *p, uint16_t len);

void tcp_init(struct tcp_stack *st, struct net_ip *ip, const struct net_env *env, const struct tcp_config *cfg)
{
	memset(st, 0, sizeof(*st));
	st->ip = ip;
	st->env = env;
	if (cfg) st->cfg = *cfg;
	else tcp_config_default(&st->cfg);
	st->isn_secret = net_random(env);
	st->next_ephemeral = (uint16_t)(49152 + net_random(env) % 16384);
	struct ip_proto p = {IP_PROTO_TCP, tcp_input, st};
	ip_register(ip, &p);
}

static void sock_free(struct tcp_sock *s)
{
	struct tcp_stack *st = s->st;
	for (struct tcp_sock **pp = &st->socks; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	st->nsocks--;
	net_free(st->env, s->sbuf);
	net_free(st->env, s->rbuf);
	net_free(st->env, s);
}

void tcp_fini(struct tcp_stack *st)
{
	while (st->socks) sock_free(st->socks);
}

static struct tcp_sock *sock_new(struct tcp_stack *st)
{
	if (st->nsocks >= st->cfg.max_socks) return NULL;
	struct tcp_sock *s = net_alloc(st->env, sizeof(*s));
	if (!s) return NULL;
	memset(s, 0, sizeof(*s));
	s->st = st;
	s->scap = st->cfg.sndbuf;
	s->rcap = st->cfg.rcvbuf;
	s->rto = st->cfg.rto_initial_ms;
	s->next = st->socks;
	st->socks = s;
	st->nsocks++;
	return s;
}

static uint32_t rbuf_init(const struct tcp_sock *s) { return s->rcap < TCP_RBUF_INIT ? s->rcap : TCP_RBUF_INIT; }

/* The receive ring comes only when a connection is synchronized (or being opened by us), so
 * embryonic connections of a SYN flood cost one small struct each; the send ring comes with the
 * first tcp_send. */
static int sock_buffers(struct tcp_sock *s)
{
	if (!s->rbuf && !s->rx_done) {
		s->rbuf = net_alloc(s->st->env, rbuf_init(s));
		if (!s->rbuf) return -ENOMEM;
		s->rsize = rbuf_init(s);
	}
	return 0;
}

/* Grows a ring to size bytes (the data moves to offset 0: *head becomes 0); -ENOMEM keeps the
 * old ring as it was. */
static int ring_grow(struct tcp_sock *s, uint8_t **buf, uint32_t *cur, uint32_t *head, uint32_t size)
{
	uint8_t *n = net_alloc(s->st->env, size);
	if (!n) return -ENOMEM;
	if (*buf) {
		memcpy(n, *buf + *head, *cur - *head);
		memcpy(n + (*cur - *head), *buf, *head);
		net_free(s->st->env, *buf);
	}
	*buf = n;
	*cur = size;
	*head = 0;
	return 0;
}

/* The next size for a ring of cur bytes that must hold need, capped by the limit. */
static uint32_t ring_next(uint32_t cur, uint32_t need, uint32_t min, uint32_t limit)
{
	uint32_t n = cur ? cur * 2 : min;
	while (n < need && n < limit) n *= 2;
	return n > limit ? limit : n;
}

/* Frees the rings once no data can move through them any more (TIME_WAIT and the like keep
 * only the struct): the send ring after our FIN is acknowledged (or the connection ended), the
 * receive ring after the peer's FIN (or the end) once the app read everything. */
static void release_rings(struct tcp_sock *s)
{
	int over = s->state == TCP_CLOSED || s->state == TCP_TIME_WAIT;
	if (s->sbuf && (over || (s->fin_queued && SEQ_GT(s->snd_una, s->snd_fin)))) {
		net_free(s->st->env, s->sbuf);
		s->sbuf = NULL;
		s->ssize = s->slen = s->shead = 0;
	}
	if (s->rbuf && s->rlen == 0 && (over || s->fin_rcvd)) {
		net_free(s->st->env, s->rbuf);
		s->rbuf = NULL;
		s->rsize = s->rhead = 0;
		s->rx_done = 1;
	}
}

struct tcp_sock *tcp_socket(struct tcp_stack *st)
{
	struct tcp_sock *s = sock_new(st);
	if (s) s->app_owned = 1;
	return s;
}

/* ---- output ---- */

/* The window we may offer: what the ring really holds (before it exists, what it will get). */
static uint32_t rcv_space(const struct tcp_sock *s)
{
	if (s->rbuf) return s->rsize - s->rlen;
	return s->rx_done ? 0 : rbuf_init(s);
}

static uint16_t wnd_field(struct tcp_sock *s, int syn)
{
	uint32_t w = rcv_space(s);
	if (syn) return (uint16_t)(w > 65535 ? 65535 : w); /* never scaled in a SYN (RFC 7323 2.2) */
	w >>= s->rcv_wscale;
	return (uint16_t)(w > 65535 ? 65535 : w);
}

static void copy_out(const struct tcp_sock *s, uint32_t off, uint8_t *dst, uint32_t n)
{
	uint32_t pos = (s->shead + off) % s->ssize;
	uint32_t first = s->ssize - pos < n ? s->ssize - pos : n;
	memcpy(dst, s->sbuf + pos, first);
	memcpy(dst + first, s->sbuf, n - first);
}

/* Sends one segment; data comes from the send buffer at offset doff from snd_una. */
static int send_seg(struct tcp_sock *s, uint32_t seq, uint8_t flags, uint32_t doff, uint32_t dlen)
{
	struct tcp_stack *st = s->st;
	struct netbuf *nb = ip_alloc(st->ip);
	if (!nb) return -ENOBUFS;
	uint8_t *h = netbuf_data(nb);
	uint8_t *o = h + TCP_HLEN;
	int syn = flags & TH_SYN;
	if (syn) {
		o[0] = 2; o[1] = 4;
		net_put16(o + 2, (uint16_t)(ip_mtu_payload(st->ip) - TCP_HLEN));
		o += 4;
		if (s->state == TCP_SYN_SENT || s->ws_ok) {
			o[0] = 1; o[1] = 3; o[2] = 3; o[3] = s->rcv_wscale;
			o += 4;
		}
		if ((s->state == TCP_SYN_SENT && st->cfg.sack) || s->sack_ok) {
			o[0] = 1; o[1] = 1; o[2] = 4; o[3] = 2;
			o += 4;
		}
	}
	if ((s->state == TCP_SYN_SENT && syn) || (s->ts_ok && !(flags & TH_RST))) {
		o[0] = 1; o[1] = 1; o[2] = 8; o[3] = 10;
		net_put32(o + 4, (uint32_t)now(st));
		net_put32(o + 8, s->ts_recent);
		o += 12;
	}
	if (s->sack_ok && s->nooo && (flags & TH_ACK) && !syn && !(flags & TH_RST)) {
		/* SACK blocks for what waits out of order, the most recent first (RFC 2018 4). */
		int k = s->nooo < (s->ts_ok ? 3 : 4) ? s->nooo : (s->ts_ok ? 3 : 4);
		o[0] = 1; o[1] = 1; o[2] = 5; o[3] = (uint8_t)(2 + 8 * k);
		for (int i = 0; i < k; i++) {
			net_put32(o + 4 + 8 * i, s->ooo_s[i]);
			net_put32(o + 8 + 8 * i, s->ooo_e[i]);
		}
		o += 4 + 8 * k;
	}
	uint16_t hlen = (uint16_t)(o - h);
	/* Data fits both the netbuf and the MTU with these options. */
	uint32_t room = (uint32_t)(nb->cap - nb->off - hlen), mtu_room = (uint32_t)(ip_mtu_payload(st->ip) - hlen);
	if (mtu_room < room) room = mtu_room;
	if (dlen > room) dlen = room;
	if (dlen) copy_out(s, doff, o, dlen);
	net_put16(h, s->lport);
	net_put16(h + 2, s->rport);
	net_put32(h + 4, seq);
	net_put32(h + 8, (flags & TH_ACK) ? s->rcv_nxt : 0);
	h[12] = (uint8_t)(hlen / 4 << 4);
	h[13] = flags;
	net_put16(h + 14, (flags & TH_RST) ? 0 : wnd_field(s, syn));
	net_put16(h + 16, 0);
	net_put16(h + 18, 0);
	nb->len = (uint16_t)(hlen + dlen);
	net_put16(h + 16, inet_fold(inet_sum(h, nb->len, inet_pseudo_sum(s->laddr, s->raddr, IP_PROTO_TCP, nb->len))));
	if (flags & TH_ACK) {
		s->ack_pending = 0;
		s->t_delack = 0;
		s->last_ack_sent = s->rcv_nxt;
		uint32_t edge = s->rcv_nxt + ((uint32_t)wnd_field(s, syn) << (syn ? 0 : s->rcv_wscale));
		if (SEQ_GT(edge, s->rcv_adv)) s->rcv_adv = edge;
	}
	st->stats.tx_segs++;
	if (flags & TH_RST) st->stats.tx_rst++;
	ip_output_from(st->ip, nb, s->laddr, s->raddr, IP_PROTO_TCP);
	return (int)dlen;
}

/* A RST (or RST+ACK) answering a segment that has no connection (3.10.7.1). */
static void send_reset(struct tcp_stack *st, const struct ip_rx *rx, const uint8_t *p, const struct seg *g)
{
	if (g->flags & TH_RST) return;
	struct tcp_sock tmp;
	memset(&tmp, 0, sizeof(tmp));
	tmp.st = st;
	tmp.laddr = rx->dst;
	tmp.raddr = rx->src;
	tmp.lport = net_get16(p + 2);
	tmp.rport = net_get16(p);
	tmp.state = TCP_CLOSED;
	if (g->flags & TH_ACK) {
		send_seg(&tmp, g->ack, TH_RST, 0, 0);
	} else {
		tmp.rcv_nxt = g->seq + g->len;
		send_seg(&tmp, 0, TH_RST | TH_ACK, 0, 0);
	}
}

static void send_ack(struct tcp_sock *s) { send_seg(s, s->snd_nxt, TH_ACK, 0, 0); }

static void arm_rexmt(struct tcp_sock *s)
{
	if (!s->t_rexmt) s->t_rexmt = now(s->st) + s->rto;
}

static uint32_t flight(const struct tcp_sock *s) { return s->snd_max - s->snd_una; }

/* ---- SACK-based loss recovery as a sender (RFC 6675) ---- */

/* Adds a SACKed range to the scoreboard (clipped to what is outstanding, merged). When the
 * scoreboard is full the highest range goes: forgetting a SACK only makes us resend more. */
static void sb_add(struct tcp_sock *s, uint32_t a, uint32_t b)
{
	if (SEQ_LT(a, s->snd_una)) a = s->snd_una;
	if (SEQ_GT(b, s->snd_max)) b = s->snd_max;
	if (!SEQ_LT(a, b)) return;
	int i = 0;
	while (i < s->nsb && SEQ_LT(s->sb_e[i], a)) i++;
	int j = i; /* ranges i..j-1 overlap or touch [a, b) */
	while (j < s->nsb && SEQ_LE(s->sb_s[j], b)) j++;
	if (j > i) {
		if (SEQ_LT(s->sb_s[i], a)) a = s->sb_s[i];
		if (SEQ_GT(s->sb_e[j - 1], b)) b = s->sb_e[j - 1];
	} else if (s->nsb == SB_MAX) {
		if (i == SB_MAX) return;
		s->nsb--;
		if (j > s->nsb) j = s->nsb;
	}
	/* Replace i..j-1 by one range. */
	int keep = s->nsb - j, shift = i + 1 - j;
	memmove(s->sb_s + i + 1, s->sb_s + j, sizeof(s->sb_s[0]) * (size_t)keep);
	memmove(s->sb_e + i + 1, s->sb_e + j, sizeof(s->sb_e[0]) * (size_t)keep);
	s->nsb = (uint8_t)(s->nsb + shift);
	s->sb_s[i] = a;
	s->sb_e[i] = b;
}

/* Drops what the cumulative ACK covers. */
static void sb_trim(struct tcp_sock *s)
{
	int k = 0;
	while (k < s->nsb && SEQ_LE(s->sb_e[k], s->snd_una)) k++;
	if (k) {
		s->nsb = (uint8_t)(s->nsb - k);
		memmove(s->sb_s, s->sb_s + k, sizeof(s->sb_s[0]) * s->nsb);
		memmove(s->sb_e, s->sb_e + k, sizeof(s->sb_e[0]) * s->nsb);
	}
	if (s->nsb && SEQ_LT(s->sb_s[0], s->snd_una)) s->sb_s[0] = s->snd_una;
}

/* The holes: hole i (0 <= i <= nsb) runs from the end of range i-1 (or snd_una) to the start
 * of range i (or snd_max for the last, which nothing SACKed lies above). IsLost (RFC 6675 4)
 * is the same for every byte of a hole: DupThresh (3) ranges, or more than 2 SMSS SACKed,
 * above it. */
static uint32_t hole_start(const struct tcp_sock *s, int i) { return i ? s->sb_e[i - 1] : s->snd_una; }
static uint32_t hole_end(const struct tcp_sock *s, int i) { return i < s->nsb ? s->sb_s[i] : s->snd_max; }

static int hole_lost(const struct tcp_sock *s, int i)
{
	if (i >= s->nsb) return 0;
	if (s->nsb - i >= 3) return 1;
	/* Everything sent after it was SACKed: no more ACKs will come to tell (early
	 * retransmit, RFC 5827, for the small windows of a lossy path). */
	if (s->sb_e[s->nsb - 1] == s->snd_max) return 1;
	uint32_t above = 0;
	for (int k = i; k < s->nsb; k++) above += s->sb_e[k] - s->sb_s[k];
	return above > 2u * s->mss;
}

/* SetPipe (RFC 6675 4): bytes believed in the network. */
static uint32_t sack_pipe(const struct tcp_sock *s)
{
	uint32_t pipe = 0;
	for (int i = 0; i <= s->nsb; i++) {
		uint32_t a = hole_start(s, i), b = hole_end(s, i);
		if (!SEQ_LT(a, b)) continue;
		if (!hole_lost(s, i)) pipe += b - a;
		if (SEQ_GT(s->high_rxt, a)) pipe += (SEQ_LT(s->high_rxt, b) ? s->high_rxt : b) - a;
	}
	return pipe;
}

/* Retransmits up to one MSS at seq (before end), FIN included when it is there. Returns the
 * sequence space sent, 0 when nothing could go. */
static uint32_t sack_rexmit(struct tcp_sock *s, uint32_t seq, uint32_t end)
{
	uint32_t off = seq - s->snd_una, avail = s->slen > off ? s->slen - off : 0;
	uint32_t n = end - seq < s->mss ? end - seq : s->mss;
	if (n > avail) n = avail;
	int fin = s->fin_queued && seq + n == s->snd_fin && SEQ_GT(end, s->snd_fin);
	if (n == 0 && !fin) return 0;
	int r = send_seg(s, seq, TH_ACK | (fin ? TH_FIN : 0), off, n);
	if (r < 0) return 0;
	if ((uint32_t)r < n) fin = 0;
	s->retransmits++;
	s->st->stats.retransmits++;
	s->st->stats.sack_retransmits++;
	s->rtt_active = 0;
	arm_rexmt(s);
	uint32_t len = (uint32_t)r + (fin ? 1u : 0u);
	if (SEQ_GT(seq + len, s->high_rxt)) s->high_rxt = seq + len;
	s->rxt_fence = s->snd_max;
	return len;
}

/* A retransmission lost too: more than 2 SMSS SACKed that were sent after the last
 * retransmission, with holes still below HighRxt, means those retransmissions did not arrive
 * (reordering aside). They are sent again (HighRxt back to snd_una), where RFC 6675 alone
 * would wait for the timeout. */
static void sack_lost_rexmit(struct tcp_sock *s)
{
	if (!SEQ_GT(s->high_rxt, s->snd_una) || !SEQ_GT(s->snd_max, s->rxt_fence)) return;
	uint32_t above = 0;
	for (int i = 0; i < s->nsb; i++)
		if (SEQ_GT(s->sb_e[i], s->rxt_fence))
			above += s->sb_e[i] - (SEQ_GT(s->sb_s[i], s->rxt_fence) ? s->sb_s[i] : s->rxt_fence);
	if (above <= 2u * s->mss) return;
	s->st->stats.sack_lost_rexmits++;
	s->high_rxt = s->snd_una;
	s->rxt_fence = s->snd_max;
}

/* The first hole (lost or not, below the highest SACK) with a byte beyond HighRxt: [*a, *b). */
static int sack_hole(const struct tcp_sock *s, int lost, uint32_t *a, uint32_t *b)
{
	for (int i = 0; i < s->nsb; i++) {
		if (hole_lost(s, i) != lost) continue;
		*a = SEQ_GT(s->high_rxt, hole_start(s, i)) ? s->high_rxt : hole_start(s, i);
		*b = hole_end(s, i);
		if (SEQ_LT(*a, *b)) return 1;
	}
	return 0;
}

/* New data during recovery, as far as the peer's window allows; the sequence space sent. */
static uint32_t sack_new_data(struct tcp_sock *s, int can_send_data)
{
	if (!can_send_data || s->snd_nxt != s->snd_max) return 0;
	uint32_t end = s->snd_una + s->slen;
	uint32_t unsent = SEQ_GT(end, s->snd_max) ? end - s->snd_max : 0;
	uint32_t edge = s->snd_una + s->snd_wnd, room = SEQ_GT(edge, s->snd_max) ? edge - s->snd_max : 0;
	uint32_t n = unsent < s->mss ? unsent : s->mss;
	if (n > room) n = room;
	int fin = s->fin_queued && SEQ_LE(s->snd_max, s->snd_fin) && s->snd_max + n == s->snd_fin;
	if (n == 0 && !fin) return 0;
	int r = send_seg(s, s->snd_nxt, TH_ACK | (fin ? TH_FIN : 0), s->snd_nxt - s->snd_una, n);
	if (r < 0) return 0;
	if ((uint32_t)r < n) fin = 0;
	s->snd_nxt += (uint32_t)r + (fin ? 1u : 0u);
	s->snd_max = s->snd_nxt;
	arm_rexmt(s);
	return (uint32_t)r + (fin ? 1u : 0u);
}

/* The loss-recovery transmission loop (RFC 6675 5, step C): while cwnd - pipe >= 1 SMSS, send
 * NextSeg: (1) a lost hole's first byte beyond HighRxt, else (2) new data, else (3) an unSACKed
 * byte below the highest SACK. */
static void sack_output(struct tcp_sock *s, int can_send_data)
{
	for (int guard = 0; guard < 256 && sack_pipe(s) + s->mss <= s->cwnd; guard++) {
		uint32_t a, b;
		if (sack_hole(s, 1, &a, &b)) {
			if (!sack_rexmit(s, a, b)) return;
		} else if (!sack_new_data(s, can_send_data)) {
			if (!sack_hole(s, 0, &a, &b) || !sack_rexmit(s, a, b)) return;
		}
	}
}

/* Sends what the windows, Nagle and the state allow (3.8.6, RFC 5681, RFC 1122 4.2.3.4). */
static void tcp_output(struct tcp_sock *s)
{
	if (s->state == TCP_SYN_SENT || s->state == TCP_SYN_RECEIVED) {
		if (s->snd_nxt == s->iss) {
			uint8_t fl = s->state == TCP_SYN_SENT ? TH_SYN : TH_SYN | TH_ACK;
			if (send_seg(s, s->iss, fl, 0, 0) >= 0) {
				s->snd_nxt = s->iss + 1;
				if (SEQ_GT(s->snd_nxt, s->snd_max)) s->snd_max = s->snd_nxt;
				arm_rexmt(s);
			}
		}
		return;
	}
	if (s->state < TCP_ESTABLISHED || s->state == TCP_TIME_WAIT) return;
	int can_send_data = s->state == TCP_ESTABLISHED || s->state == TCP_CLOSE_WAIT ||
			    s->state == TCP_FIN_WAIT_1 || s->state == TCP_CLOSING || s->state == TCP_LAST_ACK;
	uint32_t fin_at = s->snd_una + s->slen; /* sequence number of our FIN once queued */
	if (s->in_recovery && s->sack_ok) sack_output(s, can_send_data);
	else for (;;) {
		/* Going back after a timeout: what the peer SACKed need not go again (RFC 6675 5.1). */
		for (int i = 0; i < s->nsb && SEQ_LT(s->snd_nxt, s->snd_max); i++)
			if (SEQ_GE(s->snd_nxt, s->sb_s[i]) && SEQ_LT(s->snd_nxt, s->sb_e[i])) s->snd_nxt = s->sb_e[i];
		uint32_t sent = s->snd_nxt - s->snd_una;      /* includes a sent FIN */
		/* Limited transmit (RFC 3042): the first two duplicate ACKs each let one new segment
		 * out beyond cwnd, so a small window still gets its third duplicate ACK. */
		uint32_t cw = s->cwnd + (!s->in_recovery && s->dupacks < 3 ? (uint32_t)s->dupacks * s->mss : 0);
		uint32_t wnd = s->snd_wnd < cw ? s->snd_wnd : cw;
		uint32_t usable = wnd > sent ? wnd - sent : 0;
		uint32_t avail = s->slen > sent ? s->slen - sent : 0;
		uint32_t n = avail < s->mss ? avail : s->mss;
		if (n > usable) n = usable;
		/* The FIN goes with the last data (or alone), once; after a timeout snd_nxt is back. */
		int fin = s->fin_queued && s->snd_nxt + n == fin_at && can_send_data;
		if (n == 0 && !fin) break;
		if (n && n < s->mss && !fin) {
			/* Sender SWS avoidance and Nagle: a short segment only when it is all there is and
			 * nothing is outstanding (or NODELAY), or it is half the largest window seen. */
			int all = n == avail;
			if (!(all && (s->nodelay || s->snd_nxt == s->snd_una)) && n < s->max_snd_wnd / 2) break;
		}
		if (!can_send_data) break;
		uint8_t fl = TH_ACK | (n && n == avail ? TH_PSH : 0) | (fin ? TH_FIN : 0);
		int r = send_seg(s, s->snd_nxt, fl, sent, n);
		if (r < 0) break;
		if ((uint32_t)r < n) {
			/* The netbuf was smaller than the MSS: what did not fit goes in the next segment. */
			n = (uint32_t)r;
			fin = 0;
		}
		if (SEQ_LT(s->snd_nxt, s->snd_max)) {
			s->retransmits++;
			s->st->stats.retransmits++;
		} else if (!s->rtt_active && n) {
			/* Karn: one timed segment at a time, never a retransmission (without timestamps). */
			s->rtt_active = 1;
			s->rtt_seq = s->snd_nxt;
			s->rtt_start = now(s->st);
		}
		s->snd_nxt += n + (fin ? 1 : 0);
		if (SEQ_GT(s->snd_nxt, s->snd_max)) s->snd_max = s->snd_nxt;
		arm_rexmt(s);
		s->t_persist = 0;
		if (fin) break;
	}
	/* Data waiting but nothing in flight to bring an ACK: the persist timer probes a closed
	 * window and overrides sender SWS avoidance (3.8.6.1). */
	uint32_t sent = s->snd_nxt - s->snd_una;
	if (s->slen > sent && s->snd_nxt == s->snd_una && !s->t_rexmt && !s->t_persist) {
		s->persist_backoff = 0;
		s->t_persist = now(s->st) + s->rto;
	}
	/* A tail loss probe: with SACK, when nothing comes back for two round trips, one segment
	 * goes (new data, else the last one again) so that its ACK shows a lost tail in a round
	 * trip or two rather than a retransmission timeout (RFC 8985 7, without RACK: the SACK
	 * of the probe marks the hole lost, hole_lost). */
	if (s->sack_ok && !s->in_recovery && !s->tlp_sent && !s->t_tlp && s->srtt8 && s->snd_max != s->snd_una &&
	    (s->state == TCP_ESTABLISHED || s->state == TCP_CLOSE_WAIT)) {
		uint32_t pto = s->srtt8 / 4 + 2;
		if (pto < 10) pto = 10;
		if (flight(s) <= s->mss) pto += 200; /* one segment out: the peer may delay its ACK */
		if (s->t_rexmt && now(s->st) + pto >= s->t_rexmt) pto = 0;
		if (pto) s->t_tlp = now(s->st) + pto;
	}
	if (s->ack_pending > 1) send_ack(s);
}

static void on_tlp(struct tcp_sock *s)
{
	if (s->in_recovery || s->snd_max == s->snd_una || s->tlp_sent) return;
	s->tlp_sent = 1;
	s->st->stats.tlp_probes++;
	if (!sack_new_data(s, 1)) {
		uint32_t fl = flight(s), n = fl < s->mss ? fl : s->mss;
		sack_rexmit(s, s->snd_max - n, s->snd_max);
	}
}

/* Retransmits one segment at snd_una (fast retransmit, partial ACK) without moving snd_nxt. */
static void retransmit_first(struct tcp_sock *s)
{
	uint32_t n = s->slen < s->mss ? s->slen : s->mss;
	int fin = s->fin_queued && n == s->slen && SEQ_GT(s->snd_max, s->snd_una + s->slen);
	s->retransmits++;
	s->st->stats.retransmits++;
	s->rtt_active = 0;
	send_seg(s, s->snd_una, TH_ACK | (fin ? TH_FIN : 0), 0, n);
}

/* ---- state changes ---- */

static void set_state(struct tcp_sock *s, uint8_t state)
{
	s->state = state;
	if (state == TCP_TIME_WAIT) {
		s->t_rexmt = s->t_persist = s->t_keep = s->t_tlp = 0;
		s->t_2msl = now(s->st) + 2 * (uint64_t)s->st->cfg.msl_ms;
	}
	release_rings(s);
}

/* The connection is over: an orphan is freed; an app's socket stays (CLOSED) to report err. */
static void drop_conn(struct tcp_sock *s, int err)
{
	struct tcp_sock *l = s->parent;
	if (l) {
		/* An embryo or a connection still in its listener's accept queue. */
		if (s->state == TCP_SYN_RECEIVED) l->nembryo--;
		else {
			for (struct tcp_sock **pp = &l->aq_head; *pp; pp = &(*pp)->aq_next) {
				if (*pp == s) {
					*pp = s->aq_next;
					l->naccept--;
					break;
				}
			}
			l->aq_tail = NULL;
			for (struct tcp_sock *c = l->aq_head; c; c = c->aq_next) l->aq_tail = c;
		}
		s->parent = NULL;
	}
	if (!s->err) s->err = err;
	s->state = TCP_CLOSED;
	s->t_rexmt = s->t_persist = s->t_delack = s->t_keep = s->t_2msl = s->t_tlp = 0;
	if (!s->app_owned) sock_free(s);
	else release_rings(s);
}

static void reset_conn(struct tcp_sock *s, int err)
{
	send_seg(s, s->snd_nxt, TH_RST | TH_ACK, 0, 0);
	drop_conn(s, err);
}

/* ---- input ---- */

static int parse(struct seg *g, const uint8_t *p, uint16_t len)
{
	if (len < TCP_HLEN) return -1;
	uint16_t hlen = (uint16_t)((p[12] >> 4) * 4);
	if (hlen < TCP_HLEN || hlen > len) return -1;
	memset(g, 0, sizeof(*g));
	g->seq = net_get32(p + 4);
	g->ack = net_get32(p + 8);
	g->flags = p[13] & 0x3f;
	g->wnd = net_get16(p + 14);
	g->data = p + hlen;
	g->dlen = (uint16_t)(len - hlen);
	g->len = g->dlen + ((g->flags & TH_SYN) ? 1u : 0u) + ((g->flags & TH_FIN) ? 1u : 0u);
	for (const uint8_t *o = p + TCP_HLEN, *end = p + hlen; o < end;) {
		if (o[0] == 0) break;
		if (o[0] == 1) { o++; continue; }
		if (end - o < 2 || o[1] < 2 || o[1] > end - o) break; /* malformed: ignore the rest */
		if (o[0] == 2 && o[1] == 4) { g->has_mss = 1; g->mss = net_get16(o + 2); }
		else if (o[0] == 3 && o[1] == 3) { g->has_ws = 1; g->ws = o[2] > 14 ? 14 : o[2]; }
		else if (o[0] == 8 && o[1] == 10) { g->has_ts = 1; g->tsval = net_get32(o + 2); g->tsecr = net_get32(o + 6); }
		else if (o[0] == 4 && o[1] == 2) g->sack_ok = 1;
		else if (o[0] == 5 && o[1] >= 10 && (o[1] - 2) % 8 == 0) {
			for (int b = 0; b < (o[1] - 2) / 8; b++) {
				uint32_t right = net_get32(o + 6 + 8 * b);
				if (!g->has_sack || SEQ_GT(right, g->sack_hi)) g->sack_hi = right;
				g->has_sack = 1;
				g->sack_s[g->nsack] = net_get32(o + 2 + 8 * b);
				g->sack_e[g->nsack++] = right;
			}
		}
		o += o[1];
	}
	return 0;
}

static struct tcp_sock *lookup(struct tcp_stack *st, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct tcp_sock *listener = NULL;
	for (struct tcp_sock *s = st->socks; s; s = s->next) {
		if (s->lport != dport) continue;
		if (s->state == TCP_LISTEN) listener = s;
		else if (s->state != TCP_CLOSED && s->rport == sport && s->raddr == src && s->laddr == dst) return s;
	}
	return listener;
}

/* Negotiated options from a SYN: MSS (3.7.1), window scale and timestamps (RFC 7323). */
static void take_syn_options(struct tcp_sock *s, const struct seg *g)
{
	s->peer_mss = g->has_mss ? g->mss : 536;
	s->ws_ok = g->has_ws;
	s->snd_wscale = s->ws_ok ? g->ws : 0;
	if (!s->ws_ok) s->rcv_wscale = 0;
	s->ts_ok = g->has_ts;
	s->sack_ok = g->sack_ok && s->st->cfg.sack; /* SACK blocks both ways, RFC 6675 recovery */
	if (g->has_ts) s->ts_recent = g->tsval;
	uint16_t mss = (uint16_t)(ip_mtu_payload(s->st->ip) - TCP_HLEN);
	if (s->peer_mss < mss) mss = s->peer_mss;
	if (s->ts_ok) mss = (uint16_t)(mss - 12);
	if (mss < 64) mss = 64;
	s->mss = mss;
	/* Initial window (RFC 5681 3.1). */
	s->cwnd = mss > 2190 ? 2u * mss : mss > 1095 ? 3u * mss : 4u * mss;
	s->ssthresh = 0x7fffffff;
}

static uint8_t choose_wscale(uint32_t rcap)
{
	uint8_t ws = 0;
	while (ws < 14 && (rcap >> ws) > 65535) ws++;
	return ws;
}

static uint32_t make_isn(struct tcp_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	/* RFC 6528: a 4 us clock plus a keyed hash of the 4-tuple (here a mixing function). */
	uint32_t h = st->isn_secret ^ laddr ^ (raddr * 0x9e3779b1u) ^ ((uint32_t)lport << 16 | rport);
	h ^= h >> 16; h *= 0x7feb352du; h ^= h >> 15; h *= 0x846ca68bu; h ^= h >> 16;
	return h + (uint32_t)(now(st) * 250);
}

static void rtt_sample(struct tcp_sock *s, uint32_t r)
{
	/* RFC 6298 2.2 / 2.3, with alpha 1/8 and beta 1/4. A sample longer than the largest RTO
	 * comes from a bogus echoed timestamp (RFC 7323 4.2 trusts only plausible ones). */
	if (r > s->st->cfg.rto_max_ms) return;
	if (r == 0) r = 1;
	if (s->srtt8 == 0) {
		s->srtt8 = r * 8;
		s->rttvar4 = r * 2;
	} else {
		int64_t d = (int64_t)r - (int64_t)(s->srtt8 / 8);
		if (d < 0) d = -d;
		s->rttvar4 = s->rttvar4 - s->rttvar4 / 4 + (uint32_t)d;
		s->srtt8 = s->srtt8 - s->srtt8 / 8 + r;
	}
	uint32_t rto = s->srtt8 / 8 + (s->rttvar4 > 4 ? s->rttvar4 : 4);
	if (rto < s->st->cfg.rto_min_ms) rto = s->st->cfg.rto_min_ms;
	if (rto > s->st->cfg.rto_max_ms) rto = s->st->cfg.rto_max_ms;
	s->rto = rto;
}

/* Whether the segment SACKs data beyond what the peer SACKed before (and within what we sent). */
static int new_sack(struct tcp_sock *s, const struct seg *g)
{
	if (!g->has_sack || SEQ_LE(g->sack_hi, s->snd_una) || SEQ_GT(g->sack_hi, s->snd_max)) return 0;
	if (SEQ_GT(s->sack_hi, s->snd_una) && SEQ_LE(g->sack_hi, s->sack_hi)) return 0;
	s->sack_hi = g->sack_hi;
	return 1;
}

/* Fast retransmit and recovery: RFC 6582 3.2 steps 1-2, or RFC 6675 5 step 4 with SACK (cwnd =
 * ssthresh, retransmit the first segment; sack_output then sends what pipe allows). reduce: a new
 * loss event (else the window was already cut, by a timeout). */
static void enter_recovery(struct tcp_sock *s, int reduce)
{
	uint32_t half = flight(s) / 2;
	s->dupacks = 3;
	if (reduce) s->ssthresh = half > 2u * s->mss ? half : 2u * s->mss;
	s->recover = s->snd_max;
	s->in_recovery = 1;
	s->st->stats.fast_retransmits++;
	if (s->sack_ok) {
		s->st->stats.sack_recoveries++;
		s->high_rxt = s->snd_una;
		if (reduce) s->cwnd = s->ssthresh;
		sack_rexmit(s, s->snd_una, hole_end(s, 0));
	} else {
		retransmit_first(s);
		s->cwnd = s->ssthresh + 3u * s->mss;
	}
}

/* Processes an acceptable ACK number; returns 0, or -1 when the segment must be dropped. */
static int process_ack(struct tcp_sock *s, const struct seg *g)
{
	struct tcp_stack *st = s->st;
	if (SEQ_GT(g->ack, s->snd_max)) {
		send_ack(s); /* acks something not yet sent (3.10.7.4) */
		return -1;
	}
	/* RFC 5961 5.2: an ACK far below snd_una is an attack or very old: challenge ACK. */
	if (SEQ_LT(g->ack, s->snd_una - s->max_snd_wnd - 65536)) {
		st->stats.challenge_acks++;
		send_ack(s);
		return -1;
	}
	uint32_t wnd = (uint32_t)g->wnd << s->snd_wscale;
	if (s->sack_ok)
		for (int i = 0; i < g->nsack; i++) sb_add(s, g->sack_s[i], g->sack_e[i]);
	if (SEQ_GT(g->ack, s->snd_una)) {
		uint32_t acked = g->ack - s->snd_una;
		uint32_t data = acked;
		if (s->fin_queued && SEQ_GT(g->ack, s->snd_fin)) data--;
		if (data > s->slen) data = s->slen;
		s->shead = (s->shead + data) % (s->ssize ? s->ssize : 1);
		s->sgrow_failed = 0;
		s->slen -= data;
		s->snd_una = g->ack;
		if (SEQ_LT(s->snd_nxt, s->snd_una)) s->snd_nxt = s->snd_una;
		sb_trim(s);
		s->t_tlp = 0;
		s->tlp_sent = 0;
		s->retries = 0;
		/* RTT: timestamps echo the segment's send time; else the one timed segment. */
		if (s->ts_ok && g->has_ts && g->tsecr) rtt_sample(s, (uint32_t)now(st) - g->tsecr);
		else if (s->rtt_active && SEQ_GT(g->ack, s->rtt_seq)) rtt_sample(s, (uint32_t)(now(st) - s->rtt_start));
		if (s->rtt_active && SEQ_GT(g->ack, s->rtt_seq)) s->rtt_active = 0;
		/* Congestion control. */
		if (s->in_recovery) {
			if (SEQ_GE(g->ack, s->recover)) {
				/* Full ACK (RFC 6582 3.2 step 3, option 1). */
				uint32_t fl = flight(s);
				s->cwnd = s->ssthresh < fl + s->mss ? s->ssthresh : fl + s->mss;
				s->in_recovery = 0;
				s->dupacks = 0;
			} else if (s->sack_ok) {
				/* Partial ACK with SACK: the scoreboard says what to send (sack_output). */
				st->stats.partial_acks++;
			} else {
				/* Partial ACK: retransmit the next hole, deflate by what was acked. */
				st->stats.partial_acks++;
				retransmit_first(s);
				s->cwnd = s->cwnd > acked ? s->cwnd - acked : s->mss;
				if (acked >= s->mss) s->cwnd += s->mss;
				s->t_rexmt = now(st) + s->rto;
			}
		} else {
			s->dupacks = 0;
			if (s->cwnd < s->ssthresh) s->cwnd += acked < s->mss ? acked : s->mss;
			else s->cwnd += s->mss * s->mss / s->cwnd > 0 ? s->mss * s->mss / s->cwnd : 1;
		}
		uint32_t cap = 2 * (s->scap + s->rcap);
		if (s->cwnd > cap) s->cwnd = cap; /* no point growing beyond what buffers can use */
		s->t_rexmt = s->snd_una == s->snd_max ? 0 : now(st) + s->rto;
		s->t_persist = 0;
	} else if (g->ack == s->snd_una && g->dlen == 0 && !(g->flags & (TH_SYN | TH_FIN)) && s->snd_max != s->snd_una &&
		   (s->sack_ok && g->has_sack ? new_sack(s, g) : wnd == s->snd_wnd || new_sack(s, g))) {
		/* Duplicate ACK: RFC 5681 2, or RFC 6675 2 (it SACKs data not SACKed before; the
		 * window may then have changed, as Linux's does while it holds out-of-order data).
		 * With SACK on, an ACK whose blocks SACK nothing new (a D-SACK for a duplicate
		 * segment, RFC 2883) is no sign of a loss. */
		st->stats.dup_acks_rx++;
		if (s->in_recovery) {
			if (!s->sack_ok) s->cwnd += s->mss; /* NewReno inflates; RFC 6675 counts pipe */
		} else {
			/* Three duplicate ACKs, or SACK blocks showing DupThresh (3) segments received
			 * beyond the hole (RFC 6675 IsLost): a peer that compresses its SACK ACKs, as
			 * Linux does, sends fewer duplicates. */
			int sack_lost = s->sack_ok && hole_lost(s, 0);
			int loss = ++s->dupacks == 3 || sack_lost ||
				   (s->dupacks < 3 && SEQ_GT(s->sack_hi, s->snd_una) && s->sack_hi - s->snd_una >= 4u * s->mss);
			/* RFC 6582 guards against a second response to one loss event (the ACK must pass
			 * recover). With SACK, holes above a fully acknowledged recovery point are a new
			 * event (RFC 6675 5), and a hole the scoreboard shows lost is repaired at once even
			 * within the event (after a timeout, RFC 6675 5.1), without a second reduction. */
			int fresh = SEQ_GT(g->ack, s->recover) || (s->sack_ok && g->ack == s->recover);
			if (loss && (fresh || sack_lost)) enter_recovery(s, fresh);
		}
	}
	if (s->in_recovery && s->sack_ok) sack_lost_rexmit(s);
	/* Send window update (3.10.7.4). */
	if (SEQ_LT(s->snd_wl1, g->seq) || (s->snd_wl1 == g->seq && SEQ_LE(s->snd_wl2, g->ack))) {
		s->snd_wnd = wnd;
		if (wnd > s->max_snd_wnd) s->max_snd_wnd = wnd;
		s->snd_wl1 = g->seq;
		s->snd_wl2 = g->ack;
		if (wnd) s->t_persist = 0;
	}
	return 0;
}

/* Removes range i, keeping the order (most recently added first, for SACK). */
static void ooo_remove(struct tcp_sock *s, int i)
{
	s->nooo--;
	memmove(s->ooo_s + i, s->ooo_s + i + 1, sizeof(s->ooo_s[0]) * (size_t)(s->nooo - i));
	memmove(s->ooo_e + i, s->ooo_e + i + 1, sizeof(s->ooo_e[0]) * (size_t)(s->nooo - i));
}

static void ooo_merge(struct tcp_sock *s)
{
	for (int i = 0; i < s->nooo;) {
		if (SEQ_LE(s->ooo_s[i], s->rcv_nxt)) {
			if (SEQ_GT(s->ooo_e[i], s->rcv_nxt)) {
				s->rlen += s->ooo_e[i] - s->rcv_nxt;
				s->rcv_nxt = s->ooo_e[i];
			}
			ooo_remove(s, i);
			i = 0; /* rcv_nxt moved: earlier ranges may now touch it */
		} else {
			i++;
		}
	}
}

static void ooo_add(struct tcp_sock *s, uint32_t a, uint32_t b)
{
	/* Merge with overlapping or touching ranges; the result goes first. */
	for (int i = 0; i < s->nooo;) {
		if (SEQ_LE(s->ooo_s[i], b) && SEQ_GE(s->ooo_e[i], a)) {
			if (SEQ_LT(s->ooo_s[i], a)) a = s->ooo_s[i];
			if (SEQ_GT(s->ooo_e[i], b)) b = s->ooo_e[i];
			ooo_remove(s, i);
		} else {
			i++;
		}
	}
	memmove(s->ooo_s + 1, s->ooo_s, sizeof(s->ooo_s[0]) * (size_t)s->nooo);
	memmove(s->ooo_e + 1, s->ooo_e, sizeof(s->ooo_e[0]) * (size_t)s->nooo);
	s->ooo_s[0] = a;
	s->ooo_e[0] = b;
	s->nooo++;
}

static int ooo_room(const struct tcp_sock *s, uint32_t a, uint32_t b)
{
	if (s->nooo < OOO_MAX) return 1;
	for (int i = 0; i < s->nooo; i++)
		if (SEQ_LE(s->ooo_s[i], b) && SEQ_GE(s->ooo_e[i], a)) return 1;
	return 0;
}

/* Stores segment text (already trimmed to start at or after rcv_nxt and fit the window). */
static void store_data(struct tcp_sock *s, uint32_t seq, const uint8_t *d, uint32_t n)
{
	uint32_t off = seq - s->rcv_nxt;
	if (!s->rbuf) return;
	/* Grow (doubling, up to rcvbuf) when the peer fills more than half the window offered: it
	 * is held back by us. Without memory the window stays what the ring holds. */
	if (s->rsize < s->rcap && SEQ_GT(seq + n + s->rsize / 2, s->rcv_adv))
		ring_grow(s, &s->rbuf, &s->rsize, &s->rhead, ring_next(s->rsize, 0, 0, s->rcap));
	if (off + n > rcv_space(s)) n = off < rcv_space(s) ? rcv_space(s) - off : 0;
	if (n == 0) return;
	if (off && !ooo_room(s, seq, seq + n)) return;
	uint32_t pos = (s->rhead + s->rlen + off) % s->rsize;
	uint32_t first = s->rsize - pos < n ? s->rsize - pos : n;
	memcpy(s->rbuf + pos, d, first);
	memcpy(s->rbuf, d + first, n - first);
	if (off == 0) {
		s->rcv_nxt += n;
		s->rlen += n;
		ooo_merge(s);
	} else {
		ooo_add(s, seq, seq + n);
	}
}

static void got_fin(struct tcp_sock *s)
{
	s->rcv_nxt++;
	s->fin_pending = 0;
	s->fin_rcvd = 1;
	switch (s->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED: set_state(s, TCP_CLOSE_WAIT); break;
	case TCP_FIN_WAIT_1:
		/* Our FIN not yet acked: simultaneous close (3.6, figure 13). */
		set_state(s, SEQ_GT(s->snd_una, s->snd_fin) ? TCP_TIME_WAIT : TCP_CLOSING);
		break;
	case TCP_FIN_WAIT_2: set_state(s, TCP_TIME_WAIT); break;
	default: break;
	}
	send_ack(s);
}

static void listen_input(struct tcp_sock *l, const struct ip_rx *rx, const uint8_t *p, const struct seg *g)
{
	struct tcp_stack *st = l->st;
	if (g->flags & TH_RST) return;
	if (g->flags & TH_ACK) {
		send_reset(st, rx, p, g);
		return;
	}
	if (!(g->flags & TH_SYN)) return;
	if (l->naccept >= l->backlog) {
		st->stats.syn_dropped++; /* the app is not accepting: let the peer retry */
		return;
	}
	/* The SYN queue is at least the listen backlog (as in Linux): a server asking for a backlog
	 * of 512 gets a burst of 512 connects through, not 64 and resets for the rest. */
	uint32_t syn_limit = l->backlog > st->cfg.syn_backlog ? l->backlog : st->cfg.syn_backlog;
	if (l->nembryo >= syn_limit) {
		/* Evict the oldest embryo: a flood cannot lock out real clients for long. */
		struct tcp_sock *old = NULL;
		for (struct tcp_sock *c = st->socks; c; c = c->next)
			if (c->parent == l && c->state == TCP_SYN_RECEIVED) old = c; /* list is newest first */
		if (old) {
			st->stats.embryos_evicted++;
			drop_conn(old, ECONNRESET);
		}
	}
	struct tcp_sock *c = sock_new(st);
	if (!c) {
		st->stats.syn_dropped++;
		return;
	}
	c->parent = l;
	l->nembryo++;
	c->laddr = rx->dst;
	c->raddr = rx->src;
	c->lport = l->lport;
	c->rport = net_get16(p);
	c->scap = l->scap;
	c->rcap = l->rcap;
	c->nodelay = l->nodelay;
	c->keepalive = l->keepalive;
	c->state = TCP_LISTEN;
	take_syn_options(c, g);
	c->rcv_wscale = c->ws_ok ? choose_wscale(c->rcap) : 0;
	c->irs = g->seq;
	c->rcv_nxt = g->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->iss = make_isn(st, c->laddr, c->lport, c->raddr, c->rport);
	c->sack_hi = c->iss; /* nothing SACKed (0 could look far ahead of snd_una) */
	c->snd_una = c->snd_nxt = c->snd_max = c->recover = c->iss;
	c->snd_wnd = g->wnd; /* unscaled in a SYN */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = g->seq;
	c->snd_wl2 = c->iss;
	c->last_rx = now(st);
	c->state = TCP_SYN_RECEIVED;
	tcp_output(c);
}

static void synsent_input(struct tcp_sock *s, const struct seg *g)
{
	int ack_ok = 0;
	if (g->flags & TH_ACK) {
		if (SEQ_LE(g->ack, s->iss) || SEQ_GT(g->ack, s->snd_max)) {
			if (!(g->flags & TH_RST)) send_seg(s, g->ack, TH_RST, 0, 0);
			return;
		}
		ack_ok = 1;
	}
	if (g->flags & TH_RST) {
		if (ack_ok) drop_conn(s, ECONNREFUSED);
		return;
	}
	if (!(g->flags & TH_SYN)) return;
	take_syn_options(s, g);
	s->irs = g->seq;
	s->rcv_nxt = g->seq + 1;
	s->rcv_adv = s->rcv_nxt;
	s->snd_wl1 = g->seq;
	s->snd_wl2 = g->ack;
	s->snd_wnd = g->wnd; /* a SYN's window is never scaled */
	s->max_snd_wnd = s->snd_wnd;
	if (ack_ok) {
		s->snd_una = g->ack;
		s->t_rexmt = 0;
		s->retries = 0;
		if (s->ts_ok && g->has_ts && g->tsecr) rtt_sample(s, (uint32_t)now(s->st) - g->tsecr);
		else if (s->rtt_start) rtt_sample(s, (uint32_t)(now(s->st) - s->rtt_start));
		set_state(s, TCP_ESTABLISHED);
		send_ack(s);
		tcp_output(s);
		return;
	}
	/* Simultaneous open (3.5, figure 7): SYN-ACK with our ISS again. */
	set_state(s, TCP_SYN_RECEIVED);
	send_seg(s, s->iss, TH_SYN | TH_ACK, 0, 0);
}

int tcp_shutdown(struct tcp_sock *s);

static void established_from_synrcvd(struct tcp_sock *s)
{
	struct tcp_sock *l = s->parent;
	set_state(s, TCP_ESTABLISHED);
	if (l) {
		l->nembryo--;
		l->naccept++;
		s->aq_next = NULL;
		if (l->aq_tail) l->aq_tail->aq_next = s;
		else l->aq_head = s;
		l->aq_tail = s;
	}
	if (s->shut_pending) tcp_shutdown(s); /* 3.10.4: CLOSE in SYN_RECEIVED sends FIN later */
}

static void orphan_fin_wait2(struct tcp_sock *s)
{
	/* Nobody will read: do not wait forever for the peer's FIN (Linux: tcp_fin_timeout). */
	if (s->state == TCP_FIN_WAIT_2 && s->app_closed) s->t_2msl = now(s->st) + s->st->cfg.fin_wait2_ms;
}

static void conn_input(struct tcp_sock *s, const struct seg *g)
{
	struct tcp_stack *st = s->st;
	uint32_t wnd = SEQ_LT(s->rcv_adv, s->rcv_nxt) ? 0 : s->rcv_adv - s->rcv_nxt;
	/* PAWS (RFC 7323 5.3). */
	if (s->ts_ok && g->has_ts && !(g->flags & TH_RST) && (int32_t)(g->tsval - s->ts_recent) < 0) {
		st->stats.paws_drops++;
		send_ack(s);
		return;
	}
	/* First: sequence acceptability (3.10.7.4, table 6). */
	int ok;
	if (g->len == 0)
		ok = wnd == 0 ? g->seq == s->rcv_nxt : SEQ_GE(g->seq, s->rcv_nxt) && SEQ_LT(g->seq, s->rcv_nxt + wnd);
	else
		ok = wnd != 0 && ((SEQ_GE(g->seq, s->rcv_nxt) && SEQ_LT(g->seq, s->rcv_nxt + wnd)) ||
				  (SEQ_GE(g->seq + g->len - 1, s->rcv_nxt) && SEQ_LT(g->seq + g->len - 1, s->rcv_nxt + wnd)));
	if (!ok) {
		/* Old duplicates, zero-window probes, a retransmitted FIN: ACK what we have. */
		if (g->flags & TH_RST) return;
		if (s->state == TCP_TIME_WAIT && (g->flags & TH_FIN))
			s->t_2msl = now(st) + 2 * (uint64_t)st->cfg.msl_ms;
		send_ack(s);
		return;
	}
	/* RFC 7323 4.3: remember the peer's timestamp of the segment at the left window edge. */
	if (s->ts_ok && g->has_ts && SEQ_LE(g->seq, s->last_ack_sent) && (int32_t)(g->tsval - s->ts_recent) >= 0)
		s->ts_recent = g->tsval;
	/* Second: RST (RFC 5961 3.2: an exact match resets, another in-window RST gets a challenge ACK). */
	if (g->flags & TH_RST) {
		if (g->seq != s->rcv_nxt) {
			st->stats.challenge_acks++;
			send_ack(s);
			return;
		}
		int err = s->state == TCP_SYN_RECEIVED ? ECONNREFUSED
			  : (s->state == TCP_CLOSING || s->state == TCP_LAST_ACK || s->state == TCP_TIME_WAIT) ? 0
			  : ECONNRESET;
		drop_conn(s, err);
		return;
	}
	/* Fourth: SYN in a synchronized state (RFC 5961 4.2): challenge ACK. The peer's own SYN
	 * again in SYN_RECEIVED means our SYN-ACK was lost: send it again. */
	if (g->flags & TH_SYN) {
		if (s->state == TCP_SYN_RECEIVED && g->seq == s->irs) {
			send_seg(s, s->iss, TH_SYN | TH_ACK, 0, 0);
			return;
		}
		st->stats.challenge_acks++;
		send_ack(s);
		return;
	}
	/* Fifth: ACK. */
	if (!(g->flags & TH_ACK)) return;
	if (s->state == TCP_SYN_RECEIVED) {
		if (SEQ_LE(g->ack, s->snd_una) || SEQ_GT(g->ack, s->snd_max)) {
			send_seg(s, g->ack, TH_RST, 0, 0);
			return;
		}
		if (s->parent && s->parent->naccept >= s->parent->backlog) return; /* the peer retries */
		if (sock_buffers(s) < 0) {
			reset_conn(s, ENOMEM);
			return;
		}
		s->snd_una = s->iss + 1;
		s->t_rexmt = 0;
		s->retries = 0;
		s->snd_wnd = (uint32_t)g->wnd << s->snd_wscale;
		s->max_snd_wnd = s->snd_wnd;
		s->snd_wl1 = g->seq;
		s->snd_wl2 = g->ack;
		if (s->ts_ok && g->has_ts && g->tsecr) rtt_sample(s, (uint32_t)now(st) - g->tsecr);
		established_from_synrcvd(s);
	}
	if (process_ack(s, g) < 0) return;
	int fin_acked = s->fin_queued && SEQ_GT(s->snd_una, s->snd_fin);
	if (fin_acked) {
		if (s->state == TCP_FIN_WAIT_1) {
			set_state(s, TCP_FIN_WAIT_2);
			orphan_fin_wait2(s);
		} else if (s->state == TCP_CLOSING) {
			set_state(s, TCP_TIME_WAIT);
		} else if (s->state == TCP_LAST_ACK) {
			drop_conn(s, 0);
			return;
		}
	}
	/* Seventh: segment text. */
	if (g->dlen && (s->state == TCP_ESTABLISHED || s->state == TCP_FIN_WAIT_1 || s->state == TCP_FIN_WAIT_2)) {
		if (s->app_closed) {
			/* Closed by the app: nobody will read this (RFC 9293 3.6, RFC 2525 2.17). A
			 * connection still in the accept queue is not closed: its data waits. */
			reset_conn(s, 0);
			return;
		}
		uint32_t seq = g->seq, n = g->dlen;
		const uint8_t *d = g->data;
		if (SEQ_LT(seq, s->rcv_nxt)) {
			uint32_t skip = s->rcv_nxt - seq;
			if (skip >= n) n = 0;
			else {
				d += skip;
				n -= skip;
				seq = s->rcv_nxt;
			}
		}
		if (n) {
			int had_ooo = s->nooo != 0;
			if (seq != s->rcv_nxt) {
				st->stats.ooo_segs++;
				s->ack_pending = 2; /* a duplicate ACK at once (RFC 5681 4.2) */
			} else if (had_ooo) {
				s->ack_pending = 2; /* filling a hole: ACK at once */
			} else if (++s->ack_pending < 2 && !s->t_delack) {
				s->t_delack = now(st) + st->cfg.delack_ms;
			}
			store_data(s, seq, d, n);
		}
	}
	/* Eighth: FIN. */
	if ((g->flags & TH_FIN) && !s->fin_rcvd) {
		uint32_t fseq = g->seq + g->dlen;
		if (fseq == s->rcv_nxt) got_fin(s);
		else if (SEQ_GT(fseq, s->rcv_nxt)) {
			s->fin_pending = 1;
			s->fin_seq = fseq;
		}
	}
	if (s->fin_pending && s->rcv_nxt == s->fin_seq) got_fin(s);
	if (s->state == TCP_TIME_WAIT) return;
	tcp_output(s);
}

static void tcp_input(void *ctx, const struct ip_rx *rx, const uint8_t *p, uint16_t len)
{
	struct tcp_stack *st = ctx;
	struct seg g;
	st->stats.rx_segs++;
	if (!ip_is_local(st->ip, rx->dst)) return; /* no TCP to broadcast addresses */
	if (parse(&g, p, len) < 0) {
		st->stats.rx_bad++;
		return;
	}
	if (inet_fold(inet_sum(p, len, inet_pseudo_sum(rx->src, rx->dst, IP_PROTO_TCP, len))) != 0) {
		st->stats.rx_bad_csum++;
		return;
	}
	struct tcp_sock *s = lookup(st, rx->src, net_get16(p), rx->dst, net_get16(p + 2));
	if (!s) {
		st->stats.rx_no_sock++;
		send_reset(st, rx, p, &g);
		return;
	}
	if (s->state == TCP_LISTEN) {
		listen_input(s, rx, p, &g);
		return;
	}
	s->last_rx = now(st);
	s->keep_sent = 0;
	if (s->state == TCP_SYN_SENT) synsent_input(s, &g);
	else conn_input(s, &g);
}

/* ---- timers ---- */

static void on_rexmt(struct tcp_sock *s)
{
	struct tcp_stack *st = s->st;
	s->t_rexmt = 0;
	st->stats.timeouts++;
	int syn = s->state == TCP_SYN_SENT || s->state == TCP_SYN_RECEIVED;
	if (++s->retries > (syn ? st->cfg.syn_retries : st->cfg.data_retries)) {
		if (syn) drop_conn(s, ETIMEDOUT);
		else reset_conn(s, ETIMEDOUT);
		return;
	}
	/* RFC 6298 5.5-5.7: back off; RFC 5681 (4): one segment; RFC 6582: recover = highest sent. */
	s->rto = s->rto * 2 > st->cfg.rto_max_ms ? st->cfg.rto_max_ms : s->rto * 2;
	uint32_t half = flight(s) / 2;
	s->ssthresh = half > 2u * s->mss ? half : 2u * s->mss;
	s->cwnd = s->mss;
	s->in_recovery = 0;
	s->dupacks = 0;
	s->recover = s->snd_max;
	s->rtt_active = 0;
	/* A second timeout in a row: the peer may have dropped what it SACKed (RFC 2018 8). */
	if (s->retries > 1) s->nsb = 0;
	if (syn) {
		s->snd_nxt = s->iss;
		s->retransmits++;
		st->stats.retransmits++;
	} else {
		s->snd_nxt = s->snd_una; /* go back: resend from the first unacknowledged byte */
	}
	tcp_output(s);
}

static void on_persist(struct tcp_sock *s)
{
	struct tcp_stack *st = s->st;
	st->stats.persist_probes++;
	if (s->snd_wnd) {
		/* A small window kept closed by SWS avoidance: send what fits. */
		uint32_t n = s->slen < s->snd_wnd ? s->slen : s->snd_wnd;
		if (n > s->mss) n = s->mss;
		int r = send_seg(s, s->snd_nxt, TH_ACK | TH_PSH, s->snd_nxt - s->snd_una, n);
		if (r > 0) {
			s->snd_nxt += (uint32_t)r;
			if (SEQ_GT(s->snd_nxt, s->snd_max)) s->snd_max = s->snd_nxt;
			s->t_persist = 0;
			arm_rexmt(s);
			return;
		}
	} else {
		/* Zero-window probe: an old sequence number makes the peer answer with its window. */
		send_seg(s, s->snd_una - 1, TH_ACK, 0, 0);
	}
	if (s->persist_backoff < 16) s->persist_backoff++;
	uint64_t t = (uint64_t)s->rto << s->persist_backoff;
	if (t > st->cfg.rto_max_ms) t = st->cfg.rto_max_ms;
	s->t_persist = now(st) + t;
}

void tcp_timer(struct tcp_stack *st)
{
	uint64_t t = now(st);
	struct tcp_sock *next;
	for (struct tcp_sock *s = st->socks; s; s = next) {
		next = s->next; /* s may be freed below */
		if (s->state == TCP_CLOSED || s->state == TCP_LISTEN) continue;
		if (s->t_2msl && t >= s->t_2msl) {
			drop_conn(s, 0);
			continue;
		}
		if (s->t_delack && t >= s->t_delack) {
			s->t_delack = 0;
			if (s->ack_pending) send_ack(s);
		}
		if (s->t_rexmt && t >= s->t_rexmt) {
			s->t_tlp = 0;
			on_rexmt(s);
			continue;
		}
		if (s->t_tlp && t >= s->t_tlp) {
			s->t_tlp = 0;
			on_tlp(s);
		}
		if (s->t_persist && t >= s->t_persist) {
			s->t_persist = 0;
			on_persist(s);
		}
		if (s->keepalive && (s->state == TCP_ESTABLISHED || s->state == TCP_CLOSE_WAIT) &&
		    t >= s->last_rx + st->cfg.keep_idle_ms + (uint64_t)s->keep_sent * st->cfg.keep_intvl_ms) {
			if (s->keep_sent >= st->cfg.keep_probes) {
				reset_conn(s, ETIMEDOUT);
				continue;
			}
			/* RFC 1122 4.2.3.6: an ACK with an old sequence number, no data. */
			st->stats.keepalive_probes++;
			s->keep_sent++;
			send_seg(s, s->snd_una - 1, TH_ACK, 0, 0);
		}
		/* Data that could not go out for want of netbufs gets another chance. */
		if (s->state >= TCP_ESTABLISHED && s->slen > s->snd_nxt - s->snd_una) tcp_output(s);
	}
}

/* ---- the socket API ---- */

static int port_taken(struct tcp_stack *st, uint16_t port, const struct tcp_sock *self)
{
	/* Connections (even in TIME_WAIT) do not block a bind: SO_REUSEADDR semantics always. */
	for (struct tcp_sock *s = st->socks; s; s = s->next)
		if (s != self && s->lport == port && (s->state == TCP_LISTEN || (s->state == TCP_CLOSED && s->app_owned)))
			return 1;
	return 0;
}

int tcp_bind(struct tcp_sock *s, uint16_t port)
{
	if (s->state != TCP_CLOSED || s->lport || port == 0) return -EINVAL;
	if (port_taken(s->st, port, s)) return -EADDRINUSE;
	s->lport = port;
	return 0;
}

int tcp_listen(struct tcp_sock *s, uint16_t backlog)
{
	if (s->state != TCP_CLOSED || !s->lport || backlog == 0) return -EINVAL;
	s->backlog = backlog;
	s->state = TCP_LISTEN;
	return 0;
}

struct tcp_sock *tcp_accept(struct tcp_sock *l, int *err)
{
	if (l->state != TCP_LISTEN) {
		*err = -EINVAL;
		return NULL;
	}
	struct tcp_sock *c = l->aq_head;
	if (!c) {
		*err = -EAGAIN;
		return NULL;
	}
	l->aq_head = c->aq_next;
	if (!l->aq_head) l->aq_tail = NULL;
	l->naccept--;
	c->aq_next = NULL;
	c->parent = NULL;
	c->app_owned = 1;
	return c;
}

int tcp_connect(struct tcp_sock *s, uint32_t addr, uint16_t port)
{
	struct tcp_stack *st = s->st;
	if (s->state != TCP_CLOSED || s->err || s->raddr) return -EISCONN;
	if (port == 0 || addr == 0) return -EINVAL;
	if (!s->lport) {
		for (int tries = 0; tries < 16384 && !s->lport; tries++) {
			uint16_t p = st->next_ephemeral;
			st->next_ephemeral = (uint16_t)(p == 65535 ? 49152 : p + 1);
			int used = 0;
			for (struct tcp_sock *o = st->socks; o && !used; o = o->next) used = o->lport == p;
			if (!used) s->lport = p;
		}
		if (!s->lport) return -EADDRINUSE;
	}
	if (sock_buffers(s) < 0) return -ENOMEM;
	s->laddr = ip_source(st->ip, addr);
	s->raddr = addr;
	s->rport = port;
	s->rcv_wscale = choose_wscale(s->rcap);
	s->iss = make_isn(st, s->laddr, s->lport, addr, port);
	s->sack_hi = s->iss; /* nothing SACKed (0 could look far ahead of snd_una) */
	s->snd_una = s->snd_nxt = s->snd_max = s->recover = s->iss; /* RFC 6582: recover = ISS */
	s->mss = (uint16_t)(ip_mtu_payload(st->ip) - TCP_HLEN);
	s->rtt_start = now(st);
	s->last_rx = now(st);
	s->state = TCP_SYN_SENT;
	tcp_output(s);
	return -EINPROGRESS;
}

int tcp_send(struct tcp_sock *s, const void *buf, uint32_t len)
{
	if (s->err) return -s->err;
	if (s->fin_queued) return -EPIPE;
	if (s->state == TCP_SYN_SENT || s->state == TCP_SYN_RECEIVED) return -EAGAIN;
	if (s->state != TCP_ESTABLISHED && s->state != TCP_CLOSE_WAIT) return -ENOTCONN;
	uint32_t room = s->scap - s->slen;
	if (room == 0) return -EAGAIN;
	uint32_t n = len < room ? len : room;
	if (s->slen + n > s->ssize) {
		/* The ring that holds it all, or the largest one memory allows; without any, queue
		 * what the ring we have takes. */
		uint32_t size = ring_next(s->ssize, s->slen + n, TCP_SBUF_INIT, s->scap);
		while (ring_grow(s, &s->sbuf, &s->ssize, &s->shead, size) < 0) {
			s->sgrow_failed = 1;
			size /= 2;
			if (size <= s->ssize || size < TCP_SBUF_INIT) break;
		}
		if (n > s->ssize - s->slen) n = s->ssize - s->slen;
		if (n == 0) return -EAGAIN;
	}
	uint32_t pos = (s->shead + s->slen) % s->ssize;
	uint32_t first = s->ssize - pos < n ? s->ssize - pos : n;
	memcpy(s->sbuf + pos, buf, first);
	memcpy(s->sbuf, (const uint8_t *)buf + first, n - first);
	s->slen += n;
	tcp_output(s);
	return (int)n;
}

int tcp_recv(struct tcp_sock *s, void *buf, uint32_t len)
{
	if (s->rlen == 0) {
		if (s->err) return -s->err;
		if (s->fin_rcvd) return 0;
		if (s->state == TCP_CLOSED || s->state == TCP_LISTEN) return -ENOTCONN;
		return -EAGAIN;
	}
	uint32_t n = len < s->rlen ? len : s->rlen;
	uint32_t first = s->rsize - s->rhead < n ? s->rsize - s->rhead : n;
	memcpy(buf, s->rbuf + s->rhead, first);
	memcpy((uint8_t *)buf + first, s->rbuf, n - first);
	s->rhead = (s->rhead + n) % s->rsize;
	s->rlen -= n;
	release_rings(s);
	/* Receiver SWS avoidance (3.8.6.2.2): announce a window update once it grew by
	 * min(half the buffer, 2 MSS). */
	if (s->state == TCP_ESTABLISHED || s->state == TCP_FIN_WAIT_1 || s->state == TCP_FIN_WAIT_2) {
		uint32_t edge = s->rcv_nxt + (rcv_space(s) >> s->rcv_wscale << s->rcv_wscale);
		uint32_t step = s->rsize / 2 < 2u * s->mss ? s->rsize / 2 : 2u * s->mss;
		if (SEQ_GE(edge, s->rcv_adv + step)) send_ack(s);
	}
	return (int)n;
}

int tcp_shutdown(struct tcp_sock *s)
{
	if (s->fin_queued) return 0;
	if (s->state == TCP_SYN_SENT) {
		drop_conn(s, 0);
		return 0;
	}
	if (s->state == TCP_SYN_RECEIVED) {
		s->shut_pending = 1;
		return 0;
	}
	if (s->state != TCP_ESTABLISHED && s->state != TCP_CLOSE_WAIT) return -ENOTCONN;
	s->fin_queued = 1;
	s->snd_fin = s->snd_una + s->slen;
	set_state(s, s->state == TCP_ESTABLISHED ? TCP_FIN_WAIT_1 : TCP_LAST_ACK);
	tcp_output(s);
	return 0;
}

static void close_listener(struct tcp_sock *l)
{
	for (;;) {
		struct tcp_sock *c = l->st->socks;
		while (c && c->parent != l) c = c->next;
		if (!c) break;
		/* Embryos vanish; connections nobody accepted are reset. */
		if (c->state == TCP_SYN_RECEIVED) drop_conn(c, 0);
		else reset_conn(c, 0);
	}
	sock_free(l);
}

void tcp_close(struct tcp_sock *s)
{
	s->app_owned = 0;
	s->app_closed = 1;
	switch (s->state) {
	case TCP_LISTEN: close_listener(s); return;
	case TCP_CLOSED:
	case TCP_SYN_SENT: drop_conn(s, 0); return;
	default: break;
	}
	if (s->rlen) {
		reset_conn(s, 0); /* unread data: RST, not FIN (RFC 2525 2.17) */
		return;
	}
	if (s->state == TCP_ESTABLISHED || s->state == TCP_CLOSE_WAIT || s->state == TCP_SYN_RECEIVED) tcp_shutdown(s);
	else orphan_fin_wait2(s);
}

void tcp_abort(struct tcp_sock *s)
{
	s->app_owned = 0;
	s->app_closed = 1;
	if (s->state == TCP_LISTEN) close_listener(s);
	else if (s->state >= TCP_SYN_RECEIVED && s->state != TCP_TIME_WAIT) reset_conn(s, 0);
	else drop_conn(s, 0);
}

int tcp_poll_events(const struct tcp_sock *s)
{
	int ev = 0;
	if (s->rlen || s->fin_rcvd || s->err || (s->state == TCP_LISTEN && s->aq_head)) ev |= TCP_EV_READ;
	/* Writable: room in the ring, or it may grow (after a failed growth, once an ACK made room;
	 * an empty ring always, so a writer never waits for an ACK that cannot come). */
	int room = s->slen < s->ssize || (s->ssize < s->scap && (!s->sgrow_failed || s->slen == 0));
	if ((s->state == TCP_ESTABLISHED || s->state == TCP_CLOSE_WAIT) && !s->fin_queued && room) ev |= TCP_EV_WRITE;
	if (s->err) ev |= TCP_EV_ERR;
	return ev;
}

int tcp_setopt(struct tcp_sock *s, enum tcp_opt opt, uint32_t v)
{
	switch (opt) {
	case TCP_OPT_NODELAY: s->nodelay = v != 0; if (s->nodelay) tcp_output(s); return 0;
	case TCP_OPT_KEEPALIVE: s->keepalive = v != 0; return 0;
	case TCP_OPT_SNDBUF:
	case TCP_OPT_RCVBUF:
		if (s->state != TCP_CLOSED || s->raddr || v < 2048 || v > (1u << 30)) return -EINVAL;
		if (opt == TCP_OPT_SNDBUF) s->scap = v;
		else s->rcap = v;
		return 0;
	}
	return -EINVAL;
}

void tcp_get_info(const struct tcp_sock *s, struct tcp_info *o)
{
	memset(o, 0, sizeof(*o));
	o->state = (enum tcp_state)s->state;
	o->laddr = s->laddr;
	o->raddr = s->raddr;
	o->lport = s->lport;
	o->rport = s->rport;
	o->mss = s->mss;
	o->snd_wscale = s->snd_wscale;
	o->rcv_wscale = s->rcv_wscale;
	o->timestamps = s->ts_ok;
	o->cwnd = s->cwnd;
	o->ssthresh = s->ssthresh;
	o->srtt_ms = s->srtt8 / 8;
	o->rto_ms = s->rto;
	o->snd_wnd = s->snd_wnd;
	o->unacked = s->snd_max - s->snd_una;
	o->unread = s->rlen;
	o->retransmits = s->retransmits;
	o->snd_nxt = s->snd_nxt;
	o->rcv_nxt = s->rcv_nxt;
	o->rcv_wnd = rcv_space(s);
	o->sbuf_bytes = s->ssize;
	o->rbuf_bytes = s->rsize;
	o->error = s->err;
}
