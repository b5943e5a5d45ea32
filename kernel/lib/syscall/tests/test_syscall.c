/* Guest tests of the syscall layer itself (the POSIX libraries are tested through musl in
 * apps/posix-test): the table, -ENOSYS for unknown numbers, both ways in (the `syscall`
 * instruction through the LSTAR stub, the fast path's entry), and the pointer checks. */
#include <stdint.h>
#include <mmu/mmu.h>
#include <syscall/syscall.h>
#include <test/test.h>

#define NR_TEST 335 /* unused by Linux x86_64 (between 334 rseq and 424 pidfd_send_signal) */

static long test_handler(long a1, long a2, long a3, long a4, long a5, long a6)
{
	return a1 + 2 * a2 + 3 * a3 + 4 * a4 + 5 * a5 + 6 * a6;
}
SYSCALL_REGISTER(NR_TEST, test_handler);

static long via_instruction(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}

KTEST(syscall, table_and_names)
{
	KT_ASSERT(syscall_implemented(NR_TEST));
	KT_ASSERT(!syscall_implemented(206)); /* io_setup: nobody here registers it */
	KT_ASSERT_STREQ(syscall_name(0), "read");
	KT_ASSERT_STREQ(syscall_name(231), "exit_group");
	KT_ASSERT_NULL(syscall_name(NR_TEST));
	KT_ASSERT_NULL(syscall_name(-1));
	KT_ASSERT_NULL(syscall_name(SYSCALL_NR_COUNT));
}

KTEST(syscall, dispatch_passes_six_arguments)
{
	KT_ASSERT_EQ(kiln_syscall_dispatch(NR_TEST, 1, 10, 100, 1000, 10000, 100000), 654321);
	KT_ASSERT_EQ(kiln_syscall_dispatch(206, 0, 0, 0, 0, 0, 0), -SYS_ENOSYS);
	KT_ASSERT_EQ(kiln_syscall_dispatch(-5, 0, 0, 0, 0, 0, 0), -SYS_ENOSYS);
	KT_ASSERT_EQ(kiln_syscall_dispatch(1L << 40, 0, 0, 0, 0, 0, 0), -SYS_ENOSYS);
}

KTEST(syscall, instruction_keeps_the_abi)
{
	uint64_t before = syscall_count(NR_TEST);
	/* Values held in callee-clobbered registers and xmm across the instruction survive. */
	double x = 1.5;
	__asm__ volatile("" : "+x"(x));
	KT_ASSERT_EQ(via_instruction(NR_TEST, 1, 10, 100, 1000, 10000, 100000), 654321);
	__asm__ volatile("" : "+x"(x));
	KT_ASSERT(x == 1.5);
	KT_ASSERT_EQ(via_instruction(206, 0, 0, 0, 0, 0, 0), -SYS_ENOSYS);
	KT_ASSERT_EQ(syscall_count(NR_TEST), before + 1);
}

KTEST(syscall, user_pointer_checks)
{
	static char buf[8192] __attribute__((aligned(4096)));
	KT_ASSERT(syscall_user_ok(buf, sizeof buf, 1));
	KT_ASSERT(syscall_user_ok(NULL, 0, 1));                  /* nothing to touch */
	KT_ASSERT(!syscall_user_ok(NULL, 1, 0));                 /* page 0 */
	KT_ASSERT(!syscall_user_ok((void *)4095, 2, 0));         /* ends in page 1, starts in page 0 */
	KT_ASSERT(!syscall_user_ok((void *)(uintptr_t)0x7f0000000000, 1, 0)); /* unmapped */
	KT_ASSERT(!syscall_user_ok((void *)(uintptr_t)0x8000000000000000, 1, 0)); /* non-canonical */
	KT_ASSERT(!syscall_user_ok((void *)UINTPTR_MAX, 2, 0));  /* wraps */
	/* Code is mapped read-only: readable, not writable. */
	KT_ASSERT(syscall_user_ok((const void *)test_handler, 16, 0));
	KT_ASSERT(!syscall_user_ok((const void *)test_handler, 16, 1));
	/* A guard page in the middle of a buffer. */
	KT_ASSERT_EQ(mmu_guard_page((uintptr_t)buf + 4096), 0);
	KT_ASSERT(!syscall_user_ok(buf, sizeof buf, 0));
	KT_ASSERT(syscall_user_ok(buf, 4096, 1));
	KT_ASSERT_EQ(mmu_unguard_page((uintptr_t)buf + 4096), 0);
	KT_ASSERT(syscall_user_ok(buf, sizeof buf, 1));
}

KTEST(syscall, user_strings)
{
	static char s[4096 * 2] __attribute__((aligned(4096)));
	for (unsigned i = 0; i < sizeof s; i++)
		s[i] = 'x';
	s[4096 + 10] = '\0';
	KT_ASSERT_EQ(syscall_user_strlen(s, sizeof s), 4096 + 10); /* across a page boundary */
	KT_ASSERT_EQ(syscall_user_strlen(s, 100), -SYS_ENAMETOOLONG);
	KT_ASSERT_EQ(syscall_user_strlen(NULL, 100), -SYS_EFAULT);
	KT_ASSERT_EQ(mmu_guard_page((uintptr_t)s + 4096), 0);
	KT_ASSERT_EQ(syscall_user_strlen(s, sizeof s), -SYS_EFAULT); /* runs into the guard page */
	KT_ASSERT_EQ(mmu_unguard_page((uintptr_t)s + 4096), 0);
	char out[4];
	KT_ASSERT_EQ(syscall_copy_in(out, NULL, 4), -SYS_EFAULT);
	KT_ASSERT_EQ(syscall_copy_out((void *)(uintptr_t)test_handler, out, 4), -SYS_EFAULT);
	KT_ASSERT_EQ(syscall_copy_in(out, "abc", 4), 0);
	KT_ASSERT_STREQ(out, "abc");
}
