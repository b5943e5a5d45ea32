/* Runs guest KTESTs on the host with the guest runner's output protocol (KTEST: pass/fail
 * lines and a summary). Usage: ktest [name-substring...]. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <test/test.h>

static const struct ktest *tests[256];
static int ntests, failed_current;

void ktest_host_register(const struct ktest *t)
{
	if (ntests < 256) tests[ntests++] = t;
}

void ktest_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	failed_current = 1;
	printf("KTEST: fail %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

int ktest_streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < ntests; i++) {
		int want = argc == 1;
		for (int a = 1; a < argc; a++) want |= strstr(tests[i]->name, argv[a]) != NULL;
		if (!want) continue;
		failed_current = 0;
		tests[i]->fn();
		printf("KTEST: %s %s.%s\n", failed_current ? "fail" : "pass", tests[i]->suite, tests[i]->name);
		if (failed_current) failed++;
		else passed++;
	}
	printf("KTEST: summary passed=%d failed=%d\n", passed, failed);
	return failed != 0;
}
