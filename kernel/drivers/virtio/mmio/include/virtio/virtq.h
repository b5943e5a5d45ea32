/* A split virtqueue (virtio 1.2, 2.7) from the driver's side, without interrupts: the driver
 * adds buffers, publishes them, notifies the device only when it asks to be notified, and
 * polls the used ring. Memory is the caller's (one block of virtq_area_bytes(size), 4 KiB
 * aligned); guest addresses are the identity-mapped pointers. Not thread-safe: one user. */
#ifndef VIRTIO_VIRTQ_H
#define VIRTIO_VIRTQ_H

#include <stddef.h>
#include <stdint.h>

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

struct virtq {
	uint16_t size;     /* a power of 2 */
	uint16_t nfree;    /* descriptors not in flight */
	uint16_t free_head;
	uint16_t avail_idx; /* next avail slot (free-running), published by virtq_publish */
	uint16_t last_used;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
};

struct virtq_buf {
	const void *addr;
	uint32_t len;
	int device_writes; /* 1: the device writes into it (VIRTQ_DESC_F_WRITE) */
};

/* Bytes for a queue of `size` entries: descriptors, avail ring, then the used ring 4-aligned. */
size_t virtq_area_bytes(uint16_t size);
/* Lays the queue out in area (zeroed here). The driver gets interrupts off (polled). */
void virtq_init(struct virtq *q, uint16_t size, void *area);
/* Chains n buffers (device-readable ones first) and queues the chain for virtq_publish.
 * Returns the head index, or -1 when fewer than n descriptors are free. */
int virtq_add(struct virtq *q, const struct virtq_buf *bufs, int n);
/* Makes everything added visible to the device. */
void virtq_publish(struct virtq *q);
/* After virtq_publish: whether the device wants a notification (it did not set NO_NOTIFY). */
int virtq_kick_needed(const struct virtq *q);
/* The next used chain: its head (and *len, the bytes the device wrote), its descriptors freed;
 * -1 when none. */
int virtq_take_used(struct virtq *q, uint32_t *len);

#endif
