// What a virtio device model (console now; net and blk next) gives the transport, and what the
// transport gives it back. A device never sees registers or status bits: the transport
// negotiates, builds checked queues, and calls `activate` once the driver is ready.
import type { SplitQueue } from "./queue.ts";

export interface VirtioDevice {
  readonly name: string;
  /** Device type (spec section 5): 3 console, 1 net, 2 block. */
  readonly deviceId: number;
  /** Device-specific feature bits offered; the transport adds its own (VERSION_1, INDIRECT_DESC). */
  readonly features: bigint;
  /** The largest size of each queue; its length is the number of queues. */
  readonly queueMax: readonly number[];
  /** Device configuration space (at MMIO offset 0x100), little-endian, 1/2/4-byte accesses. */
  readConfig(offset: number, size: number): number;
  writeConfig(offset: number, size: number, value: number): void;
  /** DRIVER_OK: the negotiated features and the enabled queues are final until reset. */
  activate(io: DeviceIo): void;
  /** The driver notified queue `q`. Throwing (QueueError for a bad chain) fails the device. */
  notify(q: number): void;
  /** Device reset (status 0, or a failure): forget every queue and in-flight chain. */
  reset(): void;
  /** The device's own state (structured-cloneable), to move it to another thread... */
  saveState(): DeviceState;
  /** ...and to take it up there, before the transport re-activates it. */
  loadState(state: DeviceState): void;
}

export type DeviceState = Record<string, number | Uint8Array>;

export interface DeviceIo {
  /** The features the driver accepted. */
  readonly features: bigint;
  /** Queue `q` if the driver enabled it. */
  queue(q: number): SplitQueue | undefined;
  /** Used buffers were returned on `q`: interrupts the driver unless it asked not to be. */
  usedBuffers(q: number): void;
  /** Runs `fn` with the device's failure handling: a throw fails the device, never the host. */
  guard(fn: () => void): void;
}
