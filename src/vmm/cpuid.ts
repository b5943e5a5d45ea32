// Adjustments to the CPUID table KVM supports before the vCPU gets it (pure; tested on bytes):
// - TSC-deadline timer (leaf 1 ECX bit 24): KVM emulates it but leaves the bit out of
//   KVM_GET_SUPPORTED_CPUID; userspace sets it when KVM_CAP_TSC_DEADLINE_TIMER says so.
// - The hypervisor timing leaf 0x40000010 (EAX = TSC kHz, EBX = LAPIC timer kHz), as QEMU's
//   vmware-cpuid-freq provides: Kiln's time library reads it and skips a 5 ms PIT calibration.
import { CPUID2, CPUID_ENTRY2, SIZE } from "./abi.ts";

export interface CpuidEntry {
  function: number;
  index: number;
  flags: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

export const TIMING_LEAF = 0x40000010;
export const HYPERVISOR_BASE_LEAF = 0x40000000;
/** KVM's in-kernel LAPIC timer counts at 1 GHz. */
export const KVM_APIC_BUS_KHZ = 1_000_000;
const ECX_TSC_DEADLINE = 1 << 24;

export function decodeCpuid(table: Uint8Array): CpuidEntry[] {
  const v = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const n = v.getUint32(CPUID2.nent, true);
  if (SIZE.cpuid2Header + n * SIZE.cpuidEntry2 > table.length) throw new Error(`CPUID table claims ${n} entries but holds ${(table.length - SIZE.cpuid2Header) / SIZE.cpuidEntry2}`);
  const out: CpuidEntry[] = [];
  for (let i = 0; i < n; i++) {
    const at = SIZE.cpuid2Header + i * SIZE.cpuidEntry2;
    const get = (k: keyof typeof CPUID_ENTRY2): number => v.getUint32(at + CPUID_ENTRY2[k], true);
    out.push({ function: get("function"), index: get("index"), flags: get("flags"), eax: get("eax"), ebx: get("ebx"), ecx: get("ecx"), edx: get("edx") });
  }
  return out;
}

export function encodeCpuid(entries: CpuidEntry[]): Uint8Array {
  const buf = new Uint8Array(SIZE.cpuid2Header + entries.length * SIZE.cpuidEntry2);
  const v = new DataView(buf.buffer);
  v.setUint32(CPUID2.nent, entries.length, true);
  entries.forEach((e, i) => {
    const at = SIZE.cpuid2Header + i * SIZE.cpuidEntry2;
    for (const k of Object.keys(CPUID_ENTRY2) as Array<keyof typeof CPUID_ENTRY2>) v.setUint32(at + CPUID_ENTRY2[k], e[k] >>> 0, true);
  });
  return buf;
}

export interface CpuidTuning {
  tscDeadline: boolean;
  /** The vCPU's TSC frequency (KVM_GET_TSC_KHZ), if known. */
  tscKhz?: number;
}

export function tuneCpuid(entries: CpuidEntry[], t: CpuidTuning): CpuidEntry[] {
  const out = entries.map((e) => ({ ...e }));
  if (t.tscDeadline) for (const e of out) if (e.function === 1) e.ecx = (e.ecx | ECX_TSC_DEADLINE) >>> 0;
  const base = out.find((e) => e.function === HYPERVISOR_BASE_LEAF);
  if (t.tscKhz && t.tscKhz > 0 && base) {
    base.eax = Math.max(base.eax, TIMING_LEAF);
    const timing = { function: TIMING_LEAF, index: 0, flags: 0, eax: t.tscKhz, ebx: KVM_APIC_BUS_KHZ, ecx: 0, edx: 0 };
    const i = out.findIndex((e) => e.function === TIMING_LEAF);
    if (i >= 0) out[i] = timing;
    else out.push(timing);
  }
  return out;
}
