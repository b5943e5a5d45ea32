/* Guest test of the net.* command-line parameters (guest only: needs the cmdline library). */
#include <errno.h>
#include <cmdline/cmdline.h>
#include <net/stack.h>
#include <netdev/netdev.h>
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

/* net_default takes registered device 0; without one it says so, every time. */
KTEST(net, default_stack_needs_a_device)
{
	const char *why = 0;
	struct net_stack *s = net_default(&why);
	if (netdev_count() == 0) {
		KT_ASSERT(s == NULL);
		KT_ASSERT(why && why[0] == 'n' && why[1] == 'o' && why[3] == 'n'); /* "no network device ..." */
		const char *again = 0;
		KT_ASSERT(net_default(&again) == NULL && again == why);
	} else if (s) {
		KT_ASSERT(s->dev == netdev_get(0));
		KT_ASSERT(net_default(NULL) == s);
	}
}
