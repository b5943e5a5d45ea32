// A split virtqueue (virtio 1.2, 2.7) seen from the device. Everything in it comes from the
// guest and is checked before use: ring addresses and alignment when the queue is enabled,
// avail.idx against the queue size, every head and next index, every buffer address and length
// against guest RAM, the order of readable and writable buffers, and the chain length (bounded
// by the queue size, or by the table for an indirect chain, so a loop ends as an error). A
// violation throws QueueError, which the transport turns into DEVICE_NEEDS_RESET: a broken
// guest fails its own device, never the host. Descriptors are read once and copied, so a guest
// rewriting them meanwhile cannot make the device use unchecked values.
import { AVAIL_F_NO_INTERRUPT, DESC, DESC_SIZE, MAX_QUEUE_SIZE, USED_F_NO_NOTIFY, availBytes, descBytes, usedBytes } from "./spec.ts";

/** The guest broke the virtqueue rules; the message says which rule and where. */
export class QueueError extends Error {
  constructor(message: string) {
    // No stack trace: the guest chooses how often this happens, and the message says it all.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = "QueueError";
  }
}

/** Where the driver put the three areas (guest-physical), and the size it chose. */
export interface QueueLayout {
  size: number;
  desc: number;
  avail: number;
  used: number;
}

/** One guest buffer, already checked to lie inside guest RAM. */
export interface GuestBuffer {
  addr: number;
  len: number;
}

/** A descriptor chain: device-readable buffers first, then device-writable ones. */
export interface Chain {
  head: number;
  readable: GuestBuffer[];
  writable: GuestBuffer[];
  readBytes: number;
  writeBytes: number;
}

export interface QueueOptions {
  /** VIRTIO_F_INDIRECT_DESC was negotiated: indirect tables are followed, else refused. */
  indirect: boolean;
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const FENCE = new Int32Array(new SharedArrayBuffer(4));
const U16 = 0xffff;

export class SplitQueue {
  readonly size: number;
  readonly layout: Readonly<QueueLayout>;
  private readonly ram: Uint8Array;
  private readonly view: DataView;
  private readonly indirect: boolean;
  /** Free-running 16-bit indices: the next avail entry to take, the next used entry to fill. */
  private nextAvail = 0;
  private usedIdx = 0;

  /** Throws QueueError for a size or an area the spec (2.7, 4.2.2) does not allow. */
  constructor(ram: Uint8Array, layout: QueueLayout, opts: QueueOptions) {
    const { size, desc, avail, used } = layout;
    if (!Number.isInteger(size) || size < 1 || size > MAX_QUEUE_SIZE || (size & (size - 1)) !== 0)
      throw new QueueError(`queue size ${size} is not a power of 2 in 1..${MAX_QUEUE_SIZE}`);
    this.ram = ram;
    this.view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
    this.size = size;
    this.layout = { ...layout };
    this.indirect = opts.indirect;
    const area = (what: string, addr: number, len: number, align: number): void => {
      if (addr % align !== 0) throw new QueueError(`${what} at ${hex(addr)} is not ${align}-byte aligned`);
      this.checkRange(what, addr, len);
    };
    area("descriptor table", desc, descBytes(size), 16);
    area("available ring", avail, availBytes(size), 2);
    area("used ring", used, usedBytes(size), 4);
  }

  private checkRange(what: string, addr: number, len: number): void {
    const n = this.ram.length;
    if (!(addr >= 0 && len >= 0 && addr <= n && len <= n - addr))
      throw new QueueError(`${what} at ${hex(addr)} (+${len}) is outside the ${n}-byte guest RAM`);
  }

  /** The device's two ring positions, to move a live queue to another thread. */
  get indices(): { nextAvail: number; usedIdx: number } {
    return { nextAvail: this.nextAvail, usedIdx: this.usedIdx };
  }

  setIndices(i: { nextAvail: number; usedIdx: number }): void {
    this.nextAvail = i.nextAvail & U16;
    this.usedIdx = i.usedIdx & U16;
  }

  /** Chains the driver made available that the device has not taken yet. */
  pending(): number {
    const idx = this.view.getUint16(this.layout.avail + 2, true);
    const n = (idx - this.nextAvail) & U16;
    if (n > this.size)
      throw new QueueError(`avail.idx ${idx} is ${n} entries ahead of the device (${this.nextAvail}), more than the queue size ${this.size}`);
    return n;
  }

  /** Takes the next available chain, or null when there is none. */
  pop(): Chain | null {
    if (this.pending() === 0) return null;
    const head = this.view.getUint16(this.layout.avail + 4 + 2 * (this.nextAvail & (this.size - 1)), true);
    this.nextAvail = (this.nextAvail + 1) & U16;
    if (head >= this.size) throw new QueueError(`avail ring entry ${head} is not a descriptor (queue size ${this.size})`);
    return this.walk(head);
  }

  /** Puts the chain pop() just returned back, unused: the next pop() reads (and checks) it again. */
  unpop(): void {
    this.nextAvail = (this.nextAvail - 1) & U16;
  }

  private walk(head: number): Chain {
    const v = this.view;
    const chain: Chain = { head, readable: [], writable: [], readBytes: 0, writeBytes: 0 };
    let table = this.layout.desc;
    let entries = this.size;
    let budget = this.size; // descriptors left before the chain is too long (or loops)
    let inIndirect = false;
    let idx = head;
    for (;;) {
      if (budget-- === 0)
        throw new QueueError(`descriptor chain from head ${head} is longer than ${inIndirect ? `its indirect table (${entries})` : `the queue size (${this.size})`}: a loop or an overlong chain`);
      const d = table + idx * DESC_SIZE;
      const lo = v.getUint32(d, true);
      const hi = v.getUint32(d + 4, true);
      const len = v.getUint32(d + 8, true);
      const flags = v.getUint16(d + 12, true);
      const next = v.getUint16(d + 14, true);
      // Any high word that is not 0 is far beyond guest RAM (at most 3 GiB).
      const addr = hi === 0 ? lo : Number.MAX_SAFE_INTEGER;
      if (flags & DESC.INDIRECT) {
        if (!this.indirect) throw new QueueError(`descriptor ${idx} of chain ${head} is indirect, but VIRTIO_F_INDIRECT_DESC was not negotiated`);
        if (inIndirect) throw new QueueError(`descriptor ${idx} inside the indirect table of chain ${head} is itself indirect`);
        if (flags & DESC.NEXT) throw new QueueError(`descriptor ${idx} of chain ${head} has both INDIRECT and NEXT`);
        if (len === 0 || len % DESC_SIZE !== 0 || len / DESC_SIZE > MAX_QUEUE_SIZE)
          throw new QueueError(`indirect table of chain ${head} has length ${len}, not a multiple of 16 in 16..${MAX_QUEUE_SIZE * DESC_SIZE}`);
        if (addr % 16 !== 0) throw new QueueError(`indirect table of chain ${head} at ${hex(addr)} is not 16-byte aligned`);
        this.checkRange(`indirect table of chain ${head}`, addr, len);
        table = addr;
        entries = len / DESC_SIZE;
        budget = entries;
        inIndirect = true;
        idx = 0;
        continue;
      }
      this.checkRange(`buffer of descriptor ${idx} (chain ${head})`, addr, len);
      if (flags & DESC.WRITE) {
        chain.writable.push({ addr, len });
        chain.writeBytes += len;
      } else {
        if (chain.writable.length > 0) throw new QueueError(`chain ${head} has a device-readable buffer after a device-writable one`);
        chain.readable.push({ addr, len });
        chain.readBytes += len;
      }
      if (!(flags & DESC.NEXT)) return chain;
      if (next >= entries) throw new QueueError(`descriptor ${idx} of chain ${head} links to ${next}, past the ${inIndirect ? "indirect table" : "queue"} (${entries} entries)`);
      idx = next;
    }
  }

  /** Returns a chain to the driver, saying how many bytes the device wrote into it. */
  pushUsed(chain: Chain, written: number): void {
    const used = this.layout.used;
    const slot = used + 4 + 8 * (this.usedIdx & (this.size - 1));
    this.view.setUint32(slot, chain.head, true);
    this.view.setUint32(slot + 4, Math.min(written, chain.writeBytes), true);
    this.usedIdx = (this.usedIdx + 1) & U16;
    // x86 keeps stores in order: the element is visible before the index that publishes it.
    this.view.setUint16(used + 2, this.usedIdx, true);
  }

  /** Whether the driver wants an interrupt for used buffers (no EVENT_IDX: avail.flags). */
  wantsInterrupt(): boolean {
    return (this.view.getUint16(this.layout.avail, true) & AVAIL_F_NO_INTERRUPT) === 0;
  }

  /** Asks the driver not to notify (while the device is busy anyway), or to notify again. */
  suppressNotifications(on: boolean): void {
    this.view.setUint16(this.layout.used, on ? USED_F_NO_NOTIFY : 0, true);
    // Clearing the flag must be visible before avail.idx is read again (store-load order, which
    // x86 does not keep by itself): a locked instruction is a full fence.
    if (!on) Atomics.exchange(FENCE, 0, 0);
  }

  /**
   * Takes every available chain, with notifications suppressed meanwhile, and checks once more
   * after re-enabling them, so a chain published in between is never left behind.
   */
  drain(serve: (chain: Chain) => void): void {
    for (;;) {
      this.suppressNotifications(true);
      for (let c = this.pop(); c; c = this.pop()) serve(c);
      this.suppressNotifications(false);
      if (this.pending() === 0) return;
    }
  }

  /** The readable buffers of a chain, concatenated (a copy), at most `max` bytes. */
  read(chain: Chain, max = Infinity): Uint8Array {
    const out = new Uint8Array(Math.min(chain.readBytes, max));
    let at = 0;
    for (const b of chain.readable) {
      if (at === out.length) break;
      const n = Math.min(b.len, out.length - at);
      out.set(this.ram.subarray(b.addr, b.addr + n), at);
      at += n;
    }
    return out;
  }

  /** Copies `data` into the writable buffers of a chain; returns the bytes written. */
  write(chain: Chain, data: Uint8Array): number {
    let at = 0;
    for (const b of chain.writable) {
      if (at === data.length) break;
      const n = Math.min(b.len, data.length - at);
      this.ram.set(data.subarray(at, at + n), b.addr);
      at += n;
    }
    return at;
  }
}
