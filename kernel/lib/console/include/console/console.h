/* The console: a registry of backends (the 16550 in plat-kvm, virtio-console). Output goes to
 * every backend, or only to the one that took it (console_take_output: a faster device
 * replacing the early UART); input is polled from each in registration order. Output written
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
	/* Waits until every byte written has left the guest (before exit). NULL: nothing to wait. */
	void (*flush)(void);
};

#define CONSOLE_MAX_BACKENDS 4

/* ops must stay valid forever. Returns nothing; a fifth backend is ignored. */
void console_register(const struct console_ops *ops);
/* Registers ops if needed and sends all output to it alone; the other backends still serve
 * input. console_release_output(ops) (say, when its device failed) sends output to all again. */
void console_take_output(const struct console_ops *ops);
void console_release_output(const struct console_ops *ops);
void console_write(const char *buf, size_t len);
void console_drain(void); /* every backend's flush: call before the VM exits */
void console_putc(char c);
void console_puts(const char *s); /* no newline added */
int console_getc(void);            /* non-blocking; -1 when nothing */

/* Number formatting without the print library (boot, traps, panics use these). */
void console_put_dec(uint64_t v);
/* The decimal digits of v (at most 20) at buf; returns how many. */
size_t console_format_dec(char *buf, uint64_t v);
void console_put_hex(uint64_t v);    /* 0x + 16 digits */
void console_put_hexmin(uint64_t v); /* 0x + minimal digits */

#endif
