/* Two complete stacks (A = 10.0.0.1, B = 10.0.0.2) wired back to back in memory with one
 * virtual clock: deterministic tests of the state machine and the timers, on the host and in a
 * guest test image alike. A filter sees every frame and may drop it. */
#ifndef NET_TCP_TESTS_PAIR_H
#define NET_TCP_TESTS_PAIR_H

#include <net/stack.h>

#define PAIR_A 0x0a000001u
#define PAIR_B 0x0a000002u
#define PAIR_QUEUE 256

struct pair;

struct node {
	struct pair *p;
	int id;
	struct netbuf_pool pool;
	struct netdev dev;
	struct net_stack st;
	struct netbuf *rxq[PAIR_QUEUE];   /* frames in flight to this node */
	int nrx;
	uint64_t data_segs_sent, pure_acks_sent, sack_acks_sent;
};

struct pair {
	struct net_env env;
	uint64_t now;
	uint64_t rng;
	struct node n[2];
	/* Returns 1 to drop a frame sent by node `from`. */
	int (*drop)(struct pair *p, int from, const uint8_t *frame, uint16_t len);
	long drop_arg, drop_count;
	/* What the stacks hold through net_env (tests measure per-connection memory with it). */
	long live_bytes, live_allocs;
	/* Allocations larger than this fail when not 0 (out of memory); counted. */
	unsigned long alloc_limit, alloc_failures;
};

/* 0, or -ENOMEM. cfg may be NULL (defaults, small buffers). */
int pair_init(struct pair *p, const struct tcp_config *cfg);
void pair_fini(struct pair *p);
/* Delivers frames and runs timers, ms virtual milliseconds, 1 ms at a time. */
void pair_run(struct pair *p, uint32_t ms);
/* Delivers the frames in flight now, once (no timers, no clock). */
void pair_deliver(struct pair *p);
/* Runs until cond(arg) is true or limit_ms passed; returns 1 when it became true. */
int pair_until(struct pair *p, int (*cond)(void *), void *arg, uint32_t limit_ms);
/* Payload length of a TCP frame, -1 for other frames; flags into *flags. */
int frame_tcp(const uint8_t *f, uint16_t len, uint8_t *flags, uint32_t *seq);
/* Injects a TCP segment to node `to` as if sent by the other node; with a timestamps option
 * (TSval tsval, TSecr 0) when tsval is not 0. */
void pair_inject_tcp(struct pair *p, int to, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		     uint8_t flags, uint16_t wnd, const void *data, uint16_t dlen, uint32_t tsval);
enum tcp_state sock_state(const struct tcp_sock *s);

#endif
