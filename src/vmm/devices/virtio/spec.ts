// Numbers from the virtio 1.2 specification (sections 2 and 4.2): the virtio-mmio register
// file, device status bits, feature bits and split-virtqueue layout. Nothing here has behaviour.

/** virtio-mmio register offsets (4.2.2); every register is 32 bits wide. */
export const MMIO = {
  MAGIC: 0x000,
  VERSION: 0x004,
  DEVICE_ID: 0x008,
  VENDOR_ID: 0x00c,
  DEVICE_FEATURES: 0x010,
  DEVICE_FEATURES_SEL: 0x014,
  DRIVER_FEATURES: 0x020,
  DRIVER_FEATURES_SEL: 0x024,
  QUEUE_SEL: 0x030,
  QUEUE_NUM_MAX: 0x034,
  QUEUE_NUM: 0x038,
  QUEUE_READY: 0x044,
  QUEUE_NOTIFY: 0x050,
  INTERRUPT_STATUS: 0x060,
  INTERRUPT_ACK: 0x064,
  STATUS: 0x070,
  QUEUE_DESC_LOW: 0x080,
  QUEUE_DESC_HIGH: 0x084,
  QUEUE_DRIVER_LOW: 0x090,
  QUEUE_DRIVER_HIGH: 0x094,
  QUEUE_DEVICE_LOW: 0x0a0,
  QUEUE_DEVICE_HIGH: 0x0a4,
  SHM_SEL: 0x0ac,
  SHM_LEN_LOW: 0x0b0,
  SHM_LEN_HIGH: 0x0b4,
  SHM_BASE_LOW: 0x0b8,
  SHM_BASE_HIGH: 0x0bc,
  QUEUE_RESET: 0x0c0,
  CONFIG_GENERATION: 0x0fc,
  CONFIG: 0x100,
} as const;

/** "virt" little-endian. */
export const MMIO_MAGIC = 0x74726976;
/** Version 2: the modern (non-legacy) interface. */
export const MMIO_VERSION = 2;
/** The window each device takes; QEMU microvm and Firecracker use 512 bytes or 4 KiB. */
export const MMIO_WINDOW = 0x200;
/** "KILN" as the vendor id (0x4b494c4e would read backwards; any value is allowed). */
export const KILN_VENDOR_ID = 0x4e4c494b;

/** Device status bits (2.1). */
export const STATUS = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 64,
  FAILED: 128,
} as const;

/** InterruptStatus bits (4.2.2). */
export const INT = { USED_BUFFER: 1, CONFIG_CHANGE: 2 } as const;

/** Transport feature bits (6), as bit numbers. */
export const F = {
  INDIRECT_DESC: 28,
  EVENT_IDX: 29,
  VERSION_1: 32,
  ACCESS_PLATFORM: 33,
  RING_PACKED: 34,
  IN_ORDER: 35,
} as const;

export const bit = (n: number): bigint => 1n << BigInt(n);

/** Split virtqueue descriptor flags (2.7.5). */
export const DESC = { NEXT: 1, WRITE: 2, INDIRECT: 4 } as const;
export const DESC_SIZE = 16;
/** avail.flags: the driver wants no interrupt for used buffers. */
export const AVAIL_F_NO_INTERRUPT = 1;
/** used.flags: the device wants no notification for new buffers. */
export const USED_F_NO_NOTIFY = 1;
/** Largest split queue (2.7: Queue Size is at most 32768). */
export const MAX_QUEUE_SIZE = 32768;

/** Device ids (5). */
export const DEVICE_ID = { NET: 1, BLOCK: 2, CONSOLE: 3 } as const;

/** Bytes of the split-queue areas for `size` entries (2.7: desc 16n, avail 6+2n, used 6+8n). */
export const descBytes = (size: number): number => DESC_SIZE * size;
export const availBytes = (size: number): number => 6 + 2 * size;
export const usedBytes = (size: number): number => 6 + 8 * size;
