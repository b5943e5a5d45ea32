/*
 * Random bytes for the kernel and apps (/dev/urandom, getrandom): a ChaCha20 generator with
 * fast key erasure (each request ends by replacing the key with fresh keystream, so a later
 * compromise does not reveal earlier output), seeded with 256 bits from the CPU and reseeded
 * every RANDOM_RESEED_BYTES.
 *
 * The seed comes from RDSEED where CPUID has it (each 64-bit draw retried up to 100 times with
 * pause: RDSEED may run dry under load, as Intel's guide says), else RDRAND (retried 10 times,
 * Intel's figure for a failure that means a broken unit). With neither, option `fallback`
 * decides: `none` (default) refuses, random_bytes gives -EIO and says so once on the console;
 * `tsc_jitter` seeds from the timing jitter of TSC reads around memory accesses, which is weak
 * (a VM's TSC may be predictable) and is named as such by random_source().
 */
#ifndef RANDOM_RANDOM_H
#define RANDOM_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#define RANDOM_RESEED_BYTES (1u << 20)

/* Fills buf; 0, or -EIO (5) when there is no entropy source and the fallback is `none`. */
int random_bytes(void *buf, size_t n);

/* "rdseed", "rdrand", "tsc-jitter (weak)", "none", or "unseeded" before the first use. */
const char *random_source(void);

/* ---- the generator itself (pure; tested on the host against RFC 8439) ---- */
struct chacha_drbg {
	uint32_t key[8];
	uint64_t counter; /* blocks produced under this key's nonce space */
	uint64_t since_reseed;
};

/* One ChaCha20 block (RFC 8439 section 2.3): 64 bytes of keystream. */
void chacha20_block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3], uint8_t out[64]);
/* Mixes a 32-byte seed into the key (the key becomes keystream of key XOR seed). */
void chacha_drbg_seed(struct chacha_drbg *d, const uint8_t seed[32]);
/* n bytes of output, then a new key (fast key erasure). */
void chacha_drbg_generate(struct chacha_drbg *d, uint8_t *out, size_t n);

#endif
