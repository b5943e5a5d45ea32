/* The image's one stack, over the first network device a driver registered, or, with no
 * device at all, over a device with no wire: 127.0.0.1/8 only, every datagram delivered
 * locally by net-ipv4, so sockets work in an image with no NIC. */
#include <errno.h>
#include <stddef.h>
#include <net/stack.h>
#include <netdev/netdev.h>

/* A netdev with no wire: nothing arrives, nothing leaves (the stack routes only 127/8 there,
 * which never reaches a device; a broadcast is counted as dropped). Its pool holds the
 * datagrams in the local queue. */
#define NOWIRE_BUFS (IP_LOOP_MAX + 64)
static uint16_t nowire_rx(struct netdev *d, struct netbuf **b, uint16_t n)
{
	(void)d, (void)b, (void)n;
	return 0;
}
static uint16_t nowire_tx(struct netdev *d, struct netbuf **b, uint16_t n)
{
	(void)d, (void)b, (void)n;
	return 0;
}
static const struct netdev_ops nowire_ops = {.rx_burst = nowire_rx, .tx_burst = nowire_tx};
static struct netbuf_pool nowire_pool;
static struct netdev nowire = {.ops = &nowire_ops, .pool = &nowire_pool, .mtu = 1500};

static struct net_stack stack;
static const char *failure;
static int made;

/* Makes the stack; NULL, or why it could not. */
static const char *make_stack(void)
{
	struct netdev *dev = netdev_get(0);
	struct net_config cfg;
	const char *why = NULL, *bad_key = NULL;
	net_config_default(&cfg);
	if (net_config_from_cmdline(&cfg, &why, &bad_key) < 0)
		return why;
	if (dev) {
		if (!cfg.addr)
			return "no address: pass net.ip=A.B.C.D/N on the command line (kiln run does)";
		net_stack_init(&stack, dev, net_env_guest(), &cfg);
		return NULL;
	}
	if (netbuf_pool_init(&nowire_pool, net_env_guest(), NOWIRE_BUFS, 2048) < 0)
		return "no memory for the loopback stack's buffers (give the image more memory)";
	/* No device: the address on the command line (if any) means nothing here. */
	cfg.addr = IP_LOOPBACK;
	cfg.mask = 0xff000000u;
	cfg.gw = 0;
	net_stack_init(&stack, &nowire, net_env_guest(), &cfg);
	return NULL;
}

struct net_stack *net_default(const char **why)
{
	if (!made) {
		made = 1;
		failure = make_stack();
	}
	if (failure) {
		if (why) *why = failure;
		return NULL;
	}
	return &stack;
}
