// Test support: a vCPU that replays scripted KVM exits into a kvm_run-shaped buffer.
import { EXIT, IO_DIRECTION, RUN, SIZE } from "../abi.ts";
import { decodeSregs, pvhRegs, pvhSregs, type Regs, type Sregs } from "../boot-state.ts";
import type { Vcpu } from "../run-loop.ts";

export type Step = (run: DataView, bytes: Uint8Array) => number;

const DATA_AT = 4096; // where KVM puts I/O data: the page after struct kvm_run's first page

export function ioOut(port: number, data: number[], size = 1): Step {
  return (run, bytes) => {
    run.setUint32(RUN.exitReason, EXIT.IO, true);
    run.setUint8(RUN.ioDirection, IO_DIRECTION.OUT);
    run.setUint8(RUN.ioSize, size);
    run.setUint16(RUN.ioPort, port, true);
    run.setUint32(RUN.ioCount, data.length / size, true);
    run.setBigUint64(RUN.ioDataOffset, BigInt(DATA_AT), true);
    bytes.set(data, DATA_AT);
    return 0;
  };
}

/** An IN exit; `seen` receives the value the VMM put in the data area, at the next step. */
export function ioIn(port: number, seen: number[], size = 1): Step {
  return (run, bytes) => {
    run.setUint32(RUN.exitReason, EXIT.IO, true);
    run.setUint8(RUN.ioDirection, IO_DIRECTION.IN);
    run.setUint8(RUN.ioSize, size);
    run.setUint16(RUN.ioPort, port, true);
    run.setUint32(RUN.ioCount, 1, true);
    run.setBigUint64(RUN.ioDataOffset, BigInt(DATA_AT), true);
    bytes.fill(0, DATA_AT, DATA_AT + size);
    pendingReads.push(() => seen.push(bytes[DATA_AT]!));
    return 0;
  };
}
const pendingReads: Array<() => void> = [];

export function exitWith(reason: number, fill?: (run: DataView) => void): Step {
  return (run) => {
    run.setUint32(RUN.exitReason, reason, true);
    fill?.(run);
    return 0;
  };
}

export const errno = (e: number): Step => () => e;

export class FakeVcpu implements Vcpu {
  readonly runBytes = new Uint8Array(8192);
  readonly run = new DataView(this.runBytes.buffer);
  private readonly steps: Step[];
  regsFail = false;
  entered = 0;
  constructor(steps: Step[]) {
    this.steps = [...steps];
  }
  enter(): number {
    while (pendingReads.length) pendingReads.shift()!();
    this.entered++;
    const step = this.steps.shift();
    if (!step) throw new Error("fake vCPU ran out of script");
    return step(this.run, this.runBytes);
  }
  getRegs(): Regs {
    if (this.regsFail) throw new Error("KVM_GET_REGS failed: Bad file descriptor");
    return pvhRegs(0x100010, 0x1000);
  }
  getSregs(): Sregs {
    return pvhSregs(decodeSregs(new Uint8Array(SIZE.sregs)));
  }
}

