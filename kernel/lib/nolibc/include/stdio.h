/* nolibc <stdio.h>: formatted output to the console through the print library. stdout and
 * stderr both write to the console, unbuffered (each call is one console write per
 * CONFIG_PRINT_BUFSIZE chunk); stdin reads the console, getchar polls until a byte arrives. */
#ifndef KILN_NOLIBC_STDIO_H
#define KILN_NOLIBC_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)
#define BUFSIZ 1024

typedef struct kiln_file FILE;
extern FILE *const stdin;
extern FILE *const stdout;
extern FILE *const stderr;

#define KILN_STDIO_FMT(f, a) __attribute__((format(printf, f, a)))

int printf(const char *restrict fmt, ...) KILN_STDIO_FMT(1, 2);
int vprintf(const char *restrict fmt, va_list ap) KILN_STDIO_FMT(1, 0);
int fprintf(FILE *restrict f, const char *restrict fmt, ...) KILN_STDIO_FMT(2, 3);
int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap) KILN_STDIO_FMT(2, 0);
int snprintf(char *restrict buf, size_t n, const char *restrict fmt, ...) KILN_STDIO_FMT(3, 4);
int vsnprintf(char *restrict buf, size_t n, const char *restrict fmt, va_list ap) KILN_STDIO_FMT(3, 0);
int sprintf(char *restrict buf, const char *restrict fmt, ...) KILN_STDIO_FMT(2, 3);
int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap) KILN_STDIO_FMT(2, 0);

int puts(const char *s);
int fputs(const char *restrict s, FILE *restrict f);
int putchar(int c);
int fputc(int c, FILE *f);
int putc(int c, FILE *f);
size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f);
int fflush(FILE *f);

int getchar(void);
int fgetc(FILE *f);
int getc(FILE *f);
char *fgets(char *restrict s, int n, FILE *restrict f);

#endif
