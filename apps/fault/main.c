/* Faults on purpose, to show (and test) the fatal report: kiln: fatal: ..., registers, a
 * backtrace, exit 255. The first argument picks the fault:
 *   null   write through a null pointer (page fault; page 0 is never mapped) - the default
 *   ud     ud2 (invalid opcode)
 *   div    integer divide by zero (divide error)
 *   stack  unbounded recursion: runs into the unmapped guard page below the boot stack
 *   gp     hlt at CPL 3 (general protection fault: privileged instruction)
 *   cli    cli at CPL 3 (general protection fault: Kiln runs at IOPL 0)
 *   port   outb to port 0x80, which no library declares (general protection fault)
 *   int3   a breakpoint instruction
 *   regs   ud2 with known values in every general register (checks the saved frame)
 *   panic  kiln_panic("...")
 * and the parameter fault.init=fail makes an init function fail (before main runs).
 */
#include <stdint.h>
#include <boot/boot.h>
#include <boot/init.h>
#include <cmdline/cmdline.h>
#include <console/console.h>

/* Code that breaks the CPL-3 rules on purpose lives in .text.kiln_faults, which the build's
 * check of those rules skips (docs/architecture.md). */
#define FAULTS __attribute__((noinline, section(".text.kiln_faults")))
static FAULTS void fault_hlt(void) { __asm__ volatile("hlt"); }
static FAULTS void fault_cli(void) { __asm__ volatile("cli"); }
static FAULTS void fault_port(void) { __asm__ volatile("outb %%al, $0x80" : : "a"(0)); }

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static int fault_init(void)
{
	const char *v = cmdline_param("fault.init");
	return v && streq(v, "fail") ? -5 : 0; /* -EIO */
}
KILN_INIT(late, 500, fault_init);

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

/* rax = 0xa0a0..., rbx = 0xb0b0..., ..., r15 = 0xf15f15...: the report must show exactly
 * these (rsp/rbp stay real so the backtrace still works). */
static __attribute__((noinline)) void fault_regs(void)
{
	__asm__ volatile("movabsq $0xa0a0a0a0a0a0a0a0, %%rax\n\t"
			 "movabsq $0xb0b0b0b0b0b0b0b0, %%rbx\n\t"
			 "movabsq $0xc0c0c0c0c0c0c0c0, %%rcx\n\t"
			 "movabsq $0xd0d0d0d0d0d0d0d0, %%rdx\n\t"
			 "movabsq $0x5151515151515151, %%rsi\n\t"
			 "movabsq $0xd1d1d1d1d1d1d1d1, %%rdi\n\t"
			 "movabsq $0x0808080808080808, %%r8\n\t"
			 "movabsq $0x0909090909090909, %%r9\n\t"
			 "movabsq $0x1010101010101010, %%r10\n\t"
			 "movabsq $0x1111111111111111, %%r11\n\t"
			 "movabsq $0x1212121212121212, %%r12\n\t"
			 "movabsq $0x1313131313131313, %%r13\n\t"
			 "movabsq $0x1414141414141414, %%r14\n\t"
			 "movabsq $0x1515151515151515, %%r15\n\t"
			 "ud2"
			 :
			 :
			 : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
			   "r13", "r14", "r15", "memory");
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
		fault_hlt();
	else if (streq(mode, "cli"))
		fault_cli();
	else if (streq(mode, "port"))
		fault_port();
	else if (streq(mode, "int3"))
		__asm__ volatile("int3");
	else if (streq(mode, "regs"))
		fault_regs();
	else if (streq(mode, "panic"))
		kiln_panic("requested by the fault app");
	console_puts("fault: unknown mode (null, ud, div, stack, gp, cli, port, int3, regs, panic)\n");
	return 2;
}
