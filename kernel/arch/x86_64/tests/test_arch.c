/* Guest tests of arch-x86_64: the CPL-3 world it sets up (IOPL 0, the I/O bitmap, no
 * interrupts at CPL 3), its shim gate and the syscall entry. The fault tests would pass with
 * none of those rules in force only if the CPU let the instruction through, which IOPL 3 or a
 * missing bitmap would: then kt_catch_fault returns 0 and the test fails. */
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/trap.h>
#include <test/test.h>

extern uint64_t kiln_pml4[];
extern char kiln_guard_page_boot_stack[];

KTEST(arch, runs_at_cpl3_with_iopl0)
{
	uint16_t cs;
	uint64_t flags;
	__asm__ volatile("movw %%cs, %0" : "=r"(cs));
	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	KT_ASSERT_EQ(cs & 3, 3); /* kvm-pvm shows the host's selectors: only the RPL is ours */
	KT_ASSERT_EQ((flags >> 12) & 3, 0);
}

static KT_FAULTS void in_port_0x80(void *arg)
{
	uint8_t v;
	__asm__ volatile("inb $0x80, %0" : "=a"(v));
	*(volatile uint8_t *)arg = v;
}

static KT_FAULTS void out_port_in_dx(void *arg)
{
	__asm__ volatile("outb %%al, %%dx" : : "a"(0), "d"(*(uint16_t *)arg));
}

static KT_FAULTS void inw_straddling_0x3ff(void *arg)
{
	(void)arg;
	uint16_t v;
	__asm__ volatile("inw %%dx, %0" : "=a"(v) : "d"(0x3ff)); /* 0x3ff is declared, 0x400 is not */
}

KTEST(arch, port_outside_the_bitmap_faults)
{
	struct kt_fault f;
	volatile uint8_t sink = 0;
	KT_ASSERT_EQ(kt_catch_fault(in_port_0x80, (void *)&sink, &f), 1);
	KT_ASSERT_EQ(f.vector, 13);
	KT_ASSERT_EQ(f.error, 0);
	KT_ASSERT_EQ(f.rip, (uint64_t)(uintptr_t)in_port_0x80 + 0);
	uint16_t ports[] = {0x70, 0x3f7, 0x500, 0x502, 0x512, 0x8000, 0xffff};
	for (unsigned i = 0; i < sizeof ports / sizeof ports[0]; i++) {
		KT_ASSERT_EQ(kt_catch_fault(out_port_in_dx, &ports[i], &f), 1);
		KT_ASSERT_EQ(f.vector, 13);
	}
	KT_ASSERT_EQ(kt_catch_fault(inw_straddling_0x3ff, NULL, &f), 1);
	KT_ASSERT_EQ(f.vector, 13);
}

KTEST(arch, declared_ports_are_allowed)
{
	KT_ASSERT(arch_port_allowed(0x3f8));
	KT_ASSERT(arch_port_allowed(0x3ff));
	KT_ASSERT(arch_port_allowed(0x501));
	KT_ASSERT(arch_port_allowed(0x504)); /* Kiln VMM console (plat-kvm) */
	KT_ASSERT(arch_port_allowed(0x507));
	KT_ASSERT(!arch_port_allowed(0x503));
	KT_ASSERT(!arch_port_allowed(0x508));
	KT_ASSERT(!arch_port_allowed(0x80));
	KT_ASSERT(!arch_port_allowed(0x400));
	KT_ASSERT(!arch_port_allowed(0xffff));
	/* The UART's line status register reads without a fault. */
	uint8_t lsr = arch_inb(0x3fd);
	KT_ASSERT_NE(lsr, 0xff);
}

static KT_FAULTS void do_cli(void *arg) { (void)arg; __asm__ volatile("cli"); }
static KT_FAULTS void do_sti(void *arg) { (void)arg; __asm__ volatile("sti"); }
static KT_FAULTS void do_hlt(void *arg) { (void)arg; __asm__ volatile("hlt"); }

KTEST(arch, cli_sti_hlt_at_cpl3_fault)
{
	struct kt_fault f;
	void (*fns[])(void *) = {do_cli, do_sti, do_hlt};
	for (unsigned i = 0; i < 3; i++) {
		KT_ASSERT_EQ(kt_catch_fault(fns[i], NULL, &f), 1);
		KT_ASSERT_EQ(f.vector, 13);
		KT_ASSERT_EQ(f.error, 0);
	}
}

static KT_FAULTS void do_int_0x40(void *arg) { (void)arg; __asm__ volatile("int $0x40"); }
static KT_FAULTS void do_int_0x80(void *arg) { (void)arg; __asm__ volatile("int $0x80"); }

/* #GP naming the IDT entry (the gate is DPL 0): vector * 8 + 2 on hardware; QEMU TCG's 64-bit
 * path reports vector * 16 + 2. kvm-pvm refuses every int $N but 3 and 4 with #UD. */
static int refused_int(const struct kt_fault *f, uint64_t v)
{
	if (f->vector == 6)
		return 1;
	return f->vector == 13 && (f->error == (v << 3 | 2) || f->error == (v << 4 | 2));
}

KTEST(arch, int_n_other_than_3_and_4_faults)
{
	struct kt_fault f;
	KT_ASSERT_EQ(kt_catch_fault(do_int_0x40, NULL, &f), 1);
	KT_ASSERT(refused_int(&f, 0x40));
	KT_ASSERT_EQ(kt_catch_fault(do_int_0x80, NULL, &f), 1);
	KT_ASSERT(refused_int(&f, 0x80));
	KT_ASSERT_EQ(arch_irq_take_pending(), 0);
}

static KT_FAULTS void do_int3(void *arg) { (void)arg; __asm__ volatile("int3"); }

static KT_FAULTS void bad_shim(void *arg)
{
	register uint64_t cmd __asm__("r11") = *(uint64_t *)arg;
	__asm__ volatile("int $4" : "+r"(cmd) : : "memory");
}

KTEST(arch, int3_and_bad_shim_commands_are_reported)
{
	struct kt_fault f;
	KT_ASSERT_EQ(kt_catch_fault(do_int3, NULL, &f), 1);
	KT_ASSERT_EQ(f.vector, 3);
	uint64_t cmds[] = {ARCH_SHIM_BAD, ARCH_SHIM_COUNT, 15, 0x100 | ARCH_SHIM_COUNT};
	for (unsigned i = 0; i < 4; i++) {
		KT_ASSERT_EQ(kt_catch_fault(bad_shim, &cmds[i], &f), 1);
		KT_ASSERT_EQ(f.vector, ARCH_SHIM_VECTOR);
		KT_ASSERT_EQ(f.error, cmds[i] & 15);
	}
}

/* volatile: the compiler must really run these in SSE registers at run time. */
KTEST(arch, sse_float_arithmetic)
{
	volatile double a = 1.0, b = 3.0;
	volatile float f = 0.1f;
	double q = a / b;
	KT_ASSERT(q > 0.3333333333 && q < 0.3333333334);
	KT_ASSERT_EQ((long long)(q * 3e9), 1000000000);
	float s = 0;
	for (int i = 0; i < 10; i++)
		s += f;
	KT_ASSERT(s > 0.999f && s < 1.001f);
	volatile double big = 1e300;
	KT_ASSERT(big * big > 1e308); /* +inf, masked overflow: no #XM */
}

KTEST(arch, xsave_state_and_avx)
{
	uint32_t r[4];
	arch_cpuid(1, 0, r);
	if (!(r[2] & (1u << 26))) {
		KT_ASSERT_EQ(arch_xcr0, 0);
		return;
	}
	KT_ASSERT(r[2] & (1u << 27)); /* OSXSAVE: CR4 has it */
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	uint64_t xcr0 = ((uint64_t)hi << 32) | lo;
	KT_ASSERT_EQ(xcr0 & 3, 3);
	/* kvm-pvm keeps the host's XCR0, a superset of what boot asked for. */
	KT_ASSERT_EQ(xcr0 & arch_xcr0, arch_xcr0);
	if (!(r[2] & (1u << 28)))
		return;
	KT_ASSERT(arch_xcr0 & 4);
	volatile double in[4] = {1, 2, 3, 4};
	double out[4];
	__asm__ volatile("vmovupd %1, %%ymm0\n\tvaddpd %%ymm0, %%ymm0, %%ymm0\n\tvmovupd %%ymm0, %0\n\tvzeroupper"
			 : "=m"(out)
			 : "m"(in)
			 : "xmm0");
	KT_ASSERT(out[0] == 2 && out[3] == 8);
}

KTEST(arch, fsbase_round_trip)
{
	uint64_t old = arch_get_fsbase();
	arch_set_fsbase(0x123456789000ull);
	KT_ASSERT_EQ(arch_get_fsbase(), 0x123456789000ull);
	/* The MSR and the instruction see the same register. */
	KT_ASSERT_EQ(arch_rdmsr(ARCH_MSR_FS_BASE), 0x123456789000ull);
	arch_set_fsbase(old);
	KT_ASSERT_EQ(arch_get_fsbase(), old);
}

KTEST(arch, wrmsr_round_trip)
{
	/* FS base through the MSR shims both ways (kvm-pvm refuses some MSRs, e.g. TSC_AUX). */
	uint64_t old = arch_rdmsr(ARCH_MSR_FS_BASE);
	arch_wrmsr(ARCH_MSR_FS_BASE, 0x2a000);
	KT_ASSERT_EQ(arch_rdmsr(ARCH_MSR_FS_BASE), 0x2a000);
	if (arch_has_fsgsbase) {
		uint64_t seen;
		__asm__ volatile("rdfsbase %0" : "=r"(seen));
		KT_ASSERT_EQ(seen, 0x2a000);
	}
	arch_wrmsr(ARCH_MSR_FS_BASE, old);
}

KTEST(arch, rdmsr_efer_shows_long_mode_and_syscall)
{
	uint64_t efer = arch_rdmsr(0xc0000080);
	KT_ASSERT_EQ(efer & 1, 1);                 /* SCE */
	KT_ASSERT_EQ(efer & (1u << 8), 1u << 8);   /* LME */
	KT_ASSERT_EQ(efer & (1u << 10), 1u << 10); /* LMA */
	KT_ASSERT_EQ(efer & (1u << 11), 1u << 11); /* NXE */
}

/* `syscall` as musl issues it; checks what the Linux ABI keeps: every register but rax, rcx
 * and r11, an SSE register, and the red zone below the caller's rsp. The asm moves rsp down
 * itself first, so the "caller's red zone" it checks is not the compiler's. */
static long raw_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6, int *kept)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	uint64_t red = 0xfeedfacecafebeefull, xmm = 0x1111222233334444ull;
	long ret;
	__asm__ volatile("leaq -256(%%rsp), %%rsp\n\t"
			 "movq %[x], %%xmm7\n\t"
			 "movq %[r], -8(%%rsp)\n\t"
			 "notq %[r]\n\t"
			 "movq %[r], -120(%%rsp)\n\t"
			 "syscall\n\t"
			 "movq -8(%%rsp), %[r]\n\t"
			 "xorq -120(%%rsp), %[r]\n\t" /* all ones when both words survived */
			 "movq %%xmm7, %[x]\n\t"
			 "leaq 256(%%rsp), %%rsp"
			 : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8), "+r"(r9),
			   [r] "+r"(red), [x] "+r"(xmm)
			 : "a"(nr)
			 : "rcx", "r11", "xmm7", "memory");
	*kept = a1 == 11 && a2 == 22 && a3 == 33 && r10 == 44 && r8 == 55 && r9 == 66 &&
		xmm == 0x1111222233334444ull && red == ~0ull;
	return ret;
}

KTEST(arch, syscall_unknown_number_is_enosys)
{
	arch_syscall_enable();
	int kept = 0;
	/* The image has no syscall library: arch's weak dispatcher answers -ENOSYS for all. */
	KT_ASSERT_EQ(raw_syscall6(1000, 11, 22, 33, 44, 55, 66, &kept), -38);
	KT_ASSERT(kept);
	KT_ASSERT_EQ(raw_syscall6(-1, 11, 22, 33, 44, 55, 66, &kept), -38);
	KT_ASSERT(kept);
}

KTEST(arch, boot_stack_guard_page_not_present)
{
	uintptr_t g = (uintptr_t)kiln_guard_page_boot_stack;
	KT_ASSERT(g < (2u << 20));
	KT_ASSERT_EQ(kiln_pml4[4 * 512 + (g >> 12)] & 1, 0);
}

KTEST(arch, boot_stack_bounds)
{
	uintptr_t lo, hi;
	arch_boot_stack_bounds(&lo, &hi);
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	KT_ASSERT(lo < hi);
	KT_ASSERT(sp >= lo && sp < hi);
	KT_ASSERT_EQ(lo & 4095, 0);
}

KTEST(arch, vector_names)
{
	KT_ASSERT_STREQ(arch_vector_name(14), "page fault");
	KT_ASSERT_STREQ(arch_vector_name(0), "divide error");
	KT_ASSERT_STREQ(arch_vector_name(4), "bad shim command (int $4)");
	KT_ASSERT_STREQ(arch_vector_name(200), "unexpected vector");
}
