/* Guest tests of print: the same formatter as the host test, here built with the kernel flags
 * and run at CPL 3 (floating point through SSE). */
#include <test/test.h>

#include <print/print.h>

static char buf[128];

KTEST(print, integers)
{
	KT_ASSERT_EQ(ksnprintf(buf, sizeof buf, "%d|%5d|%-5d|%05d|%+d", -42, 7, 7, -7, 3), 24);
	KT_ASSERT_STREQ(buf, "-42|    7|7    |-0007|+3");
	ksnprintf(buf, sizeof buf, "%x %X %#x %o %#o %lu %lld", 255u, 255u, 255u, 8u, 8u, 4294967296ul,
		  -9223372036854775807ll - 1);
	KT_ASSERT_STREQ(buf, "ff FF 0xff 10 010 4294967296 -9223372036854775808");
	ksnprintf(buf, sizeof buf, "%hhd %hu %zu %.3d %.0d|", 257, 65537, (size_t)12, 5, 0);
	KT_ASSERT_STREQ(buf, "1 1 12 005 |");
}

KTEST(print, strings_chars_pointers)
{
	ksnprintf(buf, sizeof buf, "[%s][%8s][%-8s][%.2s][%c][%3c]", "kiln", "kiln", "kiln", "kiln", 'k', 'x');
	KT_ASSERT_STREQ(buf, "[kiln][    kiln][kiln    ][ki][k][  x]");
	ksnprintf(buf, sizeof buf, "%p %p %s %%", (void *)0x1000, (void *)0, (char *)0);
	KT_ASSERT_STREQ(buf, "0x1000 (nil) (null) %");
	ksnprintf(buf, sizeof buf, "[%*d][%-*d][%.*s]", 4, 1, 4, 2, 1, "xyz");
	KT_ASSERT_STREQ(buf, "[   1][2   ][x]");
}

KTEST(print, floats)
{
#if !CONFIG_PRINT_FLOAT
	ksnprintf(buf, sizeof buf, "%f", 1.0);
	KT_ASSERT_STREQ(buf, "<float>"); /* print.float=false: no float code in the image */
	return;
#endif
	ksnprintf(buf, sizeof buf, "%f %.2f %.0f %.0f %e %g %g", 3.14159265, 2.675, 0.5, 1.5, 12345.678, 0.0001,
		  1e20);
	KT_ASSERT_STREQ(buf, "3.141593 2.67 0 2 1.234568e+04 0.0001 1e+20");
	ksnprintf(buf, sizeof buf, "%10.3f|%-10.1e|%+g|%a|%G", -1.0 / 3, 6.02e23, 100.0, 1.0, 1e-10);
	KT_ASSERT_STREQ(buf, "    -0.333|6.0e+23   |+100|0x1p+0|1E-10");
	double inf = 1.0 / 0.0;
	ksnprintf(buf, sizeof buf, "%f %F %5.1f", inf, -inf, 0.0 / 0.0);
	KT_ASSERT(ktest_streq(buf, "inf -INF   nan") || ktest_streq(buf, "inf -INF  -nan"));
	ksnprintf(buf, sizeof buf, "%.20f", 0.1);
	KT_ASSERT_STREQ(buf, "0.10000000000000000555");
	ksnprintf(buf, sizeof buf, "%.17g", 5e-324);
	KT_ASSERT_STREQ(buf, "4.9406564584124654e-324");
}

KTEST(print, truncation_returns_full_length)
{
	char small[6] = "zzzzz";
	KT_ASSERT_EQ(ksnprintf(small, sizeof small, "%s-%d", "hello", 12345), 11);
	KT_ASSERT_STREQ(small, "hello");
	KT_ASSERT_EQ(ksnprintf(small, 0, "%d", 1), 1);
	KT_ASSERT_STREQ(small, "hello");
	KT_ASSERT_EQ(ksnprintf(small, 1, "%d", 1), 1);
	KT_ASSERT_STREQ(small, "");
}

KTEST(print, kprintf_counts)
{
	/* Longer than the kprintf buffer: exercises the flush path. */
	KT_ASSERT_EQ(kprintf("print: kprintf test %0600d\n", 1), 621);
}
