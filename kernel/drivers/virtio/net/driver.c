/* virtio-net over virtio-mmio: finds the device, negotiates VERSION_1 + MAC, lays out the
 * receive and transmit queues, fills the receive queue from its netbuf pool and registers a
 * netdev. The data path is vnet.c. */
#include <stddef.h>
#include <stdint.h>
#include <arch/cpu.h>
#include <arch/irq.h>
#include <boot/init.h>
#include <console/console.h>
#include <netdev/netdev.h>
#include <time/time.h>
#include <virtio/mmio.h>
#include <virtio/virtq.h>
#include <virtio-net/virtio_net.h>
#include <net/stack.h>
#include <plat/ioapic.h>
#include <plat/lapic.h>
#include "vnet.h"

#define VIRTIO_NET_F_MAC (1ull << 5)
#define NBUFS CONFIG_VIRTIO_NET_BUFFERS
/* Header room + header + the largest frame, rounded up: one netbuf holds any frame. */
#define BUF_BYTES 2048
_Static_assert(BUF_BYTES >= NETBUF_HEADROOM + VNET_FRAME_MAX, "a netbuf holds a frame");
/* How long a full transmit queue is waited for (reclaiming) before a frame is refused. */
#define TX_FULL_WAIT_US 2000
#define SPIN_US ((long)CONFIG_VIRTIO_NET_IDLE_SPIN_US) /* -1: never halt */
/* The device's interrupt and the wait's timer: their own vectors, so their pending bits are
 * this driver's alone. */
#define IRQ_VECTOR 48
#define TIMER_VECTOR 49
#define IRQ_BIT (1ull << (IRQ_VECTOR - ARCH_IRQ_VECTOR_FIRST))
#define TIMER_BIT (1ull << (TIMER_VECTOR - ARCH_IRQ_VECTOR_FIRST))

/* Asks the runner for a virtio-net device: ELF note "Kiln", type 1 (KILN_NOTE_DEVICE). */
static const struct {
	uint32_t namesz, descsz, type;
	char name[8];
	char desc[12];
} device_note __attribute__((section(".note.kiln.devices"), used, aligned(4))) = {5, 12, 1, "Kiln", "virtio-net"};

static _Alignas(4096) uint8_t rxq_area[8192];
static _Alignas(4096) uint8_t txq_area[8192];

static struct virtio_mmio_dev *mdev;
static int irq_routed; /* the device's input is routed to IRQ_VECTOR: waits may halt */
static int need_ack;   /* the device may have left its line high: acknowledge before the next halt */
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
	/* The queue is full: the device is behind. Tell it of what waits (the kick is deferred to
	 * the flush), then give it a little time rather than drop. */
	vnet_tx_flush(&vn);
	uint64_t limit = time_tsc_khz() * TX_FULL_WAIT_US / 1000;
	for (uint64_t t0 = arch_rdtsc(); !vn.txq.nfree && arch_rdtsc() - t0 < limit;) {
		arch_pause();
		vnet_tx_reclaim(&vn);
	}
	return (uint16_t)(taken + vnet_tx_burst(&vn, bufs + taken, (uint16_t)(n - taken)));
}

static void spin_until(uint64_t t0, uint64_t cycles)
{
	while (!vnet_rx_pending(&vn) && arch_rdtsc() - t0 < cycles)
		arch_pause();
}

/* Spins first (the used ring is in RAM: checking it costs no exit, and a frame due in a few
 * microseconds is taken at once), then, if nothing came, halts the CPU until the device's
 * interrupt or a LAPIC timer at the end of the timeout. The receive queue asks for interrupts
 * only while halted (VIRTQ_AVAIL_F_NO_INTERRUPT is cleared for the window), so a busy device
 * never raises one. Without a routed interrupt or a calibrated timer, it spins to the end. */
static void op_wait(struct netdev *d, uint64_t timeout_us)
{
	(void)d;
	vnet_tx_flush(&vn); /* nothing queued may wait while we idle */
	stats.waits++;
	uint64_t khz = time_tsc_khz(), t0 = arch_rdtsc();
	uint64_t limit = khz * timeout_us / 1000;
	uint32_t per_ms = irq_routed && timeout_us > (uint64_t)SPIN_US ? plat_lapic_timer_ticks_per_ms(khz) : 0;
	if (!per_ms || !khz) {
		spin_until(t0, limit);
		return;
	}
	spin_until(t0, khz * (uint64_t)SPIN_US / 1000);
	uint64_t spent = arch_rdtsc() - t0;
	if (vnet_rx_pending(&vn) || spent >= limit)
		return;
	if (need_ack) { /* edge-triggered: a line still high would give no edge for the next frame */
		virtio_mmio_interrupt_ack(mdev);
		need_ack = 0;
		stats.irq_acks++;
	}
	uint16_t before = *(volatile uint16_t *)&vn.rxq.used->idx;
	*(volatile uint16_t *)&vn.rxq.avail->flags = 0;
	/* The flag before the ring is checked again: a device that used a buffer just before it
	 * saw the flag sent no interrupt, and that buffer is seen here instead. */
	__asm__ volatile("mfence" ::: "memory");
	uint64_t bits = 0;
	if (!vnet_rx_pending(&vn)) {
		uint64_t ticks = (limit - spent) * per_ms / khz;
		plat_lapic_timer_arm(TIMER_VECTOR, (uint32_t)(ticks ? (ticks > 0xffffffffu ? 0xffffffffu : ticks) : 1));
		stats.halts++;
		arch_idle_halt();
		/* Only this driver's bits: other libraries' stay pending for them. */
		bits = __atomic_fetch_and(&kiln_irq_pending, ~(IRQ_BIT | TIMER_BIT), __ATOMIC_ACQ_REL) & (IRQ_BIT | TIMER_BIT);
		if (bits & IRQ_BIT) {
			stats.irq_wakes++;
			/* Else it fires while the CPU runs, stays pending and ends the next halt at once. */
			if (!(bits & TIMER_BIT))
				plat_lapic_timer_disarm();
		}
		else if (vnet_rx_pending(&vn))
			stats.timer_wakes_with_frame++; /* it came while the CPU was waking, or late */
	}
	*(volatile uint16_t *)&vn.rxq.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	/* The flag before the index is read (store-load order): a device that used a buffer while
	 * it still saw interrupts on raised its line, and the index read here must show that. */
	__asm__ volatile("mfence" ::: "memory");
	if ((bits & IRQ_BIT) || *(volatile uint16_t *)&vn.rxq.used->idx != before)
		need_ack = 1;
}

static void op_flush(struct netdev *d)
{
	(void)d;
	vnet_tx_flush(&vn);
}

static const struct netdev_ops ops = {
	.rx_burst = op_rx_burst,
	.tx_burst = op_tx_burst,
	.wait = op_wait,
	.flush = op_flush,
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
	return 0; /* the boot goes on; net_default() has no device (loopback only) */
}

/* After the pool and the interrupt were set up: give both back, then fail. */
static int fail_late(struct virtio_mmio_dev *d, const char *why)
{
	if (irq_routed)
		plat_ioapic_route(d->irq, IRQ_VECTOR, 1);
	irq_routed = 0;
	netbuf_pool_fini(&pool);
	return fail(d, why);
}

static int virtio_net_init(void)
{
	_Static_assert(sizeof(rxq_area) >= 16 * VNET_QUEUE_MAX + 6 + 2 * VNET_QUEUE_MAX + 3 + 6 + 8 * VNET_QUEUE_MAX, "rxq area");
	struct virtio_mmio_dev *d = virtio_mmio_find(VIRTIO_ID_NET);
	if (!d)
		return 0; /* no device announced: net_default() has loopback only */
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
	mdev = d;
	/* The interrupt only wakes an idle CPU (op_wait); without one, waits spin. */
	irq_routed = SPIN_US >= 0 && d->irq && plat_ioapic_route(d->irq, IRQ_VECTOR, 0) == 0;
	virtio_mmio_ready(d);
	if (virtio_mmio_status(d) & VIRTIO_STATUS_NEEDS_RESET)
		return fail_late(d, "the device failed during setup (DEVICE_NEEDS_RESET)");
	ndev.ops = &ops;
	ndev.priv = &vn;
	ndev.pool = &pool;
	ndev.mtu = 1500;
	/* Registered before any buffer is posted: a refusal leaves the device nothing to write. */
	if (netdev_register(&ndev))
		return fail_late(d, "no room for another network device (NETDEV_MAX)");
	vnet_rx_refill(&vn);
	stats.active = 1;
	return 0;
}
/* plat class, after the allocator (900): the pool comes from malloc. */
KILN_INIT(plat, 950, virtio_net_init);
