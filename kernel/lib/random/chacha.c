/* ChaCha20 (RFC 8439) and a fast-key-erasure generator over it (as OpenBSD's arc4random). */
#include <string.h>
#include <random/random.h>

#define ROTL(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
#define QR(a, b, c, d)                                  \
	do {                                            \
		a += b, d ^= a, d = ROTL(d, 16);        \
		c += d, b ^= c, b = ROTL(b, 12);        \
		a += b, d ^= a, d = ROTL(d, 8);         \
		c += d, b ^= c, b = ROTL(b, 7);         \
	} while (0)

void chacha20_block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3], uint8_t out[64])
{
	uint32_t s[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
	for (int i = 0; i < 8; i++)
		s[4 + i] = key[i];
	s[12] = counter;
	s[13] = nonce[0];
	s[14] = nonce[1];
	s[15] = nonce[2];
	uint32_t x[16];
	memcpy(x, s, sizeof(x));
	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++) {
		uint32_t v = x[i] + s[i];
		out[4 * i] = (uint8_t)v;
		out[4 * i + 1] = (uint8_t)(v >> 8);
		out[4 * i + 2] = (uint8_t)(v >> 16);
		out[4 * i + 3] = (uint8_t)(v >> 24);
	}
	memset(x, 0, sizeof(x));
	memset(s, 0, sizeof(s));
}

static void block(struct chacha_drbg *d, uint8_t out[64])
{
	/* The 64-bit block counter spans the counter word and the first nonce word. */
	uint32_t nonce[3] = {(uint32_t)(d->counter >> 32), 0, 0};
	chacha20_block(d->key, (uint32_t)d->counter, nonce, out);
	d->counter++;
}

static void load_key(uint32_t key[8], const uint8_t b[32])
{
	for (int i = 0; i < 8; i++)
		key[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
}

void chacha_drbg_seed(struct chacha_drbg *d, const uint8_t seed[32])
{
	uint32_t s[8];
	load_key(s, seed);
	for (int i = 0; i < 8; i++)
		d->key[i] ^= s[i];
	uint8_t b[64];
	block(d, b);
	load_key(d->key, b);
	d->counter = 0;
	d->since_reseed = 0;
	memset(b, 0, sizeof(b));
	memset(s, 0, sizeof(s));
}

void chacha_drbg_generate(struct chacha_drbg *d, uint8_t *out, size_t n)
{
	uint8_t b[64];
	d->since_reseed += n;
	while (n >= 64) {
		block(d, out);
		out += 64;
		n -= 64;
	}
	if (n) {
		block(d, b);
		memcpy(out, b, n);
	}
	/* Fast key erasure: the key that made this output is gone once we return. */
	block(d, b);
	load_key(d->key, b);
	d->counter = 0;
	memset(b, 0, sizeof(b));
}
