/* Host harness: nolibc's pure functions (string, ctype, stdlib) against glibc. nolibc is
 * built freestanding and its symbols renamed with an nl_ prefix (objcopy --prefix-symbols),
 * so both libraries live in one process. Prints each mismatch; exits 1 if any. Run by
 * host.test.ts. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void *nl_memcpy(void *, const void *, size_t);
void *nl_memmove(void *, const void *, size_t);
void *nl_memset(void *, int, size_t);
int nl_memcmp(const void *, const void *, size_t);
void *nl_memchr(const void *, int, size_t);
void *nl_memrchr(const void *, int, size_t);
size_t nl_strlen(const char *);
size_t nl_strnlen(const char *, size_t);
char *nl_strcpy(char *, const char *);
char *nl_strncpy(char *, const char *, size_t);
size_t nl_strlcpy(char *, const char *, size_t);
char *nl_strcat(char *, const char *);
char *nl_strncat(char *, const char *, size_t);
int nl_strcmp(const char *, const char *);
int nl_strncmp(const char *, const char *, size_t);
int nl_strcasecmp(const char *, const char *);
int nl_strncasecmp(const char *, const char *, size_t);
char *nl_strchr(const char *, int);
char *nl_strrchr(const char *, int);
char *nl_strstr(const char *, const char *);
size_t nl_strspn(const char *, const char *);
size_t nl_strcspn(const char *, const char *);
char *nl_strpbrk(const char *, const char *);
char *nl_strtok_r(char *, const char *, char **);
long nl_strtol(const char *, char **, int);
unsigned long nl_strtoul(const char *, char **, int);
long long nl_strtoll(const char *, char **, int);
unsigned long long nl_strtoull(const char *, char **, int);
int nl_atoi(const char *);
void nl_qsort(void *, size_t, size_t, int (*)(const void *, const void *));
void *nl_bsearch(const void *, const void *, size_t, size_t, int (*)(const void *, const void *));
int *nl___errno_location(void);
int nl_isalnum(int), nl_isalpha(int), nl_isblank(int), nl_iscntrl(int), nl_isdigit(int), nl_isgraph(int),
	nl_islower(int), nl_isprint(int), nl_ispunct(int), nl_isspace(int), nl_isupper(int), nl_isxdigit(int),
	nl_tolower(int), nl_toupper(int);

/* nolibc's exit.c and stdio.c are not linked; nothing here needs them. */

static long checks, failures;
#define CHECK(cond, ...)                                      \
	do {                                                  \
		checks++;                                     \
		if (!(cond)) {                                \
			if (++failures <= 40) {               \
				printf("MISMATCH line %d: ", __LINE__); \
				printf(__VA_ARGS__);          \
				printf("\n");                 \
			}                                     \
		}                                             \
	} while (0)

static int sign(long v)
{
	return (v > 0) - (v < 0);
}

static uint64_t rs = 88172645463325252ull;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static void test_mem(void)
{
	static unsigned char a[1024], b[1024], c[1024];
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = rnd() % 300, so = rnd() % 64, d = rnd() % 64;
		for (size_t i = 0; i < sizeof a; i++)
			a[i] = (unsigned char)rnd();
		memcpy(b, a, sizeof a);
		memcpy(c, a, sizeof a);
		CHECK(nl_memcpy(b + d, a + 512 + so, n) == b + d, "memcpy return");
		memcpy(c + d, a + 512 + so, n);
		CHECK(!memcmp(b, c, sizeof b), "memcpy n=%zu so=%zu d=%zu", n, so, d);
		/* memmove within one buffer, both directions, overlapping. */
		memcpy(b, a, sizeof a);
		memcpy(c, a, sizeof a);
		size_t src = 100 + rnd() % 200, dst = 100 + rnd() % 200;
		nl_memmove(b + dst, b + src, n);
		memmove(c + dst, c + src, n);
		CHECK(!memcmp(b, c, sizeof b), "memmove n=%zu src=%zu dst=%zu", n, src, dst);
		int v = (int)(rnd() % 512) - 128;
		nl_memset(b + d, v, n);
		memset(c + d, v, n);
		CHECK(!memcmp(b, c, sizeof b), "memset n=%zu v=%d", n, v);
		/* memcmp: equal prefix, then maybe one differing byte. */
		memcpy(b, a, sizeof a);
		if (n && rnd() % 2)
			b[rnd() % n] ^= (unsigned char)(1 + rnd() % 255);
		CHECK(sign(nl_memcmp(a, b, n)) == sign(memcmp(a, b, n)), "memcmp n=%zu", n);
		int ch = (int)(rnd() % 256);
		CHECK(nl_memchr(a + so, ch, n) == memchr(a + so, ch, n), "memchr n=%zu c=%d", n, ch);
		CHECK(nl_memrchr(a + so, ch, n) == memrchr(a + so, ch, n), "memrchr n=%zu c=%d", n, ch);
	}
}

static void test_strlen_page_edge(void)
{
	/* Strings ending right before an unmapped page: a word-at-a-time strlen must not fault. */
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		CHECK(0, "mmap");
		return;
	}
	mprotect(m + pg, (size_t)pg, PROT_NONE);
	for (int len = 0; len < 40; len++) {
		char *s = m + pg - len - 1;
		memset(s, 'a', (size_t)len);
		s[len] = 0;
		CHECK(nl_strlen(s) == (size_t)len, "strlen at page end len=%d", len);
		CHECK(nl_strnlen(s, 100) == (size_t)len, "strnlen len=%d", len);
		CHECK(nl_strchr(s, 'b') == NULL && nl_strchr(s, 0) == s + len, "strchr page end");
	}
	munmap(m, (size_t)pg * 2);
}

static const char *words[] = {"", "a", "A", "ab", "abc", "abd", "ABC", "hello", "hello world", "Hello World",
			      "world", "\xff", "\x80x", "aaaaaaaaaaaaaaaaaaab", "aaaaaaaaaaaaaaaaaaa", "lo w", "o", "l",
			      "kiln,os;,test", ",;", "zzz"};
#define NW (sizeof words / sizeof *words)

static void test_str(void)
{
	char x[128], y[128];
	for (size_t i = 0; i < NW; i++) {
		const char *s = words[i];
		for (int al = 0; al < 8; al++) {
			strcpy(x + al, s);
			CHECK(nl_strlen(x + al) == strlen(s), "strlen \"%s\" align %d", s, al);
		}
		for (size_t j = 0; j < NW; j++) {
			const char *t = words[j];
			CHECK(sign(nl_strcmp(s, t)) == sign(strcmp(s, t)), "strcmp \"%s\" \"%s\"", s, t);
			CHECK(sign(nl_strcasecmp(s, t)) == sign(strcasecmp(s, t)), "strcasecmp \"%s\" \"%s\"", s, t);
			for (size_t n = 0; n < 8; n++) {
				CHECK(sign(nl_strncmp(s, t, n)) == sign(strncmp(s, t, n)), "strncmp \"%s\" \"%s\" %zu", s, t, n);
				CHECK(sign(nl_strncasecmp(s, t, n)) == sign(strncasecmp(s, t, n)), "strncasecmp %zu", n);
			}
			CHECK(nl_strstr(s, t) == strstr(s, t), "strstr \"%s\" \"%s\"", s, t);
			CHECK(nl_strspn(s, t) == strspn(s, t), "strspn \"%s\" \"%s\"", s, t);
			CHECK(nl_strcspn(s, t) == strcspn(s, t), "strcspn \"%s\" \"%s\"", s, t);
			CHECK(nl_strpbrk(s, t) == strpbrk(s, t), "strpbrk \"%s\" \"%s\"", s, t);
			strcpy(x, s);
			strcpy(y, s);
			CHECK(!strcmp(nl_strcat(x, t), strcat(y, t)), "strcat");
			for (size_t n = 0; n < 6; n++) {
				strcpy(x, s);
				strcpy(y, s);
				nl_strncat(x, t, n);
				strncat(y, t, n);
				CHECK(!strcmp(x, y), "strncat \"%s\" \"%s\" %zu", s, t, n);
			}
		}
		for (int ch = 0; ch < 256; ch += 1) {
			CHECK(nl_strchr(s, ch) == strchr(s, ch), "strchr \"%s\" %d", s, ch);
			CHECK(nl_strrchr(s, ch) == strrchr(s, ch), "strrchr \"%s\" %d", s, ch);
		}
		for (size_t n = 0; n < 24; n++) {
			memset(x, 'Q', sizeof x);
			memset(y, 'Q', sizeof y);
			nl_strncpy(x, s, n);
			strncpy(y, s, n);
			CHECK(!memcmp(x, y, sizeof x), "strncpy \"%s\" %zu", s, n);
			/* strlcpy (not in this glibc): truncates to n-1, terminates, returns strlen. */
			memset(x, 'Q', sizeof x);
			size_t r = nl_strlcpy(x, s, n);
			CHECK(r == strlen(s), "strlcpy return");
			if (n) {
				size_t k = strlen(s) < n - 1 ? strlen(s) : n - 1;
				CHECK(!memcmp(x, s, k) && x[k] == 0 && x[k + 1] == 'Q', "strlcpy \"%s\" %zu", s, n);
			} else {
				CHECK(x[0] == 'Q', "strlcpy n=0 writes nothing");
			}
		}
		strcpy(x, s);
		strcpy(y, s);
		char *sx, *sy, *px = nl_strtok_r(x, ",;", &sx), *py = strtok_r(y, ",;", &sy);
		for (;;) {
			CHECK((px == NULL) == (py == NULL) && (!px || (px - x == py - y)), "strtok_r \"%s\"", s);
			if (!px || !py)
				break;
			px = nl_strtok_r(NULL, ",;", &sx);
			py = strtok_r(NULL, ",;", &sy);
		}
	}
}

static void test_ctype(void)
{
	for (int c = -1; c < 256; c++) {
		CHECK(!nl_isalnum(c) == !isalnum(c), "isalnum %d", c);
		CHECK(!nl_isalpha(c) == !isalpha(c), "isalpha %d", c);
		CHECK(!nl_isblank(c) == !isblank(c), "isblank %d", c);
		CHECK(!nl_iscntrl(c) == !iscntrl(c), "iscntrl %d", c);
		CHECK(!nl_isdigit(c) == !isdigit(c), "isdigit %d", c);
		CHECK(!nl_isgraph(c) == !isgraph(c), "isgraph %d", c);
		CHECK(!nl_islower(c) == !islower(c), "islower %d", c);
		CHECK(!nl_isprint(c) == !isprint(c), "isprint %d", c);
		CHECK(!nl_ispunct(c) == !ispunct(c), "ispunct %d", c);
		CHECK(!nl_isspace(c) == !isspace(c), "isspace %d", c);
		CHECK(!nl_isupper(c) == !isupper(c), "isupper %d", c);
		CHECK(!nl_isxdigit(c) == !isxdigit(c), "isxdigit %d", c);
		CHECK(nl_tolower(c) == tolower(c), "tolower %d", c);
		CHECK(nl_toupper(c) == toupper(c), "toupper %d", c);
	}
}

static const char *numbers[] = {"0", "1", "-1", "+1", "  42", "\t\n 42x", "-", "+", "", "x", "0x", "0x1f", "0X1F",
				"0xg", "-0x10", "010", "08", "0b101", "z", "Zz", "123456789012345678901234567890",
				"9223372036854775807", "9223372036854775808", "-9223372036854775808",
				"-9223372036854775809", "18446744073709551615", "18446744073709551616",
				"-18446744073709551615", "-18446744073709551616", "7fffffffffffffff", "ffffffffffffffff",
				"10000000000000000", "1111111111111111111111111111111111111111111111111111111111111111",
				"11111111111111111111111111111111111111111111111111111111111111111", " -0", "00000000017",
				"3w5e11264sgsf", "3w5e11264sgsg", "  +0x", "1e5", "12 34"};

static void test_strto(void)
{
	static const int bases[] = {0, 2, 8, 10, 16, 36, 1, 37};
	for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++)
		for (size_t b = 0; b < sizeof bases / sizeof *bases; b++) {
			const char *s = numbers[i];
			int base = bases[b];
			char *e1, *e2;
			int er1, er2;
			*nl___errno_location() = 0;
			errno = 0;
			long long v1 = nl_strtoll(s, &e1, base);
			er1 = *nl___errno_location();
			long long v2 = strtoll(s, &e2, base);
			er2 = errno;
			/* An invalid base: EINVAL and 0; where glibc leaves endptr is unspecified. */
			int valid = base == 0 || (base >= 2 && base <= 36);
			if (!valid)
				e2 = e1;
			CHECK(v1 == v2 && e1 == e2 && er1 == er2, "strtoll(\"%s\", %d): %lld/%td/%d vs glibc %lld/%td/%d", s, base,
			      v1, e1 - s, er1, v2, e2 - s, er2);
			*nl___errno_location() = 0;
			errno = 0;
			unsigned long long u1 = nl_strtoull(s, &e1, base);
			er1 = *nl___errno_location();
			unsigned long long u2 = strtoull(s, &e2, base);
			er2 = errno;
			if (!valid)
				e2 = e1;
			CHECK(u1 == u2 && e1 == e2 && er1 == er2, "strtoull(\"%s\", %d): %llu/%td/%d vs glibc %llu/%td/%d", s,
			      base, u1, e1 - s, er1, u2, e2 - s, er2);
			CHECK(nl_strtol(s, NULL, base) == strtol(s, NULL, base), "strtol \"%s\" %d", s, base);
			CHECK(nl_strtoul(s, NULL, base) == strtoul(s, NULL, base), "strtoul \"%s\" %d", s, base);
		}
	CHECK(nl_atoi("  -17abc") == -17, "atoi");
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

struct rec {
	int key;
	char pad[13]; /* an odd size: exercises the byte-wise swap tail */
};

static int cmp_rec(const void *a, const void *b)
{
	return cmp_int(&((const struct rec *)a)->key, &((const struct rec *)b)->key);
}

static void test_sort(void)
{
	static int a[2000], b[2000];
	for (int iter = 0; iter < 300; iter++) {
		size_t n = rnd() % 2000;
		int range = 1 + (int)(rnd() % 5000);
		for (size_t i = 0; i < n; i++)
			a[i] = b[i] = (int)(rnd() % (unsigned)range) - range / 2;
		nl_qsort(a, n, sizeof *a, cmp_int);
		qsort(b, n, sizeof *b, cmp_int);
		CHECK(!memcmp(a, b, n * sizeof *a), "qsort n=%zu", n);
		for (int k = 0; k < 20; k++) {
			int key = (int)(rnd() % (unsigned)range) - range / 2;
			int *p1 = nl_bsearch(&key, a, n, sizeof *a, cmp_int), *p2 = bsearch(&key, b, n, sizeof *b, cmp_int);
			CHECK((p1 == NULL) == (p2 == NULL) && (!p1 || *p1 == key), "bsearch n=%zu key=%d", n, key);
		}
	}
	static struct rec r[500];
	for (int i = 0; i < 500; i++) {
		r[i].key = (int)(rnd() % 1000);
		memset(r[i].pad, r[i].key & 0xff, sizeof r[i].pad);
	}
	nl_qsort(r, 500, sizeof *r, cmp_rec);
	int ok = 1;
	for (int i = 0; i < 500; i++)
		ok &= (i == 0 || r[i - 1].key <= r[i].key) && r[i].pad[12] == (char)(r[i].key & 0xff);
	CHECK(ok, "qsort of 17-byte records keeps records whole and sorted");
}

int main(void)
{
	test_mem();
	test_strlen_page_edge();
	test_str();
	test_ctype();
	test_strto();
	test_sort();
	printf("checks=%ld mismatches=%ld\n", checks, failures);
	return failures != 0;
}
