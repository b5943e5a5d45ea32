/* virtio-mmio version 2: probing the announced windows, feature negotiation and queue setup
 * (virtio 1.2, 4.2.3). Registers are 32-bit and accessed with single aligned moves. Each access
 * is a VM exit (~0.1-0.3 ms on kvm-pvm), so setup skips what a reset already guarantees:
 * writes of zero to registers that reset to zero, and read-backs the spec does not require. */
#include <stddef.h>
#include <stdint.h>
#include <cmdline/cmdline.h>
#include <console/console.h>
#include <virtio/mmio.h>

#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEVICE_FEATURES 0x010
#define R_DEVICE_FEATURES_SEL 0x014
#define R_DRIVER_FEATURES 0x020
#define R_DRIVER_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INTERRUPT_STATUS 0x060
#define R_INTERRUPT_ACK 0x064
#define R_STATUS 0x070
#define R_QUEUE_DESC_LOW 0x080
#define R_QUEUE_DESC_HIGH 0x084
#define R_QUEUE_DRIVER_LOW 0x090
#define R_QUEUE_DRIVER_HIGH 0x094
#define R_QUEUE_DEVICE_LOW 0x0a0
#define R_QUEUE_DEVICE_HIGH 0x0a4
#define R_CONFIG_GENERATION 0x0fc
#define R_CONFIG 0x100

#define MAGIC 0x74726976 /* "virt" */
#define HOLE_START 0xc0000000ull /* the uncached 3-4 GiB mapping of the boot page tables */
#define HOLE_END 0x100000000ull

static struct virtio_mmio_dev devs[VIRTIO_MMIO_MAX_DEVICES];
static int ndevs = -1; /* -1: the command line is not read yet */

static uint32_t rd(const struct virtio_mmio_dev *d, unsigned off) { return *(volatile uint32_t *)(d->base + off); }
static void wr(struct virtio_mmio_dev *d, unsigned off, uint32_t v) { *(volatile uint32_t *)(d->base + off) = v; }

static int parse_u64(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	int base = 10, digits = 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++, digits++) {
		int c = *p, dv;
		if (c >= '0' && c <= '9')
			dv = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			dv = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			dv = c - 'A' + 10;
		else
			break;
		if (x > (UINT64_MAX - (uint64_t)dv) / (uint64_t)base)
			return -1; /* overflow */
		x = x * (uint64_t)base + (uint64_t)dv;
	}
	if (!digits)
		return -1;
	*s = p;
	*v = x;
	return 0;
}

int virtio_mmio_parse(const char *value, struct virtio_mmio_dev *out)
{
	const char *p = value;
	uint64_t size, base, irq, id = 0;
	if (!p || parse_u64(&p, &size))
		return -VIRTIO_EINVAL;
	if (*p == 'K' || *p == 'k')
		size <<= 10, p++;
	else if (*p == 'M' || *p == 'm')
		size <<= 20, p++;
	else if (*p == 'G' || *p == 'g')
		size <<= 30, p++;
	if (*p++ != '@' || parse_u64(&p, &base) || *p++ != ':' || parse_u64(&p, &irq))
		return -VIRTIO_EINVAL;
	if (*p == ':' && (p++, parse_u64(&p, &id)))
		return -VIRTIO_EINVAL;
	if (*p)
		return -VIRTIO_EINVAL;
	if (size < R_CONFIG || base % 4 || base < HOLE_START || base >= HOLE_END || size > HOLE_END - base || irq > 255)
		return -VIRTIO_EINVAL;
	(void)id; /* Linux's platform-device id: nothing to do with it here */
	out->base = (uintptr_t)base;
	out->size = size;
	out->irq = (uint32_t)irq;
	out->device_id = 0;
	out->features = 0;
	out->claimed = 0;
	return 0;
}

static void warn(const char *what, const char *value)
{
	console_puts("virtio-mmio: warning: ");
	console_puts(what);
	console_puts(" \"");
	console_puts(value);
	console_puts("\": ignored\n");
}

static void scan(void)
{
	ndevs = 0;
	for (int i = 0; i < cmdline_param_count(); i++) {
		const char *k = cmdline_param_key(i), *v = cmdline_param_value(i);
		const char *want = "virtio_mmio.device";
		int j = 0;
		while (want[j] && k[j] == want[j])
			j++;
		if (want[j] || k[j])
			continue;
		struct virtio_mmio_dev d;
		if (virtio_mmio_parse(v, &d)) {
			warn("cannot parse virtio_mmio.device (want <size>@<base>:<irq>, base in 3-4 GiB)", v);
			continue;
		}
		if (ndevs == VIRTIO_MMIO_MAX_DEVICES) {
			warn("more than VIRTIO_MMIO_MAX_DEVICES devices", v);
			continue;
		}
		if (rd(&d, R_MAGIC) != MAGIC) {
			warn("no virtio-mmio device at", v);
			continue;
		}
		if (rd(&d, R_VERSION) != 2) {
			warn("legacy (version 1) virtio-mmio device, not supported, at", v);
			continue;
		}
		d.device_id = rd(&d, R_DEVICE_ID); /* 0: an empty slot (QEMU has many) */
		devs[ndevs++] = d;
	}
}

int virtio_mmio_count(void)
{
	if (ndevs < 0)
		scan();
	return ndevs;
}

struct virtio_mmio_dev *virtio_mmio_get(int i)
{
	return i >= 0 && i < virtio_mmio_count() ? &devs[i] : NULL;
}

struct virtio_mmio_dev *virtio_mmio_find(uint32_t device_id)
{
	for (int i = 0; i < virtio_mmio_count(); i++) {
		if (devs[i].device_id == device_id && !devs[i].claimed) {
			devs[i].claimed = 1;
			return &devs[i];
		}
	}
	return NULL;
}

void virtio_mmio_fail(struct virtio_mmio_dev *d) { wr(d, R_STATUS, rd(d, R_STATUS) | VIRTIO_STATUS_FAILED); }

uint32_t virtio_mmio_status(const struct virtio_mmio_dev *d) { return rd(d, R_STATUS); }

int virtio_mmio_begin(struct virtio_mmio_dev *d, uint64_t wanted)
{
	wr(d, R_STATUS, 0); /* reset */
	wr(d, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(d, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(d, R_DEVICE_FEATURES_SEL, 0);
	uint64_t offered = rd(d, R_DEVICE_FEATURES);
	wr(d, R_DEVICE_FEATURES_SEL, 1);
	offered |= (uint64_t)rd(d, R_DEVICE_FEATURES) << 32;
	if (!(offered & VIRTIO_F_VERSION_1)) {
		virtio_mmio_fail(d);
		return -VIRTIO_ENODEV;
	}
	uint64_t accept = (wanted & offered) | VIRTIO_F_VERSION_1;
	/* DriverFeatures resets to 0: only non-zero halves need writing (the high one always has
	 * VERSION_1). */
	if ((uint32_t)accept) {
		wr(d, R_DRIVER_FEATURES_SEL, 0);
		wr(d, R_DRIVER_FEATURES, (uint32_t)accept);
	}
	wr(d, R_DRIVER_FEATURES_SEL, 1);
	wr(d, R_DRIVER_FEATURES, (uint32_t)(accept >> 32));
	wr(d, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(rd(d, R_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_mmio_fail(d);
		return -VIRTIO_EIO;
	}
	d->features = accept;
	return 0;
}

int virtio_mmio_queue(struct virtio_mmio_dev *d, unsigned index, struct virtq *q)
{
	wr(d, R_QUEUE_SEL, index);
	uint32_t max = rd(d, R_QUEUE_NUM_MAX);
	if (max == 0 || q->size > max)
		return -VIRTIO_EINVAL;
	uint64_t desc = (uintptr_t)q->desc, avail = (uintptr_t)q->avail, used = (uintptr_t)q->used;
	wr(d, R_QUEUE_NUM, q->size);
	/* After the reset in virtio_mmio_begin the queue is disabled and its addresses are 0: the
	 * high halves of identity-mapped addresses below 4 GiB need no write. */
	wr(d, R_QUEUE_DESC_LOW, (uint32_t)desc);
	if (desc >> 32)
		wr(d, R_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(d, R_QUEUE_DRIVER_LOW, (uint32_t)avail);
	if (avail >> 32)
		wr(d, R_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
	wr(d, R_QUEUE_DEVICE_LOW, (uint32_t)used);
	if (used >> 32)
		wr(d, R_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
	wr(d, R_QUEUE_READY, 1);
	return 0; /* a device that refuses the queue sets DEVICE_NEEDS_RESET, which drivers watch */
}

void virtio_mmio_ready(struct virtio_mmio_dev *d)
{
	wr(d, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

void virtio_mmio_notify(struct virtio_mmio_dev *d, unsigned index) { wr(d, R_QUEUE_NOTIFY, index); }

uint32_t virtio_mmio_interrupt_ack(struct virtio_mmio_dev *d)
{
	uint32_t st = rd(d, R_INTERRUPT_STATUS);
	if (st)
		wr(d, R_INTERRUPT_ACK, st);
	return st;
}

uint32_t virtio_mmio_config_read(const struct virtio_mmio_dev *d, unsigned offset, unsigned size)
{
	uint32_t gen, v;
	do {
		gen = rd(d, R_CONFIG_GENERATION);
		uintptr_t a = d->base + R_CONFIG + offset;
		v = size == 1 ? *(volatile uint8_t *)a : size == 2 ? *(volatile uint16_t *)a : *(volatile uint32_t *)a;
	} while (gen != rd(d, R_CONFIG_GENERATION));
	return v;
}
