/* The smallest useful Kiln app: a greeting, its arguments, and a float through printf
 * (which exercises SSE at CPL 3 and the exact %f conversion). */
#include <stdio.h>

int main(int argc, char **argv)
{
	puts("Hello, world!");
	for (int i = 1; i < argc; i++)
		printf("arg %d: %s\n", i, argv[i]);
	double pi = 0;
	/* Leibniz, then a correction term: computed, so the compiler cannot fold it away. */
	for (int k = 0; k < 1000; k++)
		pi += (k % 2 ? -4.0 : 4.0) / (2 * k + 1);
	pi += 1.0 / 1000;
	printf("pi is about %.5f\n", pi);
	return 0;
}
