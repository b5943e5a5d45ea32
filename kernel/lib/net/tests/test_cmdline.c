/* Guest test of the net.* command-line parameters (guest only: needs the cmdline library). */
#include <errno.h>
#include <cmdline/cmdline.h>
#include <net/socket.h>
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

/* net_default takes registered device 0; without one it makes a loopback-only stack
 * (127.0.0.1/8) where a TCP connection to itself works. */
KTEST(net, default_stack_is_loopback_without_a_device)
{
	const char *why = 0;
	struct net_stack *s = net_default(&why);
	if (netdev_count() == 0) {
		KT_ASSERT(s != NULL);
		KT_ASSERT(s->ip.addr == IP_LOOPBACK && s->ip.mask == 0xff000000u);
		KT_ASSERT(net_default(NULL) == s);
		int err;
		struct net_sock *l = net_socket(s, NET_SOCK_STREAM, &err);
		struct net_sock *c = net_socket(s, NET_SOCK_STREAM, &err);
		KT_ASSERT(l && c);
		KT_ASSERT(net_bind(l, &(struct net_sockaddr){0, 7}) == 0 && net_listen(l, 2) == 0);
		KT_ASSERT(net_connect(c, &(struct net_sockaddr){IP_LOOPBACK, 7}) == -EINPROGRESS);
		struct net_pollitem it = {l, NET_POLLIN, 0};
		KT_ASSERT(net_sock_poll(s, &it, 1, 1000) == 1);
		struct net_sockaddr peer;
		struct net_sock *a = net_accept(l, &peer, &err);
		KT_ASSERT(a && peer.addr == IP_LOOPBACK);
		net_close(a);
		net_close(c);
		net_close(l);
	} else if (s) {
		KT_ASSERT(s->dev == netdev_get(0));
		KT_ASSERT(net_default(NULL) == s);
	}
}
