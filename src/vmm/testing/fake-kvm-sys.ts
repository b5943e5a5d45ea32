// Test support: a Sys whose /dev/kvm is simulated, so kvm.ts and the worker's real setup code
// run unchanged: every ioctl is recorded with a copy of its argument buffer, mmaps are real
// anonymous mappings (so koffi views work), and KVM_RUN replays scripted exits into the
// kvm_run mapping.
import { CPUID2, CPUID_ENTRY2, EXIT, IOCTL, IO_DIRECTION, KVM_API_VERSION, RUN, SIZE } from "../abi.ts";
import { E2BIG, EINTR, MAP_ANONYMOUS, MAP_PRIVATE, loadSys, type Sys } from "../sys.ts";

export interface IoctlCall {
  fd: number;
  req: number;
  name: string;
  arg: number | Uint8Array;
}

export type RunScript = (run: DataView, bytes: Uint8Array, memory: Uint8Array | undefined) => number;

const NAMES = new Map(Object.entries(IOCTL).map(([k, v]) => [v, k]));
export const RUN_SIZE = 12288;
const KVM_FD = 100, VM_FD = 101, VCPU_FD = 102;

export class FakeKvmSys implements Sys {
  readonly calls: IoctlCall[] = [];
  readonly closed: number[] = [];
  readonly unmapped: bigint[] = [];
  /** Entries KVM_GET_SUPPORTED_CPUID reports (it says E2BIG for smaller buffers). */
  cpuidEntries = 80;
  /** A request that fails (with errno) when reached. */
  failOn: { req: number; errno: number } | undefined;
  apiVersion = KVM_API_VERSION;
  missingCaps = new Set<number>();
  tscKhz = 2_000_000;
  private lastErrno = 0;
  private readonly real = loadSys();
  private runMap: bigint | undefined;
  private ramMap: { addr: bigint; len: number } | undefined;
  private readonly script: RunScript[];
  blockedSignals: Uint8Array | undefined;

  constructor(script: RunScript[] = []) {
    this.script = [...script];
  }

  open(path: string): number {
    if (path !== "/dev/kvm") return this.fail(2);
    return KVM_FD;
  }
  close(fd: number): number {
    this.closed.push(fd);
    return 0;
  }
  private fail(e: number): number {
    this.lastErrno = e;
    return -1;
  }
  private record(fd: number, req: number, arg: number | Uint8Array): number | undefined {
    this.calls.push({ fd, req, name: NAMES.get(req as never) ?? `0x${req.toString(16)}`, arg: typeof arg === "number" ? arg : arg.slice() });
    if (this.failOn && this.failOn.req === req) return this.fail(this.failOn.errno);
    return undefined;
  }
  ioctl(fd: number, req: number, arg: number): number {
    const f = this.record(fd, req, arg);
    if (f !== undefined) return f;
    switch (req) {
      case IOCTL.GET_API_VERSION:
        return this.apiVersion;
      case IOCTL.CHECK_EXTENSION:
        return this.missingCaps.has(arg) ? 0 : 1;
      case IOCTL.CREATE_VM:
        return VM_FD;
      case IOCTL.CREATE_VCPU:
        return VCPU_FD;
      case IOCTL.GET_VCPU_MMAP_SIZE:
        return RUN_SIZE;
      case IOCTL.GET_TSC_KHZ:
        return this.tscKhz;
      case IOCTL.RUN: {
        const step = this.script.shift();
        if (!step || this.runMap === undefined) return this.fail(EINTR);
        const bytes = new Uint8Array(this.real.view(this.runMap, RUN_SIZE));
        const mem = this.ramMap ? new Uint8Array(this.real.view(this.ramMap.addr, this.ramMap.len)) : undefined;
        const e = step(new DataView(bytes.buffer), bytes, mem);
        return e === 0 ? 0 : this.fail(e);
      }
      default:
        return 0;
    }
  }
  ioctlBuf(fd: number, req: number, buf: Uint8Array): number {
    const f = this.record(fd, req, buf);
    if (f !== undefined) return f;
    if (req === IOCTL.GET_SUPPORTED_CPUID) {
      const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      if (v.getUint32(CPUID2.nent, true) < this.cpuidEntries) return this.fail(E2BIG);
      v.setUint32(CPUID2.nent, this.cpuidEntries, true);
      for (let i = 0; i < this.cpuidEntries; i++) {
        const at = SIZE.cpuid2Header + i * SIZE.cpuidEntry2;
        const fn = i === 0 ? 0 : i === 1 ? 1 : i === 2 ? 0x40000000 : 0x80000000 + i;
        v.setUint32(at + CPUID_ENTRY2.function, fn, true);
        v.setUint32(at + CPUID_ENTRY2.eax, fn === 0x40000000 ? 0x40000001 : i, true);
      }
    }
    if (req === IOCTL.GET_SREGS) buf.fill(0);
    return 0;
  }
  mmap(len: number, prot: number, flags: number, fd: number, offset: number): bigint {
    const addr = this.real.mmap(len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, offset);
    if (fd === VCPU_FD) this.runMap = addr;
    else this.ramMap = { addr, len };
    void flags;
    return addr;
  }
  munmap(addr: bigint, len: number): number {
    this.unmapped.push(addr);
    return this.real.munmap(addr, len);
  }
  madvise(addr: bigint, len: number, advice: number): number {
    return this.real.madvise(addr, len, advice);
  }
  mincore(addr: bigint, len: number, vec: Uint8Array): number {
    return this.real.mincore(addr, len, vec);
  }
  view(addr: bigint, len: number): ArrayBuffer {
    return this.real.view(addr, len);
  }
  errno(): number {
    return this.lastErrno;
  }
  strerror(e: number): string {
    return this.real.strerror(e);
  }
  pthreadSelf(): bigint {
    return 1n;
  }
  pthreadKill(): number {
    return 0;
  }
  pthreadSigmask(_how: number, set: Uint8Array | null, old: Uint8Array | null): number {
    if (set) this.blockedSignals = set.slice();
    old?.fill(0);
    return 0;
  }
  sigtimedwaitNow(): number {
    return -1;
  }
  sigtimedwait(): number {
    return -1;
  }
}

/** A scripted OUT exit of `data` bytes (rep outsb when longer than one). */
export function out(port: number, data: number[]): RunScript {
  return (run, bytes) => {
    run.setUint32(RUN.exitReason, EXIT.IO, true);
    run.setUint8(RUN.ioDirection, IO_DIRECTION.OUT);
    run.setUint8(RUN.ioSize, 1);
    run.setUint16(RUN.ioPort, port, true);
    run.setUint32(RUN.ioCount, data.length, true);
    run.setBigUint64(RUN.ioDataOffset, 4096n, true);
    bytes.set(data, 4096);
    return 0;
  };
}

export const FAKE_FDS = { kvm: KVM_FD, vm: VM_FD, vcpu: VCPU_FD };
