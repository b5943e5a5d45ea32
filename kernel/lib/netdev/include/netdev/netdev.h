/* netdev: the network device API, in the spirit of Unikraft's uknetdev. A driver moves frames in
 * bursts of netbufs; every netbuf comes from a pool preallocated at init, so the data path never
 * allocates. Ownership: rx_burst hands the caller filled netbufs (the caller frees them);
 * tx_burst takes the netbufs it accepted (the driver frees them once sent) and returns how many,
 * the rest stay with the caller. */
#ifndef KILN_NETDEV_NETDEV_H
#define KILN_NETDEV_NETDEV_H

#include <stddef.h>
#include <stdint.h>
#include <netdev/env.h>

/* Room kept in front of a netbuf's data so Ethernet + IPv4 + TCP headers (with options) can be
 * prepended without a copy. */
#define NETBUF_HEADROOM 128

struct netbuf {
	struct netbuf *next;   /* free list, or a caller's queue */
	uint8_t *buf;          /* storage of cap bytes */
	uint16_t cap;
	uint16_t off;          /* data = buf + off */
	uint16_t len;
	uint8_t free;          /* in the pool's free list: freeing it again traps */
};

static inline uint8_t *netbuf_data(struct netbuf *nb) { return nb->buf + nb->off; }

/* Grows the data at its front by n bytes (headers); NULL when the headroom is too small. */
static inline uint8_t *netbuf_push(struct netbuf *nb, uint16_t n)
{
	if (nb->off < n) return NULL;
	nb->off = (uint16_t)(nb->off - n);
	nb->len = (uint16_t)(nb->len + n);
	return nb->buf + nb->off;
}

/* Strips n bytes from the data's front; NULL when it has fewer. */
static inline uint8_t *netbuf_pull(struct netbuf *nb, uint16_t n)
{
	if (nb->len < n) return NULL;
	nb->off = (uint16_t)(nb->off + n);
	nb->len = (uint16_t)(nb->len - n);
	return nb->buf + nb->off;
}

struct netbuf_pool {
	struct netbuf *free_list;
	struct netbuf *bufs;      /* count descriptors */
	uint8_t *storage;         /* count * bufsize bytes */
	uint32_t count, nfree;
	uint16_t bufsize;
	const struct net_env *env;
};

/* Preallocates count netbufs of bufsize bytes each; 0 or -ENOMEM. */
int netbuf_pool_init(struct netbuf_pool *p, const struct net_env *env, uint32_t count, uint16_t bufsize);
void netbuf_pool_fini(struct netbuf_pool *p);
/* A netbuf with NETBUF_HEADROOM reserved and len 0, or NULL when the pool is empty. */
struct netbuf *netbuf_alloc(struct netbuf_pool *p);
void netbuf_free(struct netbuf_pool *p, struct netbuf *nb);

struct netdev;

struct netdev_ops {
	/* Up to n received frames into bufs (allocated from dev->pool); returns how many. */
	uint16_t (*rx_burst)(struct netdev *dev, struct netbuf **bufs, uint16_t n);
	/* Queues up to n frames; returns how many it took (it frees those). */
	uint16_t (*tx_burst)(struct netdev *dev, struct netbuf **bufs, uint16_t n);
	/* Optional (NULL: callers spin on rx_burst). Returns once a frame may have arrived, or after
	 * about timeout_us; at once when one is already waiting. A blocked socket call idles here,
	 * so a driver can halt the CPU until its interrupt instead of spinning. */
	void (*wait)(struct netdev *dev, uint64_t timeout_us);
	/* Optional. Makes the device act on the frames tx_burst queued since the last flush (one
	 * notification for the lot). A driver with a flush may defer notifying in tx_burst; the
	 * stack flushes at the end of net_poll and of every socket call, so nothing waits long. */
	void (*flush)(struct netdev *dev);
};

struct netdev {
	const struct netdev_ops *ops;
	void *priv;
	struct netbuf_pool *pool;
	uint8_t mac[6];
	uint16_t mtu;             /* IP MTU: 1500 for Ethernet */
	uint64_t rx_frames, tx_frames, tx_dropped;
};

static inline uint16_t netdev_rx_burst(struct netdev *d, struct netbuf **b, uint16_t n)
{
	uint16_t got = d->ops->rx_burst(d, b, n);
	d->rx_frames += got;
	return got;
}

/* Sends one frame; the netbuf is consumed either way (freed when the driver refuses it). */
void netdev_tx_one(struct netdev *d, struct netbuf *nb);

/* The devices of this image: drivers register theirs at init (class plat); the stack of `net`
 * (net_default) takes device 0. At most NETDEV_MAX; registering more is -ENOSPC. */
#define NETDEV_MAX 4
int netdev_register(struct netdev *d);
unsigned netdev_count(void);
/* Device i, or NULL. */
struct netdev *netdev_get(unsigned i);

/* dev->ops->flush, or nothing when the driver has none. */
static inline void netdev_flush(struct netdev *d)
{
	if (d->ops->flush) d->ops->flush(d);
}

/* dev->ops->wait, or nothing when the driver has none. */
static inline void netdev_wait(struct netdev *d, uint64_t timeout_us)
{
	if (d->ops->wait) d->ops->wait(d, timeout_us);
}

#endif
