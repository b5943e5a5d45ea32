/* The guest test runner: walks .kiln_tests in (suite, name, address) order without allocating
 * (repeatedly picks the smallest test after the previous one: O(n^2), fine for hundreds). */
#include <test/test.h>

#include <arch/trap.h>
#include <boot/boot.h>
#include <print/print.h>
#include <stdarg.h>
#include <stddef.h>

/* Bounds of .kiln_tests, defined by the linker script (plat-kvm's kiln.ld). */
extern const struct ktest *const __kiln_tests_start[];
extern const struct ktest *const __kiln_tests_end[];

static const struct ktest *current;

static struct arch_jmp_buf catch_jmp;
static struct kt_fault *catch_out;

static void catch_one(const struct arch_trap_frame *tf)
{
	catch_out->vector = tf->vector;
	catch_out->error = tf->error;
	catch_out->rip = tf->rip;
	arch_trap_rearm();
	arch_longjmp(&catch_jmp, 1);
}

int kt_catch_fault(void (*fn)(void *), void *arg, struct kt_fault *f)
{
	catch_out = f;
	if (arch_setjmp(&catch_jmp)) {
		kiln_trap_catch(NULL);
		return 1;
	}
	kiln_trap_catch(catch_one);
	fn(arg);
	kiln_trap_catch(NULL);
	return 0;
}
static int current_failed;

int ktest_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static int strorder(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int order(const struct ktest *a, const struct ktest *b)
{
	int c = strorder(a->suite, b->suite);
	if (!c)
		c = strorder(a->name, b->name);
	if (!c)
		c = a < b ? -1 : a > b;
	return c;
}

void ktest_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++) /* keep the protocol one line */
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	current_failed = 1;
	if (current)
		kprintf("KTEST: fail %s.%s %s:%d: %s\n", current->suite, current->name, file, line, msg);
	else
		kprintf("KTEST: fail (outside a test) %s:%d: %s\n", file, line, msg);
}

int ktest_run_all(void)
{
	size_t n = (size_t)(__kiln_tests_end - __kiln_tests_start);
	int passed = 0, failed = 0;
	kprintf("KTEST: begin %zu\n", n);
	const struct ktest *prev = NULL;
	for (size_t done = 0; done < n; done++) {
		const struct ktest *next = NULL;
		for (size_t i = 0; i < n; i++) {
			const struct ktest *t = __kiln_tests_start[i];
			if ((!prev || order(t, prev) > 0) && (!next || order(t, next) < 0))
				next = t;
		}
		if (!next)
			break;
		current = next;
		current_failed = 0;
		next->fn();
		if (current_failed)
			failed++;
		else {
			passed++;
			kprintf("KTEST: pass %s.%s\n", next->suite, next->name);
		}
		prev = next;
	}
	current = NULL;
	kprintf("KTEST: summary passed=%d failed=%d\n", passed, failed);
	return failed;
}
