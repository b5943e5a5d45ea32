/* virtio-mmio devices (virtio 1.2, 4.2; version 2 only), found from the kernel command line:
 *   virtio_mmio.device=<size>@<base>:<irq>[:<id>]
 * (Linux's syntax; QEMU microvm and Kiln's VMM announce their devices so). The window must lie
 * in the 3-4 GiB hole, which the boot page tables map uncached. Drivers poll; an interrupt
 * (`irq`, routed by the driver) at most wakes an idle CPU. */
#ifndef VIRTIO_MMIO_H
#define VIRTIO_MMIO_H

#include <stdint.h>
#include <virtio/virtq.h>

#define VIRTIO_MMIO_MAX_DEVICES 8
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

#define VIRTIO_F_INDIRECT_DESC (1ull << 28)
#define VIRTIO_F_VERSION_1 (1ull << 32)

/* Errors (returned negated). */
#define VIRTIO_EINVAL 22
#define VIRTIO_ENODEV 19
#define VIRTIO_EIO 5

struct virtio_mmio_dev {
	uintptr_t base;
	uint64_t size;
	uint32_t irq;
	uint32_t device_id; /* DeviceID read at the first probe; 0: no device there */
	uint64_t features;  /* what virtio_mmio_begin negotiated */
	int claimed;        /* a driver took it */
};

/* Parses the value of one virtio_mmio.device= word ("512@0xfeb00e00:12"; size may end in K/M/G).
 * 0, or -VIRTIO_EINVAL for anything else (including a window outside 3-4 GiB). */
int virtio_mmio_parse(const char *value, struct virtio_mmio_dev *out);

/* The announced devices, probed once (magic, version 2, DeviceID); bad words are reported once
 * on the console and skipped. */
int virtio_mmio_count(void);
struct virtio_mmio_dev *virtio_mmio_get(int i);
/* The first unclaimed device of this type, now claimed; NULL if there is none. */
struct virtio_mmio_dev *virtio_mmio_find(uint32_t device_id);

/* Reset, ACKNOWLEDGE, DRIVER, accept VERSION_1 plus the wanted features the device offers,
 * FEATURES_OK. 0, -VIRTIO_ENODEV (no VERSION_1) or -VIRTIO_EIO (FEATURES_OK refused). */
int virtio_mmio_begin(struct virtio_mmio_dev *d, uint64_t wanted);
/* Hands queue `index` (laid out by virtq_init) to the device, after virtio_mmio_begin. 0, or
 * -VIRTIO_EINVAL when the device has no such queue or a smaller maximum size; a device that
 * refuses the queue's addresses sets DEVICE_NEEDS_RESET (see virtio_mmio_status). */
int virtio_mmio_queue(struct virtio_mmio_dev *d, unsigned index, struct virtq *q);
void virtio_mmio_ready(struct virtio_mmio_dev *d); /* DRIVER_OK (after a successful begin) */
void virtio_mmio_notify(struct virtio_mmio_dev *d, unsigned index);
/* Reads InterruptStatus and acknowledges what it shows (1: used buffer, 2: config change), so
 * the device lowers its line; returns those bits. Two register accesses (VM exits): for a
 * driver that asked for an interrupt, not for polling. */
uint32_t virtio_mmio_interrupt_ack(struct virtio_mmio_dev *d);
uint32_t virtio_mmio_status(const struct virtio_mmio_dev *d);
void virtio_mmio_fail(struct virtio_mmio_dev *d); /* sets FAILED: the driver gave up */
/* A config-space read (offset from 0x100) of 1, 2 or 4 bytes, retried until ConfigGeneration
 * is stable. */
uint32_t virtio_mmio_config_read(const struct virtio_mmio_dev *d, unsigned offset, unsigned size);

#endif
