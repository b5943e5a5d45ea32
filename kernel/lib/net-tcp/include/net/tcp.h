/* net-tcp: TCP (RFC 9293) over net-ipv4, with a native non-blocking socket-like API.
 *
 * Implemented: all eleven states with simultaneous open and close, TIME_WAIT (2 MSL), RST
 * generation and validation (RFC 9293 3.10.7, with RFC 5961 challenge ACKs), MSS, window scaling
 * and timestamps with PAWS (RFC 7323), retransmission timer (RFC 6298, Karn via timestamps),
 * slow start / congestion avoidance (RFC 5681), fast retransmit and NewReno recovery (RFC 6582),
 * zero-window probing, Nagle and delayed ACK (RFC 1122), keepalive, an out-of-order receive
 * queue, a bounded listen backlog (accept queue) and SYN queue whose embryonic connections
 * cost no buffers (a SYN flood evicts the oldest embryo, memory stays bounded), and SACK blocks in
 * our ACKs (RFC 2018), SACK-based recovery as a sender (RFC 6675 scoreboard, pipe and NextSeg,
 * with early retransmit, RFC 5827, and a tail loss probe, RFC 8985 7; on unless tcp_config.sack
 * = 0), and send/receive rings that start small and grow to sndbuf/rcvbuf on demand (freed in
 * TIME_WAIT). Not implemented: RACK time-based loss detection, D-SACK use (RFC 2883: D-SACKs are
 * recognized and ignored), urgent data (URG is ignored), ECN, TFO, SYN cookies, path-MTU
 * discovery, shrinking a grown ring when idle.
 *
 * All calls return at once: -EAGAIN when they would block. tcp_poll_events() says what is ready. */
#ifndef KILN_NET_TCP_H
#define KILN_NET_TCP_H

#include <stdint.h>
#include <net/ipv4.h>

enum tcp_state {
	TCP_CLOSED, TCP_LISTEN, TCP_SYN_SENT, TCP_SYN_RECEIVED, TCP_ESTABLISHED, TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2, TCP_CLOSE_WAIT, TCP_CLOSING, TCP_LAST_ACK, TCP_TIME_WAIT,
};

struct tcp_config {
	uint32_t sndbuf, rcvbuf;          /* per connection (default 256 KiB each): the limits; the
	                                   * rings start at 4 KiB (send, at the first send) and 16 KiB
	                                   * (receive) and double when the connection needs more */
	uint32_t rto_initial_ms;          /* RFC 6298: 1 s */
	uint32_t rto_min_ms;              /* RFC 6298 says 1 s; default 200 ms as Linux */
	uint32_t rto_max_ms;              /* 60 s */
	uint32_t msl_ms;                  /* TIME_WAIT lasts 2 MSL (default MSL 30 s) */
	uint32_t delack_ms;               /* delayed ACK (default 40 ms; RFC 1122: < 500 ms) */
	uint32_t fin_wait2_ms;            /* an orphaned FIN_WAIT_2 gives up after this (60 s) */
	uint32_t keep_idle_ms, keep_intvl_ms, keep_probes; /* 2 h, 75 s, 9 (RFC 1122 4.2.3.6) */
	uint32_t syn_retries;             /* SYN / SYN-ACK retransmissions (default 5) */
	uint32_t data_retries;            /* data retransmissions before ETIMEDOUT (default 12) */
	uint32_t max_socks;               /* connections + listeners + embryos (default 1024) */
	uint32_t syn_backlog;             /* embryos (SYN received) per listener, or its listen backlog if larger; beyond, the oldest
	                                   * is evicted (default 64) */
	uint8_t sack;                     /* offer SACK (default 1): SACK blocks in our ACKs (RFC
	                                   * 2018) and, as a sender, RFC 6675 recovery with early
	                                   * retransmit and a tail loss probe; 0: NewReno only */
};

/* The defaults above. */
void tcp_config_default(struct tcp_config *c);

struct tcp_stats {
	uint64_t rx_segs, rx_bad_csum, rx_bad, rx_no_sock, tx_segs, tx_rst, retransmits, timeouts,
		fast_retransmits, partial_acks, dup_acks_rx, ooo_segs, paws_drops, challenge_acks,
		syn_dropped, embryos_evicted, persist_probes, keepalive_probes,
		sack_recoveries, sack_retransmits, sack_lost_rexmits, tlp_probes;
};

struct tcp_sock;

struct tcp_stack {
	struct net_ip *ip;
	const struct net_env *env;
	struct tcp_config cfg;
	struct tcp_sock *socks;           /* every socket the stack knows */
	uint32_t nsocks;
	uint32_t isn_secret;
	uint16_t next_ephemeral;
	struct tcp_stats stats;
};

void tcp_init(struct tcp_stack *st, struct net_ip *ip, const struct net_env *env, const struct tcp_config *cfg);
/* Frees every socket (no segments sent). */
void tcp_fini(struct tcp_stack *st);
/* Timers (retransmission, persist, delayed ACK, keepalive, TIME_WAIT); call every few ms. */
void tcp_timer(struct tcp_stack *st);

/* A new closed socket, or NULL when max_socks is reached or memory is out. */
struct tcp_sock *tcp_socket(struct tcp_stack *st);
int tcp_bind(struct tcp_sock *s, uint16_t port);               /* -EADDRINUSE, -EINVAL */
int tcp_listen(struct tcp_sock *s, uint16_t backlog);          /* backlog >= 1 */
/* The next established connection, or NULL with *err = -EAGAIN (or -EINVAL: not listening). */
struct tcp_sock *tcp_accept(struct tcp_sock *s, int *err);
/* Starts an active open: -EINPROGRESS, then TCP_EV_WRITE once established. */
int tcp_connect(struct tcp_sock *s, uint32_t addr, uint16_t port);
/* Bytes queued (maybe fewer than len), -EAGAIN when the send buffer is full, -EPIPE after
 * shutdown, -ENOTCONN, or the connection's error. */
int tcp_send(struct tcp_sock *s, const void *buf, uint32_t len);
/* Bytes read, 0 at end of stream, -EAGAIN, or the connection's error (-ECONNRESET ...). */
int tcp_recv(struct tcp_sock *s, void *buf, uint32_t len);
/* Sends FIN once queued data is out (SHUT_WR); reading goes on. */
int tcp_shutdown(struct tcp_sock *s);
/* Gives the socket back: a graceful close (FIN), or RST when unread data remains. The stack
 * frees it when the connection ends; the pointer is invalid after the call. */
void tcp_close(struct tcp_sock *s);
/* Sends RST and frees the socket. */
void tcp_abort(struct tcp_sock *s);

#define TCP_EV_READ 1     /* data, end of stream, a connection to accept, or an error */
#define TCP_EV_WRITE 2    /* room in the send buffer of an established connection */
#define TCP_EV_ERR 4
int tcp_poll_events(const struct tcp_sock *s);

enum tcp_opt { TCP_OPT_NODELAY, TCP_OPT_KEEPALIVE, TCP_OPT_SNDBUF, TCP_OPT_RCVBUF };
/* Options; SNDBUF/RCVBUF only before connect/listen. */
int tcp_setopt(struct tcp_sock *s, enum tcp_opt opt, uint32_t value);

struct tcp_info {
	enum tcp_state state;
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint16_t mss;
	uint8_t snd_wscale, rcv_wscale, timestamps;
	uint32_t cwnd, ssthresh, srtt_ms, rto_ms, snd_wnd, unacked, unread;
	uint32_t snd_nxt, rcv_nxt, rcv_wnd;   /* sequence space, for tests and diagnostics */
	uint32_t sbuf_bytes, rbuf_bytes;      /* the rings as allocated now (they grow up to
	                                       * sndbuf/rcvbuf and are freed once no data can move) */
	uint64_t retransmits;
	int error;
};
void tcp_get_info(const struct tcp_sock *s, struct tcp_info *out);
const char *tcp_state_name(enum tcp_state st);

#endif
