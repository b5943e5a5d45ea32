// The vCPU run loop: enter the guest, serve the exit, repeat until the guest writes the exit
// port, faults, or the host asks it to stop. Independent of KVM itself (it talks to a `Vcpu`),
// so every exit path is tested with a scripted fake vCPU.
import { EXIT, IO_DIRECTION, RUN, exitReasonName, internalSuberrorName } from "./abi.ts";
import { formatRegisters, type Regs, type Sregs } from "./boot-state.ts";
import type { IoBus } from "./devices/io-bus.ts";
import type { ExitPort } from "./devices/exit-port.ts";
import type { MmioBus } from "./devices/mmio-bus.ts";
import { EAGAIN, EINTR } from "./sys.ts";

export interface Vcpu {
  /** One KVM_RUN: 0, or an errno. */
  enter(): number;
  readonly run: DataView;
  readonly runBytes: Uint8Array;
  getRegs(): Regs;
  getSregs(): Sregs;
}

export type ExitReason =
  | "exit" // the guest wrote the exit port
  | "killed" // the host stopped it (vm.kill())
  | "triple-fault" // KVM_EXIT_SHUTDOWN
  | "internal-error" // KVM_EXIT_INTERNAL_ERROR (e.g. emulation failure)
  | "fail-entry" // KVM_EXIT_FAIL_ENTRY: the vCPU state is invalid
  | "halted" // KVM_EXIT_HLT: only without an in-kernel irqchip; nothing can wake it
  | "system-event" // KVM_EXIT_SYSTEM_EVENT (reset, crash, shutdown requested by the guest)
  | "unknown-exit" // any other exit reason
  | "vmm-error"; // the VMM failed (KVM_RUN error, bad exit data, exception in a device)

export interface VmExit {
  /** The guest's status for "exit"; 137 for "killed"; 255 for every failure. */
  status: number;
  reason: ExitReason;
  /** One line: what happened, with the KVM exit reason name. */
  detail: string;
  /** Register dump lines for failures (when KVM could still give them). */
  registers?: string[];
}

export interface LoopStats {
  exits: number;
  ioExits: number;
  mmioExits: number;
  kicks: number;
}

export interface LoopControl {
  /** The host wants the VM stopped (checked after every exit). */
  stopRequested(): boolean;
  /** Consumes the pending kick signal after KVM_RUN returned EINTR. */
  consumeKick(): void;
  /** Called after every exit: moves host input into devices, flushes output, etc. */
  service(): void;
}

export const KILLED_STATUS = 137;
export const FAILURE_STATUS = 255;
const MAX_MMIO_LEN = 8;

export function runLoop(vcpu: Vcpu, bus: IoBus, exitPort: ExitPort, ctl: LoopControl, stats: LoopStats, mmio?: MmioBus): VmExit {
  const fail = (reason: ExitReason, detail: string): VmExit => {
    let registers: string[];
    try {
      registers = formatRegisters(vcpu.getRegs(), vcpu.getSregs());
    } catch (e) {
      registers = [`registers unavailable: ${e instanceof Error ? e.message : String(e)}`];
    }
    return { status: FAILURE_STATUS, reason, detail, registers };
  };
  const run = vcpu.run;
  for (;;) {
    const err = vcpu.enter();
    if (err === EINTR) {
      stats.kicks++;
      ctl.consumeKick();
      if (ctl.stopRequested()) return { status: KILLED_STATUS, reason: "killed", detail: "stopped by the host" };
      ctl.service();
      continue;
    }
    if (err === EAGAIN) continue;
    if (err !== 0) return fail("vmm-error", `KVM_RUN failed with errno ${err}`);
    stats.exits++;
    const reason = run.getUint32(RUN.exitReason, true);
    switch (reason) {
      case EXIT.IO: {
        stats.ioExits++;
        const isOut = run.getUint8(RUN.ioDirection) === IO_DIRECTION.OUT;
        const size = run.getUint8(RUN.ioSize);
        const port = run.getUint16(RUN.ioPort, true);
        const count = run.getUint32(RUN.ioCount, true);
        const offset = Number(run.getBigUint64(RUN.ioDataOffset, true));
        const len = size * count;
        if (!Number.isSafeInteger(offset) || offset < 0 || offset > vcpu.runBytes.length || len > vcpu.runBytes.length - offset)
          return fail("vmm-error", `KVM_EXIT_IO data (${count}x${size} at ${offset}) is outside the kvm_run page`);
        try {
          bus.serveExit(isOut, port, size, count, vcpu.runBytes.subarray(offset, offset + len));
        } catch (e) {
          return fail("vmm-error", `port 0x${port.toString(16)}: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (exitPort.status !== undefined) {
          ctl.service();
          return { status: exitPort.status, reason: "exit", detail: `guest wrote ${exitPort.status} to the exit port` };
        }
        break;
      }
      case EXIT.MMIO: {
        // Device windows (virtio-mmio) on the bus; elsewhere reads see all ones, writes vanish.
        stats.mmioExits++;
        const len = run.getUint32(RUN.mmioLen, true);
        if (len > MAX_MMIO_LEN) return fail("vmm-error", `KVM_EXIT_MMIO of ${len} bytes`);
        const isWrite = run.getUint8(RUN.mmioIsWrite) !== 0;
        if (!mmio) {
          if (!isWrite) vcpu.runBytes.fill(0xff, RUN.mmioData, RUN.mmioData + len);
          break;
        }
        const addr = Number(run.getBigUint64(RUN.mmioPhysAddr, true));
        try {
          mmio.serve(addr, isWrite, vcpu.runBytes.subarray(RUN.mmioData, RUN.mmioData + len));
        } catch (e) {
          return fail("vmm-error", `MMIO ${isWrite ? "write" : "read"} at 0x${addr.toString(16)}: ${e instanceof Error ? e.message : String(e)}`);
        }
        break;
      }
      case EXIT.IRQ_WINDOW_OPEN:
      case EXIT.INTR:
        break;
      case EXIT.SHUTDOWN:
        return fail("triple-fault", "KVM_EXIT_SHUTDOWN: the guest triple-faulted (an exception while handling an exception)");
      case EXIT.INTERNAL_ERROR: {
        const sub = run.getUint32(RUN.internalSuberror, true);
        const ndata = Math.min(run.getUint32(RUN.internalNdata, true), 16);
        const data: string[] = [];
        for (let i = 0; i < ndata; i++) data.push(`0x${run.getBigUint64(RUN.internalData + i * 8, true).toString(16)}`);
        const hint = sub === 1 ? " (an instruction KVM cannot emulate, e.g. SSE at CPL 0 on kvm-pvm)" : "";
        return fail("internal-error", `KVM_EXIT_INTERNAL_ERROR: ${internalSuberrorName(sub)}${hint}${data.length ? ` data ${data.join(" ")}` : ""}`);
      }
      case EXIT.FAIL_ENTRY: {
        const hw = run.getBigUint64(RUN.failEntryReason, true);
        return fail("fail-entry", `KVM_EXIT_FAIL_ENTRY: hardware entry failure reason 0x${hw.toString(16)} on cpu ${run.getUint32(RUN.failEntryCpu, true)}`);
      }
      case EXIT.HLT:
        return fail("halted", "KVM_EXIT_HLT: the guest halted without writing the exit port");
      case EXIT.SYSTEM_EVENT:
        return fail("system-event", `KVM_EXIT_SYSTEM_EVENT type ${run.getUint32(RUN.systemEventType, true)}`);
      default:
        return fail("unknown-exit", `${exitReasonName(reason)}: not handled by Kiln's VMM`);
    }
    if (ctl.stopRequested()) return { status: KILLED_STATUS, reason: "killed", detail: "stopped by the host" };
    ctl.service();
  }
}
