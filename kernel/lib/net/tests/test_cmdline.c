/* Guest test of the net.* command-line parameters (guest only: needs the cmdline library). */
#include <errno.h>
#include <cmdline/cmdline.h>
#include <net/stack.h>
#include <test/test.h>

KTEST(net, config_from_the_command_line)
{
	const char *saved = cmdline_raw();
	struct net_config c;
	const char *why = 0, *bad = 0;
	net_config_default(&c);
	cmdline_init("boot.x=1 net.ip=10.1.2.3/16 net.gw=10.1.0.1 -- app args");
	int r = net_config_from_cmdline(&c, &why, &bad);
	int ok1 = r == 0 && c.addr == 0x0a010203 && c.mask == 0xffff0000u && c.gw == 0x0a010001;
	net_config_default(&c);
	cmdline_init("net.ip=10.1.2.300");
	r = net_config_from_cmdline(&c, &why, &bad);
	int ok2 = r == -EINVAL && bad && ktest_streq(bad, "net.ip") && why && c.addr == 0;
	cmdline_init(saved); /* the other tests see the boot's command line again */
	KT_ASSERT(ok1);
	KT_ASSERT(ok2);
}
