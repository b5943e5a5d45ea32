/* The driver's data path without the MMIO: two split queues and the netbufs in flight, so the
 * guest tests can play the device. Private to the library. */
#ifndef VIRTIO_NET_VNET_H
#define VIRTIO_NET_VNET_H

#include <stdint.h>
#include <netdev/netdev.h>
#include <virtio/virtq.h>
#include <virtio-net/virtio_net.h>

#define VNET_HDR_BYTES 12     /* struct virtio_net_hdr with VERSION_1 (num_buffers included) */
#define VNET_FRAME_MAX 1514   /* Ethernet header + 1500 bytes, no FCS */
#define VNET_QUEUE_MAX 256
#define VNET_RXQ 0
#define VNET_TXQ 1

_Static_assert(NETBUF_HEADROOM >= VNET_HDR_BYTES, "the header lives in the netbuf headroom");

struct vnet {
	struct virtq rxq, txq;
	struct netbuf_pool *pool;
	struct netbuf *rx_nb[VNET_QUEUE_MAX]; /* by descriptor head, while the device has it */
	struct netbuf *tx_nb[VNET_QUEUE_MAX];
	void (*notify)(void *ctx, unsigned queue);
	void *ctx;
	struct virtio_net_stats *stats;
	uint8_t tx_unkicked; /* frames published since the last vnet_tx_flush */
};

/* Queues must be laid out (virtq_init) and the pool's buffers must hold a header and a frame. */
void vnet_init(struct vnet *v, struct netbuf_pool *pool, void (*notify)(void *, unsigned), void *ctx,
	       struct virtio_net_stats *stats);
/* Posts receive buffers while the queue and the pool have them; notifies if the device asks. */
void vnet_rx_refill(struct vnet *v);
uint16_t vnet_rx_burst(struct vnet *v, struct netbuf **bufs, uint16_t n);
/* Queues and publishes frames; the device is notified by vnet_tx_flush (one notification per
 * batch: the stack flushes at the end of each poll and socket call). */
uint16_t vnet_tx_burst(struct vnet *v, struct netbuf **bufs, uint16_t n);
/* Notifies the device of the frames published since the last flush, unless it set NO_NOTIFY. */
void vnet_tx_flush(struct vnet *v);
/* Frees the netbufs the device has sent. */
void vnet_tx_reclaim(struct vnet *v);
/* Nonzero when the device has returned a receive buffer not yet taken. */
int vnet_rx_pending(const struct vnet *v);
/* Netbufs the device holds (both queues). */
unsigned vnet_in_flight(const struct vnet *v);

#endif
