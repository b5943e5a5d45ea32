/* Console output through virtio-console: a greeting, then (with `lines N BYTES`) N lines of
 * BYTES bytes each, timed with the TSC, so `kiln bench console` can compare the cost per line
 * with the 16550 (the same image booted without the device falls back to the serial port).
 * With `echo`, it reads one line of console input (polled) and prints it back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arch/cpu.h>
#include <console/console.h>
#include <time/time.h>
#include <virtio-console/virtio_console.h>

int main(int argc, char **argv)
{
	const struct virtio_console_stats *s = virtio_console_stats();
	printf("hello over %s\n", s->active ? "virtio-console" : "the serial port");
	if (argc == 2 && strcmp(argv[1], "echo") == 0) {
		char buf[128];
		size_t n = 0;
		puts("type a line");
		for (;;) {
			int c = console_getc();
			if (c < 0) {
				arch_pause();
				continue;
			}
			if (c == '\n' || c == '\r' || n == sizeof(buf) - 1)
				break;
			buf[n++] = (char)c;
		}
		buf[n] = 0;
		printf("echo: %s\n", buf);
	}
	if (argc == 4 && strcmp(argv[1], "lines") == 0) {
		long n = atol(argv[2]), bytes = atol(argv[3]);
		if (n < 1 || bytes < 1 || bytes > 4000) {
			puts("usage: lines N BYTES (N >= 1, BYTES 1-4000)");
			return 2;
		}
		static char line[4001];
		memset(line, 'x', (size_t)bytes - 1);
		line[bytes - 1] = '\n';
		uint64_t t0 = arch_rdtsc();
		for (long i = 0; i < n; i++)
			fwrite(line, 1, (size_t)bytes, stdout);
		fflush(stdout);
		uint64_t cycles = arch_rdtsc() - t0;
		printf("console-bench: backend=%s lines=%ld bytes=%ld cycles=%llu tsc_khz=%llu\n",
		       s->active ? "virtio" : "serial", n, bytes, (unsigned long long)cycles,
		       (unsigned long long)time_tsc_khz());
	}
	printf("virtio-console: active=%d writes=%llu bytes=%llu chains=%llu notifies=%llu waits=%llu\n", s->active,
	       (unsigned long long)s->writes, (unsigned long long)s->bytes, (unsigned long long)s->chains,
	       (unsigned long long)s->notifies, (unsigned long long)s->waits);
	return 0;
}
