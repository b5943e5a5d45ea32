/* kprintf: format into a stack buffer and hand it to the console in as few writes as
 * possible (one per CONFIG_PRINT_BUFSIZE bytes), so lines from one call stay together. */
#include "format_impl.h"

#include <console/console.h>

static void console_flush(struct kfmt_sink *s)
{
	console_write(s->buf, s->len);
	s->len = 0;
}

int kvprintf(const char *fmt, va_list ap)
{
	char buf[CONFIG_PRINT_BUFSIZE];
	struct kfmt_sink s = {buf, sizeof buf, 0, 0, console_flush, NULL};
	int r = kfmt(&s, fmt, ap);
	if (s.len)
		console_flush(&s);
	return r;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = kvprintf(fmt, ap);
	va_end(ap);
	return r;
}
