// Instructions of an ELF object or image from a real disassembly (objdump -d -w), with the
// section each lies in and its bytes: what the musl rewrites and `kiln syscalls` work from.
import { execOrFail } from "./exec.ts";

export interface Instruction {
  /** Section name as objdump prints it, and its position among the disassembled sections. */
  section: string;
  sectionIndex: number;
  /** Address (section-relative in a relocatable object). */
  address: number;
  bytes: number[];
  /** AT&T text without the trailing comment (`mov $0x27,%eax`). */
  text: string;
  /** Enclosing symbol, its address, and the instruction's index in it. */
  func: string;
  funcAddress: number;
  index: number;
}

/** Parses `objdump -d -w` output (raw bytes shown). Pure, for tests. */
export function parseDisassembly(out: string): Instruction[] {
  const list: Instruction[] = [];
  let section = "";
  let sectionIndex = -1;
  let func = "?";
  let funcAddress = 0;
  let index = 0;
  for (const line of out.split("\n")) {
    const sec = /^Disassembly of section (.+):$/.exec(line);
    if (sec) {
      section = sec[1]!;
      sectionIndex++;
      func = "?";
      funcAddress = 0;
      index = 0;
      continue;
    }
    const sym = /^([0-9a-f]+) <(.+)>:$/.exec(line);
    if (sym) {
      funcAddress = parseInt(sym[1]!, 16);
      func = sym[2]!;
      index = 0;
      continue;
    }
    // "   4:\t0f 05                \tsyscall" (the text is absent for a continuation line)
    const ins = /^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )*[0-9a-f]{2})\s*(?:\t(.*))?$/.exec(line);
    if (!ins || ins[3] === undefined) continue;
    list.push({
      section,
      sectionIndex,
      address: parseInt(ins[1]!, 16),
      bytes: ins[2]!.split(" ").map((b) => parseInt(b, 16)),
      text: ins[3]!.replace(/\s+#.*$/, "").replace(/\s+<.*>$/, "").replace(/\s+/g, " ").trim(),
      func,
      funcAddress,
      index: index++,
    });
  }
  return list;
}

/** Disassembles a file; `extra` adds objdump options (`-M i386`, `--start-address=...`). */
export async function disassemble(file: string, extra: readonly string[] = []): Promise<Instruction[]> {
  const r = await execOrFail(`disassembling ${file}`, "objdump", ["-d", "-w", "-M", "att", ...extra, file]);
  return parseDisassembly(r.stdout);
}

/** The instruction text without the prefixes objdump prints before the mnemonic (lock, rep ...). */
export function withoutPrefixes(text: string): string {
  return text.replace(/^((lock|rep[a-z]*|notrack|bnd|data16|addr32|cs|ds|es|ss|fs|gs|rex[.A-Z]*)\s+)+/, "");
}

/** The bare mnemonic, without prefixes objdump prints (lock, rep, notrack ...). */
export function mnemonic(text: string): string {
  return withoutPrefixes(text).split(" ")[0]!;
}
