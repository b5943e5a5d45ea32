/* The fatal report for exceptions (entered at CPL 3 from arch-x86_64's shim) and panics. */
#include <stddef.h>
#include <stdint.h>
#include <arch/cpu.h>
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

static kiln_trap_catcher catcher;

void kiln_trap_catch(kiln_trap_catcher fn) { catcher = fn; }

/* The instruction at a #GP or #UD that breaks a CPL-3 rule (docs/architecture.md, "The kvm-pvm
 * rules"): what it was and what to do instead. rip points at a fetched instruction, so its
 * bytes are mapped; only they are read. */
static void explain_insn(const struct arch_trap_frame *f)
{
	if (f->rip < 4096 || f->rip >= MAPPED_END - 16 || !(f->cs & 3))
		return;
	const uint8_t *p = (const uint8_t *)(uintptr_t)f->rip;
	int i = 0, word = 0;
	while (i < 4 && (p[i] == 0x66 || p[i] == 0xf2 || p[i] == 0xf3)) /* operand size, rep */
		word |= p[i++] == 0x66;
	uint8_t op = p[i];
	int size = (op & 1) ? (word ? 2 : 4) : 1;
	const char *dir = NULL;
	uint64_t port = 0;
	if (op >= 0xe4 && op <= 0xe7) {
		dir = op < 0xe6 ? "in" : "out";
		port = p[i + 1];
	} else if (op >= 0xec && op <= 0xef) {
		dir = op < 0xee ? "in" : "out";
		port = f->rdx & 0xffff;
	} else if (op >= 0x6c && op <= 0x6f) {
		dir = op < 0x6e ? "ins" : "outs";
		port = f->rdx & 0xffff;
	}
	if (dir) {
		uint64_t denied = port;
		for (int b = 0; b < size; b++)
			if (!arch_port_allowed((uint16_t)(port + (uint64_t)b))) {
				denied = port + (uint64_t)b;
				break;
			}
		console_puts("kiln: ");
		console_puts(dir);
		console_puts(size == 1 ? "b" : size == 2 ? "w" : "l");
		console_puts(" on port ");
		console_put_hexmin(port);
		if (arch_port_allowed((uint16_t)denied) && size == 1) {
			console_puts(": the port is in the I/O bitmap, so something else refused it\n");
			return;
		}
		console_puts(": port ");
		console_put_hexmin(denied);
		console_puts(" is declared by no selected library, so the TSS I/O bitmap denies it.\n"
			     "kiln: declare it under `ports:` in the library.yaml of the library that uses it\n");
		return;
	}
	const char *what = NULL, *instead = NULL;
	if (op == 0xfa || op == 0xfb) {
		what = op == 0xfa ? "cli" : "sti";
		instead = "IF is always 0 at CPL 3 and interrupts only post pending bits (<arch/irq.h>): no masking is needed";
	} else if (op == 0xf4) {
		what = "hlt";
		instead = "arm a timer and call arch_idle_halt() (<arch/cpu.h>)";
	} else if (op == 0x9d) {
		what = "popf";
		instead = "popf cannot change IF or IOPL at CPL 3; keep interrupt state in software";
	} else if (op == 0xcd) {
		what = "int $N";
		instead = "the only gates are int3 and int $4 (the shim gate, <arch/cpu.h>); kvm-pvm makes every other int $N a #UD";
	} else if (op == 0x0f && (p[i + 1] == 0x30 || p[i + 1] == 0x32)) {
		what = p[i + 1] == 0x30 ? "wrmsr" : "rdmsr";
		instead = "use arch_wrmsr()/arch_rdmsr() (the int $4 shim)";
	} else if (op == 0x0f && (p[i + 1] == 0x20 || p[i + 1] == 0x22)) {
		what = "mov to or from a control register";
		instead = "CPL 3 cannot; arch_invlpg_range()/arch_flush_tlb() cover the TLB";
	}
	if (!what)
		return;
	console_puts("kiln: the instruction is ");
	console_puts(what);
	console_puts(", privileged at CPL 3 (where Kiln runs, IOPL 0): ");
	console_puts(instead);
	console_puts("\n");
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
	if (catcher) {
		kiln_trap_catcher c = catcher;
		catcher = NULL;
		c(f);
	}
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
	if (f->vector == 13 || f->vector == 6)
		explain_insn(f);
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
