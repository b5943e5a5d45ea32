// A VM shell: a KVM VM with its irqchip, PIT, memory slot, vCPU, CPUID and kvm_run mapping, made
// ahead of need for the warm pool (Vm.pool). Creating a VM costs ~10 ms on kvm-pvm (the memory
// slot) and destroying one ~17 ms, so a pooled shell is made once and reset between guests.
// Reset puts back the state KVM reported when the shell was new (machine-state.ts) and zeroes
// guest RAM, so the next guest sees a machine indistinguishable from a new one.
import { CAP, IOCTL, RUN } from "./abi.ts";
import { KICK_SIGNAL } from "./control.ts";
import { KvmError } from "./errors.ts";
import { createMachine, openKvm, type KvmHandles, type KvmMachine } from "./kvm.ts";
import { captureState, readState, restoreState, type MachineState } from "./machine-state.ts";
import { ResourceLedger, type LedgerSummary } from "./resources.ts";
import { EINTR, MADV_DONTNEED, sigset, sysError, type Sys } from "./sys.ts";

/** How a reset clears guest RAM: write zeros, or give the pages back (fresh zero pages on touch). */
export type RamReset = "fill" | "madvise";

/** What the vCPU worker needs of a shell (KvmShell, or a fake in tests). */
export interface Shell {
  readonly memory: number;
  readonly machine: KvmMachine;
  /** Makes the machine as new; throws if KVM refuses (the shell must then be destroyed). */
  reset(): void;
  /** Releases every fd and mapping (closing the VM fd is the slow part). */
  destroy(): LedgerSummary;
}

export type ShellFactory = (sys: Sys, memory: number) => Shell;

/** The RAM reset used unless KILN_VMM_RAM_RESET says otherwise (see docs/vmm.md for the figures). */
export const DEFAULT_RAM_RESET: RamReset = "madvise";

export class KvmShell implements Shell {
  readonly memory: number;
  readonly machine: KvmHandles;
  readonly state: MachineState;
  private readonly sys: Sys;
  private readonly ledger: ResourceLedger;
  private readonly ramReset: RamReset;
  private readonly kickSet = sigset(KICK_SIGNAL);
  /** A guest's virtio devices registered eventfds in the VM (KVM_IOEVENTFD, KVM_IRQFD). */
  private eventfdsUsed = false;

  private constructor(sys: Sys, ledger: ResourceLedger, machine: KvmHandles, state: MachineState, memory: number, ramReset: RamReset) {
    this.sys = sys;
    this.ledger = ledger;
    this.machine = machine;
    this.state = state;
    this.memory = memory;
    this.ramReset = ramReset;
    // The eventfds a guest's devices register stay in the VM; no reset takes them out yet, so a
    // shell whose guest registered any is destroyed, not reused (reset() refuses).
    const { ioeventfd, irqfd } = machine;
    if (ioeventfd) machine.ioeventfd = (...a) => ((this.eventfdsUsed = true), ioeventfd.apply(machine, a));
    if (irqfd) machine.irqfd = (...a) => ((this.eventfdsUsed = true), irqfd.apply(machine, a));
  }

  static create(sys: Sys, memory: number, ramReset: RamReset = ramResetFromEnv()): KvmShell {
    const ledger = new ResourceLedger(sys);
    try {
      const machine = createMachine(sys, ledger, memory);
      const kvmFd = openKvm(sys, ledger);
      if (sys.ioctl(kvmFd, IOCTL.CHECK_EXTENSION, CAP.IMMEDIATE_EXIT) <= 0)
        throw new KvmError("KVM_CHECK_EXTENSION", 0, "this kernel's KVM lacks KVM_CAP_IMMEDIATE_EXIT, so a VM shell cannot be reset");
      const state = captureState(sys, kvmFd, machine.vmFd, machine.vcpu.fd);
      ledger.releaseOne((r) => r.kind === "fd" && r.fd === kvmFd);
      return new KvmShell(sys, ledger, machine, state, memory, ramReset);
    } catch (e) {
      ledger.release();
      throw e;
    }
  }

  reset(): void {
    if (this.eventfdsUsed) throw new KvmError("reset", 0, "the last guest's virtio devices registered eventfds in this VM");
    const { vcpu } = this.machine;
    // KVM finishes an exit's I/O or MMIO only at the next KVM_RUN; with immediate_exit set that
    // run completes it and returns EINTR without entering the guest (KVM's API doc, KVM_RUN).
    vcpu.run.setUint8(RUN.immediateExit, 1);
    const err = vcpu.enter();
    vcpu.run.setUint8(RUN.immediateExit, 0);
    if (err !== EINTR && err !== 0) throw new KvmError("KVM_RUN", err, `(immediate exit before a reset) failed with errno ${err}`);
    // A kick that arrived after the guest's last exit stays pending: consume it.
    while (this.sys.sigtimedwaitNow(this.kickSet) > 0);
    restoreState(this.sys, this.state);
    vcpu.run.setUint8(0, 0); // request_interrupt_window
    if (this.ramReset === "madvise") {
      if (this.sys.madvise(this.machine.ramAddress, this.memory, MADV_DONTNEED) !== 0) throw sysError(this.sys, "madvise(MADV_DONTNEED) of guest RAM");
    } else {
      this.machine.memory.fill(0);
    }
  }

  /** The current KVM state, part by part (for tests comparing a reset shell with a new one). */
  readState(): Map<string, Uint8Array> {
    return readState(this.sys, this.state);
  }

  destroy(): LedgerSummary {
    this.ledger.release();
    return this.ledger.summary();
  }
}

function ramResetFromEnv(): RamReset {
  const v = process.env.KILN_VMM_RAM_RESET;
  return v === "madvise" || v === "fill" ? v : DEFAULT_RAM_RESET;
}

export const createShell: ShellFactory = (sys, memory) => KvmShell.create(sys, memory);
