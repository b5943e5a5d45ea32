/* virtio-console port 0 over virtio-mmio: queue 0 receives, queue 1 transmits (virtio 1.2,
 * 5.3). Transmit buffers are static slots; each holds one chain of one descriptor while the
 * device has it. Polled: the driver reclaims used buffers when it needs one. */
#include <stddef.h>
#include <stdint.h>
#include <arch/cpu.h>
#include <boot/init.h>
#include <console/console.h>
#include <virtio/mmio.h>
#include <virtio/virtq.h>
#include <virtio-console/virtio_console.h>

#define RXQ 0
#define TXQ 1
#define NTX CONFIG_VIRTIO_CONSOLE_TX_BUFFERS
#define TXBYTES CONFIG_VIRTIO_CONSOLE_TX_BUFFER_BYTES
#define NRX 4
#define RXBYTES 64
#define TXQ_SIZE 64 /* >= NTX, a power of 2 */
#define RXQ_SIZE 4
/* TSC cycles a waiting write polls before it checks the device status and, if the device made
 * no progress, notifies again (~1 ms at 2-3 GHz: longer than a busy host takes to wake the
 * device thread, so a healthy device is not notified twice). */
#define WAIT_ROUND_CYCLES 2500000ull
/* Rounds before a wait gives up on the device (~10 s). */
#define WAIT_ROUNDS 10000

static _Alignas(4096) uint8_t txq_area[4096];
static _Alignas(4096) uint8_t rxq_area[4096];
_Static_assert(sizeof(txq_area) >= 16 * TXQ_SIZE + 6 + 2 * TXQ_SIZE + 3 + 6 + 8 * TXQ_SIZE, "txq area");

static struct virtio_mmio_dev *dev;
static struct virtq txq, rxq;
static uint8_t tx[NTX][TXBYTES];
static int tx_head[NTX];  /* descriptor head while with the device, else -1 */
static uint32_t tx_len[NTX];
static int cur = -1;       /* the slot being filled, or -1 */
static uint8_t rx[NRX][RXBYTES];
static int rx_slot_of[RXQ_SIZE]; /* rx descriptor head -> slot */
static int rx_cur = -1;
static uint32_t rx_pos, rx_len;
static struct virtio_console_stats stats;

static const struct console_ops ops;

/* Asks the runner (Kiln's VMM, or QEMU) to attach a virtio-console: ELF note "Kiln", type 1
 * (KILN_NOTE_DEVICE), naming the device. Kept by plat-kvm's linker script. */
static const struct {
	uint32_t namesz, descsz, type;
	char name[8];
	char desc[16];
} device_note __attribute__((section(".note.kiln.devices"), used, aligned(4))) = {5, 16, 1, "Kiln", "virtio-console"};

static void give_up(const char *why)
{
	stats.active = 0;
	console_release_output(&ops);
	console_puts("virtio-console: ");
	console_puts(why);
	console_puts("; console output back on the other backends\n");
}

static void reclaim(void)
{
	int head;
	while ((head = virtq_take_used(&txq, NULL)) >= 0)
		for (int i = 0; i < NTX; i++)
			if (tx_head[i] == head)
				tx_head[i] = -1;
}

static int in_flight(void)
{
	int n = 0;
	for (int i = 0; i < NTX; i++)
		n += tx_head[i] >= 0;
	return n;
}

/* Waits until done() holds, reclaiming; 0, or -1 (and output released) if the device is gone. */
static int wait_for(int (*done)(void))
{
	stats.waits++;
	for (int round = 0; round < WAIT_ROUNDS; round++) {
		uint16_t seen = txq.last_used;
		for (uint64_t t0 = arch_rdtsc(); arch_rdtsc() - t0 < WAIT_ROUND_CYCLES;) {
			reclaim();
			if (done())
				return 0;
			arch_pause();
		}
		if (virtio_mmio_status(dev) & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) {
			give_up("the device failed (DEVICE_NEEDS_RESET)");
			return -1;
		}
		/* No progress for a whole round: notify again, in case a notification was lost (the
		 * device's NO_NOTIFY hint is only a hint). Cheap, and never a hang. */
		if (txq.last_used == seen) {
			virtio_mmio_notify(dev, TXQ);
			stats.notifies++;
		}
	}
	give_up("the device stopped taking output");
	return -1;
}

static int a_slot_free(void) { return in_flight() < NTX; }
static int all_returned(void) { return in_flight() == 0; }

static void submit(void)
{
	if (cur < 0 || tx_len[cur] == 0)
		return;
	struct virtq_buf b = {tx[cur], tx_len[cur], 0};
	int head = virtq_add(&txq, &b, 1);
	if (head < 0)
		return; /* cannot happen: TXQ_SIZE >= NTX single-descriptor chains */
	tx_head[cur] = head;
	cur = -1;
	stats.chains++;
	virtq_publish(&txq);
	if (virtq_kick_needed(&txq)) {
		virtio_mmio_notify(dev, TXQ);
		stats.notifies++;
	}
}

static int take_slot(void)
{
	reclaim();
	if (!a_slot_free() && wait_for(a_slot_free))
		return -1;
	for (int i = 0; i < NTX; i++)
		if (tx_head[i] < 0) {
			tx_len[i] = 0;
			return i;
		}
	return -1;
}

static void vc_write(const char *buf, size_t len)
{
	if (!stats.active)
		return; /* released: the other backends have the output */
	stats.writes++;
	while (len && stats.active) {
		if (cur < 0 && (cur = take_slot()) < 0)
			break;
		size_t room = TXBYTES - tx_len[cur], n = 0;
		int newline = 0;
		while (n < len && n < room) {
			char c = buf[n++];
			tx[cur][tx_len[cur]++] = (uint8_t)c;
			if (c == '\n') {
				newline = 1;
				break;
			}
		}
		stats.bytes += n;
		buf += n;
		len -= n;
		if (newline || tx_len[cur] == TXBYTES)
			submit();
	}
	if (len) /* the device gave up meanwhile: the rest goes where the console sends it now */
		console_write(buf, len);
}

static void vc_flush(void)
{
	if (!stats.active)
		return;
	submit();
	if (!all_returned())
		wait_for(all_returned);
}

static void queue_rx(int slot)
{
	struct virtq_buf b = {rx[slot], RXBYTES, 1};
	int head = virtq_add(&rxq, &b, 1);
	if (head >= 0)
		rx_slot_of[head] = slot;
}

static void kick_rx(void)
{
	virtq_publish(&rxq);
	if (virtq_kick_needed(&rxq))
		virtio_mmio_notify(dev, RXQ);
}

static void post_rx(int slot)
{
	queue_rx(slot);
	kick_rx();
}

static int vc_getc(void)
{
	if (!dev)
		return -1;
	submit(); /* a prompt shows before input is awaited */
	if (rx_cur < 0) {
		uint32_t len;
		int head = virtq_take_used(&rxq, &len);
		if (head < 0)
			return -1;
		rx_cur = rx_slot_of[head];
		rx_pos = 0;
		rx_len = len > RXBYTES ? RXBYTES : len;
	}
	int c = rx_pos < rx_len ? rx[rx_cur][rx_pos++] : -1;
	if (rx_pos >= rx_len) {
		post_rx(rx_cur);
		rx_cur = -1;
	}
	return c;
}

static const struct console_ops ops = {
	.name = "virtio-console",
	.write = vc_write,
	.getc = vc_getc,
	.flush = vc_flush,
};

const struct virtio_console_stats *virtio_console_stats(void) { return &stats; }

static int virtio_console_init(void)
{
	struct virtio_mmio_dev *d = virtio_mmio_find(VIRTIO_ID_CONSOLE);
	if (!d)
		return 0; /* no device announced: the console stays on the serial port */
	if (virtio_mmio_begin(d, 0)) {
		console_puts("virtio-console: feature negotiation failed; staying on the serial port\n");
		return 0;
	}
	virtq_init(&rxq, RXQ_SIZE, rxq_area);
	virtq_init(&txq, TXQ_SIZE, txq_area);
	if (virtio_mmio_queue(d, RXQ, &rxq) || virtio_mmio_queue(d, TXQ, &txq)) {
		virtio_mmio_fail(d);
		console_puts("virtio-console: the device refused its queues; staying on the serial port\n");
		return 0;
	}
	virtio_mmio_ready(d);
	if (virtio_mmio_status(d) & VIRTIO_STATUS_NEEDS_RESET) { /* it refused a queue's addresses */
		virtio_mmio_fail(d);
		console_puts("virtio-console: the device failed during setup; staying on the serial port\n");
		return 0;
	}
	dev = d;
	for (int i = 0; i < NTX; i++)
		tx_head[i] = -1;
	for (int i = 0; i < NRX; i++)
		queue_rx(i);
	kick_rx(); /* one notification for all of them */
	stats.active = 1;
	console_take_output(&ops);
	return 0;
}
/* plat class, after the 16550 (plat_early_init) so early output has gone there already. */
KILN_INIT(plat, 500, virtio_console_init);
