// The initial vCPU state of the PVH boot protocol (xen docs/misc/pvh.pandoc): 32-bit protected
// mode, paging off, flat 4 GiB segments, %ebx = start info, and its encoding into struct
// kvm_regs / kvm_sregs buffers (offsets from abi.ts, checked against linux/kvm.h).
import { DTABLE, REGS_FIELDS, SEGMENT, SIZE, SREGS } from "./abi.ts";
import { GDT_ADDR, IDT_ADDR } from "./layout.ts";
import { GDT_LIMIT, SELECTOR } from "./start-info.ts";

export type RegName = (typeof REGS_FIELDS)[number];
export type Regs = Record<RegName, bigint>;

export interface Segment {
  base: bigint;
  limit: number;
  selector: number;
  type: number;
  present: number;
  dpl: number;
  db: number;
  s: number;
  l: number;
  g: number;
  avl: number;
  unusable: number;
}

export type SegName = "cs" | "ds" | "es" | "fs" | "gs" | "ss" | "tr" | "ldt";
export const SEG_NAMES: readonly SegName[] = ["cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"];
export type CrName = "cr0" | "cr2" | "cr3" | "cr4" | "cr8" | "efer" | "apicBase";
export const CR_NAMES: readonly CrName[] = ["cr0", "cr2", "cr3", "cr4", "cr8", "efer", "apicBase"];

export interface Sregs extends Record<SegName, Segment>, Record<CrName, bigint> {
  gdt: { base: bigint; limit: number };
  idt: { base: bigint; limit: number };
}

export const CR0_PE = 1n;
export const CR0_ET = 0x10n;
export const RFLAGS_RESERVED = 2n;

const flatCode: Segment = { base: 0n, limit: 0xffffffff, selector: SELECTOR.code, type: 0xb, present: 1, dpl: 0, db: 1, s: 1, l: 0, g: 1, avl: 0, unusable: 0 };
const flatData: Segment = { ...flatCode, selector: SELECTOR.data, type: 0x3 };

export function pvhRegs(entry: number, startInfo: number): Regs {
  const regs = Object.fromEntries(REGS_FIELDS.map((f) => [f, 0n])) as Regs;
  regs.rip = BigInt(entry);
  regs.rbx = BigInt(startInfo);
  regs.rflags = RFLAGS_RESERVED; // IF and VM clear
  return regs;
}

/** PVH segment and control state, applied over what KVM_GET_SREGS returned (keeps apic_base). */
export function pvhSregs(base: Sregs): Sregs {
  return {
    ...base,
    cs: flatCode,
    ds: flatData,
    es: flatData,
    fs: flatData,
    gs: flatData,
    ss: flatData,
    tr: { base: 0n, limit: 0x67, selector: SELECTOR.tss, type: 0xb, present: 1, dpl: 0, db: 0, s: 0, l: 0, g: 0, avl: 0, unusable: 0 },
    ldt: { base: 0n, limit: 0xffff, selector: 0, type: 0x2, present: 1, dpl: 0, db: 0, s: 0, l: 0, g: 0, avl: 0, unusable: 1 },
    gdt: { base: BigInt(GDT_ADDR), limit: GDT_LIMIT },
    idt: { base: BigInt(IDT_ADDR), limit: 0 },
    cr0: CR0_PE | CR0_ET,
    cr3: 0n,
    cr4: 0n,
    efer: 0n,
  };
}

export function encodeRegs(regs: Regs, out = new Uint8Array(SIZE.regs)): Uint8Array {
  const v = new DataView(out.buffer, out.byteOffset, SIZE.regs);
  REGS_FIELDS.forEach((f, i) => v.setBigUint64(i * 8, regs[f], true));
  return out;
}

export function decodeRegs(buf: Uint8Array): Regs {
  const v = new DataView(buf.buffer, buf.byteOffset, SIZE.regs);
  return Object.fromEntries(REGS_FIELDS.map((f, i) => [f, v.getBigUint64(i * 8, true)])) as Regs;
}

function encodeSegment(v: DataView, at: number, s: Segment): void {
  v.setBigUint64(at + SEGMENT.base, s.base, true);
  v.setUint32(at + SEGMENT.limit, s.limit, true);
  v.setUint16(at + SEGMENT.selector, s.selector, true);
  for (const k of ["type", "present", "dpl", "db", "s", "l", "g", "avl", "unusable"] as const) v.setUint8(at + SEGMENT[k], s[k]);
}

function decodeSegment(v: DataView, at: number): Segment {
  const b = (k: keyof typeof SEGMENT): number => v.getUint8(at + SEGMENT[k]);
  return {
    base: v.getBigUint64(at + SEGMENT.base, true),
    limit: v.getUint32(at + SEGMENT.limit, true),
    selector: v.getUint16(at + SEGMENT.selector, true),
    type: b("type"), present: b("present"), dpl: b("dpl"), db: b("db"), s: b("s"), l: b("l"), g: b("g"), avl: b("avl"), unusable: b("unusable"),
  };
}

/** Encodes into `out` in place, leaving bytes it does not model (interrupt_bitmap) untouched. */
export function encodeSregs(s: Sregs, out = new Uint8Array(SIZE.sregs)): Uint8Array {
  const v = new DataView(out.buffer, out.byteOffset, SIZE.sregs);
  for (const n of SEG_NAMES) encodeSegment(v, SREGS[n], s[n]);
  for (const t of ["gdt", "idt"] as const) {
    v.setBigUint64(SREGS[t] + DTABLE.base, s[t].base, true);
    v.setUint16(SREGS[t] + DTABLE.limit, s[t].limit, true);
  }
  for (const c of CR_NAMES) v.setBigUint64(SREGS[c], s[c], true);
  return out;
}

export function decodeSregs(buf: Uint8Array): Sregs {
  const v = new DataView(buf.buffer, buf.byteOffset, SIZE.sregs);
  const segs = Object.fromEntries(SEG_NAMES.map((n) => [n, decodeSegment(v, SREGS[n])])) as Record<SegName, Segment>;
  const crs = Object.fromEntries(CR_NAMES.map((c) => [c, v.getBigUint64(SREGS[c], true)])) as Record<CrName, bigint>;
  const table = (t: "gdt" | "idt") => ({ base: v.getBigUint64(SREGS[t] + DTABLE.base, true), limit: v.getUint16(SREGS[t] + DTABLE.limit, true) });
  return { ...segs, ...crs, gdt: table("gdt"), idt: table("idt") };
}

const h = (n: bigint): string => `0x${n.toString(16).padStart(16, "0")}`;

/** Register dump lines for a fault report. */
export function formatRegisters(regs: Regs, sregs?: Sregs): string[] {
  const lines: string[] = [];
  for (let i = 0; i < REGS_FIELDS.length; i += 3)
    lines.push(REGS_FIELDS.slice(i, i + 3).map((f) => `${f.padStart(6)}=${h(regs[f])}`).join(" "));
  if (sregs) {
    lines.push(`   cr0=${h(sregs.cr0)}    cr2=${h(sregs.cr2)}    cr3=${h(sregs.cr3)}`);
    lines.push(`   cr4=${h(sregs.cr4)}   efer=${h(sregs.efer)}`);
    lines.push(`    cs=${sregs.cs.selector.toString(16).padStart(4, "0")} (l=${sregs.cs.l} db=${sregs.cs.db} dpl=${sregs.cs.dpl})  ss=${sregs.ss.selector.toString(16).padStart(4, "0")}  gdt=${h(sregs.gdt.base)}/${sregs.gdt.limit}  idt=${h(sregs.idt.base)}/${sregs.idt.limit}`);
  }
  return lines;
}
