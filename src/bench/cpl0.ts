// The CPL-0 cost of a boot, for `kiln bench boot`: on kvm-pvm every CPL-0 instruction is emulated
// (~1-1.5 us) and every entry costs 6-8 us, so the boot path is budgeted in instructions and
// entries (issue targets: at most 60 and 2 before main). The instruction counts are static,
// from the image's own disassembly: the boot path from the PVH entry to its iretq, each shim
// command from the gate to its iretq, the interrupt path; the guest reports how often each
// shim and interrupt ran before main (the boot line's cpl0_shims and cpl0_irqs).
import * as fs from "node:fs";
import { KilnError } from "../errors.ts";
import { disassemble, type Instruction } from "../build/disasm.ts";
import { parseElf } from "../build/elf.ts";

export interface Cpl0Paths {
  /** Instructions from _kiln_pvh_start32 to the iretq that drops to CPL 3. */
  boot: number;
  /** Instructions of each shim command (index = ARCH_SHIM_*), the gate's included. */
  shims: number[];
  /** Instructions of one interrupt (the vector stub and the common path). */
  irq: number;
}

/**
 * Instructions executed from `start` up to and including the first iretq/sysretq (or `ljmp`
 * when `stopAtLjmp`, or an indirect jmp), following direct unconditional jumps and falling through conditional
 * ones: the longest straight-line path. A loop counts once.
 */
export function straightLine(insns: readonly Pick<Instruction, "address" | "text">[], start: number, stopAtLjmp = false): number {
  const at = new Map(insns.map((x, i) => [x.address, i]));
  let i = at.get(start);
  if (i === undefined) throw new KilnError(`no instruction at 0x${start.toString(16)} in the CPL-0 disassembly`);
  const seen = new Set<number>();
  let n = 0;
  while (i !== undefined && i < insns.length && !seen.has(i)) {
    seen.add(i);
    const x = insns[i]!;
    n++;
    if (/^(iretq|sysretq|jmp \*)/.test(x.text) || (stopAtLjmp && /^ljmp\b/.test(x.text))) return n;
    const jmp = /^jmp ([0-9a-f]+)\b/.exec(x.text);
    i = jmp ? at.get(parseInt(jmp[1]!, 16)) : i + 1;
  }
  return n;
}

const SHIM_TABLE_SIZE = 16;
const SHIM_VECTOR = 4;
const FIRST_IRQ_VECTOR = 32;
const STUB = 16;

/** The CPL-0 paths of a linked image (the unstripped one: it needs the symbols). */
export async function cpl0Paths(debugImage: string): Promise<Cpl0Paths> {
  const buf = fs.readFileSync(debugImage);
  const elf = parseElf(buf, debugImage);
  const sym = (name: string): number => {
    const s = elf.symbol(name);
    if (!s) throw new KilnError(`${debugImage}: no symbol ${name}; is this an arch-x86_64 image?`);
    return s.value;
  };
  const hex = (n: number) => `0x${n.toString(16)}`;
  const entry = sym("_kiln_pvh_start32");
  const boot64 = sym("kiln_boot64");
  const lo = sym("__kiln_cpl0_start");
  const hi = sym("__kiln_cpl0_end");
  const dis = (mode: string, from: number, to: number) => disassemble(debugImage, ["-M", mode, `--start-address=${hex(from)}`, `--stop-address=${hex(to)}`]);
  const code32 = await dis("i386", entry, boot64);
  const code64 = await dis("x86-64", boot64, hi);
  const boot = straightLine(code32, entry, true) + straightLine(code64, boot64);

  // The shim table: 16 pointers in .rodata, read from the file.
  const table = sym("kiln_shim_table");
  const sec = elf.sections.find((s) => table >= s.addr && table + SHIM_TABLE_SIZE * 8 <= s.addr + s.size && s.type !== 8);
  if (!sec) throw new KilnError(`${debugImage}: kiln_shim_table is not in a section with contents`);
  const stubs = sym("kiln_vector_stubs");
  const gate = straightLine(code64, stubs + SHIM_VECTOR * STUB); // andl + jmp *table: stops at the indirect jmp
  const shims: number[] = [];
  for (let c = 0; c < SHIM_TABLE_SIZE; c++) {
    const target = Number(buf.readBigUInt64LE(sec.offset + (table - sec.addr) + c * 8));
    if (target < lo || target >= hi) throw new KilnError(`${debugImage}: shim ${c} points outside the CPL-0 code (${hex(target)})`);
    shims.push(gate + straightLine(code64, target));
  }
  const irq = straightLine(code64, stubs + FIRST_IRQ_VECTOR * STUB);
  return { boot, shims, irq };
}

/** CPL-0 instructions and entries before main, from the paths and the guest's counts. */
export function cpl0BeforeMain(paths: Cpl0Paths, shimCalls: readonly number[], irqs: number): { instructions: number; entries: number } {
  let instructions = paths.boot + irqs * paths.irq;
  let entries = irqs;
  shimCalls.forEach((n, cmd) => {
    instructions += n * (paths.shims[cmd] ?? 0);
    entries += n;
  });
  return { instructions, entries };
}
