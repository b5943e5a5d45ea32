/* The table, filled at boot from the `kiln_syscalls` section, and the dispatcher. */
#include <syscall/syscall.h>
#include <boot/init.h>
#include <boot/boot.h>
#include <console/console.h>
#include <arch/cpu.h>

/* ld defines these for the section's first and last byte, but only when some library registers a
 * syscall: weak, an image with none gets an empty table (both 0). */
extern const struct syscall_entry __start_kiln_syscalls[] __attribute__((weak));
extern const struct syscall_entry __stop_kiln_syscalls[] __attribute__((weak));

static syscall_fn table[SYSCALL_NR_COUNT];
static uint64_t counts[SYSCALL_NR_COUNT];
static uint8_t logged[SYSCALL_NR_COUNT];

const char *syscall_name(long nr)
{
	return (nr >= 0 && nr < SYSCALL_NR_COUNT) ? syscall_names[nr] : NULL;
}

static void log_unimplemented(long nr)
{
	const char *name = syscall_name(nr);
	console_puts("kiln: syscall ");
	console_puts(name ? name : "(unknown)");
	console_puts(" (");
	if (nr < 0) {
		console_putc('-');
		console_put_dec((uint64_t)-nr);
	} else {
		console_put_dec((uint64_t)nr);
	}
	console_puts(") is not implemented: -ENOSYS\n");
}

long kiln_syscall_dispatch(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	if (__builtin_expect((unsigned long)nr < SYSCALL_NR_COUNT, 1)) {
		counts[nr]++;
		syscall_fn fn = table[nr];
		if (__builtin_expect(fn != NULL, 1))
			return fn(a1, a2, a3, a4, a5, a6);
		if (!logged[nr]) {
			logged[nr] = 1;
			log_unimplemented(nr);
		}
		return -SYS_ENOSYS;
	}
	/* Out of range: log once for all of them (there is no per-number slot). */
	static int logged_out_of_range;
	if (!logged_out_of_range) {
		logged_out_of_range = 1;
		log_unimplemented(nr);
	}
	return -SYS_ENOSYS;
}

int syscall_implemented(long nr)
{
	return (unsigned long)nr < SYSCALL_NR_COUNT && table[nr] != NULL;
}

uint64_t syscall_count(long nr)
{
	return (unsigned long)nr < SYSCALL_NR_COUNT ? counts[nr] : 0;
}

static void fatal_entry(const char *what, const struct syscall_entry *e)
{
	console_puts("kiln: fatal: syscall table: ");
	console_puts(e->fn_name);
	console_puts(what);
	console_put_dec((uint64_t)e->nr);
	if (e->nr >= 0 && e->nr < SYSCALL_NR_COUNT && table[e->nr]) {
		/* Which entry came first: found again here rather than kept in .bss for every number. */
		const struct syscall_entry *first = __start_kiln_syscalls;
		while (first < e && first->nr != e->nr)
			first++;
		console_puts(" (");
		console_puts(syscall_names[e->nr] ? syscall_names[e->nr] : "?");
		console_puts("), already registered by ");
		console_puts(first->fn_name);
		console_puts(": deselect one of the two libraries");
	}
	console_puts("\n");
	kiln_exit(255);
}

static int syscall_init(void)
{
	for (const struct syscall_entry *e = __start_kiln_syscalls; e < __stop_kiln_syscalls; e++) {
		if (e->nr < 0 || e->nr >= SYSCALL_NR_COUNT)
			fatal_entry(" registers an out-of-range number ", e);
		if (table[e->nr])
			fatal_entry(" registers syscall ", e);
		table[e->nr] = e->fn;
	}
	arch_syscall_enable();
	return 0;
}
/* Before the libraries' own init: an init function may already make syscalls. */
KILN_INIT(early, 900, syscall_init);
