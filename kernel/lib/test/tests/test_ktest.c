/* Tests of the test library itself (the runner's protocol is checked by the host, which
 * parses the begin/pass/summary lines of every test image). */
#include <test/test.h>

KTEST(ktest, streq)
{
	KT_ASSERT(ktest_streq("abc", "abc"));
	KT_ASSERT(!ktest_streq("abc", "abd"));
	KT_ASSERT(!ktest_streq("ab", "abc"));
	KT_ASSERT(ktest_streq(NULL, NULL));
	KT_ASSERT(!ktest_streq("a", NULL));
}

static int later_ran;

/* Sorted by name: "a_first" runs before "b_second", which sees its side effect. */
KTEST(ktest, a_first)
{
	later_ran = 1;
}

KTEST(ktest, b_second_runs_in_name_order)
{
	KT_ASSERT_EQ(later_ran, 1);
}
