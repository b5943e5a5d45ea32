// The control block shared by a VM's main-thread handle and its vCPU worker: a stop flag, the
// worker's pthread id, and a small state machine so the main thread only signals the worker
// thread while it is certainly alive (pthread_kill on an exited thread is undefined behaviour).
import type { Sys } from "./sys.ts";

/** The signal that kicks a vCPU out of KVM_RUN. Blocked in the worker except inside KVM_RUN. */
export const KICK_SIGNAL = 12; // SIGUSR2

const STATE = 0;
const STOP = 1;
const OUTPUT_PENDING = 2;
export const VCPU_STATE = { starting: 0, running: 1, kicking: 2, done: 3 } as const;

export class VcpuControl {
  readonly sab: SharedArrayBuffer;
  private readonly i32: Int32Array;
  private readonly tid: BigUint64Array;

  static create(): VcpuControl {
    return new VcpuControl(new SharedArrayBuffer(24));
  }

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab, 0, 3);
    this.tid = new BigUint64Array(sab, 16, 1);
  }

  get state(): number {
    return Atomics.load(this.i32, STATE);
  }

  // --- main thread ---

  requestStop(): void {
    Atomics.store(this.i32, STOP, 1);
  }

  /** Signals the worker thread if it is running; false if it is not (yet, or any more). */
  kick(sys: Pick<Sys, "pthreadKill">): boolean {
    if (Atomics.compareExchange(this.i32, STATE, VCPU_STATE.running, VCPU_STATE.kicking) !== VCPU_STATE.running) return false;
    try {
      sys.pthreadKill(Atomics.load(this.tid, 0), KICK_SIGNAL);
    } finally {
      Atomics.store(this.i32, STATE, VCPU_STATE.running);
      Atomics.notify(this.i32, STATE);
    }
    return true;
  }

  /**
   * Console bytes wait in the worker's buffer. A guest idling in HLT after printing a prompt
   * makes no exits, so the main thread polls this and kicks the worker to flush.
   */
  get outputPending(): boolean {
    return Atomics.load(this.i32, OUTPUT_PENDING) !== 0;
  }

  // --- worker thread ---

  setOutputPending(pending: boolean): void {
    Atomics.store(this.i32, OUTPUT_PENDING, pending ? 1 : 0);
  }

  stopRequested(): boolean {
    return Atomics.load(this.i32, STOP) !== 0;
  }

  /** Publishes the worker's pthread id; kicks are possible from here on. */
  running(threadId: bigint): void {
    Atomics.store(this.tid, 0, threadId);
    Atomics.store(this.i32, STATE, VCPU_STATE.running);
  }

  /** Ends kickability, waiting out a kick in progress, before the thread may exit. */
  finish(): void {
    for (;;) {
      const s = Atomics.compareExchange(this.i32, STATE, VCPU_STATE.running, VCPU_STATE.done);
      if (s === VCPU_STATE.running || s === VCPU_STATE.starting || s === VCPU_STATE.done) break;
      Atomics.wait(this.i32, STATE, VCPU_STATE.kicking, 100);
    }
    Atomics.store(this.i32, STATE, VCPU_STATE.done);
  }
}
