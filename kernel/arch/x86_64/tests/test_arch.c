/* Guest tests of arch-x86_64: the CPL-3 world it sets up and its shims. */
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/trap.h>
#include <test/test.h>

KTEST(arch, runs_at_cpl3_with_iopl3)
{
	uint16_t cs;
	uint64_t flags;
	__asm__ volatile("movw %%cs, %0" : "=r"(cs));
	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	KT_ASSERT_EQ(cs & 3, 3);
	KT_ASSERT_EQ((flags >> 12) & 3, 3);
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

KTEST(arch, rdmsr_efer_shows_long_mode)
{
	uint64_t efer = arch_rdmsr(0xc0000080);
	KT_ASSERT_EQ(efer & (1u << 8), 1u << 8);   /* LME */
	KT_ASSERT_EQ(efer & (1u << 10), 1u << 10); /* LMA */
	KT_ASSERT_EQ(efer & (1u << 11), 1u << 11); /* NXE */
}

KTEST(arch, wrmsr_round_trip)
{
	/* IA32_TSC_AUX (used by rdtscp) is harmless to change; skip if the CPU lacks rdtscp. */
	uint32_t r[4];
	arch_cpuid(0x80000001, 0, r);
	if (!(r[3] & (1u << 27)))
		return;
	uint64_t old = arch_rdmsr(0xc0000103);
	arch_wrmsr(0xc0000103, 0x2a);
	KT_ASSERT_EQ(arch_rdmsr(0xc0000103), 0x2a);
	arch_wrmsr(0xc0000103, old);
}

KTEST(arch, irq_enable_disable_at_cpl3)
{
	KT_ASSERT_EQ(arch_irq_enabled(), 0);
	arch_irq_enable();
	int on = arch_irq_enabled();
	arch_irq_disable();
	KT_ASSERT_EQ(on, 1);
	KT_ASSERT_EQ(arch_irq_enabled(), 0);
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
	KT_ASSERT_STREQ(arch_vector_name(200), "unexpected vector");
}
