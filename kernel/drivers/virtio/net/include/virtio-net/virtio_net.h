/* virtio-net over virtio-mmio (virtio 1.2, 5.1): found at plat init from virtio_mmio.device=,
 * registered as a netdev (netdev_register) with the MAC from the config space. Features:
 * VERSION_1 and MAC only (no offloads, no MRG_RXBUF, no control queue, one queue pair), so
 * every frame carries the 12-byte virtio_net_hdr, all zero on transmit. Polled rings: frames
 * are taken in net_poll's rx_burst, the device is notified only when it asks to be; its
 * interrupt is asked for only to wake a CPU halted in a wait (netdev_ops.wait). Zero-copy:
 * a netbuf's storage is the DMA buffer, the header sits in its headroom. */
#ifndef VIRTIO_NET_H
#define VIRTIO_NET_H

#include <stdint.h>

struct virtio_net_stats {
	int active;              /* 1 once the device is up and registered */
	uint64_t rx_frames, tx_frames;
	uint64_t rx_notifies;    /* QueueNotify writes for the receive queue */
	uint64_t tx_notifies;    /* and for the transmit queue */
	uint64_t tx_suppressed;  /* transmit batches the device did not want notified (NO_NOTIFY) */
	uint64_t tx_full;        /* frames refused because the transmit queue was full */
	uint64_t rx_no_buffer;   /* refills cut short by an empty netbuf pool */
	uint64_t device_errors;  /* used ids not in flight, bad lengths: dropped, never trusted */
	uint64_t waits;          /* netdev waits (a blocked socket call idling) */
	uint64_t halts;          /* of them: CPU halted until the interrupt or the timeout */
	uint64_t irq_wakes;      /* halts ended by the device's interrupt */
	uint64_t timer_wakes_with_frame; /* halts the timer ended with a frame there: it came while
	                                  * the CPU was waking (its interrupt then ends the next halt
	                                  * at once), or its interrupt was late */
	uint64_t irq_acks;       /* InterruptStatus reads + acknowledgements (two VM exits each) */
};

const struct virtio_net_stats *virtio_net_stats(void);

#endif
