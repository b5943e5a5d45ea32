/* kiln_boot_main: platform, command line, init classes, then main (or the tests), then exit. */
#include <stddef.h>
#include <stdint.h>
#include <arch/cpu.h>
#include <boot/boot.h>
#include <boot/init.h>
#include <cmdline/cmdline.h>
#include <console/console.h>
#include <plat/plat.h>
#include <time/time.h>

extern const struct kiln_init_entry __kiln_init_start[], __kiln_init_end[];

uint64_t kiln_boot_main_tsc;

#ifdef CONFIG_KILN_TEST
int ktest_run_all(void);
#else
int main(int argc, char **argv);
#endif

static const char *const class_names[] = {"?", "early", "plat", "lib", "rootfs", "sys", "late"};

static void init_failed(const struct kiln_init_entry *e, int err)
{
	console_puts("kiln: fatal: init ");
	if (e->name)
		console_puts(e->name);
	else
		console_put_hexmin((uintptr_t)e->fn);
	console_puts(" (");
	console_puts(e->cls < 7 ? class_names[e->cls] : "?");
	console_puts(", ");
	console_put_dec(e->prio);
	console_puts(") failed: ");
	if (err < 0) {
		console_puts("-");
		console_put_dec((uint64_t)-(int64_t)err);
	} else {
		console_put_dec((uint64_t)err);
	}
	console_puts("\n");
	kiln_exit(255);
}

/* Orders by (class, priority, link position) without storage: each round picks the smallest
 * key above the last one run. The linker already sorted by name, so this is cheap. */
static void run_inits(void)
{
	size_t n = (size_t)(__kiln_init_end - __kiln_init_start);
	uint64_t last = 0;
	int first = 1;
	for (size_t done = 0; done < n; done++) {
		const struct kiln_init_entry *best = NULL;
		uint64_t best_key = UINT64_MAX;
		for (size_t i = 0; i < n; i++) {
			const struct kiln_init_entry *e = &__kiln_init_start[i];
			uint64_t key = ((uint64_t)e->cls << 48) | ((uint64_t)e->prio << 32) | i;
			if ((first || key > last) && key < best_key) {
				best = e;
				best_key = key;
			}
		}
		first = 0;
		last = best_key;
		int err = best->fn();
		if (err != 0)
			init_failed(best, err);
	}
}

/* The boot line's pieces, appended at n (the caller's buffer is sized for the longest line). */
static size_t put_str(char *b, size_t n, const char *s)
{
	while (*s)
		b[n++] = *s++;
	return n;
}

static size_t put_dec(char *b, size_t n, uint64_t v)
{
	return n + console_format_dec(b + n, v);
}

static int stats_wanted(void)
{
	const char *v = cmdline_param("boot.stats");
	return v && v[0] == '1' && v[1] == 0;
}

_Noreturn void kiln_boot_main(struct hvm_start_info *si)
{
	plat_early_init(si);
	/* Before the inits: libraries read their parameters (net.ip=...) while initializing. */
	cmdline_init(plat_cmdline());
	run_inits();

	int status;
	kiln_boot_main_tsc = arch_rdtsc();
	if (stats_wanted()) {
		/* The CPL-0 entries before main (shim calls by command, interrupts), taken with the
		 * stamp: `kiln bench boot` turns them into CPL-0 instructions with the disassembly. */
		uint64_t shims[ARCH_SHIM_COUNT];
		for (int i = 0; i < ARCH_SHIM_COUNT; i++)
			shims[i] = kiln_cpl0_shim_calls[i];
		uint64_t irqs = kiln_cpl0_irqs;
		/* One console write for the whole line: on Kiln's VMM that is one exit, not 26. */
		char line[64 + 4 * 20 + 21 * ARCH_SHIM_COUNT]; /* text, 4 numbers, the shim counts */
		size_t n = 0;
		n = put_str(line, n, "kiln: boot entry_tsc=");
		n = put_dec(line, n, kiln_boot_entry_tsc);
		n = put_str(line, n, " main_tsc=");
		n = put_dec(line, n, kiln_boot_main_tsc);
		n = put_str(line, n, " tsc_khz=");
		n = put_dec(line, n, time_tsc_khz());
		n = put_str(line, n, " cpl0_shims=");
		for (int i = 0; i < ARCH_SHIM_COUNT; i++) {
			if (i)
				n = put_str(line, n, ",");
			n = put_dec(line, n, shims[i]);
		}
		n = put_str(line, n, " cpl0_irqs=");
		n = put_dec(line, n, irqs);
		n = put_str(line, n, "\n");
		console_write(line, n);
	}
#ifdef CONFIG_KILN_TEST
	status = ktest_run_all() == 0 ? 0 : 1;
#else
	status = main(cmdline_argc(), cmdline_argv());
#endif
	kiln_exit(status);
}

/* Exit hooks: few, fixed, newest first. A hook that faults or exits lands back in kiln_exit,
 * which then skips the hooks so a broken one cannot loop. */
#define KILN_ATEXIT_MAX 8
static void (*atexit_fns[KILN_ATEXIT_MAX])(void);
static int atexit_count, exiting;

int kiln_atexit(void (*fn)(void))
{
	if (!fn)
		return -22; /* EINVAL */
	if (atexit_count == KILN_ATEXIT_MAX)
		return -12; /* ENOMEM */
	atexit_fns[atexit_count++] = fn;
	return 0;
}

_Noreturn void kiln_exit(int status)
{
	if (!exiting) {
		exiting = 1;
		while (atexit_count > 0)
			atexit_fns[--atexit_count]();
	}
	char line[16]; /* one write, one exit on Kiln's VMM */
	size_t n = put_str(line, 0, "kiln: exit ");
	n = put_dec(line, n, (uint64_t)(status & 0xff));
	n = put_str(line, n, "\n");
	console_write(line, n);
	plat_exit(status & 0xff);
}
