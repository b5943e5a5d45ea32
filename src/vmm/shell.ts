// A VM shell: a KVM VM with its irqchip, PIT, memory slot, vCPU, CPUID and kvm_run mapping, made
// ahead of need for the warm pool (Vm.pool). Creating a VM costs ~10 ms on kvm-pvm (the memory
// slot) and destroying one ~17 ms, so a pooled shell is made once and reset between guests.
// Reset puts back the state KVM reported when the shell was new (machine-state.ts) and zeroes
// guest RAM, so the next guest sees a machine indistinguishable from a new one.
import { CAP, IOCTL, RUN } from "./abi.ts";
import { PAGE_SIZE } from "./layout.ts";
import { KICK_SIGNAL } from "./control.ts";
import { KvmError } from "./errors.ts";
import { createMachine, openKvm, type KvmHandles, type KvmMachine } from "./kvm.ts";
import { captureState, readState, restoreState, type MachineState } from "./machine-state.ts";
import { ResourceLedger, type LedgerSummary } from "./resources.ts";
import { EINTR, MADV_DONTNEED, sigset, sysError, type Sys } from "./sys.ts";

/**
 * How a reset clears guest RAM: write zeros over all of it; give all pages back (fresh zero pages
 * on touch); or "resident": zeros over the pages that are resident (mincore), the others given
 * back. Resident pages stay mapped, in the host and in KVM, so the next guest does not fault
 * them in again, and the cost follows what guests touch, not the memory size. A page swapped
 * out is not resident and is given back, its swap slot with it: nothing survives either way.
 */
export type RamReset = "fill" | "madvise" | "resident";

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
export const DEFAULT_RAM_RESET: RamReset = "resident";

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
    if (this.ramReset === "madvise") this.giveBack(0, this.memory);
    else if (this.ramReset === "fill") this.machine.memory.fill(0);
    else this.zeroResident();
  }

  private giveBack(offset: number, len: number): void {
    if (this.sys.madvise(this.machine.ramAddress + BigInt(offset), len, MADV_DONTNEED) !== 0) throw sysError(this.sys, "madvise(MADV_DONTNEED) of guest RAM");
  }

  private residency: Uint8Array | undefined;

  /** Zeros over the resident runs of pages, the rest given back (see RamReset). */
  private zeroResident(): void {
    const pages = Math.ceil(this.memory / PAGE_SIZE);
    const vec = (this.residency ??= new Uint8Array(pages));
    if (this.sys.mincore(this.machine.ramAddress, this.memory, vec) !== 0) throw sysError(this.sys, "mincore of guest RAM");
    const ram = this.machine.memory;
    for (let p = 0; p < pages; ) {
      const resident = vec[p]! & 1;
      let end = p + 1;
      while (end < pages && (vec[end]! & 1) === resident) end++;
      const from = p * PAGE_SIZE;
      const to = Math.min(end * PAGE_SIZE, this.memory);
      if (resident) ram.fill(0, from, to);
      else this.giveBack(from, to - from);
      p = end;
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
  return v === "madvise" || v === "fill" || v === "resident" ? v : DEFAULT_RAM_RESET;
}

export const createShell: ShellFactory = (sys, memory) => KvmShell.create(sys, memory);
