/* The console: a registry of backends (the 16550 in plat-kvm; virtio-console later). Output
 * goes to every backend; input is polled from each in registration order. Output written
 * before the first backend registers is kept (up to 1 KiB) and replayed to it. */
#ifndef CONSOLE_CONSOLE_H
#define CONSOLE_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct console_ops {
	const char *name;
	/* Writes all len bytes ('\n' line ends; a backend adds '\r' if its device wants it). */
	void (*write)(const char *buf, size_t len);
	/* Non-blocking: a byte 0-255, or -1 when none is waiting. NULL: output only. */
	int (*getc)(void);
};

#define CONSOLE_MAX_BACKENDS 4

/* ops must stay valid forever. Returns nothing; a fifth backend is ignored. */
void console_register(const struct console_ops *ops);
void console_write(const char *buf, size_t len);
void console_putc(char c);
void console_puts(const char *s); /* no newline added */
int console_getc(void);            /* non-blocking; -1 when nothing */

/* Number formatting without the print library (boot, traps, panics use these). */
void console_put_dec(uint64_t v);
void console_put_hex(uint64_t v);    /* 0x + 16 digits */
void console_put_hexmin(uint64_t v); /* 0x + minimal digits */

#endif
