/* strdup/strndup allocate with malloc, which the alloc library defines. nolibc does not require
 * alloc: an image that calls these must select an allocator (e.g. alloc-tlsf), or the link
 * fails on the undefined malloc; images that never call them drop this code (--gc-sections). */
#include <stdlib.h>
#include <string.h>

char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	return p ? memcpy(p, s, n) : NULL;
}

char *strndup(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}
