/* Seeding from the CPU (guest only): CPUID says which of RDSEED and RDRAND exist. */
#include <errno.h>
#include <string.h>
#include <arch/cpu.h>
#include <console/console.h>
#include <random/random.h>

static struct chacha_drbg drbg;
static int seeded;       /* 1: seeded; -1: refused (no source) */
static const char *source = "unseeded";

static int has_rdseed(void)
{
	uint32_t r[4];
	arch_cpuid(0, 0, r);
	if (r[0] < 7)
		return 0;
	arch_cpuid(7, 0, r);
	return (r[1] >> 18) & 1;
}

static int has_rdrand(void)
{
	uint32_t r[4];
	arch_cpuid(1, 0, r);
	return (r[2] >> 30) & 1;
}

static int rdseed64(uint64_t *v)
{
	for (int i = 0; i < 100; i++) {
		unsigned char ok;
		__asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return 0;
		arch_pause();
	}
	return -1;
}

static int rdrand64(uint64_t *v)
{
	for (int i = 0; i < 10; i++) {
		unsigned char ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return 0;
	}
	return -1;
}

/* Weak on purpose and said so: the low bits of TSC deltas around cache-missing accesses,
 * 64 samples folded into each seed byte. */
static void tsc_jitter(uint8_t seed[32])
{
	static volatile uint8_t scratch[64 * 1024];
	uint32_t idx = 0;
	for (int i = 0; i < 32; i++) {
		uint8_t acc = 0;
		for (int k = 0; k < 64; k++) {
			uint64_t t0 = arch_rdtsc();
			idx = (idx * 1103515245u + 12345u) & (sizeof(scratch) - 1);
			scratch[idx]++;
			uint64_t dt = arch_rdtsc() - t0;
			acc = (uint8_t)((acc << 1 | acc >> 7) ^ (uint8_t)dt);
		}
		seed[i] = acc;
	}
}

static int reseed(void)
{
	uint8_t seed[32];
	uint64_t w[4];
	int ok = 0;
	if (has_rdseed()) {
		ok = 1;
		for (int i = 0; i < 4 && ok; i++)
			ok = rdseed64(&w[i]) == 0 || (has_rdrand() && rdrand64(&w[i]) == 0);
		if (ok)
			source = "rdseed";
	}
	if (!ok && has_rdrand()) {
		ok = 1;
		for (int i = 0; i < 4 && ok; i++)
			ok = rdrand64(&w[i]) == 0;
		if (ok)
			source = "rdrand";
	}
	if (ok) {
		memcpy(seed, w, sizeof(seed));
	} else {
#if CONFIG_RANDOM_FALLBACK_TSC_JITTER
		if (seeded == 0)
			console_puts("kiln: random: no RDSEED or RDRAND (or they kept failing): seeding from TSC jitter, which is weak (option random.fallback)\n");
		tsc_jitter(seed);
		source = "tsc-jitter (weak)";
#else
		(void)tsc_jitter;
		if (seeded == 0)
			console_puts("kiln: random: no RDSEED or RDRAND (or they kept failing): refusing to make random bytes; set random.fallback=tsc_jitter to accept a weak seed\n");
		source = "none";
		seeded = -1;
		return -EIO;
#endif
	}
	chacha_drbg_seed(&drbg, seed);
	memset(seed, 0, sizeof(seed));
	memset(w, 0, sizeof(w));
	seeded = 1;
	return 0;
}

int random_bytes(void *buf, size_t n)
{
	if (seeded < 0)
		return -EIO;
	if (!seeded || drbg.since_reseed >= RANDOM_RESEED_BYTES) {
		int err = reseed();
		if (err)
			return err;
	}
	/* Large requests in pieces, each with its own key. */
	uint8_t *p = buf;
	while (n) {
		size_t k = n > 4096 ? 4096 : n;
		chacha_drbg_generate(&drbg, p, k);
		p += k;
		n -= k;
	}
	return 0;
}

const char *random_source(void) { return source; }
