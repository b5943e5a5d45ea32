/* Guest tests of virtio-net's data path (vnet.c) against a device played by the test: zero-copy
 * buffers, header handling, notification suppression, and a device that returns bad ids and
 * lengths. No MMIO involved. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <test/test.h>
#include <net/stack.h>
#include "../vnet.h"

static _Alignas(4096) uint8_t rx_area[8192];
static _Alignas(4096) uint8_t tx_area[8192];
static unsigned notified[2];

static void count_notify(void *ctx, unsigned q)
{
	(void)ctx;
	notified[q]++;
}

static void setup(struct vnet *v, struct netbuf_pool *p, struct virtio_net_stats *st, uint32_t nbufs)
{
	memset(st, 0, sizeof(*st));
	notified[0] = notified[1] = 0;
	virtq_init(&v->rxq, 16, rx_area);
	virtq_init(&v->txq, 16, tx_area);
	KT_ASSERT_EQ(netbuf_pool_init(p, net_env_guest(), nbufs, 2048), 0);
	vnet_init(v, p, count_notify, NULL, st);
}

/* The device writes a frame into the receive buffer at ring slot `slot` and returns it. */
static void device_rx(struct vnet *v, uint16_t slot, uint32_t id, uint32_t len, uint8_t fill)
{
	struct virtq *q = &v->rxq;
	if (id < q->size) {
		uint8_t *b = (uint8_t *)(uintptr_t)q->desc[id].addr;
		memset(b, 0, VNET_HDR_BYTES);
		b[10] = 1; /* num_buffers */
		memset(b + VNET_HDR_BYTES, fill, len > VNET_HDR_BYTES ? len - VNET_HDR_BYTES : 0);
	}
	q->used->ring[slot & (q->size - 1)].id = id;
	q->used->ring[slot & (q->size - 1)].len = len;
	q->used->idx = (uint16_t)(slot + 1);
}

KTEST(virtio_net, rx_fills_the_queue_and_hands_over_frames_without_copies)
{
	struct vnet v;
	struct netbuf_pool p;
	struct virtio_net_stats st;
	setup(&v, &p, &st, 64);
	vnet_rx_refill(&v);
	KT_ASSERT_EQ(v.rxq.nfree, 0);
	KT_ASSERT_EQ(v.rxq.avail->idx, 16);
	KT_ASSERT_EQ(notified[0], 1u); /* one notification for the whole batch */
	KT_ASSERT_EQ(p.nfree, 48u);
	/* Each buffer starts 12 bytes before the netbuf's data and is device-writable. */
	struct netbuf *nb0 = v.rx_nb[0];
	KT_ASSERT_EQ(v.rxq.desc[0].addr, (uint64_t)(uintptr_t)(nb0->buf + NETBUF_HEADROOM - VNET_HDR_BYTES));
	KT_ASSERT_EQ(v.rxq.desc[0].flags, VIRTQ_DESC_F_WRITE);
	KT_ASSERT(v.rxq.desc[0].len >= VNET_HDR_BYTES + VNET_FRAME_MAX);
	KT_ASSERT(!vnet_rx_pending(&v));
	device_rx(&v, 0, 0, VNET_HDR_BYTES + 60, 0xab);
	KT_ASSERT(vnet_rx_pending(&v));
	struct netbuf *got[4];
	KT_ASSERT_EQ(vnet_rx_burst(&v, got, 4), 1);
	KT_ASSERT(got[0] == nb0);
	KT_ASSERT_EQ(got[0]->len, 60);
	KT_ASSERT_EQ(netbuf_data(got[0])[0], 0xab);
	KT_ASSERT_EQ(st.rx_frames, 1u);
	/* The slot was posted again from the pool. */
	KT_ASSERT_EQ(v.rxq.nfree, 0);
	KT_ASSERT_EQ(p.nfree, 47u); /* one with the caller, one in its place */
	netbuf_free(&p, got[0]);
	/* The device asked for no notifications: none is sent for the refill. */
	v.rxq.used->flags = VIRTQ_USED_F_NO_NOTIFY;
	device_rx(&v, 1, 5, VNET_HDR_BYTES + 14, 0x11);
	KT_ASSERT_EQ(vnet_rx_burst(&v, got, 4), 1);
	netbuf_free(&p, got[0]);
	KT_ASSERT_EQ(notified[0], 2u); /* the first refill after the frame notified, not this one */
	netbuf_pool_fini(&p);
}

KTEST(virtio_net, rx_refuses_bad_ids_and_lengths_from_the_device)
{
	struct vnet v;
	struct netbuf_pool p;
	struct virtio_net_stats st;
	setup(&v, &p, &st, 64);
	vnet_rx_refill(&v);
	struct netbuf *got[4];
	device_rx(&v, 0, 99, 100, 0); /* not a descriptor */
	KT_ASSERT_EQ(vnet_rx_burst(&v, got, 4), 0);
	KT_ASSERT_EQ(st.device_errors, 1u);
	device_rx(&v, 1, 3, 8, 0); /* shorter than the header */
	KT_ASSERT_EQ(vnet_rx_burst(&v, got, 4), 0);
	device_rx(&v, 2, 4, 5000, 0); /* longer than the buffer */
	KT_ASSERT_EQ(vnet_rx_burst(&v, got, 4), 0);
	KT_ASSERT_EQ(st.device_errors, 3u);
	/* Both dropped buffers came back and were posted again: nothing leaked. */
	KT_ASSERT_EQ(v.rxq.nfree, 0);
	KT_ASSERT_EQ(p.nfree, 48u);
	/* A buffer returned twice: the second return is refused, not freed again. */
	device_rx(&v, 3, 7, 40, 1);
	KT_ASSERT_EQ(vnet_rx_burst(&v, got, 4), 1);
	struct netbuf *first = got[0];
	netbuf_free(&p, first);
	/* desc 7 was reposted with a new netbuf; take it out of flight to simulate a stale id */
	struct netbuf *reposted = v.rx_nb[7];
	v.rx_nb[7] = NULL;
	device_rx(&v, 4, 7, 40, 1);
	KT_ASSERT_EQ(vnet_rx_burst(&v, got, 4), 0);
	KT_ASSERT_EQ(st.device_errors, 4u);
	v.rx_nb[7] = reposted;
	KT_ASSERT_EQ(p.nfree + vnet_in_flight(&v), 64u);
	/* A used index further ahead than the queue is long: the ring is skipped, not walked. */
	v.rxq.used->idx = (uint16_t)(v.rxq.last_used + 1000);
	KT_ASSERT_EQ(vnet_rx_burst(&v, got, 4), 0);
	KT_ASSERT_EQ(st.device_errors, 5u);
	KT_ASSERT_EQ(v.rxq.last_used, v.rxq.used->idx);
	netbuf_pool_fini(&p);
}

KTEST(virtio_net, tx_prepends_a_zero_header_suppresses_notifications_and_reclaims)
{
	struct vnet v;
	struct netbuf_pool p;
	struct virtio_net_stats st;
	setup(&v, &p, &st, 64);
	struct netbuf *nb[20];
	for (int i = 0; i < 20; i++) {
		nb[i] = netbuf_alloc(&p);
		memset(netbuf_data(nb[i]) - VNET_HDR_BYTES, 0xee, VNET_HDR_BYTES);
		nb[i]->len = 60;
	}
	KT_ASSERT_EQ(vnet_tx_burst(&v, nb, 3), 3);
	KT_ASSERT_EQ(vnet_tx_burst(&v, nb + 3, 1), 1);
	KT_ASSERT_EQ(notified[1], 0u); /* deferred to the flush: one notification for both bursts */
	vnet_tx_flush(&v);
	KT_ASSERT_EQ(notified[1], 1u);
	vnet_tx_flush(&v);
	KT_ASSERT_EQ(notified[1], 1u); /* nothing new since */
	KT_ASSERT_EQ(v.txq.desc[0].len, 72u);
	const uint8_t *h = (const uint8_t *)(uintptr_t)v.txq.desc[0].addr;
	for (int i = 0; i < VNET_HDR_BYTES; i++)
		KT_ASSERT_EQ(h[i], 0);
	KT_ASSERT(h == netbuf_data(nb[0])); /* pushed into the headroom: no copy */
	KT_ASSERT_EQ(nb[0]->off, NETBUF_HEADROOM - VNET_HDR_BYTES);
	KT_ASSERT_EQ(v.txq.desc[0].flags, 0); /* device-readable */
	v.txq.used->flags = VIRTQ_USED_F_NO_NOTIFY;
	KT_ASSERT_EQ(vnet_tx_burst(&v, nb + 4, 12), 12);
	vnet_tx_flush(&v);
	KT_ASSERT_EQ(notified[1], 1u);
	KT_ASSERT_EQ(st.tx_suppressed, 1u);
	/* The queue is full: the rest stays with the caller. */
	KT_ASSERT_EQ(vnet_tx_burst(&v, nb + 16, 4), 0);
	KT_ASSERT_EQ(st.tx_full, 4u);
	/* The device returns two chains (one bad id among them); they go back to the pool. */
	uint32_t before = p.nfree;
	v.txq.used->ring[0].id = 0;
	v.txq.used->ring[1].id = 200;
	v.txq.used->ring[2].id = 1;
	v.txq.used->idx = 3;
	vnet_tx_reclaim(&v);
	KT_ASSERT_EQ(p.nfree, before + 2);
	KT_ASSERT_EQ(st.device_errors, 1u);
	KT_ASSERT_EQ(vnet_tx_burst(&v, nb + 16, 4), 2);
	KT_ASSERT_EQ(st.tx_frames, 18u);
	/* A frame larger than the Ethernet maximum is refused, not sent. */
	nb[18]->len = VNET_FRAME_MAX + 1;
	v.txq.used->ring[3].id = 2;
	v.txq.used->idx = 4;
	KT_ASSERT_EQ(vnet_tx_burst(&v, nb + 18, 1), 0);
	netbuf_free(&p, nb[18]);
	netbuf_free(&p, nb[19]);
	netbuf_pool_fini(&p);
}
