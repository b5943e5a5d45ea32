/* Guest tests of virtio-mmio: the command-line syntax, and the split queue's free list and
 * used-ring handling against a device played by the test itself (no MMIO involved). */
#include <stdint.h>
#include <test/test.h>
#include <virtio/mmio.h>
#include <virtio/virtq.h>

KTEST(virtio_mmio, parse_accepts_linux_syntax)
{
	struct virtio_mmio_dev d;
	KT_ASSERT_EQ(virtio_mmio_parse("512@0xfeb00e00:12", &d), 0);
	KT_ASSERT_EQ(d.base, 0xfeb00e00u);
	KT_ASSERT_EQ(d.size, 512u);
	KT_ASSERT_EQ(d.irq, 12u);
	KT_ASSERT_EQ(virtio_mmio_parse("4K@0xd0000000:5:3", &d), 0);
	KT_ASSERT_EQ(d.size, 4096u);
	KT_ASSERT_EQ(d.base, 0xd0000000u);
}

KTEST(virtio_mmio, parse_refuses_garbage_and_windows_outside_the_hole)
{
	struct virtio_mmio_dev d;
	const char *bad[] = {"", "512", "512@", "512@0xd0000000", "512@0xd0000000:", "x@0xd0000000:5",
			     "512@0x1000:5", "512@0xfffffff0:5", "16@0xd0000000:5", "512@0xd0000002:5",
			     "512@0xd0000000:5x", "512@0xd0000000:300", "99999999999999999999@0xd0000000:5"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		KT_ASSERT_EQ(virtio_mmio_parse(bad[i], &d), -VIRTIO_EINVAL);
}

static _Alignas(4096) uint8_t area[4096];

KTEST(virtio_mmio, virtq_chains_publish_and_recycle)
{
	struct virtq q;
	virtq_init(&q, 4, area);
	KT_ASSERT_EQ(q.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
	char a[4], b[8];
	struct virtq_buf bufs[2] = {{a, sizeof(a), 0}, {b, sizeof(b), 1}};
	int h = virtq_add(&q, bufs, 2);
	KT_ASSERT_EQ(h, 0);
	KT_ASSERT_EQ(q.desc[0].flags, VIRTQ_DESC_F_NEXT);
	KT_ASSERT_EQ(q.desc[q.desc[0].next].flags, VIRTQ_DESC_F_WRITE);
	KT_ASSERT_EQ(q.avail->idx, 0); /* not visible before publish */
	virtq_publish(&q);
	KT_ASSERT_EQ(q.avail->idx, 1);
	KT_ASSERT_EQ(virtq_kick_needed(&q), 1);
	q.used->flags = VIRTQ_USED_F_NO_NOTIFY;
	KT_ASSERT_EQ(virtq_kick_needed(&q), 0);
	KT_ASSERT_EQ(virtq_add(&q, bufs, 3), -1); /* only 2 left */
	uint32_t len = 0;
	KT_ASSERT_EQ(virtq_take_used(&q, &len), -1);
	/* The "device" returns the chain with 5 bytes written. */
	q.used->ring[0].id = 0;
	q.used->ring[0].len = 5;
	q.used->idx = 1;
	KT_ASSERT_EQ(virtq_take_used(&q, &len), 0);
	KT_ASSERT_EQ(len, 5u);
	KT_ASSERT_EQ(q.nfree, 4);
	/* A device returning an id that is not a descriptor is ignored. */
	q.used->ring[1].id = 9;
	q.used->idx = 2;
	KT_ASSERT_EQ(virtq_take_used(&q, &len), -1);
	KT_ASSERT_EQ(q.nfree, 4);
	/* All four descriptors can be chained again. */
	struct virtq_buf four[4] = {{a, 1, 0}, {a, 1, 0}, {a, 1, 0}, {a, 1, 0}};
	KT_ASSERT_NE(virtq_add(&q, four, 4), -1);
	KT_ASSERT_EQ(q.nfree, 0);
}
