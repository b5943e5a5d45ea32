/* Guest tests of nolibc (the pure functions are also checked against glibc on the host). */
#include <test/test.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

KTEST(nolibc, mem_functions)
{
	static char a[300], b[300];
	for (int i = 0; i < 300; i++)
		a[i] = (char)i;
	KT_ASSERT(memcpy(b, a, 300) == b);
	KT_ASSERT_EQ(memcmp(a, b, 300), 0);
	b[299] = 1;
	KT_ASSERT(memcmp(a, b, 300) > 0);
	memset(b + 3, 'x', 5);
	KT_ASSERT_EQ(b[2], 2);
	KT_ASSERT_EQ(b[3], 'x');
	KT_ASSERT_EQ(b[7], 'x');
	KT_ASSERT_EQ(b[8], 8);
	memcpy(b, "0123456789", 10);
	memmove(b + 2, b, 6); /* overlapping, forwards */
	KT_ASSERT_EQ(memcmp(b, "0101234589", 10), 0);
	memmove(b, b + 2, 6); /* overlapping, backwards */
	KT_ASSERT_EQ(memcmp(b, "0123454589", 10), 0);
	KT_ASSERT(memchr(b, '5', 10) == b + 5);
	KT_ASSERT_NULL(memchr(b, 'z', 10));
}

KTEST(nolibc, string_functions)
{
	char buf[32];
	KT_ASSERT_EQ(strlen(""), 0);
	KT_ASSERT_EQ(strlen("unikernel"), 9);
	strcpy(buf, "kiln");
	strcat(buf, "-os");
	KT_ASSERT_STREQ(buf, "kiln-os");
	KT_ASSERT(strcmp("a", "b") < 0);
	KT_ASSERT_EQ(strncmp("kilnA", "kilnB", 4), 0);
	KT_ASSERT(strchr(buf, '-') == buf + 4);
	KT_ASSERT(strrchr("a/b/c", '/') != NULL);
	KT_ASSERT_STREQ(strstr("hello world", "wor"), "world");
	KT_ASSERT_NULL(strstr("hello", "xyz"));
	strncpy(buf, "ab", 5);
	KT_ASSERT_EQ(buf[2], 0);
	KT_ASSERT_EQ(buf[4], 0);
	KT_ASSERT_EQ(strspn("aabbc", "ab"), 4);
	KT_ASSERT_EQ(strcasecmp("KiLn", "kiln"), 0);
	char t[] = "a,b,,c";
	char *save;
	KT_ASSERT_STREQ(strtok_r(t, ",", &save), "a");
	KT_ASSERT_STREQ(strtok_r(NULL, ",", &save), "b");
	KT_ASSERT_STREQ(strtok_r(NULL, ",", &save), "c");
	KT_ASSERT_NULL(strtok_r(NULL, ",", &save));
}

KTEST(nolibc, ctype)
{
	KT_ASSERT(isdigit('7') && !isdigit('a'));
	KT_ASSERT(isspace('\t') && isspace(' ') && !isspace('x'));
	KT_ASSERT(isxdigit('F') && !isxdigit('g'));
	KT_ASSERT_EQ(toupper('q'), 'Q');
	KT_ASSERT_EQ(tolower('Q'), 'q');
	KT_ASSERT(ispunct('!') && !ispunct('a'));
}

KTEST(nolibc, strtol_family)
{
	char *end;
	KT_ASSERT_EQ(strtol("  -123xyz", &end, 10), -123);
	KT_ASSERT_STREQ(end, "xyz");
	KT_ASSERT_EQ(strtol("0x1F", NULL, 0), 31);
	KT_ASSERT_EQ(strtol("017", NULL, 0), 15);
	KT_ASSERT_EQ(strtoul("ff", NULL, 16), 255);
	errno = 0;
	KT_ASSERT_EQ(strtol("99999999999999999999", NULL, 10), LONG_MAX);
	KT_ASSERT_EQ(errno, ERANGE);
	KT_ASSERT_EQ(strtoull("18446744073709551615", NULL, 10), (long long)ULLONG_MAX);
	KT_ASSERT_EQ(strtol("junk", &end, 10), 0);
	KT_ASSERT_STREQ(end, "junk");
	KT_ASSERT_EQ(atoi("42"), 42);
	KT_ASSERT_EQ(abs(-5), 5);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

KTEST(nolibc, qsort_bsearch)
{
	int v[100];
	srand(7);
	for (int i = 0; i < 100; i++)
		v[i] = rand() % 1000;
	qsort(v, 100, sizeof *v, cmp_int);
	for (int i = 1; i < 100; i++)
		KT_ASSERT(v[i - 1] <= v[i]);
	int key = v[37];
	int *hit = bsearch(&key, v, 100, sizeof *v, cmp_int);
	KT_ASSERT_NOTNULL(hit);
	KT_ASSERT_EQ(*hit, key);
	key = 1000;
	KT_ASSERT_NULL(bsearch(&key, v, 100, sizeof *v, cmp_int));
}

KTEST(nolibc, stdio_formatting)
{
	char buf[64];
	/* No %f here: floats are print's (and may be configured out with print.float=false). */
	KT_ASSERT_EQ(snprintf(buf, sizeof buf, "%s=%d %" PRIu64, "x", 5, (uint64_t)1 << 40), 17);
	KT_ASSERT_STREQ(buf, "x=5 1099511627776");
	KT_ASSERT_EQ(sprintf(buf, "%05x", 0xab), 5);
	KT_ASSERT_STREQ(buf, "000ab");
	KT_ASSERT_EQ(printf("nolibc: printf to the console %d\n", 1), 32);
	KT_ASSERT_EQ(fprintf(stderr, "nolibc: stderr too\n"), 19);
	KT_ASSERT_EQ(fputs("nolibc: fputs\n", stdout), 0);
	KT_ASSERT_EQ(putchar('\n'), '\n');
	KT_ASSERT_EQ(fprintf(stdin, "no"), -1);
}

KTEST(nolibc, errno_and_strerror)
{
	errno = EINVAL;
	KT_ASSERT_EQ(errno, 22);
	KT_ASSERT_STREQ(strerror(ENOMEM), "Cannot allocate memory");
	KT_ASSERT_EQ(ENOSYS, 38);
	KT_ASSERT_EQ(ETIMEDOUT, 110);
}

#if CONFIG_LIB_ALLOC /* strdup needs malloc */
KTEST(nolibc, strdup_strndup)
{
	char *a = strdup("kiln");
	KT_ASSERT_NOTNULL(a);
	KT_ASSERT_STREQ(a, "kiln");
	char *b = strndup("unikernel", 3);
	KT_ASSERT_NOTNULL(b);
	KT_ASSERT_STREQ(b, "uni");
	free(a);
	free(b);
}
#endif
