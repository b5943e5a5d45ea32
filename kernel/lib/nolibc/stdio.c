/* nolibc stdio over the console. printf is the print library's kvprintf: output goes to the
 * console in CONFIG_PRINT_BUFSIZE chunks straight from a stack buffer (no FILE buffering, so
 * nothing is lost when the app exits or faults). */
#include <stdio.h>

#include <console/console.h>
#include <print/print.h>
#include <stdint.h>
#include <string.h>

struct kiln_file {
	int readable, writable;
};

static struct kiln_file files[3] = {{1, 0}, {0, 1}, {0, 1}};
FILE *const stdin = &files[0];
FILE *const stdout = &files[1];
FILE *const stderr = &files[2];

int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
	if (!f->writable)
		return -1;
	return kvprintf(fmt, ap); /* stdout and stderr both go to the console */
}

int fprintf(FILE *restrict f, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

int vprintf(const char *restrict fmt, va_list ap)
{
	return vfprintf(stdout, fmt, ap);
}

int printf(const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfprintf(stdout, fmt, ap);
	va_end(ap);
	return r;
}

int vsnprintf(char *restrict buf, size_t n, const char *restrict fmt, va_list ap)
{
	return kvsnprintf(buf, n, fmt, ap);
}

int snprintf(char *restrict buf, size_t n, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = kvsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap)
{
	/* Unbounded by definition: the caller promised the room. */
	return kvsnprintf(buf, SIZE_MAX, fmt, ap);
}

int sprintf(char *restrict buf, const char *restrict fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = kvsnprintf(buf, SIZE_MAX, fmt, ap);
	va_end(ap);
	return r;
}

size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f)
{
	if (!f->writable || !size)
		return 0;
	console_write(p, size * n);
	return n;
}

int fputs(const char *restrict s, FILE *restrict f)
{
	if (!f->writable)
		return EOF;
	console_write(s, strlen(s));
	return 0;
}

int puts(const char *s)
{
	/* One write, so the line stays whole. */
	size_t n = strlen(s);
	char buf[CONFIG_PRINT_BUFSIZE];
	if (n < sizeof buf) {
		memcpy(buf, s, n);
		buf[n] = '\n';
		console_write(buf, n + 1);
	} else {
		console_write(s, n);
		console_putc('\n');
	}
	return 0;
}

int fputc(int c, FILE *f)
{
	if (!f->writable)
		return EOF;
	console_putc((char)c);
	return (unsigned char)c;
}

int putc(int c, FILE *f)
{
	return fputc(c, f);
}

int putchar(int c)
{
	return fputc(c, stdout);
}

int fflush(FILE *f)
{
	(void)f; /* unbuffered */
	return 0;
}

int fgetc(FILE *f)
{
	if (!f->readable)
		return EOF;
	int c;
	while ((c = console_getc()) < 0)
		__builtin_ia32_pause(); /* polled: the console has no input interrupt path yet */
	return (unsigned char)c;
}

int getc(FILE *f)
{
	return fgetc(f);
}

int getchar(void)
{
	return fgetc(stdin);
}

char *fgets(char *restrict s, int n, FILE *restrict f)
{
	if (n <= 0 || !f->readable)
		return NULL;
	int i = 0;
	while (i < n - 1) {
		int c = fgetc(f);
		if (c == '\r')
			c = '\n'; /* serial terminals send CR for Enter */
		s[i++] = (char)c;
		if (c == '\n')
			break;
	}
	s[i] = 0;
	return s;
}
