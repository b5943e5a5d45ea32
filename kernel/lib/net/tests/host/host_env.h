/* Host-side pieces shared by the harness and the fuzzer: the stack's environment on the host
 * (clock_gettime or a virtual clock, malloc, a seeded PRNG), SHA-256 and a fault injector. */
#ifndef NET_HOST_ENV_H
#define NET_HOST_ENV_H

#include <stdint.h>
#include <stddef.h>
#include <netdev/netdev.h>

struct host_env {
	struct net_env env;
	uint64_t rng;
	int virtual_clock;
	uint64_t vnow;            /* ms, when virtual_clock */
	size_t live_bytes, peak_bytes, live_allocs;
};

void host_env_init(struct host_env *h, uint64_t seed, int virtual_clock);
uint32_t host_rand(uint64_t *state);

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	uint32_t n;
};
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_hex(struct sha256 *s, char out[65]);

/* Seeded faults applied to frames in one direction. */
struct faults {
	double loss, reorder, dup, corrupt;
	uint64_t rng;
	long drop_data_seg;       /* drop the Nth TCP segment carrying data (1-based), 0 = none */
	long data_segs;
	uint64_t dropped, reordered, duplicated, corrupted;
};
/* Decides a frame's fate: returns how many copies to deliver (0, 1 or 2), may corrupt it in
 * place, and sets *hold when it should be delivered after the next frame. */
int faults_apply(struct faults *f, uint8_t *frame, size_t len, int *hold);

#endif
