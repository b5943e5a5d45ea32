// The shared block between a VM's vCPU thread and its virtio device thread. Register accesses
// (MMIO exits: configuration only) are forwarded synchronously: the vCPU thread writes the
// request, rings the device thread's doorbell eventfd and waits; the device thread, the only
// owner of the device state, answers. Also carries the stop handshake (guest RAM must not be
// unmapped while the device thread can still touch it) and a "host input waiting" flag.
import type { EventSys } from "../../eventfd.ts";

const STATE = 0;
const DEV = 1;
const OFFSET = 2;
const SIZE = 3;
const WRITE = 4;
const VALUE = 5;
const RESULT = 6;
const STOP = 7;
const STOPPED = 8;
const INPUT = 9;
const READY = 10;
const WORDS = 11;
const IDLE = 0;
const REQUEST = 1;
const DONE = 2;

export interface RegisterRequest {
  dev: number;
  offset: number;
  size: number;
  isWrite: boolean;
  value: number;
}

export class DeviceChannel {
  readonly sab: SharedArrayBuffer;
  private readonly i32: Int32Array;

  static create(): DeviceChannel {
    return new DeviceChannel(new SharedArrayBuffer(WORDS * 4));
  }

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab);
  }

  // --- vCPU thread ---

  /** One register access, answered by the device thread; throws if it does not answer. */
  access(ev: EventSys, doorbell: number, req: RegisterRequest, timeoutMs: number): number {
    const a = this.i32;
    a[DEV] = req.dev;
    a[OFFSET] = req.offset;
    a[SIZE] = req.size;
    a[WRITE] = req.isWrite ? 1 : 0;
    a[VALUE] = req.value | 0;
    Atomics.store(a, STATE, REQUEST); // publishes the fields above
    ev.signal(doorbell);
    if (!this.waitWhile(STATE, REQUEST, timeoutMs)) throw new Error(`the virtio device thread did not answer a register access within ${timeoutMs} ms`);
    const result = Atomics.load(a, RESULT) >>> 0;
    Atomics.store(a, STATE, IDLE);
    return result;
  }

  /** Host input is waiting: ring the doorbell once until the device thread has looked. */
  inputArrived(ev: EventSys, doorbell: number): void {
    if (Atomics.compareExchange(this.i32, INPUT, 0, 1) === 0) ev.signal(doorbell);
  }

  requestStop(ev: EventSys, doorbell: number): void {
    Atomics.store(this.i32, STOP, 1);
    ev.signal(doorbell);
  }

  /** Waits until the device thread no longer touches guest RAM; false on timeout. */
  waitStopped(timeoutMs: number): boolean {
    return this.waitWhile(STOPPED, 0, timeoutMs);
  }

  /** Waits while word `index` holds `value`; false if it still does after timeoutMs. */
  private waitWhile(index: number, value: number, timeoutMs: number): boolean {
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(this.i32, index) === value) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(this.i32, index, value, left);
    }
    return true;
  }

  /** The device thread is loaded and in its loop (ready to take the devices over). */
  isReady(): boolean {
    return Atomics.load(this.i32, READY) === 1;
  }

  /** Waits until the device thread is ready; false on timeout. */
  waitReady(timeoutMs: number): boolean {
    return this.waitWhile(READY, 0, timeoutMs);
  }

  // --- device thread ---

  markReady(): void {
    Atomics.store(this.i32, READY, 1);
    Atomics.notify(this.i32, READY);
  }

  takeRequest(): RegisterRequest | undefined {
    const a = this.i32;
    if (Atomics.load(a, STATE) !== REQUEST) return undefined;
    return { dev: a[DEV]!, offset: a[OFFSET]!, size: a[SIZE]!, isWrite: a[WRITE] === 1, value: a[VALUE]! >>> 0 };
  }

  reply(result: number): void {
    Atomics.store(this.i32, RESULT, result | 0);
    Atomics.store(this.i32, STATE, DONE);
    Atomics.notify(this.i32, STATE);
  }

  /** Clears the input flag; true if it was set. */
  takeInput(): boolean {
    return Atomics.exchange(this.i32, INPUT, 0) === 1;
  }

  stopRequested(): boolean {
    return Atomics.load(this.i32, STOP) === 1;
  }

  markStopped(): void {
    Atomics.store(this.i32, STOPPED, 1);
    Atomics.notify(this.i32, STOPPED);
  }
}
