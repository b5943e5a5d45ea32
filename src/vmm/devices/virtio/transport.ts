// The virtio-mmio transport, version 2 (virtio 1.2, 4.2): the register file the driver sees in
// a 512-byte MMIO window, feature negotiation, the status state machine, queue setup, the
// interrupt status, and failure handling. A device model plugs in through VirtioDevice. Any
// error a device raises while serving the guest (a malformed chain, or a bug) sets
// DEVICE_NEEDS_RESET and is kept in `error`; nothing propagates to the VMM.
import type { DeviceIo, DeviceState, VirtioDevice } from "./device.ts";
import { QueueError, SplitQueue } from "./queue.ts";
import { F, INT, KILN_VENDOR_ID, MMIO, MMIO_MAGIC, MMIO_VERSION, MMIO_WINDOW, STATUS, bit } from "./spec.ts";

/** Features the transport and its split queues implement, whatever the device. */
export const TRANSPORT_FEATURES = bit(F.VERSION_1) | bit(F.INDIRECT_DESC);

/** Everything a transport and its device hold, structured-cloneable (see snapshot()). */
export interface TransportState {
  regs: number[];
  driverFeatures: string;
  error?: string;
  queues: Array<{ num: number; ready: boolean; desc: number; avail: number; used: number; nextAvail: number; usedIdx: number }>;
  device: DeviceState;
}

interface QueueRegs {
  num: number;
  ready: boolean;
  desc: number;
  avail: number;
  used: number;
  queue: SplitQueue | undefined;
}

export interface TransportOptions {
  /** Sets or pulses the device's interrupt line (KVM_IRQFD or KVM_IRQ_LINE). */
  interrupt: () => void;
  /** Told once when the device fails (for the VM's report). */
  onError?: (message: string) => void;
}

const lo32 = (v: bigint): number => Number(v & 0xffffffffn);
const setLo = (v: number, w: number): number => (Math.floor(v / 2 ** 32) * 2 ** 32) + (w >>> 0);
const setHi = (v: number, w: number): number => (w >>> 0) * 2 ** 32 + (v % 2 ** 32);

export class VirtioMmioTransport {
  readonly device: VirtioDevice;
  readonly length = MMIO_WINDOW;
  /** Why the device failed (DEVICE_NEEDS_RESET), if it did since the last reset. */
  error: string | undefined;
  /** Accesses the spec does not allow (not 32-bit, unaligned, past the window): ignored. */
  badAccesses = 0;
  private readonly ram: Uint8Array;
  private readonly opts: TransportOptions;
  private status = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures = 0n;
  private queueSel = 0;
  private interruptStatus = 0;
  private configGeneration = 0;
  private queues: QueueRegs[];
  private readonly io: DeviceIo;

  constructor(device: VirtioDevice, ram: Uint8Array, opts: TransportOptions) {
    this.device = device;
    this.ram = ram;
    this.opts = opts;
    this.queues = this.freshQueues();
    const self = this;
    this.io = {
      get features() {
        return self.driverFeatures;
      },
      queue: (q) => this.queues[q]?.queue,
      usedBuffers: (q) => {
        const queue = this.queues[q]?.queue;
        if (queue && queue.wantsInterrupt()) this.raise(INT.USED_BUFFER);
      },
      guard: (fn) => this.guard(fn),
    };
  }

  get offered(): bigint {
    return this.device.features | TRANSPORT_FEATURES;
  }

  get deviceStatus(): number {
    return this.status;
  }

  private freshQueues(): QueueRegs[] {
    return this.device.queueMax.map(() => ({ num: 0, ready: false, desc: 0, avail: 0, used: 0, queue: undefined }));
  }

  private live(): boolean {
    return (this.status & STATUS.DRIVER_OK) !== 0 && (this.status & STATUS.DEVICE_NEEDS_RESET) === 0;
  }

  private raise(bits: number): void {
    this.interruptStatus |= bits;
    this.opts.interrupt();
  }

  /** DEVICE_NEEDS_RESET (4.2.3.4 / 2.1.2): the device stops until the driver resets it. */
  fail(message: string): void {
    if (this.status & STATUS.DEVICE_NEEDS_RESET) return;
    this.error = message;
    this.status |= STATUS.DEVICE_NEEDS_RESET;
    for (const q of this.queues) q.queue = undefined;
    try {
      this.device.reset();
    } catch {
      // The device is failed already; its reset must not take the host down either.
    }
    this.opts.onError?.(`virtio ${this.device.name}: ${message}`);
    if (this.status & STATUS.DRIVER_OK) this.raise(INT.CONFIG_CHANGE);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e instanceof QueueError ? e.message : `device error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Queue notifications received (QueueNotify writes and ioeventfd signals). */
  notifications = 0;

  /** A queue notification (a QueueNotify write, or its ioeventfd). */
  notify(q: number): void {
    this.notifications++;
    if (!this.live() || !this.queues[q]?.queue) return;
    this.guard(() => this.device.notify(q));
  }

  private reset(): void {
    this.guard(() => this.device.reset());
    this.status = 0;
    this.error = undefined;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeatures = 0n;
    this.queueSel = 0;
    this.interruptStatus = 0;
    this.queues = this.freshQueues();
  }

  read(offset: number, size: number): number {
    if (offset >= MMIO.CONFIG) {
      if (offset - MMIO.CONFIG + size > this.length - MMIO.CONFIG) return this.bad(0);
      let v = 0;
      this.guard(() => (v = this.device.readConfig(offset - MMIO.CONFIG, size)));
      return v >>> 0;
    }
    if (size !== 4 || offset % 4 !== 0) return this.bad(0);
    const q = this.queues[this.queueSel];
    switch (offset) {
      case MMIO.MAGIC:
        return MMIO_MAGIC;
      case MMIO.VERSION:
        return MMIO_VERSION;
      case MMIO.DEVICE_ID:
        return this.device.deviceId;
      case MMIO.VENDOR_ID:
        return KILN_VENDOR_ID;
      case MMIO.DEVICE_FEATURES:
        return this.deviceFeaturesSel > 1 ? 0 : lo32(this.offered >> BigInt(32 * this.deviceFeaturesSel));
      case MMIO.QUEUE_NUM_MAX:
        return q ? this.device.queueMax[this.queueSel]! : 0;
      case MMIO.QUEUE_READY:
        return q?.ready ? 1 : 0;
      case MMIO.INTERRUPT_STATUS:
        return this.interruptStatus;
      case MMIO.STATUS:
        return this.status;
      case MMIO.SHM_LEN_LOW:
      case MMIO.SHM_LEN_HIGH:
      case MMIO.SHM_BASE_LOW:
      case MMIO.SHM_BASE_HIGH:
        return 0xffffffff; // no shared memory regions
      case MMIO.CONFIG_GENERATION:
        return this.configGeneration;
      case MMIO.QUEUE_DESC_LOW:
        return q ? q.desc % 2 ** 32 : 0;
      case MMIO.QUEUE_DESC_HIGH:
        return q ? Math.floor(q.desc / 2 ** 32) : 0;
      case MMIO.QUEUE_DRIVER_LOW:
        return q ? q.avail % 2 ** 32 : 0;
      case MMIO.QUEUE_DRIVER_HIGH:
        return q ? Math.floor(q.avail / 2 ** 32) : 0;
      case MMIO.QUEUE_DEVICE_LOW:
        return q ? q.used % 2 ** 32 : 0;
      case MMIO.QUEUE_DEVICE_HIGH:
        return q ? Math.floor(q.used / 2 ** 32) : 0;
      default:
        return 0; // write-only or reserved
    }
  }

  write(offset: number, size: number, value: number): void {
    value >>>= 0;
    if (offset >= MMIO.CONFIG) {
      if (offset - MMIO.CONFIG + size > this.length - MMIO.CONFIG) return void this.bad(0);
      this.guard(() => this.device.writeConfig(offset - MMIO.CONFIG, size, value));
      return;
    }
    if (size !== 4 || offset % 4 !== 0) return void this.bad(0);
    const q = this.queues[this.queueSel];
    // Queue registers may change only while the queue is disabled (4.2.2).
    const qw = q && !q.ready && (this.status & STATUS.FEATURES_OK) !== 0 && (this.status & STATUS.DRIVER_OK) === 0 ? q : undefined;
    switch (offset) {
      case MMIO.DEVICE_FEATURES_SEL:
        this.deviceFeaturesSel = value;
        return;
      case MMIO.DRIVER_FEATURES_SEL:
        this.driverFeaturesSel = value;
        return;
      case MMIO.DRIVER_FEATURES: {
        if (this.driverFeaturesSel > 1 || this.status & STATUS.FEATURES_OK) return;
        const shift = BigInt(32 * this.driverFeaturesSel);
        this.driverFeatures = (this.driverFeatures & ~(0xffffffffn << shift)) | (BigInt(value) << shift);
        return;
      }
      case MMIO.QUEUE_SEL:
        this.queueSel = value;
        return;
      case MMIO.QUEUE_NUM:
        if (qw) qw.num = value;
        return;
      case MMIO.QUEUE_DESC_LOW:
        if (qw) qw.desc = setLo(qw.desc, value);
        return;
      case MMIO.QUEUE_DESC_HIGH:
        if (qw) qw.desc = setHi(qw.desc, value);
        return;
      case MMIO.QUEUE_DRIVER_LOW:
        if (qw) qw.avail = setLo(qw.avail, value);
        return;
      case MMIO.QUEUE_DRIVER_HIGH:
        if (qw) qw.avail = setHi(qw.avail, value);
        return;
      case MMIO.QUEUE_DEVICE_LOW:
        if (qw) qw.used = setLo(qw.used, value);
        return;
      case MMIO.QUEUE_DEVICE_HIGH:
        if (qw) qw.used = setHi(qw.used, value);
        return;
      case MMIO.QUEUE_READY:
        if (q && value === 1 && qw) this.enableQueue(this.queueSel, qw);
        else if (q && value === 0 && !(this.status & STATUS.DRIVER_OK)) {
          q.ready = false;
          q.queue = undefined;
        }
        return;
      case MMIO.QUEUE_NOTIFY:
        this.notify(value & 0xffff);
        return;
      case MMIO.INTERRUPT_ACK:
        this.interruptStatus &= ~value;
        return;
      case MMIO.STATUS:
        this.writeStatus(value & 0xff);
        return;
      default:
        return; // read-only or reserved
    }
  }

  private enableQueue(index: number, q: QueueRegs): void {
    if (q.num === 0 || q.num > this.device.queueMax[index]!)
      return this.fail(`queue ${index}: size ${q.num} is outside 1..${this.device.queueMax[index]}`);
    try {
      q.queue = new SplitQueue(this.ram, { size: q.num, desc: q.desc, avail: q.avail, used: q.used }, {
        indirect: (this.driverFeatures & bit(F.INDIRECT_DESC)) !== 0n,
      });
      q.ready = true;
    } catch (e) {
      this.fail(`queue ${index}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private writeStatus(value: number): void {
    if (value === 0) return this.reset();
    // The driver only ever adds bits (3.1.1); anything else is ignored.
    if ((value & this.status) !== this.status) return;
    const added = value & ~this.status;
    if (added & STATUS.FEATURES_OK) {
      const unknown = this.driverFeatures & ~this.offered;
      if (unknown !== 0n || (this.driverFeatures & bit(F.VERSION_1)) === 0n) {
        // FEATURES_OK stays clear: the driver reads it back and gives up (3.1.1 step 6).
        this.status = value & ~STATUS.FEATURES_OK;
        return;
      }
    }
    if (added & STATUS.DRIVER_OK && !(value & STATUS.FEATURES_OK)) return;
    this.status = value;
    if (added & STATUS.DRIVER_OK && !(value & STATUS.DEVICE_NEEDS_RESET)) this.guard(() => this.device.activate(this.io));
  }

  /**
   * The whole state, to move a live device to another thread (the vCPU thread serves devices
   * itself until the device thread is up, then hands them over): registers, negotiated
   * features, queue layouts and ring positions, the device's own state.
   */
  snapshot(): TransportState {
    return {
      regs: [this.status, this.deviceFeaturesSel, this.driverFeaturesSel, this.queueSel, this.interruptStatus, this.configGeneration, this.badAccesses, this.notifications],
      driverFeatures: this.driverFeatures.toString(),
      ...(this.error !== undefined ? { error: this.error } : {}),
      queues: this.queues.map((q) => ({ num: q.num, ready: q.ready, desc: q.desc, avail: q.avail, used: q.used, ...(q.queue?.indices ?? { nextAvail: 0, usedIdx: 0 }) })),
      device: this.device.saveState(),
    };
  }

  /** Takes up a snapshot() made by a transport of the same device over the same guest RAM. */
  restore(s: TransportState): void {
    [this.status, this.deviceFeaturesSel, this.driverFeaturesSel, this.queueSel, this.interruptStatus, this.configGeneration, this.badAccesses, this.notifications] = s.regs as [number, number, number, number, number, number, number, number];
    this.driverFeatures = BigInt(s.driverFeatures);
    this.error = s.error;
    this.device.loadState(s.device);
    this.queues = this.freshQueues();
    s.queues.forEach((sq, i) => {
      const q = this.queues[i];
      if (!q) return;
      Object.assign(q, { num: sq.num, desc: sq.desc, avail: sq.avail, used: sq.used });
      if (sq.ready && !(this.status & STATUS.DEVICE_NEEDS_RESET)) {
        this.enableQueue(i, q);
        q.queue?.setIndices(sq);
      }
    });
    if (this.live()) this.guard(() => this.device.activate(this.io));
  }

  private bad(v: number): number {
    this.badAccesses++;
    return v;
  }
}
