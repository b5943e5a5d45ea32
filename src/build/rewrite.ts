// Rewrites in a musl app's prelinked object, at instructions found by a real disassembly:
// - `hlt` (musl's a_crash(), e.g. in abort and malloc's corruption checks) becomes int3 (same
//   length): hlt is privileged at CPL 3 (the image would be refused), int3 is the crash it means.
import * as fs from "node:fs";
import { KilnError } from "../errors.ts";
import { parseElf } from "./elf.ts";
import { disassemble, mnemonic, type Instruction } from "./disasm.ts";

const SHF_EXECINSTR = 0x4;

export interface Patch {
  insn: Instruction;
  bytes: number[];
}

/** File offsets of the instructions' sections: objdump's k-th section is the k-th executable one. */
function sectionOffsets(buf: Buffer, file: string): number[] {
  const elf = parseElf(buf, file);
  return elf.sections.filter((s) => (s.flags & SHF_EXECINSTR) !== 0 && s.type !== 8 /* NOBITS */).map((s) => s.offset);
}

/** Applies same-length patches in place, checking each site still holds the bytes objdump saw. */
export function applyPatches(file: string, patches: readonly Patch[]): void {
  if (!patches.length) return;
  const buf = fs.readFileSync(file);
  const offsets = sectionOffsets(buf, file);
  for (const p of patches) {
    const base = offsets[p.insn.sectionIndex];
    if (base === undefined || p.bytes.length !== p.insn.bytes.length) throw new KilnError(`${file}: cannot patch ${p.insn.func} (${p.insn.text}): section ${p.insn.section} not found`);
    const at = base + p.insn.address;
    for (let i = 0; i < p.insn.bytes.length; i++) {
      if (buf[at + i] !== p.insn.bytes[i]) throw new KilnError(`${file}: ${p.insn.func}+${p.insn.address.toString(16)}: the bytes differ from the disassembly; not patching`);
    }
    for (let i = 0; i < p.bytes.length; i++) buf[at + i] = p.bytes[i]!;
  }
  fs.writeFileSync(file, buf);
}

export async function rewriteMuslObject(obj: string, log: (line: string) => void): Promise<void> {
  const insns = await disassemble(obj);
  const patches: Patch[] = [];
  for (const insn of insns) {
    if (mnemonic(insn.text) === "hlt" && insn.bytes.length === 1) patches.push({ insn, bytes: [0xcc] });
  }
  applyPatches(obj, patches);
  if (patches.length) log(`REWRITE app: ${patches.length} hlt -> int3 (musl's crash)`);
}
