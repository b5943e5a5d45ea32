// Test support: a virtio-mmio driver written in TypeScript against a transport's registers and
// a RAM buffer, doing what a guest driver does (4.2.3 / 3.1.1), so device models can be tested
// without a guest. Queue areas are laid out from `base` upward.
import { DESC, F, MMIO, STATUS, bit } from "../devices/virtio/spec.ts";
import type { VirtioMmioTransport } from "../devices/virtio/transport.ts";

export interface DriverQueue {
  size: number;
  desc: number;
  avail: number;
  used: number;
  nextAvail: number;
  lastUsed: number;
}

export class TestDriver {
  readonly ram: Uint8Array;
  readonly view: DataView;
  readonly t: VirtioMmioTransport;
  readonly queues: DriverQueue[] = [];
  private next: number;
  private readonly base: number;

  constructor(t: VirtioMmioTransport, ram: Uint8Array, base = 0x10000) {
    this.t = t;
    this.ram = ram;
    this.view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
    this.base = base;
    this.next = base;
  }

  r(off: number): number {
    return this.t.read(off, 4);
  }
  w(off: number, v: number): void {
    this.t.write(off, 4, v);
  }

  /** The whole initialisation; returns the status read back at the end. */
  init(sizes: number[], features = bit(F.VERSION_1)): number {
    this.next = this.base;
    this.w(MMIO.STATUS, 0);
    this.w(MMIO.STATUS, STATUS.ACKNOWLEDGE);
    this.w(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    this.w(MMIO.DRIVER_FEATURES_SEL, 0);
    this.w(MMIO.DRIVER_FEATURES, Number(features & 0xffffffffn));
    this.w(MMIO.DRIVER_FEATURES_SEL, 1);
    this.w(MMIO.DRIVER_FEATURES, Number(features >> 32n));
    this.w(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
    if (!(this.r(MMIO.STATUS) & STATUS.FEATURES_OK)) return this.r(MMIO.STATUS);
    sizes.forEach((size, i) => {
      const desc = this.alloc(16 * size, 16);
      const avail = this.alloc(6 + 2 * size, 2);
      const used = this.alloc(6 + 8 * size, 4);
      this.w(MMIO.QUEUE_SEL, i);
      this.w(MMIO.QUEUE_NUM, size);
      this.w(MMIO.QUEUE_DESC_LOW, desc);
      this.w(MMIO.QUEUE_DESC_HIGH, 0);
      this.w(MMIO.QUEUE_DRIVER_LOW, avail);
      this.w(MMIO.QUEUE_DRIVER_HIGH, 0);
      this.w(MMIO.QUEUE_DEVICE_LOW, used);
      this.w(MMIO.QUEUE_DEVICE_HIGH, 0);
      this.w(MMIO.QUEUE_READY, 1);
      this.queues[i] = { size, desc, avail, used, nextAvail: 0, lastUsed: 0 };
    });
    this.w(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK);
    return this.r(MMIO.STATUS);
  }

  alloc(len: number, align: number): number {
    this.next = Math.ceil(this.next / align) * align;
    const at = this.next;
    this.next += len;
    return at;
  }

  setDesc(q: number, i: number, addr: number, len: number, flags: number, next = 0): void {
    const d = this.queues[q]!.desc + 16 * i;
    this.view.setBigUint64(d, BigInt(addr), true);
    this.view.setUint32(d + 8, len, true);
    this.view.setUint16(d + 12, flags, true);
    this.view.setUint16(d + 14, next, true);
  }

  /** Publishes `head` in the avail ring and notifies. */
  offer(q: number, head: number, notify = true): void {
    const dq = this.queues[q]!;
    this.view.setUint16(dq.avail + 4 + 2 * (dq.nextAvail % dq.size), head, true);
    dq.nextAvail = (dq.nextAvail + 1) & 0xffff;
    this.view.setUint16(dq.avail + 2, dq.nextAvail, true);
    if (notify) this.w(MMIO.QUEUE_NOTIFY, q);
  }

  /** Used elements returned since the last call: [head, len]. */
  takeUsed(q: number): Array<[number, number]> {
    const dq = this.queues[q]!;
    const out: Array<[number, number]> = [];
    const idx = this.view.getUint16(dq.used + 2, true);
    while (dq.lastUsed !== idx) {
      const e = dq.used + 4 + 8 * (dq.lastUsed % dq.size);
      out.push([this.view.getUint32(e, true), this.view.getUint32(e + 4, true)]);
      dq.lastUsed = (dq.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  /** Sends `text` on queue q as one readable buffer in descriptor `slot`. */
  send(q: number, slot: number, bytes: Uint8Array): void {
    const at = this.alloc(bytes.length, 1);
    this.ram.set(bytes, at);
    this.setDesc(q, slot, at, bytes.length, 0);
    this.offer(q, slot);
  }

  /** Posts a device-writable buffer of len bytes in descriptor `slot`; returns its address. */
  post(q: number, slot: number, len: number, notify = true): number {
    const at = this.alloc(len, 1);
    this.setDesc(q, slot, at, len, DESC.WRITE);
    this.offer(q, slot, notify);
    return at;
  }
}
