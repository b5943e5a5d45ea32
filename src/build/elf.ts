// The build's view of an image our own linker made: sections, segments and symbols as numbers.
// A thin layer on the shared reader (src/elf/read.ts), which does the decoding and bounds checks.
import { KilnError } from "../errors.ts";
import { SHT_SYMTAB } from "../elf/constants.ts";
import { ElfReadError, readHeader, readProgramHeaders, readSectionHeaders, readSymbols, toNumber } from "../elf/read.ts";

export { PF_R, PF_W, PF_X, PT_LOAD, SHF_ALLOC, SHT_NOBITS, SHT_SYMTAB } from "../elf/constants.ts";

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
}

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  /** STB_* binding (0 local, 1 global, 2 weak). */
  bind: number;
  /** STT_* type. */
  type: number;
  shndx: number;
}

export interface ElfFile {
  entry: number;
  segments: ElfSegment[];
  sections: ElfSection[];
  section(name: string): ElfSection | undefined;
  /** Symbols of .symtab (empty for a stripped image); decoded, and checked, on first use. */
  symbols(): ElfSymbol[];
  symbol(name: string): ElfSymbol | undefined;
}

/** Parses `buf` (the whole file); `file` names it in errors. */
export function parseElf(buf: Buffer, file: string): ElfFile {
  const read = <T>(step: () => T): T => {
    try {
      return step();
    } catch (e) {
      if (e instanceof ElfReadError) throw new KilnError(`${file}: not a usable ELF64 image: ${e.message}. Rebuild it (kiln build).`);
      throw e;
    }
  };
  const h = read(() => readHeader(buf));
  const segments: ElfSegment[] = read(() =>
    readProgramHeaders(buf, h).map((p, i) => {
      const num = (v: bigint, field: string) => toNumber(v, `program header ${i} p_${field}`);
      return {
        type: p.type,
        flags: p.flags,
        offset: num(p.offset, "offset"),
        vaddr: num(p.vaddr, "vaddr"),
        paddr: num(p.paddr, "paddr"),
        filesz: num(p.filesz, "filesz"),
        memsz: num(p.memsz, "memsz"),
      };
    }),
  );
  const headers = read(() => readSectionHeaders(buf, h));
  const sections: ElfSection[] = read(() =>
    headers.map((s, i) => {
      const num = (v: bigint, field: string) => toNumber(v, `section ${i} sh_${field}`);
      return {
        name: s.name,
        type: s.type,
        flags: num(s.flags, "flags"),
        addr: num(s.addr, "addr"),
        offset: num(s.offset, "offset"),
        size: num(s.size, "size"),
        link: s.link,
        entsize: num(s.entsize, "entsize"),
      };
    }),
  );
  const entry = read(() => toNumber(h.entry, "e_entry"));

  let symCache: ElfSymbol[] | undefined;
  const symbols = (): ElfSymbol[] => {
    if (symCache) return symCache;
    const symtab = headers.find((s) => s.type === SHT_SYMTAB);
    // Values and sizes as plain numbers: absolute symbols may be any 64-bit value, and image
    // addresses are far below 2^53, so rounding the former is harmless.
    const raw = symtab ? read(() => readSymbols(buf, headers, symtab)) : [];
    symCache = raw.map((s) => ({ name: s.name, value: Number(s.value), size: Number(s.size), bind: s.bind, type: s.type, shndx: s.shndx }));
    return symCache;
  };

  return {
    entry,
    segments,
    sections,
    section: (name) => sections.find((s) => s.name === name),
    symbols,
    symbol: (name) => symbols().find((s) => s.name === name && s.shndx !== 0),
  };
}
