/* virtio-net's data path: netbufs in and out of the two split queues, every index and length
 * the device returns checked before it is used. One descriptor per frame: the 12-byte header
 * sits in the netbuf's headroom, right in front of the frame, so nothing is copied. */
#include <stddef.h>
#include <string.h>
#include "vnet.h"

#define barrier() __asm__ volatile("" ::: "memory")

void vnet_init(struct vnet *v, struct netbuf_pool *pool, void (*notify)(void *, unsigned), void *ctx,
	       struct virtio_net_stats *stats)
{
	memset(v->rx_nb, 0, sizeof(v->rx_nb));
	memset(v->tx_nb, 0, sizeof(v->tx_nb));
	v->pool = pool;
	v->notify = notify;
	v->ctx = ctx;
	v->stats = stats;
}

/* The next used chain whose head the driver has in flight (table), taken off the ring; -1 when
 * none. Elements naming anything else (out of range, not in flight, a second return of the
 * same buffer) are a broken device: counted and skipped, never freed. */
static int take_checked(struct vnet *v, struct virtq *q, struct netbuf **table, uint32_t *len)
{
	for (;;) {
		uint16_t idx = *(volatile uint16_t *)&q->used->idx;
		if (q->last_used == idx)
			return -1;
		if ((uint16_t)(idx - q->last_used) > q->size) {
			/* More used than the driver ever made available: nothing in the ring can be
			 * trusted. Skip it all; the buffers in flight stay lost to this device. */
			q->last_used = idx;
			v->stats->device_errors++;
			return -1;
		}
		barrier(); /* the element after the index that published it */
		struct virtq_used_elem e = q->used->ring[q->last_used & (q->size - 1)];
		if (e.id >= q->size || !table[e.id] || (q->desc[e.id].flags & VIRTQ_DESC_F_NEXT)) {
			q->last_used++;
			v->stats->device_errors++;
			continue;
		}
		int head = virtq_take_used(q, len);
		if (head != (int)e.id) { /* cannot happen: the same element was just checked */
			v->stats->device_errors++;
			continue;
		}
		return head;
	}
}

static uint32_t rx_room(const struct netbuf *nb) { return (uint32_t)nb->cap - (NETBUF_HEADROOM - VNET_HDR_BYTES); }

void vnet_rx_refill(struct vnet *v)
{
	int added = 0;
	while (v->rxq.nfree > 0) {
		struct netbuf *nb = netbuf_alloc(v->pool);
		if (!nb) {
			v->stats->rx_no_buffer++;
			break;
		}
		struct virtq_buf b = {nb->buf + NETBUF_HEADROOM - VNET_HDR_BYTES, rx_room(nb), 1};
		int head = virtq_add(&v->rxq, &b, 1);
		if (head < 0) { /* cannot happen: nfree > 0 */
			netbuf_free(v->pool, nb);
			break;
		}
		v->rx_nb[head] = nb;
		added++;
	}
	if (!added)
		return;
	virtq_publish(&v->rxq);
	if (virtq_kick_needed(&v->rxq)) {
		v->notify(v->ctx, VNET_RXQ);
		v->stats->rx_notifies++;
	}
}

uint16_t vnet_rx_burst(struct vnet *v, struct netbuf **bufs, uint16_t n)
{
	uint16_t got = 0;
	uint32_t len;
	int head;
	while (got < n && (head = take_checked(v, &v->rxq, v->rx_nb, &len)) >= 0) {
		struct netbuf *nb = v->rx_nb[head];
		v->rx_nb[head] = NULL;
		/* A length shorter than header + Ethernet header, or longer than the buffer posted, is
		 * the device's error: the frame is dropped, the buffer goes back to the pool. */
		if (len < VNET_HDR_BYTES + 14 || len > rx_room(nb)) {
			v->stats->device_errors++;
			netbuf_free(v->pool, nb);
			continue;
		}
		nb->off = NETBUF_HEADROOM;
		nb->len = (uint16_t)(len - VNET_HDR_BYTES);
		bufs[got++] = nb;
	}
	v->stats->rx_frames += got;
	vnet_rx_refill(v);
	return got;
}

void vnet_tx_reclaim(struct vnet *v)
{
	int head;
	while ((head = take_checked(v, &v->txq, v->tx_nb, NULL)) >= 0) {
		netbuf_free(v->pool, v->tx_nb[head]);
		v->tx_nb[head] = NULL;
	}
}

uint16_t vnet_tx_burst(struct vnet *v, struct netbuf **bufs, uint16_t n)
{
	vnet_tx_reclaim(v);
	uint16_t taken = 0;
	while (taken < n) {
		struct netbuf *nb = bufs[taken];
		if (nb->len > VNET_FRAME_MAX || nb->len < 14 || v->txq.nfree == 0)
			break; /* the caller keeps it (and the rest): netdev_tx_one drops it */
		uint8_t *hdr = netbuf_push(nb, VNET_HDR_BYTES);
		if (!hdr)
			break; /* no headroom left for the header (the stack always leaves it) */
		memset(hdr, 0, VNET_HDR_BYTES); /* no offloads: flags, gso_type and the rest zero */
		struct virtq_buf b = {hdr, nb->len, 0};
		int head = virtq_add(&v->txq, &b, 1);
		if (head < 0) {
			netbuf_pull(nb, VNET_HDR_BYTES);
			break;
		}
		v->tx_nb[head] = nb;
		taken++;
	}
	if (taken < n && v->txq.nfree == 0)
		v->stats->tx_full += (uint64_t)(n - taken);
	if (!taken)
		return 0;
	v->stats->tx_frames += taken;
	virtq_publish(&v->txq);
	v->tx_unkicked = 1;
	return taken;
}

void vnet_tx_flush(struct vnet *v)
{
	if (!v->tx_unkicked)
		return;
	v->tx_unkicked = 0;
	if (virtq_kick_needed(&v->txq)) {
		v->notify(v->ctx, VNET_TXQ);
		v->stats->tx_notifies++;
	} else {
		v->stats->tx_suppressed++;
	}
}

int vnet_rx_pending(const struct vnet *v)
{
	return v->rxq.last_used != *(volatile const uint16_t *)&v->rxq.used->idx;
}

unsigned vnet_in_flight(const struct vnet *v)
{
	return (unsigned)(v->rxq.size - v->rxq.nfree) + (unsigned)(v->txq.size - v->txq.nfree);
}
