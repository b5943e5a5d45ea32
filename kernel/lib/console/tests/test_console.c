/* Guest tests of console: a capture backend sees every write; getc polls backends. */
#include <stddef.h>
#include <stdint.h>
#include <console/console.h>
#include <test/test.h>

static char cap[128];
static size_t ncap;
static int capturing;
static const char *input = "";

static void cap_write(const char *buf, size_t len)
{
	for (size_t i = 0; capturing && i < len && ncap < sizeof(cap) - 1; i++)
		cap[ncap++] = buf[i];
	cap[ncap] = 0;
}

static int cap_getc(void)
{
	if (!capturing || *input == 0)
		return -1;
	return (unsigned char)*input++;
}

static const struct console_ops cap_ops = {.name = "capture", .write = cap_write, .getc = cap_getc};

static void start(void)
{
	static int registered;
	if (!registered) {
		console_register(&cap_ops);
		registered = 1;
	}
	ncap = 0;
	cap[0] = 0;
	capturing = 1;
}

KTEST(console, write_reaches_every_backend)
{
	start();
	console_write("ab\ncd", 5);
	console_putc('!');
	console_puts("xyz\n"); /* the serial port sees it too: end the line for the runner */
	capturing = 0;
	KT_ASSERT_STREQ(cap, "ab\ncd!xyz\n");
}

KTEST(console, numbers)
{
	start();
	console_put_dec(0);
	console_putc(' ');
	console_put_dec(18446744073709551615ull);
	console_putc(' ');
	console_put_hex(0xbeef);
	console_putc(' ');
	console_put_hexmin(0);
	console_putc(' ');
	console_put_hexmin(0x1f);
	console_putc('\n');
	capturing = 0;
	KT_ASSERT_STREQ(cap, "0 18446744073709551615 0x000000000000beef 0x0 0x1f\n");
}

KTEST(console, getc_polls_backends)
{
	start();
	input = "hi";
	int a = console_getc(), b = console_getc(), c = console_getc();
	capturing = 0;
	KT_ASSERT_EQ(a, 'h');
	KT_ASSERT_EQ(b, 'i');
	KT_ASSERT_EQ(c, -1);
}

static char excl[64];
static size_t nexcl;
static int flushed;
static void excl_write(const char *buf, size_t len)
{
	for (size_t i = 0; i < len && nexcl < sizeof(excl) - 1; i++)
		excl[nexcl++] = buf[i];
	excl[nexcl] = 0;
}
static void excl_flush(void) { flushed++; }
static const struct console_ops excl_ops = {.name = "exclusive", .write = excl_write, .flush = excl_flush};

KTEST(console, take_output_sends_only_to_that_backend_until_released)
{
	start();
	console_take_output(&excl_ops);
	console_write("only\n", 5);
	console_drain();
	console_release_output(&excl_ops);
	console_write("all\n", 4);
	capturing = 0;
	KT_ASSERT_STREQ(excl, "only\nall\n");
	KT_ASSERT_STREQ(cap, "all\n"); /* the capture backend missed what the exclusive one took */
	KT_ASSERT_EQ(flushed, 1);
}

KTEST(console, format_dec_writes_the_digits_and_returns_their_count)
{
	char b[21];
	size_t n = console_format_dec(b, 0);
	b[n] = 0;
	KT_ASSERT_EQ(n, 1);
	KT_ASSERT_STREQ(b, "0");
	n = console_format_dec(b, 18446744073709551615ull);
	b[n] = 0;
	KT_ASSERT_EQ(n, 20);
	KT_ASSERT_STREQ(b, "18446744073709551615");
}
