/* Command-line parsing, in place in one static copy (quotes only ever shrink the text, so the
 * write position never passes the read position). */
#include <cmdline/cmdline.h>

#include <console/console.h>
#include <stddef.h>

#define MAX_LEN CONFIG_CMDLINE_MAX_LEN
#define MAX_PARAMS CONFIG_CMDLINE_MAX_PARAMS
#define MAX_ARGS CONFIG_CMDLINE_MAX_ARGS

static char text[MAX_LEN];
static const char *keys[MAX_PARAMS];
static const char *values[MAX_PARAMS];
static int nparams;
static char app_name[] = "app";
static char *argv[MAX_ARGS + 2]; /* "app", the args, NULL */
static int argc;
static const char *raw = "";

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* QEMU microvm appends its virtio_mmio.device= words to the end of the line, after any `--`:
 * they are parameters wherever they are. */
static int is_announcement(const char *word)
{
	const char *p = "virtio_mmio.device=";
	while (*p && *word == *p) {
		p++;
		word++;
	}
	return *p == 0;
}

static void warn(const char *what)
{
	console_puts("cmdline: warning: ");
	console_puts(what);
	console_puts("\n");
}

void cmdline_init(const char *cmdline)
{
	nparams = 0;
	argc = 1;
	argv[0] = app_name;
	argv[1] = NULL;
	if (!cmdline)
		cmdline = "";
	raw = cmdline;

	size_t n = 0;
	while (cmdline[n] && n < MAX_LEN - 1) {
		text[n] = cmdline[n];
		n++;
	}
	text[n] = 0;
	if (cmdline[n])
		warn("command line longer than CONFIG_CMDLINE_MAX_LEN (cmdline.max_len): truncated");

	int in_args = 0, dropped_params = 0, dropped_args = 0;
	char *r = text, *w = text;
	for (;;) {
		while (is_blank(*r))
			r++;
		if (!*r)
			break;
		char *word = w;
		int quoted = 0, in_quote = 0;
		while (*r && (in_quote || !is_blank(*r))) {
			if (*r == '"') {
				in_quote = !in_quote;
				quoted = 1;
				r++;
			} else if (in_quote && *r == '\\' && (r[1] == '"' || r[1] == '\\')) {
				*w++ = r[1];
				r += 2;
			} else {
				*w++ = *r++;
			}
		}
		if (*r)
			r++; /* consume the blank first: w may point at it */
		*w++ = 0;
		if (in_quote)
			warn("unterminated quote: the word runs to the end of the line");

		if (!in_args && !quoted && streq(word, "--")) {
			in_args = 1;
		} else if (in_args && !(!quoted && is_announcement(word))) {
			if (argc <= MAX_ARGS)
				argv[argc++] = word;
			else
				dropped_args = 1;
		} else if (nparams < MAX_PARAMS) {
			char *eq = word;
			while (*eq && *eq != '=')
				eq++;
			keys[nparams] = word;
			if (*eq) {
				*eq = 0;
				values[nparams] = eq + 1;
			} else {
				values[nparams] = eq; /* "" */
			}
			nparams++;
		} else {
			dropped_params = 1;
		}
	}
	argv[argc] = NULL;
	if (dropped_params)
		warn("more than CONFIG_CMDLINE_MAX_PARAMS (cmdline.max_params) parameters: the rest are ignored");
	if (dropped_args)
		warn("more than CONFIG_CMDLINE_MAX_ARGS (cmdline.max_args) arguments: the rest are ignored");
}

const char *cmdline_raw(void)
{
	return raw;
}

const char *cmdline_param(const char *key)
{
	for (int i = nparams - 1; i >= 0; i--) /* the last one given wins */
		if (streq(keys[i], key))
			return values[i];
	return NULL;
}

int cmdline_argc(void)
{
	if (!argc) { /* never initialized: behave as an empty command line */
		argc = 1;
		argv[0] = app_name;
	}
	return argc;
}

char **cmdline_argv(void)
{
	cmdline_argc();
	return argv;
}

int cmdline_param_count(void)
{
	return nparams;
}

const char *cmdline_param_key(int i)
{
	return i >= 0 && i < nparams ? keys[i] : NULL;
}

const char *cmdline_param_value(int i)
{
	return i >= 0 && i < nparams ? values[i] : NULL;
}
