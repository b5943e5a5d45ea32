#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "host_env.h"

uint32_t host_rand(uint64_t *s)
{
	/* xorshift64*: deterministic for a seed, so failures replay. */
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint64_t h_now(void *ctx)
{
	struct host_env *h = ctx;
	if (h->virtual_clock) return h->vnow;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* malloc with a size header, so tests can check that memory stays bounded. */
static void *h_alloc(void *ctx, size_t n)
{
	struct host_env *h = ctx;
	size_t *p = malloc(n + 16);
	if (!p) return NULL;
	p[0] = n;
	h->live_bytes += n;
	h->live_allocs++;
	if (h->live_bytes > h->peak_bytes) h->peak_bytes = h->live_bytes;
	return (char *)p + 16;
}

static void h_free(void *ctx, void *q)
{
	struct host_env *h = ctx;
	size_t *p = (size_t *)((char *)q - 16);
	h->live_bytes -= p[0];
	h->live_allocs--;
	free(p);
}

static uint32_t h_random(void *ctx) { return host_rand(&((struct host_env *)ctx)->rng); }

static const struct net_env_ops host_ops = {h_now, h_alloc, h_free, h_random};

void host_env_init(struct host_env *h, uint64_t seed, int virtual_clock)
{
	memset(h, 0, sizeof(*h));
	h->env.ops = &host_ops;
	h->env.ctx = h;
	h->rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	h->virtual_clock = virtual_clock;
	h->vnow = 1000;
}

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) ((x) >> (n) | (x) << (32 - (n)))

static void sha_block(struct sha256 *s, const uint8_t *b)
{
	uint32_t w[64], v[8];
	for (int i = 0; i < 16; i++) w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 | (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, s->h, sizeof(v));
	for (int i = 0; i < 64; i++) {
		uint32_t S1 = ROR(v[4], 6) ^ ROR(v[4], 11) ^ ROR(v[4], 25);
		uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
		uint32_t t1 = v[7] + S1 + ch + K[i] + w[i];
		uint32_t S0 = ROR(v[0], 2) ^ ROR(v[0], 13) ^ ROR(v[0], 22);
		uint32_t mj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
		memmove(v + 1, v, 7 * sizeof(uint32_t));
		v[4] += t1;
		v[0] = t1 + S0 + mj;
	}
	for (int i = 0; i < 8; i++) s->h[i] += v[i];
}

void sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
	s->n = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	s->len += len;
	while (len) {
		size_t k = 64 - s->n < len ? 64 - s->n : len;
		memcpy(s->buf + s->n, p, k);
		s->n += (uint32_t)k;
		p += k;
		len -= k;
		if (s->n == 64) {
			sha_block(s, s->buf);
			s->n = 0;
		}
	}
}

void sha256_hex(struct sha256 *s, char out[65])
{
	uint64_t bits = s->len * 8;
	uint8_t pad = 0x80, z = 0, lenb[8];
	sha256_update(s, &pad, 1);
	while (s->n != 56) sha256_update(s, &z, 1);
	for (int i = 0; i < 8; i++) lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_update(s, lenb, 8);
	for (int i = 0; i < 8; i++) sprintf(out + 8 * i, "%08x", s->h[i]);
}

static double unit(uint64_t *rng) { return host_rand(rng) / 4294967296.0; }

int faults_apply(struct faults *f, uint8_t *fr, size_t len, int *hold)
{
	*hold = 0;
	if (f->drop_data_seg && len >= 14 + 20 + 20 && fr[12] == 0x08 && fr[13] == 0 && fr[14 + 9] == 6) {
		size_t ihl = (size_t)(fr[14] & 15) * 4, tot = (size_t)(fr[16] << 8 | fr[17]);
		size_t thl = 14 + ihl + 12 < len ? (size_t)(fr[14 + ihl + 12] >> 4) * 4 : 0;
		if (thl && tot > ihl + thl && ++f->data_segs == f->drop_data_seg) {
			f->dropped++;
			return 0;
		}
	}
	if (f->loss > 0 && unit(&f->rng) < f->loss) {
		f->dropped++;
		return 0;
	}
	if (f->corrupt > 0 && unit(&f->rng) < f->corrupt && len > 0) {
		fr[host_rand(&f->rng) % len] ^= (uint8_t)(1u << (host_rand(&f->rng) % 8));
		f->corrupted++;
	}
	if (f->reorder > 0 && unit(&f->rng) < f->reorder) {
		*hold = 1;
		f->reordered++;
	}
	if (f->dup > 0 && unit(&f->rng) < f->dup) {
		f->duplicated++;
		return 2;
	}
	return 1;
}
