// /dev/kvm through koffi: one VM with one memory slot, an in-kernel irqchip (so the guest's
// LAPIC timer works) and one vCPU whose kvm_run page is read with a DataView. Written from the
// KVM API documentation (Documentation/virt/kvm/api.rst); every struct offset comes from abi.ts,
// which is checked against linux/kvm.h. NOT exercised on the development machine (no /dev/kvm).
import { CAP, CPUID2, IOCTL, IOEVENTFD, IOEVENTFD_FLAG, IRQFD, IRQ_LEVEL, KVM_API_VERSION, MEMORY_REGION, SIZE } from "./abi.ts";
import { decodeRegs, decodeSregs, encodeRegs, encodeSregs, type Regs, type Sregs } from "./boot-state.ts";
import { decodeCpuid, encodeCpuid, tuneCpuid, type CpuidTuning } from "./cpuid.ts";
import { KvmError } from "./errors.ts";
import { IDENTITY_MAP_ADDR, TSS_ADDR } from "./layout.ts";
import type { ResourceLedger } from "./resources.ts";
import type { Vcpu } from "./run-loop.ts";
import {
  E2BIG,
  KERNEL_SIGSET_BYTES,
  MAP_ANONYMOUS,
  MAP_FAILED,
  MAP_NORESERVE,
  MAP_PRIVATE,
  MAP_SHARED,
  O_CLOEXEC,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
  sysError,
  type Sys,
} from "./sys.ts";

const REQUIRED_CAPS: Array<[keyof typeof CAP, string]> = [
  ["USER_MEMORY", "user memory regions"],
  ["IRQCHIP", "an in-kernel irqchip"],
  ["SET_TSS_ADDR", "KVM_SET_TSS_ADDR"],
  ["EXT_CPUID", "KVM_GET_SUPPORTED_CPUID"],
];

/** Largest CPUID table we ask for; KVM reports E2BIG until the buffer is large enough. */
const MAX_CPUID_ENTRIES = 1024;

/** What the worker needs from a vCPU (KvmVcpu, or a fake in tests). */
export interface MachineVcpu extends Vcpu {
  setRegs(regs: Regs): void;
  setSregs(sregs: Sregs): void;
  setSignalMask(kernelSigset: Uint8Array): void;
}

export class KvmVcpu implements MachineVcpu {
  readonly fd: number;
  /** The mmap'd struct kvm_run. */
  readonly run: DataView;
  readonly runBytes: Uint8Array;
  private readonly sys: Sys;
  private readonly regsBuf = new Uint8Array(SIZE.regs);
  private readonly sregsBuf = new Uint8Array(SIZE.sregs);

  constructor(sys: Sys, fd: number, runAddr: bigint, runSize: number) {
    this.sys = sys;
    this.fd = fd;
    const ab = sys.view(runAddr, runSize);
    this.run = new DataView(ab);
    this.runBytes = new Uint8Array(ab);
  }

  private check(call: string, rc: number): void {
    if (rc < 0) throw sysError(this.sys, call);
  }

  /** One KVM_RUN: 0, or the errno (EINTR when kicked, EAGAIN) for the loop to handle. */
  enter(): number {
    const rc = this.sys.ioctl(this.fd, IOCTL.RUN, 0);
    return rc < 0 ? this.sys.errno() : 0;
  }

  getRegs(): Regs {
    this.check("KVM_GET_REGS", this.sys.ioctlBuf(this.fd, IOCTL.GET_REGS, this.regsBuf));
    return decodeRegs(this.regsBuf);
  }

  setRegs(regs: Regs): void {
    this.check("KVM_SET_REGS", this.sys.ioctlBuf(this.fd, IOCTL.SET_REGS, encodeRegs(regs, this.regsBuf)));
  }

  getSregs(): Sregs {
    this.check("KVM_GET_SREGS", this.sys.ioctlBuf(this.fd, IOCTL.GET_SREGS, this.sregsBuf));
    return decodeSregs(this.sregsBuf);
  }

  /** Writes over the buffer the last getSregs filled, so fields not modelled keep KVM's values. */
  setSregs(sregs: Sregs): void {
    this.check("KVM_SET_SREGS", this.sys.ioctlBuf(this.fd, IOCTL.SET_SREGS, encodeSregs(sregs, this.sregsBuf)));
  }

  setCpuid(table: Uint8Array): void {
    this.check("KVM_SET_CPUID2", this.sys.ioctlBuf(this.fd, IOCTL.SET_CPUID2, table));
  }

  /**
   * The signal mask in force only while inside KVM_RUN: the thread blocks the kick signal
   * outside, this mask leaves it open inside, so a kick makes KVM_RUN return EINTR and stays
   * pending (never delivered) for the loop to consume.
   */
  setSignalMask(kernelSigset: Uint8Array): void {
    const buf = new Uint8Array(SIZE.signalMaskHeader + KERNEL_SIGSET_BYTES);
    new DataView(buf.buffer).setUint32(0, KERNEL_SIGSET_BYTES, true);
    buf.set(kernelSigset.subarray(0, KERNEL_SIGSET_BYTES), SIZE.signalMaskHeader);
    this.check("KVM_SET_SIGNAL_MASK", this.sys.ioctlBuf(this.fd, IOCTL.SET_SIGNAL_MASK, buf));
  }
}

export interface KvmMachine {
  memory: Uint8Array;
  /** Where guest RAM is mapped in this process (another thread can view it there). */
  ramAddress: bigint;
  vcpu: MachineVcpu;
  irqLine(irq: number, level: boolean): void;
  /**
   * KVM_IOEVENTFD: a guest write of `len` bytes equal to `datamatch` at guest-physical `addr`
   * signals `fd` inside KVM, with no exit to the VMM. Absent where it cannot be done (fakes).
   */
  ioeventfd?(addr: number, len: number, datamatch: number, fd: number): void;
  /** KVM_IRQFD: writing `fd` injects interrupt `gsi` (through the in-kernel irqchip). */
  irqfd?(fd: number, gsi: number): void;
}

/** A KVM machine with the handles a pooled shell needs to save and reset it (shell.ts). */
export interface KvmHandles extends KvmMachine {
  vcpu: KvmVcpu;
  vmFd: number;
}

/** Opens /dev/kvm and checks the API version and the capabilities the VMM relies on. */
export function openKvm(sys: Sys, ledger: ResourceLedger): number {
  const fd = sys.open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) throw sysError(sys, "open /dev/kvm");
  ledger.fd("/dev/kvm", fd);
  const version = sys.ioctl(fd, IOCTL.GET_API_VERSION, 0);
  if (version !== KVM_API_VERSION)
    throw new KvmError("KVM_GET_API_VERSION", 0, `API version ${version}, expected ${KVM_API_VERSION}`);
  for (const [cap, what] of REQUIRED_CAPS)
    if (sys.ioctl(fd, IOCTL.CHECK_EXTENSION, CAP[cap]) <= 0)
      throw new KvmError("KVM_CHECK_EXTENSION", 0, `this kernel's KVM lacks ${what} (KVM_CAP_${cap})`);
  return fd;
}

/** KVM_GET_SUPPORTED_CPUID into a struct kvm_cpuid2 buffer, growing it while KVM says E2BIG. */
export function supportedCpuid(sys: Sys, kvmFd: number): Uint8Array {
  for (let n = 64; n <= MAX_CPUID_ENTRIES; n *= 2) {
    const buf = new Uint8Array(SIZE.cpuid2Header + n * SIZE.cpuidEntry2);
    new DataView(buf.buffer).setUint32(CPUID2.nent, n, true);
    if (sys.ioctlBuf(kvmFd, IOCTL.GET_SUPPORTED_CPUID, buf) >= 0) {
      const nent = new DataView(buf.buffer).getUint32(CPUID2.nent, true);
      if (nent > n) throw new KvmError("KVM_GET_SUPPORTED_CPUID", 0, `returned ${nent} entries for a buffer of ${n}`);
      return buf.slice(0, SIZE.cpuid2Header + nent * SIZE.cpuidEntry2);
    }
    if (sys.errno() !== E2BIG) throw sysError(sys, "KVM_GET_SUPPORTED_CPUID");
  }
  throw new KvmError("KVM_GET_SUPPORTED_CPUID", E2BIG, `more than ${MAX_CPUID_ENTRIES} entries`);
}

/**
 * Creates the VM: TSS and identity-map pages in the 3-4 GiB hole (needed by Intel VMX), the
 * in-kernel irqchip (PIC, IOAPIC, per-vCPU LAPIC) and PIT, guest RAM as one anonymous mapping
 * in slot 0 at guest-physical 0, and vCPU 0 with the host's supported CPUID.
 */
export function createMachine(sys: Sys, ledger: ResourceLedger, memoryBytes: number): KvmHandles {
  const kvmFd = openKvm(sys, ledger);
  const check = (call: string, rc: number): number => {
    if (rc < 0) throw sysError(sys, call);
    return rc;
  };

  const vmFd = ledger.fd("vm", check("KVM_CREATE_VM", sys.ioctl(kvmFd, IOCTL.CREATE_VM, 0)));
  check("KVM_SET_TSS_ADDR", sys.ioctl(vmFd, IOCTL.SET_TSS_ADDR, TSS_ADDR));
  const idmap = new Uint8Array(8);
  new DataView(idmap.buffer).setBigUint64(0, BigInt(IDENTITY_MAP_ADDR), true);
  check("KVM_SET_IDENTITY_MAP_ADDR", sys.ioctlBuf(vmFd, IOCTL.SET_IDENTITY_MAP_ADDR, idmap));
  check("KVM_CREATE_IRQCHIP", sys.ioctl(vmFd, IOCTL.CREATE_IRQCHIP, 0));
  if (sys.ioctl(kvmFd, IOCTL.CHECK_EXTENSION, CAP.PIT2) > 0)
    check("KVM_CREATE_PIT2", sys.ioctlBuf(vmFd, IOCTL.CREATE_PIT2, new Uint8Array(SIZE.pitConfig)));

  const ramAddr = sys.mmap(memoryBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (ramAddr === MAP_FAILED || ramAddr === 0n) throw sysError(sys, `mmap of ${memoryBytes} bytes of guest RAM`);
  ledger.mapping("guest RAM", ramAddr, memoryBytes);
  const region = new Uint8Array(SIZE.userspaceMemoryRegion);
  const rv = new DataView(region.buffer);
  rv.setUint32(MEMORY_REGION.slot, 0, true);
  rv.setUint32(MEMORY_REGION.flags, 0, true);
  rv.setBigUint64(MEMORY_REGION.guestPhysAddr, 0n, true);
  rv.setBigUint64(MEMORY_REGION.memorySize, BigInt(memoryBytes), true);
  rv.setBigUint64(MEMORY_REGION.userspaceAddr, ramAddr, true);
  check("KVM_SET_USER_MEMORY_REGION", sys.ioctlBuf(vmFd, IOCTL.SET_USER_MEMORY_REGION, region));

  const vcpuFd = ledger.fd("vcpu 0", check("KVM_CREATE_VCPU", sys.ioctl(vmFd, IOCTL.CREATE_VCPU, 0)));
  const runSize = check("KVM_GET_VCPU_MMAP_SIZE", sys.ioctl(kvmFd, IOCTL.GET_VCPU_MMAP_SIZE, 0));
  if (runSize < 4096) throw new KvmError("KVM_GET_VCPU_MMAP_SIZE", 0, `kvm_run size ${runSize} is too small`);
  const runAddr = sys.mmap(runSize, PROT_READ | PROT_WRITE, MAP_SHARED, vcpuFd, 0);
  if (runAddr === MAP_FAILED || runAddr === 0n) throw sysError(sys, "mmap of the vCPU's kvm_run");
  ledger.mapping("vcpu 0 kvm_run", runAddr, runSize);
  const vcpu = new KvmVcpu(sys, vcpuFd, runAddr, runSize);
  const tscKhz = sys.ioctl(kvmFd, IOCTL.CHECK_EXTENSION, CAP.GET_TSC_KHZ) > 0 ? sys.ioctl(vcpuFd, IOCTL.GET_TSC_KHZ, 0) : -1;
  const tuning: CpuidTuning = { tscDeadline: sys.ioctl(kvmFd, IOCTL.CHECK_EXTENSION, CAP.TSC_DEADLINE_TIMER) > 0 };
  if (tscKhz > 0) tuning.tscKhz = tscKhz;
  vcpu.setCpuid(encodeCpuid(tuneCpuid(decodeCpuid(supportedCpuid(sys, kvmFd)), tuning)));
  const eventfds = sys.ioctl(kvmFd, IOCTL.CHECK_EXTENSION, CAP.IOEVENTFD) > 0 && sys.ioctl(kvmFd, IOCTL.CHECK_EXTENSION, CAP.IRQFD) > 0;
  // The VM and vCPU fds keep the VM alive; /dev/kvm itself is no longer needed.
  ledger.releaseOne((r) => r.kind === "fd" && r.fd === kvmFd);

  const irqBuf = new Uint8Array(SIZE.irqLevel);
  const irqView = new DataView(irqBuf.buffer);
  return {
    memory: new Uint8Array(sys.view(ramAddr, memoryBytes)),
    ramAddress: ramAddr,
    vcpu,
    vmFd,
    ...(eventfds
      ? {
          ioeventfd(addr: number, len: number, datamatch: number, fd: number): void {
            const b = new Uint8Array(SIZE.ioeventfd);
            const v = new DataView(b.buffer);
            v.setBigUint64(IOEVENTFD.datamatch, BigInt(datamatch), true);
            v.setBigUint64(IOEVENTFD.addr, BigInt(addr), true);
            v.setUint32(IOEVENTFD.len, len, true);
            v.setInt32(IOEVENTFD.fd, fd, true);
            v.setUint32(IOEVENTFD.flags, IOEVENTFD_FLAG.DATAMATCH, true);
            check("KVM_IOEVENTFD", sys.ioctlBuf(vmFd, IOCTL.IOEVENTFD, b));
          },
          irqfd(fd: number, gsi: number): void {
            const b = new Uint8Array(SIZE.irqfd);
            const v = new DataView(b.buffer);
            v.setUint32(IRQFD.fd, fd, true);
            v.setUint32(IRQFD.gsi, gsi, true);
            check("KVM_IRQFD", sys.ioctlBuf(vmFd, IOCTL.IRQFD, b));
          },
        }
      : {}),
    irqLine(irq: number, level: boolean): void {
      irqView.setUint32(IRQ_LEVEL.irq, irq, true);
      irqView.setUint32(IRQ_LEVEL.level, level ? 1 : 0, true);
      check("KVM_IRQ_LINE", sys.ioctlBuf(vmFd, IOCTL.IRQ_LINE, irqBuf));
    },
  };
}
