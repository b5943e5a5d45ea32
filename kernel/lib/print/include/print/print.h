/* print: the printf family over the console (kprintf) and into buffers (ksnprintf).
 * Freestanding: no libc, no allocation. Conversions: d i u x X o c s p % f F e E g G a A,
 * flags "-+ #0", width/precision (incl. *), length hh h l ll z j t L (L prints as double).
 * Floating point is converted exactly (big-number decimal expansion) and rounded half-to-even,
 * which is what glibc does in the default rounding mode (checked against glibc on the host by
 * tests/format.test.ts; the one deliberate difference: "%#.3g" of 999.5 is "1.00e+03" as C11
 * requires, where glibc prints "1.e+03"). A float conversion uses ~1.3 KiB of stack.
 * NULL prints as "(null)" (%s) and "(nil)" (%p), as glibc. %lc/%ls print ASCII and '?' for
 * anything else (no locale). Not supported, printed verbatim: %n (deliberately), %m. */
#ifndef KILN_PRINT_PRINT_H
#define KILN_PRINT_PRINT_H

#include <stdarg.h>
#include <stddef.h>

#define KILN_PRINTF_FMT(f, a) __attribute__((format(printf, f, a)))

/* C99 snprintf semantics: writes at most n-1 chars plus a NUL (if n > 0) and returns the
 * length the full output would have had. */
int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap) KILN_PRINTF_FMT(3, 0);
int ksnprintf(char *buf, size_t n, const char *fmt, ...) KILN_PRINTF_FMT(3, 4);

/* Formats to the console. Output is collected in a CONFIG_PRINT_BUFSIZE stack buffer and
 * written with one console_write per buffer-full (so a line usually goes out in one write).
 * Returns the number of characters written. */
int kvprintf(const char *fmt, va_list ap) KILN_PRINTF_FMT(1, 0);
int kprintf(const char *fmt, ...) KILN_PRINTF_FMT(1, 2);

/* The formatter core over any sink, for other writers (nolibc's FILE streams).
 * A sink collects chars in buf[0..cap); when it is full, flush (if set) is called and must
 * empty it (set len = 0); without flush, extra chars are counted but dropped. */
struct kfmt_sink {
	char *buf;
	size_t cap;
	size_t len;
	size_t total; /* chars produced, dropped ones included */
	void (*flush)(struct kfmt_sink *s);
	void *ctx;
};

/* Formats into the sink (does not flush the remainder, does not NUL-terminate).
 * Returns the number of chars produced by this call, or INT_MAX-capped. */
int kfmt(struct kfmt_sink *s, const char *fmt, va_list ap);

#endif
