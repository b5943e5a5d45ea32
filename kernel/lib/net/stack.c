#include <errno.h>
#include <string.h>
#include <net/stack.h>

void net_config_default(struct net_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mask = 0xffffff00u;
	tcp_config_default(&c->tcp);
}

int net_parse_ipv4(const char *s, uint32_t *addr, uint32_t *mask)
{
	uint32_t a = 0;
	for (int part = 0; part < 4; part++) {
		if (*s < '0' || *s > '9') return -EINVAL;
		uint32_t v = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (uint32_t)(*s++ - '0');
			if (++digits > 3 || v > 255) return -EINVAL;
		}
		a = a << 8 | v;
		if (part < 3 && *s++ != '.') return -EINVAL;
	}
	if (*s == '/') {
		s++;
		uint32_t n = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9') {
			n = n * 10 + (uint32_t)(*s++ - '0');
			if (++digits > 2) return -EINVAL;
		}
		if (!digits || n > 32 || *s) return -EINVAL;
		if (mask) *mask = n ? 0xffffffffu << (32 - n) : 0;
	} else if (*s) {
		return -EINVAL;
	}
	*addr = a;
	return 0;
}

int net_config_param(struct net_config *c, const char *key, const char *value, const char **why)
{
	uint32_t a, m = c->mask;
	if (!strcmp(key, "ip")) {
		if (net_parse_ipv4(value, &a, &m) < 0 || a == 0) {
			*why = "net.ip wants an address like 10.0.2.15/24";
			return -EINVAL;
		}
		c->addr = a;
		c->mask = m;
		return 0;
	}
	if (!strcmp(key, "gw") || !strcmp(key, "mask")) {
		if (net_parse_ipv4(value, &a, NULL) < 0 || strchr(value, '/')) {
			*why = key[0] == 'g' ? "net.gw wants an address like 10.0.2.2" : "net.mask wants a netmask like 255.255.255.0";
			return -EINVAL;
		}
		if (key[0] == 'm' && (~a & (~a + 1)) != 0) {
			*why = "net.mask must be contiguous ones then zeros, like 255.255.255.0";
			return -EINVAL;
		}
		if (key[0] == 'g') c->gw = a;
		else c->mask = a;
		return 0;
	}
	*why = "unknown net parameter (known: net.ip, net.gw, net.mask)";
	return -EINVAL;
}

void net_stack_init(struct net_stack *s, struct netdev *dev, const struct net_env *env, const struct net_config *c)
{
	memset(s, 0, sizeof(*s));
	s->dev = dev;
	s->env = env;
	eth_init(&s->eth, dev, env, c->addr);
	ip_init(&s->ip, &s->eth, env, c->addr, c->mask, c->gw);
	udp_init(&s->udp, &s->ip, env);
	tcp_init(&s->tcp, &s->ip, env, &c->tcp);
}

void net_stack_fini(struct net_stack *s)
{
	tcp_fini(&s->tcp);
	udp_fini(&s->udp);
	ip_fini(&s->ip);
	eth_fini(&s->eth);
}

int net_poll(struct net_stack *s, uint16_t budget)
{
	struct netbuf *bufs[32];
	int total = 0;
	while (budget) {
		uint16_t want = budget < 32 ? budget : 32;
		uint16_t n = netdev_rx_burst(s->dev, bufs, want);
		for (uint16_t i = 0; i < n; i++) eth_input(&s->eth, bufs[i]);
		total += n;
		budget = (uint16_t)(budget - n);
		if (n < want) break;
	}
	/* Datagrams to ourselves: each round's replies (a SYN's SYN-ACK ...) go in the next round. */
	while (budget && s->ip.loop_len) {
		int n = ip_loop_poll(&s->ip, budget);
		total += n;
		budget = (uint16_t)(budget - n);
	}
	eth_timer(&s->eth);
	ip_timer(&s->ip);
	tcp_timer(&s->tcp);
	netdev_flush(s->dev); /* replies, ACKs and timer output: one notification */
	return total;
}

void net_wait(struct net_stack *s, int timeout_ms)
{
	if (net_poll(s, 64) > 0 || s->ip.loop_len) return;
	/* At most 1 ms in the device's wait: the stack's timers (delayed ACK 40 ms, RTO 200 ms
	 * minimum) need no finer grain, and nothing tells us when the next one is due. */
	if (timeout_ms != 0) netdev_wait(s->dev, 1000);
	net_poll(s, 64);
}
