// virtio-net (virtio 1.2, 5.1) with the feature set Kiln's contract fixes: VERSION_1 and MAC
// only (no offloads, no MRG_RXBUF, no control queue), one queue pair. Every frame travels behind
// the 12-byte virtio_net_hdr; TX headers must be all zero (nothing was negotiated that could
// make them otherwise), RX headers are written zero with num_buffers = 1, one frame per chain.
// Frames come from and go to a NetBackend (a TAP, or a test's queue); the device pulls RX frames
// only while the driver has buffers posted, so the backend (the kernel's TAP queue) holds the
// rest and nothing is read that cannot be delivered.
import type { DeviceIo, DeviceState, VirtioDevice } from "./device.ts";
import { QueueError } from "./queue.ts";
import { DEVICE_ID, bit } from "./spec.ts";

export const NET_RX = 0;
export const NET_TX = 1;
/** VIRTIO_NET_F_MAC (5.1.3): the device has a MAC address in its config space. */
export const NET_F_MAC = 5;
/** struct virtio_net_hdr with VERSION_1 (5.1.6): flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
export const NET_HDR_BYTES = 12;
/** An Ethernet frame without FCS, at the TAP's MTU of 1500: what fits without GSO. */
export const MAX_FRAME = 1514;
const QUEUE_MAX = 256;
const NUM_BUFFERS = 10;

/** Where frames go and come from; both directions are the device thread's (or vCPU thread's) alone. */
export interface NetBackend {
  /** Sends one Ethernet frame (a copy the backend may keep). Never throws for a lost frame. */
  send(frame: Uint8Array): void;
  /** The next received frame, or null when none is waiting. */
  receive(): Uint8Array | null;
  /** Backend state to move with the device (fault injection's generators), and back. */
  saveState?(): DeviceState;
  loadState?(s: DeviceState): void;
}

export interface NetCounts {
  txFrames: number;
  txBytes: number;
  /** TX frames refused: longer than MAX_FRAME, or shorter than an Ethernet header. */
  txDropped: number;
  rxFrames: number;
  rxBytes: number;
  /** RX frames dropped because the chain the driver posted was too small for them. */
  rxDropped: number;
}

const COUNT_KEYS = ["txFrames", "txBytes", "txDropped", "rxFrames", "rxBytes", "rxDropped"] as const;

export interface NetOptions {
  /** 6 bytes; should be locally administered and unique among concurrent VMs (see macFor). */
  mac: Uint8Array;
  backend: NetBackend;
}

export class VirtioNet implements VirtioDevice {
  readonly name = "net";
  readonly deviceId = DEVICE_ID.NET;
  readonly features = bit(NET_F_MAC);
  readonly queueMax = [QUEUE_MAX, QUEUE_MAX];
  readonly counts: NetCounts = { txFrames: 0, txBytes: 0, txDropped: 0, rxFrames: 0, rxBytes: 0, rxDropped: 0 };
  private readonly mac: Uint8Array;
  private readonly backend: NetBackend;
  private io: DeviceIo | undefined;
  private readonly hdr = new Uint8Array(NET_HDR_BYTES);

  constructor(opts: NetOptions) {
    if (opts.mac.length !== 6) throw new Error(`virtio-net: a MAC has 6 bytes, not ${opts.mac.length}`);
    this.mac = opts.mac.slice();
    this.backend = opts.backend;
    new DataView(this.hdr.buffer).setUint16(NUM_BUFFERS, 1, true);
  }

  /**
   * Whether the device can take RX frames now (the driver enabled the queue and has buffers
   * posted, or has not been asked yet): the device thread polls the backend's fd only then, so
   * a full guest does not make it spin.
   */
  get wantsFrames(): boolean {
    const q = this.io?.queue(NET_RX);
    if (!q) return false;
    try {
      return q.pending() > 0;
    } catch {
      return true; // let receive() find the broken ring and fail the device
    }
  }

  readConfig(offset: number, size: number): number {
    // struct virtio_net_config: mac[6], then status, max_virtqueue_pairs, mtu... which need
    // features not offered: 0.
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (this.mac[offset + i] ?? 0);
    return v >>> 0;
  }

  writeConfig(): void {
    // The MAC is read-only with VERSION_1 (5.1.4.1: the driver must not write it).
  }

  activate(io: DeviceIo): void {
    this.io = io;
    this.receive();
  }

  notify(q: number): void {
    if (q === NET_TX) this.transmit();
    else if (q === NET_RX) this.receive();
  }

  /** The backend may have frames: deliver as many as the posted chains take. */
  poll(): void {
    if (this.io) this.io.guard(() => this.receive());
  }

  reset(): void {
    this.io = undefined;
  }

  saveState(): DeviceState {
    const s: DeviceState = { ...this.counts };
    for (const [k, v] of Object.entries(this.backend.saveState?.() ?? {})) s[`backend.${k}`] = v;
    return s;
  }

  loadState(s: DeviceState): void {
    for (const k of COUNT_KEYS) if (typeof s[k] === "number") this.counts[k] = s[k];
    const b: DeviceState = {};
    for (const [k, v] of Object.entries(s)) if (k.startsWith("backend.")) b[k.slice(8)] = v;
    this.backend.loadState?.(b);
  }

  private transmit(): void {
    const io = this.io;
    const q = io?.queue(NET_TX);
    if (!io || !q) return;
    let returned = false;
    q.drain((chain) => {
      if (chain.writable.length > 0) throw new QueueError(`transmitq chain ${chain.head} has a device-writable buffer`);
      if (chain.readBytes < NET_HDR_BYTES) throw new QueueError(`transmitq chain ${chain.head} has ${chain.readBytes} bytes, less than the ${NET_HDR_BYTES}-byte virtio_net_hdr`);
      const bytes = q.read(chain, NET_HDR_BYTES + MAX_FRAME + 1);
      // No offload was negotiated: flags and gso_type must be 0 (5.1.6.2); the rest is ignored.
      if (bytes[0] !== 0 || bytes[1] !== 0) throw new QueueError(`transmitq chain ${chain.head}: virtio_net_hdr flags ${bytes[0]} gso_type ${bytes[1]}, but no offload was negotiated`);
      const frame = bytes.subarray(NET_HDR_BYTES);
      if (frame.length < 14 || frame.length > MAX_FRAME) this.counts.txDropped++;
      else {
        this.backend.send(frame);
        this.counts.txFrames++;
        this.counts.txBytes += frame.length;
      }
      q.pushUsed(chain, 0);
      returned = true;
    });
    if (returned) io.usedBuffers(NET_TX);
  }

  private receive(): void {
    const io = this.io;
    const q = io?.queue(NET_RX);
    if (!io || !q) return;
    let returned = false;
    try {
      for (;;) {
        if (q.pending() === 0) break; // frames stay in the backend until buffers are posted
        const frame = this.backend.receive();
        if (!frame) break;
        const chain = q.pop()!;
        if (chain.readable.length > 0) throw new QueueError(`receiveq chain ${chain.head} has a device-readable buffer`);
        if (chain.writeBytes < NET_HDR_BYTES + frame.length) {
          // Too small for this frame: drop the frame, keep the chain for the next one.
          this.counts.rxDropped++;
          q.unpop();
          continue;
        }
        const packet = new Uint8Array(NET_HDR_BYTES + frame.length);
        packet.set(this.hdr);
        packet.set(frame, NET_HDR_BYTES);
        q.pushUsed(chain, q.write(chain, packet));
        this.counts.rxFrames++;
        this.counts.rxBytes += frame.length;
        returned = true;
      }
    } finally {
      if (returned) io.usedBuffers(NET_RX);
    }
  }
}
