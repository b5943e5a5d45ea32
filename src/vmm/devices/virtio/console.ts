// virtio-console (virtio 1.2, 5.3), port 0 only (no MULTIPORT): queue 0 is receiveq (host
// input into buffers the driver posts), queue 1 transmitq (guest output). A guest batches as
// much output as it likes into one chain and notifies once, instead of one UART exit a byte.
import type { DeviceIo, DeviceState, VirtioDevice } from "./device.ts";
import { QueueError } from "./queue.ts";
import { DEVICE_ID } from "./spec.ts";

export const CONSOLE_RX = 0;
export const CONSOLE_TX = 1;
const QUEUE_MAX = 256;

export interface ConsoleOptions {
  /** Receives each transmitted chain's bytes (a copy). */
  output: (bytes: Uint8Array) => void;
  /** Host input the device holds until the driver posts receive buffers. */
  inputCapacity?: number;
}

export class VirtioConsole implements VirtioDevice {
  readonly name = "console";
  readonly deviceId = DEVICE_ID.CONSOLE;
  readonly features = 0n;
  readonly queueMax = [QUEUE_MAX, QUEUE_MAX];
  private readonly output: (bytes: Uint8Array) => void;
  private readonly input: Uint8Array;
  private inputLen = 0;
  private io: DeviceIo | undefined;
  /** Transmit chains served, bytes out and in (for the VM's report and benchmarks). */
  readonly counts = { txChains: 0, txBytes: 0, rxBytes: 0 };

  constructor(opts: ConsoleOptions) {
    this.output = opts.output;
    this.input = new Uint8Array(opts.inputCapacity ?? 4096);
  }

  /** Bytes of host input not yet delivered. */
  get pendingInput(): number {
    return this.inputLen;
  }

  /** Queues host input; returns how many bytes fitted (the caller keeps the rest). */
  feed(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.input.length - this.inputLen);
    this.input.set(bytes.subarray(0, n), this.inputLen);
    this.inputLen += n;
    if (this.io) this.io.guard(() => this.deliver());
    return n;
  }

  readConfig(): number {
    // cols = rows = 0 (no F_SIZE); max_nr_ports and emerg_wr are 0 without their features;
    // past the CONFIG_BYTES of the structure, reads are 0 too.
    return 0;
  }

  writeConfig(): void {
    // emerg_wr needs VIRTIO_CONSOLE_F_EMERG_WRITE, which is not offered: ignored.
  }

  activate(io: DeviceIo): void {
    this.io = io;
    this.deliver();
  }

  notify(q: number): void {
    if (q === CONSOLE_TX) this.transmit();
    else if (q === CONSOLE_RX) this.deliver();
  }

  reset(): void {
    this.io = undefined;
  }

  saveState(): DeviceState {
    return { input: this.input.slice(0, this.inputLen), ...this.counts };
  }

  loadState(s: DeviceState): void {
    const input = s.input instanceof Uint8Array ? s.input : new Uint8Array(0);
    this.inputLen = Math.min(input.length, this.input.length);
    this.input.set(input.subarray(0, this.inputLen));
    for (const k of ["txChains", "txBytes", "rxBytes"] as const) if (typeof s[k] === "number") this.counts[k] = s[k];
  }

  private transmit(): void {
    const io = this.io;
    const q = io?.queue(CONSOLE_TX);
    if (!io || !q) return;
    let returned = false;
    q.drain((chain) => {
      if (chain.writable.length > 0) throw new QueueError(`transmitq chain ${chain.head} has a device-writable buffer`);
      if (chain.readBytes > 0) this.output(q.read(chain));
      q.pushUsed(chain, 0);
      this.counts.txChains++;
      this.counts.txBytes += chain.readBytes;
      returned = true;
    });
    if (returned) io.usedBuffers(CONSOLE_TX);
  }

  private deliver(): void {
    const io = this.io;
    const q = io?.queue(CONSOLE_RX);
    if (!io || !q || this.inputLen === 0) return;
    let returned = false;
    while (this.inputLen > 0) {
      const chain = q.pop();
      if (!chain) break;
      if (chain.readable.length > 0) throw new QueueError(`receiveq chain ${chain.head} has a device-readable buffer`);
      const n = q.write(chain, this.input.subarray(0, this.inputLen));
      this.input.copyWithin(0, n, this.inputLen);
      this.inputLen -= n;
      q.pushUsed(chain, n);
      this.counts.rxBytes += n;
      returned = true;
    }
    if (returned) io.usedBuffers(CONSOLE_RX);
  }
}
