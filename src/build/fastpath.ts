// The syscall fast path (docs/porting-an-app.md, "The fast path"): after the link, every
//   movl $N, %eax ; syscall        (b8 imm32 0f 05)
// in the app unit's code (a musl app: the app and musl's libc.a) becomes
//   call kiln_syscall_thunks+16*N ; xchg %ax,%ax (66 90)
// found in a real disassembly of the linked image, never a byte search. The image is patched
// in place before the CPL-3 check. A site stays on the LSTAR path when the number is not a
// constant moved just before it, when a direct branch lands on its `syscall` (the mov would be
// skipped), or when its function uses the red zone (the call's return address would land there).
import * as fs from "node:fs";
import { KilnError } from "../errors.ts";
import { disassemble, mnemonic, type Instruction } from "./disasm.ts";
import { parseElf } from "./elf.ts";

export const THUNKS = "kiln_syscall_thunks";
export const REG_THUNKS = "kiln_syscall_reg_thunks";
export const THUNK_SIZE = 16;
export const NR_COUNT = 451;
const APP_OBJECT = "lib/app.o";

export interface AddressRange {
  lo: number;
  hi: number;
}

/** Code ranges of one input object in an ld map file (`-Map`), for sections placed at an address. */
export function objectRanges(map: string, object = APP_OBJECT): AddressRange[] {
  const out: AddressRange[] = [];
  let name: string | undefined;
  for (const line of map.split("\n")) {
    const one = /^ (\.text\S*)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$/.exec(line);
    const head = /^ (\.text\S*)$/.exec(line);
    const tail = /^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$/.exec(line);
    let addr: number | undefined, size = 0, file = "";
    if (one) [addr, size, file] = [parseInt(one[2]!, 16), parseInt(one[3]!, 16), one[4]!];
    else if (head) {
      name = head[1];
      continue;
    } else if (tail && name) [addr, size, file] = [parseInt(tail[1]!, 16), parseInt(tail[2]!, 16), tail[3]!];
    name = undefined;
    if (addr && size && (file === object || file.endsWith(`/${object}`))) out.push({ lo: addr, hi: addr + size });
  }
  return out.sort((a, b) => a.lo - b.lo);
}

export type SiteState = "rewritten" | "lstar";

export interface SyscallSite {
  address: number;
  func: string;
  /** The number when a constant is moved into eax just before; undefined otherwise. */
  nr?: number;
  state: SiteState;
  /** Why a site stays on the LSTAR path. */
  reason?: string;
}

const RED_ZONE = /-0x[0-9a-f]+\(%rsp\)/;

/** Functions whose code addresses memory below %rsp (the red zone). */
function redZoneUsers(insns: readonly Instruction[]): Set<string> {
  const s = new Set<string>();
  for (const i of insns) if (RED_ZONE.test(i.text)) s.add(i.func);
  return s;
}

function branchTargets(insns: readonly Instruction[]): Set<number> {
  const t = new Set<number>();
  for (const i of insns) {
    const m = /^(j[a-z]+|call|loop[a-z]*)\s+([0-9a-f]+)$/.exec(i.text.replace(/^(bnd|notrack) /, ""));
    if (m) t.add(parseInt(m[2]!, 16));
  }
  return t;
}

const REGS = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
/** rax's names, and a register's sub-registers (for "does this instruction touch it"). */
function regFamily(r: string): RegExp {
  if (r === "rax") return /%(rax|eax|ax|al|ah)\b/;
  if (/^r\d+$/.test(r)) return new RegExp(`%${r}[dwb]?\\b`);
  const base = r.slice(1); // cx, dx, bx, bp, si, di
  const low = base.endsWith("x") ? `${base[0]}l|${base[0]}h` : `${base}l`;
  return new RegExp(`%(r${base}|e${base}|${base}|${low})\\b`);
}
const RAX = regFamily("rax");
/** Instructions that use rax/rdx or others without naming them. */
const IMPLICIT = /^(cltq|cqto|cwtl|cltd|cbtw|cwtd|mul|div|imul[a-z]? [^,]*$|idiv|xchg|cpuid|rdtsc|rdtscp|lods|stos|scas|cmpxchg|lahf|sahf|rep|syscall|int|ud2|hlt|push|pop|enter|leave)/;

interface Anchor {
  /** Index of the mov that sets rax. */
  at: number;
  /** Thunk offset from its table's start. */
  thunk: { table: "nr" | "reg"; index: number };
  nr?: number;
  /** The register the mov reads (reg form). */
  reg?: string;
}

/** The mov that gives rax its number: `movl $N, %eax` (b8 imm32) or `movq %REG, %rax`. */
function anchorOf(insns: readonly Instruction[], k: number): Anchor | undefined {
  const site = insns[k]!;
  for (let i = k - 1; i >= 0 && i >= k - 12; i--) {
    const p = insns[i]!;
    if (p.func !== site.func || p.sectionIndex !== site.sectionIndex) return undefined;
    if (p.bytes.length === 5 && p.bytes[0] === 0xb8) {
      const nr = p.bytes[1]! | (p.bytes[2]! << 8) | (p.bytes[3]! << 16) | (p.bytes[4]! << 24);
      return { at: i, thunk: { table: "nr", index: nr }, nr };
    }
    const m = /^mov %(r\w+),%rax$/.exec(p.text);
    if (m && p.bytes.length === 3 && REGS.includes(m[1]!) && m[1] !== "rsp") return { at: i, thunk: { table: "reg", index: REGS.indexOf(m[1]!) }, reg: m[1] };
    if (RAX.test(p.text) || IMPLICIT.test(p.text) || /^(j|call|ret|loop)/.test(mnemonic(p.text))) return undefined;
  }
  return undefined;
}

export interface Thunks {
  nr: number;
  reg: number;
}

/**
 * Plans the rewrite over a disassembly of the app's code. Pure, for tests. The instructions
 * between the anchoring mov and the syscall move up over it (they neither read nor write rax,
 * nor the anchor's register, nor are RIP-relative or branch targets), then the call follows:
 *   mov $N,%eax; I1; I2; syscall   ->   I1; I2; call thunk[N]; nop2
 */
export function planFastPath(insns: readonly Instruction[], thunks: Thunks | undefined): { sites: SyscallSite[]; patches: { address: number; bytes: number[] }[] } {
  const red = redZoneUsers(insns);
  const targets = branchTargets(insns);
  const sites: SyscallSite[] = [];
  const patches: { address: number; bytes: number[] }[] = [];
  insns.forEach((ins, k) => {
    if (mnemonic(ins.text) !== "syscall") return;
    const a = anchorOf(insns, k);
    const site: SyscallSite = { address: ins.address, func: ins.func, nr: a?.nr, state: "lstar" };
    sites.push(site);
    const between = a ? insns.slice(a.at + 1, k) : [];
    const regRe = a?.reg ? regFamily(a.reg) : undefined;
    const contiguous = a ? [insns[a.at]!, ...between, ins].every((x, i, all) => i === 0 || all[i - 1]!.address + all[i - 1]!.bytes.length === x.address) : false;
    if (thunks === undefined) site.reason = "fast path off (syscall.fast_path)";
    else if (!a) site.reason = "the number is not moved into rax (a constant or a register) in the same block";
    else if (a.nr !== undefined && (a.nr < 0 || a.nr >= NR_COUNT)) site.reason = `number ${a.nr} is out of range`;
    else if (!contiguous) site.reason = "its instructions are not contiguous";
    else if ([...between, ins].some((x) => targets.has(x.address))) site.reason = "a branch lands between the mov and the syscall";
    else if (between.some((x) => /\(%rip\)/.test(x.text) || RAX.test(x.text) || IMPLICIT.test(x.text) || (regRe && regRe.test(x.text)))) site.reason = "an instruction in between cannot move";
    else if (red.has(ins.func)) site.reason = "its function uses the red zone";
    else {
      site.state = "rewritten";
      const mov = insns[a.at]!;
      const moved = between.flatMap((x) => x.bytes);
      const call = mov.address + moved.length;
      const target = a.thunk.table === "nr" ? thunks.nr + THUNK_SIZE * a.thunk.index : thunks.reg + THUNK_SIZE * a.thunk.index;
      const b = Buffer.alloc(4);
      b.writeInt32LE(target - (call + 5));
      const total = mov.bytes.length + moved.length + ins.bytes.length;
      const pad = total - moved.length - 5; // 2 for the imm form (b8: 5 + 2), 0 for the reg form (3 + 2)
      const nops = pad === 2 ? [0x66, 0x90] : pad === 1 ? [0x90] : [];
      patches.push({ address: mov.address, bytes: [...moved, 0xe8, ...b, ...nops] });
    }
  });
  return { sites, patches };
}

/** Patches bytes at virtual addresses of a linked image (through its PT_LOAD segments). */
export function patchImage(file: string, patches: readonly { address: number; bytes: number[] }[]): void {
  if (!patches.length) return;
  const buf = fs.readFileSync(file);
  const elf = parseElf(buf, file);
  for (const p of patches) {
    const seg = elf.segments.find((s) => s.type === 1 && p.address >= s.vaddr && p.address + p.bytes.length <= s.vaddr + s.filesz);
    if (!seg) throw new KilnError(`${file}: address 0x${p.address.toString(16)} is in no loaded segment; cannot patch the syscall site`);
    const off = seg.offset + (p.address - seg.vaddr);
    for (let i = 0; i < p.bytes.length; i++) buf[off + i] = p.bytes[i]!;
  }
  fs.writeFileSync(file, buf);
}

/** Rewrites the image's app syscall sites when the syscall library brings the thunks. */
export async function applyFastPath(image: string, mapFile: string, log: (l: string) => void): Promise<SyscallSite[]> {
  const elf = parseElf(fs.readFileSync(image), image);
  const nr = elf.symbol(THUNKS)?.value;
  const reg = elf.symbol(REG_THUNKS)?.value;
  const thunks = nr !== undefined && reg !== undefined ? { nr, reg } : undefined;
  const ranges = objectRanges(fs.readFileSync(mapFile, "utf8"));
  if (!ranges.length) return [];
  const insns = (await disassemble(image)).filter((i) => ranges.some((r) => i.address >= r.lo && i.address < r.hi));
  const { sites, patches } = planFastPath(insns, thunks);
  if (thunks === undefined) return sites;
  patchImage(image, patches);
  const left = sites.length - patches.length;
  log(`FAST ${patches.length} of ${sites.length} syscall sites call the dispatcher directly${left ? ` (${left} stay on the syscall instruction: kiln syscalls lists them)` : ""}`);
  return sites;
}
