/* The fatal report for exceptions (entered at CPL 3 from arch-x86_64's shim) and panics. */
#include <stddef.h>
#include <stdint.h>
#include <arch/trap.h>
#include <boot/boot.h>
#include <console/console.h>

#define BT_MAX 32
/* Frames outside the boot stack: accept a chain this far above sp (thread stacks). */
#define BT_SPAN (256u << 10)
/* The page tables map 0-1 GiB of RAM; never dereference beyond it. */
#define MAPPED_END (1ull << 30)

/* Optional: a library that knows more about an address (sched-coop: thread stack guard pages)
 * defines this; NULL when it has nothing to say. Weak, so boot does not depend on it. */
__attribute__((weak)) const char *kiln_fault_hint(uint64_t addr);

void kiln_backtrace(uint64_t pc, uint64_t fp, uint64_t sp)
{
	uintptr_t blo, bhi;
	arch_boot_stack_bounds(&blo, &bhi);
	uint64_t lo = sp, hi;
	if (sp >= blo - 4096 && sp <= bhi)
		hi = bhi; /* includes an overflow into the guard page */
	else
		hi = sp + BT_SPAN < MAPPED_END ? sp + BT_SPAN : MAPPED_END;

	/* #0 is the exact pc (exceptions only); #1 on are return addresses. */
	int i = 1;
	if (pc) {
		console_puts("kiln: bt #0 ");
		console_put_hex(pc);
		console_puts("\n");
	}
	for (; i < BT_MAX; i++) {
		if (fp == 0 || (fp & 7) || fp < lo || fp + 16 > hi)
			break;
		const uint64_t *frame = (const uint64_t *)(uintptr_t)fp;
		uint64_t ret = frame[1];
		if (ret == 0)
			break;
		console_puts("kiln: bt #");
		console_put_dec((uint64_t)i);
		console_puts(" ");
		console_put_hex(ret);
		console_puts("\n");
		if (frame[0] <= fp) /* chains only go up the stack */
			break;
		fp = frame[0];
	}
}

static void reg(const char *name, uint64_t v)
{
	console_puts(" ");
	console_puts(name);
	console_puts(" ");
	console_put_hex(v);
}

_Noreturn void kiln_trap_report(const struct arch_trap_frame *f)
{
	console_puts("\nkiln: fatal: ");
	console_puts(arch_vector_name(f->vector));
	console_puts(" (vector ");
	console_put_dec(f->vector);
	console_puts(", error ");
	console_put_hexmin(f->error);
	console_puts(")\n");
	if (f->vector == 14) {
		console_puts("kiln: cr2 ");
		console_put_hex(f->cr2);
		uintptr_t blo, bhi;
		arch_boot_stack_bounds(&blo, &bhi);
		if (f->cr2 < 4096)
			console_puts(" (null pointer)");
		else if (f->cr2 >= blo - 4096 && f->cr2 < blo)
			console_puts(" (boot stack overflow: guard page)");
		else if (kiln_fault_hint) {
			const char *hint = kiln_fault_hint(f->cr2);
			if (hint) {
				console_puts(" (");
				console_puts(hint);
				console_puts(")");
			}
		}
		console_puts("\n");
	}
	console_puts("kiln:");
	reg("rip", f->rip);
	reg("rsp", f->rsp);
	reg("rbp", f->rbp);
	console_puts("\nkiln:");
	reg("rax", f->rax);
	reg("rbx", f->rbx);
	reg("rcx", f->rcx);
	reg("rdx", f->rdx);
	console_puts("\nkiln:");
	reg("rsi", f->rsi);
	reg("rdi", f->rdi);
	reg("r8", f->r8);
	reg("r9", f->r9);
	console_puts("\nkiln:");
	reg("r10", f->r10);
	reg("r11", f->r11);
	reg("r12", f->r12);
	reg("r13", f->r13);
	console_puts("\nkiln:");
	reg("r14", f->r14);
	reg("r15", f->r15);
	reg("rflags", f->rflags);
	console_puts("\nkiln:");
	reg("cs", f->cs);
	reg("ss", f->ss);
	console_puts(f->cs & 3 ? " (at CPL 3)\n" : " (at CPL 0)\n");
	kiln_backtrace(f->rip, f->rbp, f->rsp);
	kiln_exit(255);
}

_Noreturn void kiln_panic(const char *msg)
{
	static int panicking;
	if (panicking++)
		kiln_exit(255);
	console_puts("kiln: fatal: panic: ");
	console_puts(msg ? msg : "(null)");
	console_puts("\n");
	uint64_t sp;
	__asm__ volatile("movq %%rsp, %0" : "=r"(sp));
	kiln_backtrace(0, (uint64_t)(uintptr_t)__builtin_frame_address(0), sp);
	kiln_exit(255);
}
