/* Faults on purpose, to show (and test) the fatal report: kiln: fatal: ..., registers, a
 * backtrace, exit 255. The first argument picks the fault:
 *   null   write through a null pointer (page fault; page 0 is never mapped) - the default
 *   ud     ud2 (invalid opcode)
 *   div    integer divide by zero (divide error)
 *   stack  unbounded recursion: runs into the unmapped guard page below the boot stack
 *   gp     hlt at CPL 3 (general protection fault: privileged instruction)
 *   panic  kiln_panic("...")
 */
#include <stdint.h>
#include <boot/boot.h>
#include <console/console.h>

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* noinline + volatile: the compiler can prove neither the null nor the zero. */
static __attribute__((noinline)) void fault_null(void)
{
	int *volatile p = 0;
	*(volatile int *)p = 42;
}

static __attribute__((noinline)) int fault_div(void)
{
	volatile int a = 1, b = 0;
	return a / b;
}

/* Never reached (depth only grows), but it keeps gcc from rejecting the recursion. */
static volatile int recurse_limit = -1;

static __attribute__((noinline)) int recurse(int depth)
{
	volatile char frame[256];
	if (depth == recurse_limit)
		return 0;
	frame[0] = (char)depth;
	return recurse(depth + 1) + frame[0]; /* not a tail call: every frame stays */
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "null";
	console_puts("fault: ");
	console_puts(mode);
	console_puts("\n");
	if (streq(mode, "null"))
		fault_null();
	else if (streq(mode, "ud"))
		__builtin_trap();
	else if (streq(mode, "div"))
		return fault_div();
	else if (streq(mode, "stack"))
		return recurse(0);
	else if (streq(mode, "gp"))
		__asm__ volatile("hlt");
	else if (streq(mode, "panic"))
		kiln_panic("requested by the fault app");
	console_puts("fault: unknown mode (null, ud, div, stack, gp, panic)\n");
	return 2;
}
