/* Runs a JavaScript file with Duktape: print() writes a line to stdout; an uncaught error is
 * printed with its stack and gives exit status 1. */
#include <stdio.h>
#include <stdlib.h>
#include "duktape.h"

static duk_ret_t js_print(duk_context *ctx)
{
	duk_idx_t n = duk_get_top(ctx);
	for (duk_idx_t i = 0; i < n; i++) {
		if (i)
			fputc(' ', stdout);
		fputs(duk_safe_to_string(ctx, i), stdout);
	}
	fputc('\n', stdout);
	return 0;
}

static char *read_file(const char *path, long *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)*len + 1);
	if (buf && fread(buf, 1, (size_t)*len, f) != (size_t)*len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "main.js";
	long len;
	char *src = read_file(path, &len);
	if (!src) {
		perror(path);
		return 2;
	}
	duk_context *ctx = duk_create_heap_default();
	duk_push_c_function(ctx, js_print, DUK_VARARGS);
	duk_put_global_string(ctx, "print");
	duk_push_lstring(ctx, src, (duk_size_t)len);
	duk_push_string(ctx, path);
	int status = 0;
	if (duk_pcompile(ctx, 0) != 0 || duk_pcall(ctx, 0) != 0) {
		duk_get_prop_string(ctx, -1, "stack");
		fprintf(stdout, "uncaught: %s\n", duk_safe_to_string(ctx, -1));
		status = 1;
	}
	duk_destroy_heap(ctx);
	free(src);
	return status;
}
