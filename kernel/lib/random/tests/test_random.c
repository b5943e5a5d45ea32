/* Guest tests: the CPU source works here (QEMU TCG -cpu max and KVM hosts have RDRAND) and
 * output is not constant; the RFC 8439 vector in the guest build too. */
#include <string.h>
#include <random/random.h>
#include <test/test.h>

KTEST(random, chacha20_rfc8439_block)
{
	/* RFC 8439 2.3.2: key 00..1f, counter 1, nonce 00:00:00:09:00:00:00:4a:00:00:00:00 */
	uint32_t key[8];
	for (int i = 0; i < 8; i++)
		key[i] = (uint32_t)(4 * i) | (uint32_t)(4 * i + 1) << 8 | (uint32_t)(4 * i + 2) << 16 | (uint32_t)(4 * i + 3) << 24;
	const uint32_t nonce[3] = {0x09000000, 0x4a000000, 0};
	uint8_t out[64];
	chacha20_block(key, 1, nonce, out);
	static const uint8_t want[8] = {0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15};
	KT_ASSERT(memcmp(out, want, 8) == 0);
	KT_ASSERT_EQ(out[63], 0x4e);
}

KTEST(random, bytes_from_the_cpu_source)
{
	uint8_t a[64], b[64];
	KT_ASSERT_EQ(random_bytes(a, sizeof(a)), 0);
	KT_ASSERT_EQ(random_bytes(b, sizeof(b)), 0);
	KT_ASSERT(memcmp(a, b, sizeof(a)) != 0);
	const char *s = random_source();
	KT_ASSERT(ktest_streq(s, "rdseed") || ktest_streq(s, "rdrand"));
	/* not all zero, and roughly balanced bits over 4 KiB */
	static uint8_t big[4096];
	KT_ASSERT_EQ(random_bytes(big, sizeof(big)), 0);
	int ones = 0;
	for (size_t i = 0; i < sizeof(big); i++)
		ones += __builtin_popcount(big[i]);
	KT_ASSERT(ones > 16384 - 800 && ones < 16384 + 800);
}
