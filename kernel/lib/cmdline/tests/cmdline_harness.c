/* Host harness for cmdline.c (pure logic): a stub console collects warnings. Each check
 * prints a FAIL line; exits 1 if any failed. Run by cmdline.test.ts. */
#include <stdio.h>
#include <string.h>

#include <cmdline/cmdline.h>

static char warnings[4096];
void console_puts(const char *s)
{
	strncat(warnings, s, sizeof warnings - strlen(warnings) - 1);
}

static int failures, checks;
#define CHECK(cond)                                                             \
	do {                                                                    \
		checks++;                                                       \
		if (!(cond)) {                                                  \
			failures++;                                             \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);  \
		}                                                               \
	} while (0)
#define STREQ(a, b) ((a) && (b) && strcmp((a), (b)) == 0)

static void parse(const char *s)
{
	warnings[0] = 0;
	cmdline_init(s);
}

int main(void)
{
	/* Before any init: an empty command line. */
	CHECK(cmdline_argc() == 1 && STREQ(cmdline_argv()[0], "app") && cmdline_argv()[1] == NULL);

	/* The fixed cases need room; the limit cases below run at any limits. */
	if (CONFIG_CMDLINE_MAX_ARGS >= 8 && CONFIG_CMDLINE_MAX_PARAMS >= 8 && CONFIG_CMDLINE_MAX_LEN >= 256) {
	/* QEMU microvm appends its device announcements after the app's arguments. */
	parse("a.b=1 -- x virtio_mmio.device=512@0xfeb00e00:12 \"virtio_mmio.device=quoted\" virtio_mmio.device=512@0xfeb01000:13");
	CHECK(cmdline_argc() == 3 && STREQ(cmdline_argv()[1], "x") && STREQ(cmdline_argv()[2], "virtio_mmio.device=quoted"));
	CHECK(cmdline_param_count() == 3 && STREQ(cmdline_param_key(1), "virtio_mmio.device"));
	CHECK(STREQ(cmdline_param_value(1), "512@0xfeb00e00:12") && STREQ(cmdline_param_value(2), "512@0xfeb01000:13"));

	parse("boot.stats=1 net.ip=10.0.0.2 -- first second");
	CHECK(STREQ(cmdline_param("boot.stats"), "1"));
	CHECK(STREQ(cmdline_param("net.ip"), "10.0.0.2"));
	CHECK(cmdline_param("net") == NULL);
	CHECK(cmdline_param("boot.stat") == NULL);
	CHECK(cmdline_argc() == 3);
	CHECK(STREQ(cmdline_argv()[0], "app") && STREQ(cmdline_argv()[1], "first") && STREQ(cmdline_argv()[2], "second"));
	CHECK(cmdline_argv()[3] == NULL);
	CHECK(cmdline_param_count() == 2 && STREQ(cmdline_param_key(1), "net.ip") && STREQ(cmdline_param_value(0), "1"));
	CHECK(cmdline_param_key(2) == NULL && cmdline_param_key(-1) == NULL);
	CHECK(warnings[0] == 0);

	/* Quotes group words, can sit mid-word, and escape. */
	parse("  app.msg=\"hello world\"  x.y=a\"b c\"d -- \"second arg\" plain \"\" \"say \\\"hi\\\"\" back\\slash  ");
	CHECK(STREQ(cmdline_param("app.msg"), "hello world"));
	CHECK(STREQ(cmdline_param("x.y"), "ab cd"));
	CHECK(cmdline_argc() == 6);
	CHECK(STREQ(cmdline_argv()[1], "second arg"));
	CHECK(STREQ(cmdline_argv()[2], "plain"));
	CHECK(STREQ(cmdline_argv()[3], ""));
	CHECK(STREQ(cmdline_argv()[4], "say \"hi\""));
	CHECK(STREQ(cmdline_argv()[5], "back\\slash"));

	/* Only the first unquoted -- separates; a quoted one is an argument. */
	parse("a.b=1 \"--\" -- -- x");
	CHECK(cmdline_param_count() == 2 && STREQ(cmdline_param_key(1), "--"));
	CHECK(cmdline_argc() == 3 && STREQ(cmdline_argv()[1], "--") && STREQ(cmdline_argv()[2], "x"));

	/* No --: no arguments. Flags without '=' have the value "". Last duplicate wins. '=' in values. */
	parse("lib.flag lib.v=1 lib.v=2 lib.eq=a=b");
	CHECK(cmdline_argc() == 1 && cmdline_argv()[1] == NULL);
	CHECK(STREQ(cmdline_param("lib.flag"), ""));
	CHECK(STREQ(cmdline_param("lib.v"), "2"));
	CHECK(STREQ(cmdline_param("lib.eq"), "a=b"));

	/* Empty and NULL command lines; tabs and newlines are blanks. */
	parse("");
	CHECK(cmdline_argc() == 1 && cmdline_param_count() == 0);
	parse(NULL);
	CHECK(cmdline_argc() == 1 && cmdline_param_count() == 0);
	parse("\ta.b=1\n--\tz\r\n");
	CHECK(STREQ(cmdline_param("a.b"), "1") && cmdline_argc() == 2 && STREQ(cmdline_argv()[1], "z"));

	/* A re-parse forgets the previous one. */
	parse("-- only");
	CHECK(cmdline_param("a.b") == NULL && cmdline_argc() == 2);

	/* Unterminated quote: runs to the end, with a warning. */
	parse("-- \"open ended");
	CHECK(cmdline_argc() == 2 && STREQ(cmdline_argv()[1], "open ended"));
	CHECK(strstr(warnings, "unterminated quote") != NULL);
	}

	/* Limits: too many args / params are dropped with one warning each, never overflowing. */
	{
		static char big[65536 * 16];
		size_t n = 0;
		for (int i = 0; i < CONFIG_CMDLINE_MAX_PARAMS + 5; i++)
			n += (size_t)sprintf(big + n, "p.k%d=%d ", i, i);
		n += (size_t)sprintf(big + n, "--");
		for (int i = 0; i < CONFIG_CMDLINE_MAX_ARGS + 5; i++)
			n += (size_t)sprintf(big + n, " a%d", i);
		parse(big);
		CHECK(cmdline_param_count() == CONFIG_CMDLINE_MAX_PARAMS);
		CHECK(cmdline_argc() == CONFIG_CMDLINE_MAX_ARGS + 1);
		CHECK(cmdline_argv()[cmdline_argc()] == NULL);
		CHECK(STREQ(cmdline_argv()[CONFIG_CMDLINE_MAX_ARGS], "a63") || CONFIG_CMDLINE_MAX_ARGS != 64);
		CHECK(strstr(warnings, "max_params") != NULL);
		CHECK(strstr(warnings, "max_args") != NULL);
	}
	/* Too long: truncated at max_len - 1 bytes, with a warning. */
	{
		static char big[CONFIG_CMDLINE_MAX_LEN * 2];
		memcpy(big, "-- ", 3);
		memset(big + 3, 'x', sizeof big - 4);
		big[sizeof big - 1] = 0;
		parse(big);
		CHECK(cmdline_argc() == 2 && strlen(cmdline_argv()[1]) == CONFIG_CMDLINE_MAX_LEN - 1 - 3);
		CHECK(strstr(warnings, "truncated") != NULL);
	}
	printf("checks=%d failures=%d\n", checks, failures);
	return failures != 0;
}
