/* net: one network stack instance over a netdev, the layers wired together (net-eth, net-ipv4,
 * net-udp, net-tcp), polled run-to-completion: net_poll() takes a burst of frames through the
 * stack and runs the timers. Also the parser for the net.* configuration parameters. */
#ifndef KILN_NET_STACK_H
#define KILN_NET_STACK_H

#include <net/tcp.h>
#include <net/udp.h>

struct net_config {
	uint32_t addr, mask, gw;     /* host order; gw 0 = none */
	struct tcp_config tcp;
};

/* The defaults: no address, /24, no gateway, tcp_config_default(). */
void net_config_default(struct net_config *c);

/* Applies one "net.KEY=VALUE" parameter (given as key "ip", "gw", "mask" and value):
 *   net.ip=A.B.C.D[/N]   net.gw=A.B.C.D   net.mask=A.B.C.D
 * 0, or -EINVAL (with *why set to a one-line reason) for a bad value or an unknown key. */
int net_config_param(struct net_config *c, const char *key, const char *value, const char **why);

/* Applies every net.* parameter of the kernel command line (guest only: the cmdline library);
 * 0, or -EINVAL with *why and the offending *bad_key (nothing after it is applied). */
int net_config_from_cmdline(struct net_config *c, const char **why, const char **bad_key);

/* "A.B.C.D" or "A.B.C.D/N" into *addr (and *mask when /N is given and mask is not NULL);
 * 0 or -EINVAL. */
int net_parse_ipv4(const char *s, uint32_t *addr, uint32_t *mask);

/* The guest's environment: the time library's clock, the default allocator (malloc) and the
 * random library (ChaCha20 seeded by RDSEED/RDRAND; a TSC-stirred generator where the CPU has
 * neither). Not built for the host, which brings its own. */
const struct net_env *net_env_guest(void);

struct net_stack {
	struct netdev *dev;
	const struct net_env *env;
	struct net_eth eth;
	struct net_ip ip;
	struct udp_stack udp;
	struct tcp_stack tcp;
};

void net_stack_init(struct net_stack *s, struct netdev *dev, const struct net_env *env, const struct net_config *c);
/* Frees every socket and reassembly buffer, and the netbufs the stack still holds. */
void net_stack_fini(struct net_stack *s);
/* Receives up to budget frames through the stack, then runs the timers; returns the frames. */
int net_poll(struct net_stack *s, uint16_t budget);

/* The image's stack (guest only): made at the first call, over netdev 0 (netdev_get) with the
 * command line's net.* parameters and net_env_guest(); with no network device, a stack of
 * 127.0.0.1/8 alone (loopback). NULL when a parameter is bad, when there is a device but no
 * net.ip, or when the loopback buffers cannot be allocated; *why (if not NULL) then says which,
 * in one line. Later calls return the same stack, or NULL with the same reason. */
struct net_stack *net_default(const char **why);

/* Drives the stack for at most timeout_ms (< 0: no limit) or until progress (a frame received or
 * a timer run), idling in the device's wait between polls: the loop under a blocked socket. */
void net_wait(struct net_stack *s, int timeout_ms);

#endif
