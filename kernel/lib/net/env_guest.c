/* The stack's environment inside a Kiln guest. */
#include <stdlib.h>
#include <net/stack.h>
#include <random/random.h>
#include <time/time.h>

static uint64_t g_now(void *ctx)
{
	(void)ctx;
	return time_now_ns() / 1000000;
}

static void *g_alloc(void *ctx, size_t n)
{
	(void)ctx;
	return malloc(n);
}

static void g_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static uint64_t rng_state;

static uint32_t g_random(void *ctx)
{
	(void)ctx;
	/* The random library's ChaCha20 generator (RDSEED/RDRAND seeded): ISNs and ports that an
	 * off-path attacker cannot predict (RFC 6528). */
	uint32_t v;
	if (random_bytes(&v, sizeof(v)) == 0) return v;
	/* Without RDSEED/RDRAND: splitmix64 over a state stirred by the TSC (rdtsc is allowed at
	 * CPL 3), predictable to someone who can estimate the TSC. */
	rng_state += 0x9E3779B97F4A7C15ULL ^ __builtin_ia32_rdtsc();
	uint64_t z = rng_state;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static const struct net_env_ops guest_ops = {g_now, g_alloc, g_free, g_random};
static const struct net_env guest_env = {&guest_ops, 0};

const struct net_env *net_env_guest(void) { return &guest_env; }
