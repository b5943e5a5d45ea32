/* The driver's half of a split virtqueue. Descriptors not in flight form a free list through
 * their `next` fields, so a chain taken from it is already linked in order. */
#include <stddef.h>
#include <stdint.h>
#include <virtio/virtq.h>

#define barrier() __asm__ volatile("" ::: "memory")

static size_t avail_bytes(uint16_t size) { return 6 + 2 * (size_t)size; }
static size_t used_offset(uint16_t size) { return (16 * (size_t)size + avail_bytes(size) + 3) & ~(size_t)3; }

size_t virtq_area_bytes(uint16_t size) { return used_offset(size) + 6 + 8 * (size_t)size; }

void virtq_init(struct virtq *q, uint16_t size, void *area)
{
	uint8_t *a = area;
	for (size_t i = 0; i < virtq_area_bytes(size); i++)
		a[i] = 0;
	q->size = size;
	q->desc = (struct virtq_desc *)a;
	q->avail = (struct virtq_avail *)(a + 16 * (size_t)size);
	q->used = (struct virtq_used *)(a + used_offset(size));
	for (uint16_t i = 0; i < size; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	q->free_head = 0;
	q->nfree = size;
	q->avail_idx = 0;
	q->last_used = 0;
	q->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT; /* polled */
}

int virtq_add(struct virtq *q, const struct virtq_buf *bufs, int n)
{
	if (n < 1 || n > q->nfree)
		return -1;
	uint16_t head = q->free_head, idx = head;
	for (int i = 0; i < n; i++) {
		struct virtq_desc *d = &q->desc[idx];
		uint16_t next_free = d->next; /* the next chain element, already linked */
		d->addr = (uint64_t)(uintptr_t)bufs[i].addr;
		d->len = bufs[i].len;
		d->flags = (uint16_t)((bufs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) | (i < n - 1 ? VIRTQ_DESC_F_NEXT : 0));
		idx = next_free;
	}
	q->free_head = idx;
	q->nfree = (uint16_t)(q->nfree - n);
	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	q->avail_idx++;
	return head;
}

void virtq_publish(struct virtq *q)
{
	barrier(); /* descriptors and ring entries before the index (x86 keeps stores in order) */
	*(volatile uint16_t *)&q->avail->idx = q->avail_idx;
}

int virtq_kick_needed(const struct virtq *q)
{
	/* The index store must be visible before used.flags is read (store-load order): otherwise a
	 * device that just cleared NO_NOTIFY and found nothing new would wait for a kick that
	 * never comes. */
	__asm__ volatile("mfence" ::: "memory");
	return !(*(volatile uint16_t *)&q->used->flags & VIRTQ_USED_F_NO_NOTIFY);
}

int virtq_take_used(struct virtq *q, uint32_t *len)
{
	if (q->last_used == *(volatile uint16_t *)&q->used->idx)
		return -1;
	barrier(); /* the element after the index that published it */
	struct virtq_used_elem e = q->used->ring[q->last_used & (q->size - 1)];
	q->last_used++;
	if (e.id >= q->size)
		return -1; /* not one of ours: a broken device; never free a stranger */
	if (len)
		*len = e.len;
	/* Back onto the free list, bounded by the queue size whatever the flags say. */
	uint16_t idx = (uint16_t)e.id, n = 1;
	while ((q->desc[idx].flags & VIRTQ_DESC_F_NEXT) && n < q->size) {
		idx = q->desc[idx].next;
		if (idx >= q->size)
			return -1;
		n++;
	}
	q->desc[idx].next = q->free_head;
	q->free_head = (uint16_t)e.id;
	q->nfree = (uint16_t)(q->nfree + n);
	return (int)e.id;
}
