#include <stddef.h>
#include <stdint.h>
#include <console/console.h>

static const struct console_ops *backends[CONSOLE_MAX_BACKENDS];
static int nbackends;
static const struct console_ops *exclusive; /* the backend that took the output, if any */

/* Early output, replayed to the first backend. */
static char early[1024];
static size_t nearly;

void console_register(const struct console_ops *ops)
{
	if (nbackends == CONSOLE_MAX_BACKENDS || ops == NULL || ops->write == NULL)
		return;
	backends[nbackends++] = ops;
	if (nbackends == 1 && nearly) {
		ops->write(early, nearly);
		nearly = 0;
	}
}

void console_take_output(const struct console_ops *ops)
{
	if (ops == NULL || ops->write == NULL)
		return;
	int known = 0;
	for (int i = 0; i < nbackends; i++)
		known |= backends[i] == ops;
	if (!known)
		console_register(ops);
	for (int i = 0; i < nbackends; i++)
		if (backends[i] == ops)
			exclusive = ops;
}

void console_release_output(const struct console_ops *ops)
{
	if (exclusive == ops)
		exclusive = NULL;
}

void console_drain(void)
{
	for (int i = 0; i < nbackends; i++)
		if (backends[i]->flush)
			backends[i]->flush();
}

void console_write(const char *buf, size_t len)
{
	if (exclusive) {
		exclusive->write(buf, len);
		return;
	}
	if (nbackends == 0) {
		for (size_t i = 0; i < len && nearly < sizeof(early); i++)
			early[nearly++] = buf[i];
		return;
	}
	for (int i = 0; i < nbackends; i++)
		backends[i]->write(buf, len);
}

void console_putc(char c) { console_write(&c, 1); }

void console_puts(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	console_write(s, n);
}

int console_getc(void)
{
	for (int i = 0; i < nbackends; i++) {
		if (backends[i]->getc) {
			int c = backends[i]->getc();
			if (c >= 0)
				return c;
		}
	}
	return -1;
}

size_t console_format_dec(char *buf, uint64_t v)
{
	char b[20];
	int i = sizeof(b);
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	size_t n = sizeof(b) - (size_t)i;
	for (size_t k = 0; k < n; k++)
		buf[k] = b[i + (int)k];
	return n;
}

void console_put_dec(uint64_t v)
{
	char b[20];
	console_write(b, console_format_dec(b, v));
}

static void put_hex(uint64_t v, int min_digits)
{
	char b[18];
	int i = sizeof(b);
	do {
		b[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
		min_digits--;
	} while (v || min_digits > 0);
	b[--i] = 'x';
	b[--i] = '0';
	console_write(b + i, sizeof(b) - (size_t)i);
}

void console_put_hex(uint64_t v) { put_hex(v, 16); }
void console_put_hexmin(uint64_t v) { put_hex(v, 1); }
