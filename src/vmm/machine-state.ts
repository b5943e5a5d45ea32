// Everything KVM keeps about a VM and its vCPU that a guest can change, read as raw structs so a
// pooled shell can be put back exactly as it was when new (shell.ts): registers, segment and
// control registers, FPU/SSE/AVX (XSAVE), XCR0, debug registers, pending exceptions, interrupts
// and NMIs, the MP state, every MSR KVM saves (its KVM_GET_MSR_INDEX_LIST), the LAPIC, the PIC
// pair and IOAPIC, the PIT and the kvmclock. The buffers are KVM's own bytes: nothing is decoded,
// so no field can be forgotten.
import { CAP, IOCTL, IRQCHIP, MSRS, SIZE, VCPU_EVENTS } from "./abi.ts";
import { KvmError } from "./errors.ts";
import { E2BIG, sysError, type Sys } from "./sys.ts";

/** One piece of state: the fd it belongs to, its GET and SET requests and the saved bytes. */
export interface StatePart {
  name: string;
  fd: number;
  set: number;
  bytes: Uint8Array;
}

export interface MachineState {
  /** In the order they are put back (the order QEMU uses: sregs before MSRs, LAPIC after both). */
  parts: StatePart[];
  /** MSRs KVM lists but refuses to read or write on this host (left out, named for the report). */
  skippedMsrs: number[];
}

const MAX_MSRS = 4096;

/** KVM_GET_MSR_INDEX_LIST on the /dev/kvm fd: the MSRs KVM saves and restores for migration. */
export function msrIndexList(sys: Sys, kvmFd: number): number[] {
  const probe = new Uint8Array(SIZE.msrListHeader);
  if (sys.ioctlBuf(kvmFd, IOCTL.GET_MSR_INDEX_LIST, probe) >= 0) return [];
  if (sys.errno() !== E2BIG) throw sysError(sys, "KVM_GET_MSR_INDEX_LIST");
  const n = new DataView(probe.buffer).getUint32(0, true);
  if (n > MAX_MSRS) throw new KvmError("KVM_GET_MSR_INDEX_LIST", 0, `${n} MSRs listed`);
  const buf = new Uint8Array(SIZE.msrListHeader + 4 * n);
  new DataView(buf.buffer).setUint32(0, n, true);
  if (sys.ioctlBuf(kvmFd, IOCTL.GET_MSR_INDEX_LIST, buf) < 0) throw sysError(sys, "KVM_GET_MSR_INDEX_LIST");
  const v = new DataView(buf.buffer);
  return Array.from({ length: Math.min(n, v.getUint32(0, true)) }, (_, i) => v.getUint32(SIZE.msrListHeader + 4 * i, true));
}

function msrBuffer(indices: number[]): Uint8Array {
  const buf = new Uint8Array(SIZE.msrsHeader + SIZE.msrEntry * indices.length);
  const v = new DataView(buf.buffer);
  v.setUint32(MSRS.nmsrs, indices.length, true);
  indices.forEach((idx, i) => v.setUint32(MSRS.entries + i * SIZE.msrEntry + MSRS.entryIndex, idx, true));
  return buf;
}

/**
 * Reads the MSRs, dropping the ones KVM will not read or write back here (KVM_GET/SET_MSRS stop
 * at the first such MSR and return how many they did). Writing the values just read to a new
 * vCPU changes nothing, so the write check is safe.
 */
function captureMsrs(sys: Sys, vcpuFd: number, listed: number[]): { bytes: Uint8Array; skipped: number[] } {
  let indices = [...listed];
  const skipped: number[] = [];
  for (let guard = 0; guard <= listed.length; guard++) {
    const buf = msrBuffer(indices);
    // Both calls return how many MSRs they did: the one after those is dropped and we retry.
    const all = (req: number, call: string): boolean => {
      const done = sys.ioctlBuf(vcpuFd, req, buf);
      if (done < 0) throw sysError(sys, call);
      if (done >= indices.length) return true;
      skipped.push(indices[done]!);
      indices = indices.filter((_, i) => i !== done);
      return false;
    };
    if (!all(IOCTL.GET_MSRS, "KVM_GET_MSRS") || !all(IOCTL.SET_MSRS, "KVM_SET_MSRS")) continue;
    return { bytes: buf, skipped };
  }
  throw new KvmError("KVM_GET_MSRS", 0, "could not settle the MSR list");
}

/**
 * Saves the state of a VM that has not run yet. `kvmFd` (an open /dev/kvm) answers the
 * capability questions and lists the MSRs.
 */
export function captureState(sys: Sys, kvmFd: number, vmFd: number, vcpuFd: number): MachineState {
  const has = (cap: number): number => sys.ioctl(kvmFd, IOCTL.CHECK_EXTENSION, cap);
  const parts: StatePart[] = [];
  const get = (name: string, fd: number, getReq: number, setReq: number, size: number, init?: (b: Uint8Array) => void): Uint8Array => {
    const bytes = new Uint8Array(size);
    init?.(bytes);
    if (sys.ioctlBuf(fd, getReq, bytes) < 0) throw sysError(sys, `KVM_GET_${name}`);
    parts.push({ name, fd, set: setReq, bytes });
    return bytes;
  };
  const required = (cap: keyof typeof CAP, what: string): void => {
    if (has(CAP[cap]) <= 0) throw new KvmError("KVM_CHECK_EXTENSION", 0, `this kernel's KVM cannot save ${what} (KVM_CAP_${cap}), so a VM shell cannot be reset`);
  };

  get("REGS", vcpuFd, IOCTL.GET_REGS, IOCTL.SET_REGS, SIZE.regs);
  const xsave2 = has(CAP.XSAVE2);
  if (xsave2 > 0) get("XSAVE", vcpuFd, IOCTL.GET_XSAVE2, IOCTL.SET_XSAVE, Math.max(SIZE.xsave, xsave2));
  else if (has(CAP.XSAVE) > 0) get("XSAVE", vcpuFd, IOCTL.GET_XSAVE, IOCTL.SET_XSAVE, SIZE.xsave);
  else get("FPU", vcpuFd, IOCTL.GET_FPU, IOCTL.SET_FPU, SIZE.fpu);
  if (has(CAP.XCRS) > 0) get("XCRS", vcpuFd, IOCTL.GET_XCRS, IOCTL.SET_XCRS, SIZE.xcrs);
  get("SREGS", vcpuFd, IOCTL.GET_SREGS, IOCTL.SET_SREGS, SIZE.sregs);
  const msrs = captureMsrs(sys, vcpuFd, msrIndexList(sys, kvmFd));
  parts.push({ name: "MSRS", fd: vcpuFd, set: IOCTL.SET_MSRS, bytes: msrs.bytes });
  required("VCPU_EVENTS", "pending exceptions and interrupts");
  const events = get("VCPU_EVENTS", vcpuFd, IOCTL.GET_VCPU_EVENTS, IOCTL.SET_VCPU_EVENTS, SIZE.vcpuEvents);
  // Put back the NMI-pending, SIPI and interrupt-shadow fields too, not only the always-set ones.
  const ev = new DataView(events.buffer);
  ev.setUint32(VCPU_EVENTS.flags, ev.getUint32(VCPU_EVENTS.flags, true) | VCPU_EVENTS.validNmiPending | VCPU_EVENTS.validSipiVector | VCPU_EVENTS.validShadow, true);
  required("MP_STATE", "the vCPU's run state");
  get("MP_STATE", vcpuFd, IOCTL.GET_MP_STATE, IOCTL.SET_MP_STATE, SIZE.mpState);
  get("LAPIC", vcpuFd, IOCTL.GET_LAPIC, IOCTL.SET_LAPIC, SIZE.lapicState);
  required("DEBUGREGS", "the debug registers");
  get("DEBUGREGS", vcpuFd, IOCTL.GET_DEBUGREGS, IOCTL.SET_DEBUGREGS, SIZE.debugregs);
  for (const [chip, id] of [["PIC master", IRQCHIP.picMaster], ["PIC slave", IRQCHIP.picSlave], ["IOAPIC", IRQCHIP.ioapic]] as const)
    get(`IRQCHIP (${chip})`, vmFd, IOCTL.GET_IRQCHIP, IOCTL.SET_IRQCHIP, SIZE.irqchip, (b) => new DataView(b.buffer).setUint32(IRQCHIP.chipId, id, true));
  if (has(CAP.PIT_STATE2) > 0 && has(CAP.PIT2) > 0) get("PIT2", vmFd, IOCTL.GET_PIT2, IOCTL.SET_PIT2, SIZE.pitState2);
  if (has(CAP.ADJUST_CLOCK) > 0) {
    const clock = get("CLOCK", vmFd, IOCTL.GET_CLOCK, IOCTL.SET_CLOCK, SIZE.clockData);
    // Flags say how GET_CLOCK computed the value; SET_CLOCK must just take the value back.
    clock.fill(0, 8);
  }
  return { parts, skippedMsrs: msrs.skipped };
}

/** Puts every saved part back; the first refusal throws (the shell is then destroyed). */
export function restoreState(sys: Sys, state: MachineState): void {
  for (const p of state.parts) {
    const rc = sys.ioctlBuf(p.fd, p.set, p.bytes);
    if (rc < 0) throw sysError(sys, `KVM_SET_${p.name}`);
    if (p.name === "MSRS" && rc !== new DataView(p.bytes.buffer).getUint32(MSRS.nmsrs, true))
      throw new KvmError("KVM_SET_MSRS", 0, `set ${rc} of ${new DataView(p.bytes.buffer).getUint32(MSRS.nmsrs, true)} MSRs`);
  }
}

/** Reads the current state with the same requests, for comparison with a saved one (tests). */
export function readState(sys: Sys, state: MachineState): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const getOf = new Map<number, number>([
    [IOCTL.SET_REGS, IOCTL.GET_REGS], [IOCTL.SET_XSAVE, state.parts.find((p) => p.name === "XSAVE")?.bytes.length === SIZE.xsave ? IOCTL.GET_XSAVE : IOCTL.GET_XSAVE2],
    [IOCTL.SET_FPU, IOCTL.GET_FPU], [IOCTL.SET_XCRS, IOCTL.GET_XCRS], [IOCTL.SET_SREGS, IOCTL.GET_SREGS], [IOCTL.SET_MSRS, IOCTL.GET_MSRS],
    [IOCTL.SET_VCPU_EVENTS, IOCTL.GET_VCPU_EVENTS], [IOCTL.SET_MP_STATE, IOCTL.GET_MP_STATE], [IOCTL.SET_LAPIC, IOCTL.GET_LAPIC],
    [IOCTL.SET_DEBUGREGS, IOCTL.GET_DEBUGREGS], [IOCTL.SET_IRQCHIP, IOCTL.GET_IRQCHIP], [IOCTL.SET_PIT2, IOCTL.GET_PIT2], [IOCTL.SET_CLOCK, IOCTL.GET_CLOCK],
  ]);
  for (const p of state.parts) {
    const buf = p.bytes.slice(); // keeps the chip id and MSR indices the request needs
    if (sys.ioctlBuf(p.fd, getOf.get(p.set)!, buf) < 0) throw sysError(sys, `KVM_GET_${p.name}`);
    out.set(p.name, buf);
  }
  return out;
}
