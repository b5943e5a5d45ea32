/* The stack as a host program on a TAP device (run inside a network namespace by
 * ../host.test.ts), so it can be tested against Linux's own TCP. Usage:
 *   harness --tap NAME --ip A.B.C.D [options] MODE ARGS...
 * Modes:
 *   echo PORT                   accept connections, echo everything, close after the peer does
 *   sink PORT                   accept one connection, read to EOF, print its SHA-256
 *   source PORT BYTES           accept one connection, send BYTES of seeded data, then FIN
 *   connect IP PORT BYTES       connect, send BYTES, FIN, read to EOF; print both hashes
 *   abort PORT                  accept one connection, read a little, then RST it
 *   udp-echo PORT               echo datagrams (one too big to echo gets "BIG <len> <sha256>")
 * Options: --seed N, --loss P --reorder P --dup P --corrupt P (both directions),
 *   --drop-tx-data N / --drop-rx-data N (drop the Nth data segment), --pause-ms N (do not read
 *   for N ms after accepting), --conns N (echo: exit after N connections), --rcvbuf N, --sndbuf N,
 *   --msl-ms N, --sack 0|1, --timeout-ms N (give up), --pcap FILE (write the frames the stack saw).
 * Prints "READY" once the stack is up, "RESULT key=value ..." lines, and "STATS ..." at the end;
 * exits non-zero on a failure. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <net/stack.h>
#include "host_env.h"

struct held {
	uint8_t *data;
	size_t len;
};

struct tapdev {
	int fd;
	struct faults rx, tx;
	struct held rx_held, tx_held;
	uint64_t tx_held_at, rx_held_at;
	struct host_env *h;
};

static struct netbuf_pool pool;
static FILE *pcap;

/* --pcap FILE: every frame as the stack saw it (after the fault injector), for Wireshark. */
static void pcap_frame(const uint8_t *d, size_t n)
{
	if (!pcap) return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint32_t h[4] = {(uint32_t)ts.tv_sec, (uint32_t)(ts.tv_nsec / 1000), (uint32_t)n, (uint32_t)n};
	fwrite(h, sizeof(h), 1, pcap);
	fwrite(d, 1, n, pcap);
}
static struct netdev dev;
static struct tapdev tap;
static struct host_env henv;

static void die(const char *msg)
{
	fprintf(stderr, "harness: %s\n", msg);
	exit(2);
}

static int tap_open(const char *name)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
	if (fd < 0) die("cannot open /dev/net/tun (needs CAP_NET_ADMIN): run as root inside a network namespace");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF failed: create the device first (ip tuntap add dev NAME mode tap)");
	return fd;
}

static void tap_write(const uint8_t *d, size_t n)
{
	pcap_frame(d, n);
	if (write(tap.fd, d, n) < 0 && errno != EAGAIN) perror("harness: tap write");
}

static uint16_t tap_tx(struct netdev *d, struct netbuf **bufs, uint16_t n)
{
	(void)d;
	for (uint16_t i = 0; i < n; i++) {
		struct netbuf *nb = bufs[i];
		int hold;
		int copies = faults_apply(&tap.tx, netbuf_data(nb), nb->len, &hold);
		if (hold && copies && !tap.tx_held.data) {
			tap.tx_held.data = malloc(nb->len);
			memcpy(tap.tx_held.data, netbuf_data(nb), nb->len);
			tap.tx_held.len = nb->len;
			tap.tx_held_at = net_now(&henv.env);
			copies--;
		}
		for (int c = 0; c < copies; c++) tap_write(netbuf_data(nb), nb->len);
		if (copies && tap.tx_held.data && !hold) {
			/* Reordered: the held frame goes out after this one. */
			tap_write(tap.tx_held.data, tap.tx_held.len);
			free(tap.tx_held.data);
			tap.tx_held.data = NULL;
		}
		netbuf_free(dev.pool, nb);
	}
	return n;
}

static struct netbuf *pending_rx[64];
static int npending_rx;

/* Queues a copy of a frame for the next rx_burst; 0, or -1 when there is no room. */
static int push_pending(const uint8_t *data, size_t len)
{
	struct netbuf *c = npending_rx < 64 ? netbuf_alloc(dev.pool) : NULL;
	if (!c) return -1;
	memcpy(netbuf_data(c), data, len);
	c->len = (uint16_t)len;
	pending_rx[npending_rx++] = c;
	return 0;
}

/* Delivers the frame held for reordering (rx side). */
static int release_rx_held(void)
{
	if (push_pending(tap.rx_held.data, tap.rx_held.len) < 0) return -1;
	free(tap.rx_held.data);
	tap.rx_held.data = NULL;
	return 0;
}

static uint16_t tap_rx(struct netdev *d, struct netbuf **bufs, uint16_t n)
{
	uint16_t got = 0;
	while (got < n && npending_rx) {
		bufs[got] = pending_rx[--npending_rx];
		pcap_frame(netbuf_data(bufs[got]), bufs[got]->len);
		got++;
	}
	while (got < n) {
		struct netbuf *nb = netbuf_alloc(d->pool);
		if (!nb) break;
		ssize_t r = read(tap.fd, netbuf_data(nb), nb->cap - nb->off);
		if (r <= 0) {
			netbuf_free(d->pool, nb);
			break;
		}
		nb->len = (uint16_t)r;
		int hold;
		int copies = faults_apply(&tap.rx, netbuf_data(nb), nb->len, &hold);
		if (copies == 0) {
			netbuf_free(d->pool, nb);
			continue;
		}
		if (hold && !tap.rx_held.data) {
			tap.rx_held.data = malloc(nb->len);
			memcpy(tap.rx_held.data, netbuf_data(nb), nb->len);
			tap.rx_held.len = nb->len;
			tap.rx_held_at = net_now(&henv.env);
			netbuf_free(d->pool, nb);
			continue;
		}
		bufs[got++] = nb;
		pcap_frame(netbuf_data(nb), nb->len);
		if (copies == 2) push_pending(netbuf_data(nb), nb->len);
		if (tap.rx_held.data && release_rx_held() < 0) {
			free(tap.rx_held.data); /* no room: the held frame is lost instead */
			tap.rx_held.data = NULL;
		}
	}
	return got;
}

/* A held frame with no successor within 20 ms is delivered late rather than lost. */
static void flush_held(void)
{
	uint64_t t = net_now(&henv.env);
	if (tap.tx_held.data && t - tap.tx_held_at > 20) {
		tap_write(tap.tx_held.data, tap.tx_held.len);
		free(tap.tx_held.data);
		tap.tx_held.data = NULL;
	}
	if (tap.rx_held.data && t - tap.rx_held_at > 20) release_rx_held();
}

static const struct netdev_ops tap_ops = {.rx_burst = tap_rx, .tx_burst = tap_tx};

static struct net_stack net;

static void poll_stack(int wait_ms)
{
	struct pollfd p = {tap.fd, POLLIN, 0};
	if (!npending_rx) poll(&p, 1, wait_ms);
	flush_held();
	net_poll(&net, 256);
}

static uint32_t parse_ip(const char *s)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1) die("bad IPv4 address");
	return ntohl(a.s_addr);
}

static void fill(uint8_t *buf, size_t n, uint64_t *rng)
{
	for (size_t i = 0; i < n; i += 4) {
		uint32_t r = host_rand(rng);
		memcpy(buf + i, &r, n - i < 4 ? n - i : 4);
	}
}

static uint64_t deadline;
static void check_deadline(void)
{
	if (deadline && net_now(&henv.env) > deadline) {
		fprintf(stderr, "harness: timed out\n");
		printf("RESULT timeout=1\n");
		exit(3);
	}
}

static struct tcp_sock *accept_one(struct tcp_sock *l)
{
	for (;;) {
		int err;
		struct tcp_sock *c = tcp_accept(l, &err);
		if (c) return c;
		poll_stack(1);
		check_deadline();
	}
}

/* Waits for the connection to finish after our FIN (TIME_WAIT or CLOSED), then closes it. */
static void finish(struct tcp_sock *s)
{
	struct tcp_info ti;
	for (;;) {
		tcp_get_info(s, &ti);
		if (ti.state == TCP_CLOSED || ti.state == TCP_TIME_WAIT) break;
		poll_stack(1);
		check_deadline();
	}
	printf("RESULT final_state=%s error=%d retransmits=%llu\n", tcp_state_name(ti.state), ti.error,
	       (unsigned long long)ti.retransmits);
	tcp_close(s);
}

/* Reads to EOF into a hash; returns the byte count or -error. */
static long read_all(struct tcp_sock *s, struct sha256 *sh, uint64_t pause_ms)
{
	static uint8_t buf[65536];
	long total = 0;
	uint64_t until = net_now(&henv.env) + pause_ms;
	while (net_now(&henv.env) < until) poll_stack(1);
	for (;;) {
		int n = tcp_recv(s, buf, sizeof(buf));
		if (n > 0) {
			sha256_update(sh, buf, (size_t)n);
			total += n;
			continue;
		}
		if (n == 0) return total;
		if (n != -EAGAIN) return n;
		poll_stack(1);
		check_deadline();
	}
}

/* Sends bytes of seeded data (and reads anything coming back into rx_sh when given). */
static long send_all(struct tcp_sock *s, long bytes, uint64_t seed, struct sha256 *tx_sh, struct sha256 *rx_sh, long *rx_total)
{
	static uint8_t buf[65536], rbuf[65536];
	uint64_t rng = seed * 7919 + 3;
	long sent = 0;
	int have = 0, off = 0;
	while (sent < bytes) {
		if (off == have) {
			have = (int)(bytes - sent < (long)sizeof(buf) ? bytes - sent : (long)sizeof(buf));
			fill(buf, (size_t)have, &rng);
			sha256_update(tx_sh, buf, (size_t)have);
			off = 0;
		}
		int n = tcp_send(s, buf + off, (uint32_t)(have - off));
		if (n > 0) {
			off += n;
			sent += n;
		} else if (n != -EAGAIN) {
			return n;
		}
		if (rx_sh) {
			int r;
			while ((r = tcp_recv(s, rbuf, sizeof(rbuf))) > 0) {
				sha256_update(rx_sh, rbuf, (size_t)r);
				*rx_total += r;
			}
		}
		if (n == -EAGAIN || n < have - off) poll_stack(1);
		check_deadline();
	}
	return sent;
}

static void print_stats(void)
{
	struct tcp_stats *t = &net.tcp.stats;
	printf("STATS tcp rx=%llu tx=%llu rst=%llu retransmits=%llu timeouts=%llu fast_retransmits=%llu "
	       "partial_acks=%llu dup_acks=%llu ooo=%llu bad_csum=%llu challenge_acks=%llu persist=%llu\n",
	       (unsigned long long)t->rx_segs, (unsigned long long)t->tx_segs, (unsigned long long)t->tx_rst,
	       (unsigned long long)t->retransmits, (unsigned long long)t->timeouts,
	       (unsigned long long)t->fast_retransmits, (unsigned long long)t->partial_acks, (unsigned long long)t->dup_acks_rx,
	       (unsigned long long)t->ooo_segs, (unsigned long long)t->rx_bad_csum,
	       (unsigned long long)t->challenge_acks, (unsigned long long)t->persist_probes);
	printf("STATS faults tx_dropped=%llu rx_dropped=%llu reordered=%llu duplicated=%llu corrupted=%llu\n",
	       (unsigned long long)(tap.tx.dropped), (unsigned long long)tap.rx.dropped,
	       (unsigned long long)(tap.tx.reordered + tap.rx.reordered),
	       (unsigned long long)(tap.tx.duplicated + tap.rx.duplicated),
	       (unsigned long long)(tap.tx.corrupted + tap.rx.corrupted));
	printf("STATS ip rx=%llu frags=%llu reasm_ok=%llu echo_replies=%llu bad_csum=%llu\n",
	       (unsigned long long)net.ip.stats.rx, (unsigned long long)net.ip.stats.frags,
	       (unsigned long long)net.ip.stats.reasm_ok, (unsigned long long)net.ip.stats.echo_replies,
	       (unsigned long long)net.ip.stats.rx_bad_csum);
	printf("STATS mem live=%zu peak=%zu allocs=%zu socks=%u embryos_evicted=%llu syn_dropped=%llu\n", henv.live_bytes,
	       henv.peak_bytes, henv.live_allocs, net.tcp.nsocks, (unsigned long long)net.tcp.stats.embryos_evicted,
	       (unsigned long long)net.tcp.stats.syn_dropped);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *tapname = NULL;
	uint32_t addr = 0;
	uint64_t seed = 1, pause_ms = 0;
	long conns = 0;
	struct net_config nc;
	net_config_default(&nc);
	nc.tcp.msl_ms = 1000;
	int i = 1;
	memset(&tap, 0, sizeof(tap));
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (i + 1 >= argc) die("option needs a value");
		const char *o = argv[i], *v = argv[i + 1];
		if (!strcmp(o, "--tap")) tapname = v;
		else if (!strcmp(o, "--ip")) addr = parse_ip(v);
		else if (!strcmp(o, "--gw")) nc.gw = parse_ip(v);
		else if (!strcmp(o, "--seed")) seed = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--loss")) tap.rx.loss = tap.tx.loss = atof(v);
		else if (!strcmp(o, "--reorder")) tap.rx.reorder = tap.tx.reorder = atof(v);
		else if (!strcmp(o, "--dup")) tap.rx.dup = tap.tx.dup = atof(v);
		else if (!strcmp(o, "--corrupt")) tap.rx.corrupt = tap.tx.corrupt = atof(v);
		else if (!strcmp(o, "--drop-tx-data")) tap.tx.drop_data_seg = atol(v);
		else if (!strcmp(o, "--drop-rx-data")) tap.rx.drop_data_seg = atol(v);
		else if (!strcmp(o, "--pause-ms")) pause_ms = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--conns")) conns = atol(v);
		else if (!strcmp(o, "--rcvbuf")) nc.tcp.rcvbuf = (uint32_t)atol(v);
		else if (!strcmp(o, "--sndbuf")) nc.tcp.sndbuf = (uint32_t)atol(v);
		else if (!strcmp(o, "--msl-ms")) nc.tcp.msl_ms = (uint32_t)atol(v);
		else if (!strcmp(o, "--sack")) nc.tcp.sack = (uint8_t)(atoi(v) != 0);
		else if (!strcmp(o, "--timeout-ms")) deadline = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--pcap")) {
			pcap = fopen(v, "wb");
			if (!pcap) die("cannot write the --pcap file");
			uint32_t g[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
			fwrite(g, sizeof(g), 1, pcap);
		}
		else {
			fprintf(stderr, "harness: unknown option %s\n", o);
			return 2;
		}
	}
	if (!tapname || !addr || i >= argc) die("usage: harness --tap NAME --ip ADDR [options] MODE ARGS (see harness.c)");
	const char *mode = argv[i++];
	setvbuf(stdout, NULL, _IOLBF, 0);
	host_env_init(&henv, seed, 0);
	tap.rx.rng = seed * 31 + 7;
	tap.tx.rng = seed * 131 + 5;
	if (deadline) deadline += net_now(&henv.env);
	tap.fd = tap_open(tapname);
	if (netbuf_pool_init(&pool, &henv.env, 1024, 2048) < 0) die("no memory for the netbuf pool");
	dev.ops = &tap_ops;
	dev.pool = &pool;
	dev.mtu = 1500;
	memcpy(dev.mac, (uint8_t[6]){0x02, 0x00, 0x0a, (uint8_t)(addr >> 16), (uint8_t)(addr >> 8), (uint8_t)addr}, 6);
	nc.addr = addr;
	net_stack_init(&net, &dev, &henv.env, &nc);
	signal(SIGPIPE, SIG_IGN);

	int status = 0;
	if (!strcmp(mode, "udp-echo") && i < argc) {
		int err;
		struct udp_sock *u = udp_open(&net.udp, (uint16_t)atoi(argv[i]), &err);
		if (!u) die("udp bind failed");
		printf("READY\n");
		static uint8_t b[65536];
		for (long done = 0; !conns || done < conns;) {
			uint32_t src;
			uint16_t sport;
			int n = udp_recvfrom(u, b, 65535, &src, &sport);
			if (n < 0) {
				poll_stack(5);
				check_deadline();
				continue;
			}
			done++;
			if (udp_sendto(u, src, sport, b, (uint16_t)n) == -EMSGSIZE) {
				struct sha256 sh;
				char hex[65], msg[100];
				sha256_init(&sh);
				sha256_update(&sh, b, (size_t)n);
				sha256_hex(&sh, hex);
				int m = snprintf(msg, sizeof(msg), "BIG %d %s", n, hex);
				udp_sendto(u, src, sport, msg, (uint16_t)m);
			}
		}
		for (int k = 0; k < 50; k++) poll_stack(1);
	} else if (!strcmp(mode, "connect") && i + 2 < argc) {
		uint32_t dst = parse_ip(argv[i]);
		struct tcp_sock *s = tcp_socket(&net.tcp);
		int r = tcp_connect(s, dst, (uint16_t)atoi(argv[i + 1]));
		if (r != -EINPROGRESS) die("connect failed to start");
		printf("READY\n");
		struct tcp_info ti;
		for (;;) {
			tcp_get_info(s, &ti);
			if (ti.state != TCP_SYN_SENT && ti.state != TCP_SYN_RECEIVED) break;
			poll_stack(1);
			check_deadline();
		}
		if (ti.state != TCP_ESTABLISHED) {
			printf("RESULT connect_error=%d state=%s\n", ti.error, tcp_state_name(ti.state));
			tcp_close(s);
			print_stats();
			return ti.error == ECONNREFUSED ? 0 : 1;
		}
		printf("RESULT connected mss=%u wscale=%u/%u timestamps=%u\n", ti.mss, ti.snd_wscale, ti.rcv_wscale, ti.timestamps);
		struct sha256 tx, rx;
		sha256_init(&tx);
		sha256_init(&rx);
		long rxn = 0;
		long sent = send_all(s, atol(argv[i + 2]), seed, &tx, &rx, &rxn);
		if (sent < 0) status = 1;
		tcp_shutdown(s);
		long more = read_all(s, &rx, 0);
		if (more < 0) status = 1;
		char h1[65], h2[65];
		sha256_hex(&tx, h1);
		sha256_hex(&rx, h2);
		printf("RESULT sent=%ld sent_sha256=%s received=%ld received_sha256=%s\n", sent, h1, rxn + (more > 0 ? more : 0), h2);
		finish(s);
	} else if (i < argc) {
		struct tcp_sock *l = tcp_socket(&net.tcp);
		if (tcp_bind(l, (uint16_t)atoi(argv[i])) < 0 || tcp_listen(l, 16) < 0) die("listen failed");
		printf("READY\n");
		if (!strcmp(mode, "sink")) {
			struct tcp_sock *s = accept_one(l);
			struct sha256 sh;
			sha256_init(&sh);
			long n = read_all(s, &sh, pause_ms);
			char hex[65];
			sha256_hex(&sh, hex);
			printf("RESULT received=%ld sha256=%s\n", n, hex);
			if (n < 0) status = 1;
			tcp_shutdown(s);
			finish(s);
		} else if (!strcmp(mode, "source") && i + 1 < argc) {
			struct tcp_sock *s = accept_one(l);
			struct sha256 sh;
			sha256_init(&sh);
			long n = send_all(s, atol(argv[i + 1]), seed, &sh, NULL, NULL);
			char hex[65];
			sha256_hex(&sh, hex);
			printf("RESULT sent=%ld sha256=%s\n", n, hex);
			if (n < 0) status = 1;
			tcp_shutdown(s);
			struct sha256 ignore;
			sha256_init(&ignore);
			read_all(s, &ignore, 0);
			finish(s);
		} else if (!strcmp(mode, "abort")) {
			struct tcp_sock *s = accept_one(l);
			uint8_t b[16];
			int n;
			while ((n = tcp_recv(s, b, sizeof(b))) == -EAGAIN) {
				poll_stack(1);
				check_deadline();
			}
			printf("RESULT got=%d aborting\n", n);
			tcp_abort(s);
			for (int k = 0; k < 20; k++) poll_stack(1);
		} else if (!strcmp(mode, "echo")) {
			struct tcp_sock *c[64];
			int nc = 0;
			long done = 0;
			static uint8_t b[16384];
			while (!conns || done < conns) {
				int err;
				struct tcp_sock *s;
				while (nc < 64 && (s = tcp_accept(l, &err))) c[nc++] = s;
				for (int k = 0; k < nc; k++) {
					int n = tcp_recv(c[k], b, sizeof(b));
					if (n > 0) {
						/* Pushes back what was read, waiting (polling) while the buffer is full. */
						int off = 0;
						while (off < n) {
							int w = tcp_send(c[k], b + off, (uint32_t)(n - off));
							if (w > 0) off += w;
							else if (w == -EAGAIN) poll_stack(1);
							else break;
							check_deadline();
						}
					} else if (n == 0 || n != -EAGAIN) {
						struct tcp_info ti;
						tcp_get_info(c[k], &ti);
						if (n == 0 && ti.state == TCP_CLOSE_WAIT) tcp_shutdown(c[k]);
						if (n < 0 || ti.state == TCP_CLOSED || ti.state == TCP_TIME_WAIT || ti.state == TCP_LAST_ACK) {
							tcp_close(c[k]);
							c[k--] = c[--nc];
							done++;
						}
					}
				}
				poll_stack(1);
				check_deadline();
			}
			for (int k = 0; k < 200; k++) poll_stack(1);
		} else {
			die("unknown mode or missing arguments (see harness.c)");
		}
		tcp_close(l);
	} else {
		die("missing mode arguments");
	}
	print_stats();
	if (pcap) fclose(pcap);
	printf("RESULT done status=%d\n", status);
	return status;
}
