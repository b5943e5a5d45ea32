/* virtio-net over virtio-mmio: finds the device, negotiates VERSION_1 + MAC, lays out the
 * receive and transmit queues, fills the receive queue from its netbuf pool and registers a
 * netdev. The data path is vnet.c. */
#include <stddef.h>
#include <stdint.h>
#include <arch/cpu.h>
#include <boot/init.h>
#include <console/console.h>
#include <netdev/netdev.h>
#include <time/time.h>
#include <virtio/mmio.h>
#include <virtio/virtq.h>
#include <virtio-net/virtio_net.h>
#include <net/stack.h>
#include "vnet.h"

#define VIRTIO_NET_F_MAC (1ull << 5)
#define NBUFS CONFIG_VIRTIO_NET_BUFFERS
/* Header room + header + the largest frame, rounded up: one netbuf holds any frame. */
#define BUF_BYTES 2048
_Static_assert(BUF_BYTES >= NETBUF_HEADROOM + VNET_FRAME_MAX, "a netbuf holds a frame");
/* How long a full transmit queue is waited for (reclaiming) before a frame is refused. */
#define TX_FULL_WAIT_US 2000

/* Asks the runner for a virtio-net device: ELF note "Kiln", type 1 (KILN_NOTE_DEVICE). */
static const struct {
	uint32_t namesz, descsz, type;
	char name[8];
	char desc[12];
} device_note __attribute__((section(".note.kiln.devices"), used, aligned(4))) = {5, 12, 1, "Kiln", "virtio-net"};

static _Alignas(4096) uint8_t rxq_area[8192];
static _Alignas(4096) uint8_t txq_area[8192];

static struct vnet vn;
static struct netbuf_pool pool;
static struct netdev ndev;
static struct virtio_net_stats stats;

const struct virtio_net_stats *virtio_net_stats(void) { return &stats; }

static void notify(void *ctx, unsigned queue)
{
	virtio_mmio_notify(ctx, queue);
}

static uint16_t op_rx_burst(struct netdev *d, struct netbuf **bufs, uint16_t n)
{
	(void)d;
	return vnet_rx_burst(&vn, bufs, n);
}

static uint16_t op_tx_burst(struct netdev *d, struct netbuf **bufs, uint16_t n)
{
	(void)d;
	uint16_t taken = vnet_tx_burst(&vn, bufs, n);
	if (taken == n || vn.txq.nfree)
		return taken;
	/* The queue is full: the device is behind. Give it a little time rather than drop. */
	uint64_t limit = time_tsc_khz() * TX_FULL_WAIT_US / 1000;
	for (uint64_t t0 = arch_rdtsc(); !vn.txq.nfree && arch_rdtsc() - t0 < limit;) {
		arch_pause();
		vnet_tx_reclaim(&vn);
	}
	return (uint16_t)(taken + vnet_tx_burst(&vn, bufs + taken, (uint16_t)(n - taken)));
}

/* A bounded spin: the used ring is in RAM, so checking it costs no exit. Halting instead would
 * need the device's interrupt routed through the IOAPIC to wake the CPU (plat-kvm leaves it
 * masked); a LAPIC-timer halt alone would add up to timeout_us to every frame that arrives
 * meanwhile. */
static void op_wait(struct netdev *d, uint64_t timeout_us)
{
	(void)d;
	stats.waits++;
	uint64_t limit = time_tsc_khz() * timeout_us / 1000;
	for (uint64_t t0 = arch_rdtsc(); !vnet_rx_pending(&vn) && arch_rdtsc() - t0 < limit;)
		arch_pause();
}

static const struct netdev_ops ops = {
	.rx_burst = op_rx_burst,
	.tx_burst = op_tx_burst,
	.wait = op_wait,
};

/* The largest queue size the device takes, from VNET_QUEUE_MAX down. */
static int setup_queue(struct virtio_mmio_dev *d, unsigned index, struct virtq *q, void *area)
{
	for (uint16_t size = VNET_QUEUE_MAX; size >= 16; size /= 2) {
		virtq_init(q, size, area);
		if (virtio_mmio_queue(d, index, q) == 0)
			return 0;
	}
	return -1;
}

static int fail(struct virtio_mmio_dev *d, const char *why)
{
	virtio_mmio_fail(d);
	console_puts("virtio-net: ");
	console_puts(why);
	console_puts("; no network\n");
	return 0; /* the boot goes on: net_default() says there is no device */
}

static int virtio_net_init(void)
{
	_Static_assert(sizeof(rxq_area) >= 16 * VNET_QUEUE_MAX + 6 + 2 * VNET_QUEUE_MAX + 3 + 6 + 8 * VNET_QUEUE_MAX, "rxq area");
	struct virtio_mmio_dev *d = virtio_mmio_find(VIRTIO_ID_NET);
	if (!d)
		return 0; /* no device announced: no network, net_default() says so */
	if (virtio_mmio_begin(d, VIRTIO_NET_F_MAC))
		return fail(d, "feature negotiation failed (the device needs VERSION_1)");
	if (!(d->features & VIRTIO_NET_F_MAC))
		return fail(d, "the device has no MAC address (VIRTIO_NET_F_MAC)");
	if (setup_queue(d, VNET_RXQ, &vn.rxq, rxq_area) || setup_queue(d, VNET_TXQ, &vn.txq, txq_area))
		return fail(d, "the device refused its queues");
	if (netbuf_pool_init(&pool, net_env_guest(), NBUFS, BUF_BYTES))
		return fail(d, "out of memory for the netbuf pool");
	for (unsigned i = 0; i < 6; i++)
		ndev.mac[i] = (uint8_t)virtio_mmio_config_read(d, i, 1);
	vnet_init(&vn, &pool, notify, d, &stats);
	virtio_mmio_ready(d);
	if (virtio_mmio_status(d) & VIRTIO_STATUS_NEEDS_RESET)
		return fail(d, "the device failed during setup (DEVICE_NEEDS_RESET)");
	vnet_rx_refill(&vn);
	ndev.ops = &ops;
	ndev.priv = &vn;
	ndev.pool = &pool;
	ndev.mtu = 1500;
	if (netdev_register(&ndev))
		return fail(d, "no room for another network device (NETDEV_MAX)");
	stats.active = 1;
	return 0;
}
/* plat class, after the allocator (900): the pool comes from malloc. */
KILN_INIT(plat, 950, virtio_net_init);
