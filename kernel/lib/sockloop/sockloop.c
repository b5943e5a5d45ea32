/* A TCP server's poll loop: items[0] is the listener, items[1..] the live connections. */
#include <stdio.h>
#include <stdlib.h>
#include <sockloop/sockloop.h>

void sockloop_close(struct sockloop_conn *c)
{
	if (c->sock) {
		net_close(c->sock);
		c->sock = NULL;
	}
}

static struct net_sock *start(const struct sockloop_config *cfg, struct net_stack **st)
{
	const char *why = NULL;
	*st = net_default(&why);
	if (!*st) {
		printf("%s: no network: %s\n", cfg->name, why);
		return NULL;
	}
	int err = 0;
	struct net_sock *l = net_socket(*st, NET_SOCK_STREAM, &err);
	if (l && cfg->sndbuf)
		err = net_setsockopt(l, NET_SO_SNDBUF, cfg->sndbuf);
	if (l && !err && cfg->rcvbuf)
		err = net_setsockopt(l, NET_SO_RCVBUF, cfg->rcvbuf);
	if (l && !err)
		err = net_bind(l, &(struct net_sockaddr){0, cfg->port});
	if (l && !err)
		err = net_listen(l, cfg->backlog);
	if (!l || err) {
		printf("%s: cannot listen on tcp port %u: error %d\n", cfg->name, cfg->port, err);
		if (l)
			net_close(l);
		return NULL;
	}
	printf("%s: listening on tcp port %u\n", cfg->name, cfg->port);
	return l;
}

static void accept_all(struct net_sock *l, struct sockloop_conn **conns, int max, const struct sockloop_ops *ops)
{
	struct net_sock *s;
	int err, slot = 0;
	while ((s = net_accept(l, NULL, &err))) {
		while (slot < max && conns[slot])
			slot++;
		struct sockloop_conn *c = slot < max ? calloc(1, ops->conn_size) : NULL;
		if (!c) { /* full (or out of memory): refuse this one, keep serving the others */
			net_close(s);
			continue;
		}
		c->sock = s;
		conns[slot] = c;
		net_setsockopt(s, NET_SO_NODELAY, 1);
		ops->serve(c);
	}
}

int sockloop_run(const struct sockloop_config *cfg, const struct sockloop_ops *ops)
{
	struct net_stack *st;
	struct sockloop_conn **conns = calloc((size_t)cfg->max_conns, sizeof(*conns));
	struct net_pollitem *items = calloc((size_t)cfg->max_conns + 1, sizeof(*items));
	int *owner = calloc((size_t)cfg->max_conns + 1, sizeof(*owner)); /* poll item -> slot */
	if (!conns || !items || !owner || ops->conn_size < sizeof(struct sockloop_conn)) {
		printf("%s: out of memory for %d connections\n", cfg->name, cfg->max_conns);
		return 1;
	}
	struct net_sock *l = start(cfg, &st);
	if (!l)
		return 1;
	for (;;) {
		int n = 0;
		items[n++] = (struct net_pollitem){l, NET_POLLIN, 0};
		for (int i = 0; i < cfg->max_conns; i++) {
			struct sockloop_conn *c = conns[i];
			if (c && !c->sock) {
				free(c);
				conns[i] = c = NULL;
			}
			if (c) {
				owner[n] = i;
				items[n++] = (struct net_pollitem){c->sock, ops->wants(c), 0};
			}
		}
		if (net_sock_poll(st, items, n, -1) <= 0)
			continue;
		for (int k = 1; k < n; k++)
			if (items[k].revents && conns[owner[k]]->sock)
				ops->serve(conns[owner[k]]);
		if (items[0].revents & NET_POLLIN)
			accept_all(l, conns, cfg->max_conns, ops);
	}
}
