/* The guest KTEST header, with registration by constructor so the same test files run on the
 * host (GNU ld makes no __start_ symbols for the guest's ".kiln_tests" section name). */
#include_next <test/test.h>
#undef KTEST
void ktest_host_register(const struct ktest *t);
#define KTEST(suite, name)                                                                         \
	static void ktest_fn_##suite##_##name(void);                                               \
	static const struct ktest ktest_desc_##suite##_##name = {#suite, #name, ktest_fn_##suite##_##name}; \
	__attribute__((constructor)) static void ktest_reg_##suite##_##name(void)                   \
	{                                                                                          \
		ktest_host_register(&ktest_desc_##suite##_##name);                                 \
	}                                                                                          \
	static void ktest_fn_##suite##_##name(void)
