#include <errno.h>
#include <string.h>
#include <netdev/netdev.h>

int netbuf_pool_init(struct netbuf_pool *p, const struct net_env *env, uint32_t count, uint16_t bufsize)
{
	memset(p, 0, sizeof(*p));
	if (count == 0 || bufsize <= NETBUF_HEADROOM) return -EINVAL;
	p->env = env;
	p->bufs = net_alloc(env, sizeof(struct netbuf) * count);
	p->storage = net_alloc(env, (size_t)bufsize * count);
	if (!p->bufs || !p->storage) {
		netbuf_pool_fini(p);
		return -ENOMEM;
	}
	p->count = count;
	p->bufsize = bufsize;
	for (uint32_t i = 0; i < count; i++) {
		struct netbuf *nb = &p->bufs[i];
		nb->buf = p->storage + (size_t)i * bufsize;
		nb->cap = bufsize;
		nb->free = 1;
		nb->next = p->free_list;
		p->free_list = nb;
	}
	p->nfree = count;
	return 0;
}

void netbuf_pool_fini(struct netbuf_pool *p)
{
	if (!p->env) return;
	net_free(p->env, p->bufs);
	net_free(p->env, p->storage);
	p->bufs = NULL;
	p->storage = NULL;
	p->free_list = NULL;
	p->nfree = p->count = 0;
}

struct netbuf *netbuf_alloc(struct netbuf_pool *p)
{
	struct netbuf *nb = p->free_list;
	if (!nb) return NULL;
	p->free_list = nb->next;
	p->nfree--;
	nb->next = NULL;
	nb->free = 0;
	nb->off = NETBUF_HEADROOM;
	nb->len = 0;
	return nb;
}

void netbuf_free(struct netbuf_pool *p, struct netbuf *nb)
{
	if (!nb) return;
	/* A netbuf from elsewhere, or freed twice, would corrupt the list: trap instead. */
	if (nb < p->bufs || nb >= p->bufs + p->count || nb->free) __builtin_trap();
	nb->free = 1;
	nb->next = p->free_list;
	p->free_list = nb;
	p->nfree++;
}

void netdev_tx_one(struct netdev *d, struct netbuf *nb)
{
	if (d->ops->tx_burst(d, &nb, 1) == 1) {
		d->tx_frames++;
		return;
	}
	d->tx_dropped++;
	netbuf_free(d->pool, nb);
}

static struct netdev *devices[NETDEV_MAX];
static unsigned ndevices;

int netdev_register(struct netdev *d)
{
	if (!d || !d->ops || !d->ops->rx_burst || !d->ops->tx_burst || !d->pool) return -EINVAL;
	if (ndevices == NETDEV_MAX) return -ENOSPC;
	devices[ndevices++] = d;
	return 0;
}

unsigned netdev_count(void)
{
	return ndevices;
}

struct netdev *netdev_get(unsigned i)
{
	return i < ndevices ? devices[i] : NULL;
}
