/* The image's one stack, over the first network device a driver registered. */
#include <stddef.h>
#include <net/stack.h>
#include <netdev/netdev.h>

static struct net_stack stack;
static const char *failure;
static int made;

struct net_stack *net_default(const char **why)
{
	if (!made) {
		made = 1;
		struct netdev *dev = netdev_get(0);
		struct net_config cfg;
		const char *bad_key = NULL;
		net_config_default(&cfg);
		if (!dev)
			failure = "no network device (select a driver such as virtio-net, and run with a network)";
		else if (net_config_from_cmdline(&cfg, &failure, &bad_key) < 0)
			; /* failure says why */
		else if (!cfg.addr)
			failure = "no address: pass net.ip=A.B.C.D/N on the command line (kiln run does)";
		else
			net_stack_init(&stack, dev, net_env_guest(), &cfg);
	}
	if (failure) {
		if (why) *why = failure;
		return NULL;
	}
	return &stack;
}
