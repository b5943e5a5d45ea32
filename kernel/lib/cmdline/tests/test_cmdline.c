/* Guest tests of cmdline. They re-parse test strings, then restore the boot's command line so
 * later tests see what the image was booted with. */
#include <test/test.h>

#include <cmdline/cmdline.h>

static void check_parse(void)
{
	cmdline_init("boot.x=1 app.msg=\"two words\" flag -- one \"two three\" \"\"");
	KT_ASSERT_STREQ(cmdline_param("boot.x"), "1");
	KT_ASSERT_STREQ(cmdline_param("app.msg"), "two words");
	KT_ASSERT_STREQ(cmdline_param("flag"), "");
	KT_ASSERT_NULL(cmdline_param("missing.key"));
	KT_ASSERT_EQ(cmdline_argc(), 4);
	char **argv = cmdline_argv();
	KT_ASSERT_STREQ(argv[0], "app");
	KT_ASSERT_STREQ(argv[1], "one");
	KT_ASSERT_STREQ(argv[2], "two three");
	KT_ASSERT_STREQ(argv[3], "");
	KT_ASSERT_NULL(argv[4]);
	KT_ASSERT_EQ(cmdline_param_count(), 3);
	KT_ASSERT_STREQ(cmdline_param_key(1), "app.msg");
}

static void check_empty(void)
{
	cmdline_init("");
	KT_ASSERT_EQ(cmdline_argc(), 1);
	KT_ASSERT_NULL(cmdline_argv()[1]);
	KT_ASSERT_EQ(cmdline_param_count(), 0);
}

KTEST(cmdline, parse_params_and_args)
{
	const char *boot_line = cmdline_raw();
	check_parse();
	cmdline_init(boot_line);
}

KTEST(cmdline, empty_line)
{
	const char *boot_line = cmdline_raw();
	check_empty();
	cmdline_init(boot_line);
}
