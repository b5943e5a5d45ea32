/* virtio-console (port 0, no MULTIPORT): found at init from virtio_mmio.device=, it takes the
 * console's output (console_take_output) and serves input; without a device the console stays
 * on the serial port. Output is line-buffered: a buffer goes to the device at a newline, when
 * full, before input is read, and at exit (console_drain). If the device fails
 * (DEVICE_NEEDS_RESET) the output goes back to the other backends. */
#ifndef VIRTIO_CONSOLE_H
#define VIRTIO_CONSOLE_H

#include <stdint.h>

struct virtio_console_stats {
	int active;         /* 1 while the device has the console output */
	uint64_t writes;    /* console_write calls served */
	uint64_t bytes;     /* bytes sent */
	uint64_t chains;    /* buffers handed to the device */
	uint64_t notifies;  /* QueueNotify writes (VM exits, or ioeventfd signals) */
	uint64_t waits;     /* writes that had to wait for a free buffer */
};

const struct virtio_console_stats *virtio_console_stats(void);

#endif
