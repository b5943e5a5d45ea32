/* KTEST: guest unit tests, compiled only into test images (sources with `if: "@test"`).
 *
 *   KTEST(suite, name) { KT_ASSERT_EQ(f(2), 4); }
 *
 * Each KTEST puts a pointer to its descriptor in section .kiln_tests (kept and bounded by the
 * linker script: __kiln_tests_start/__kiln_tests_end). ktest_run_all() runs every test, sorted
 * by suite, then name (then address, for duplicates), each to its end even when others failed,
 * and prints the protocol of docs/architecture.md section 6:
 *   KTEST: begin <n> / KTEST: pass <suite>.<name> /
 *   KTEST: fail <suite>.<name> <file>:<line>: <msg> / KTEST: summary passed=<n> failed=<n>
 * A failing assertion prints the fail line and returns from the test function, so only the
 * first failure of a test is reported. */
#ifndef KILN_TEST_TEST_H
#define KILN_TEST_TEST_H

#include <stddef.h>
#include <stdint.h>

struct ktest {
	const char *suite;
	const char *name;
	void (*fn)(void);
};

#define KTEST(suite, name)                                                                      \
	static void ktest_fn_##suite##_##name(void);                                            \
	static const struct ktest ktest_desc_##suite##_##name = {#suite, #name,                 \
								ktest_fn_##suite##_##name}; \
	static const struct ktest *const ktest_ptr_##suite##_##name                             \
		__attribute__((used, section(".kiln_tests"), aligned(8))) = &ktest_desc_##suite##_##name; \
	static void ktest_fn_##suite##_##name(void)

/* Runs every registered test; returns the number that failed. */
int ktest_run_all(void);

/* Records the current test's failure and prints its fail line (printf-style message). */
void ktest_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int ktest_streq(const char *a, const char *b);

#define KT_ASSERT(cond)                                                      \
	do {                                                                 \
		if (!(cond)) {                                               \
			ktest_fail(__FILE__, __LINE__, "assertion %s", #cond); \
			return;                                              \
		}                                                            \
	} while (0)

#define KT_CMP_(a, b, op, name)                                                                      \
	do {                                                                                         \
		long long ka_ = (long long)(a), kb_ = (long long)(b);                                \
		if (!(ka_ op kb_)) {                                                                 \
			ktest_fail(__FILE__, __LINE__, name "(%s, %s): %lld (0x%llx) vs %lld (0x%llx)", #a, #b, \
				   ka_, (unsigned long long)ka_, kb_, (unsigned long long)kb_);      \
			return;                                                                      \
		}                                                                                    \
	} while (0)

#define KT_ASSERT_EQ(a, b) KT_CMP_(a, b, ==, "KT_ASSERT_EQ")
#define KT_ASSERT_NE(a, b) KT_CMP_(a, b, !=, "KT_ASSERT_NE")
#define KT_ASSERT_LT(a, b) KT_CMP_(a, b, <, "KT_ASSERT_LT")
#define KT_ASSERT_LE(a, b) KT_CMP_(a, b, <=, "KT_ASSERT_LE")

#define KT_ASSERT_STREQ(a, b)                                                                        \
	do {                                                                                         \
		const char *ka_ = (a), *kb_ = (b);                                                   \
		if (!ktest_streq(ka_, kb_)) {                                                        \
			ktest_fail(__FILE__, __LINE__, "KT_ASSERT_STREQ(%s, %s): \"%s\" vs \"%s\"", #a, #b, \
				   ka_ ? ka_ : "(null)", kb_ ? kb_ : "(null)");                      \
			return;                                                                      \
		}                                                                                    \
	} while (0)

#define KT_ASSERT_NULL(p)                                                                      \
	do {                                                                                   \
		const void *kp_ = (p);                                                         \
		if (kp_ != 0) {                                                                \
			ktest_fail(__FILE__, __LINE__, "KT_ASSERT_NULL(%s): %p", #p, kp_);     \
			return;                                                                \
		}                                                                              \
	} while (0)

#define KT_ASSERT_NOTNULL(p)                                                                   \
	do {                                                                                   \
		if ((p) == 0) {                                                                \
			ktest_fail(__FILE__, __LINE__, "KT_ASSERT_NOTNULL(%s): null", #p);     \
			return;                                                                \
		}                                                                              \
	} while (0)

/* A fault a test provokes on purpose: kt_catch_fault(fn, arg, &f) runs fn(arg) and returns 1
 * if it faulted (f filled in; the exception shim is ready for the next fault), 0 if it returned.
 * For tests of what the CPU must refuse (a port outside the I/O bitmap, cli at CPL 3). */
struct kt_fault {
	uint64_t vector, error, rip;
};
int kt_catch_fault(void (*fn)(void *), void *arg, struct kt_fault *f);

/* Put a function that faults on purpose in the section the build's CPL-3 check skips. */
#define KT_FAULTS __attribute__((noinline, section(".text.kiln_faults")))

#endif
