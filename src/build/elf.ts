// A small ELF64 little-endian reader: enough to find sections, segments and symbols of the image.
import { KilnError } from "../errors.ts";

export const PT_LOAD = 1;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;
export const SHT_NOBITS = 8;
export const SHT_SYMTAB = 2;
export const SHF_ALLOC = 2;

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
  /** Symbols of .symtab (empty for a stripped image). */
  symbols(): ElfSymbol[];
  symbol(name: string): ElfSymbol | undefined;
}

/** Reads a 64-bit value as a JS number; image addresses are far below 2^53. */
function u64(b: Buffer, off: number): number {
  return Number(b.readBigUInt64LE(off));
}

function cstr(b: Buffer, off: number): string {
  const end = b.indexOf(0, off);
  return b.toString("latin1", off, end < 0 ? b.length : end);
}

/** Parses `buf` (the whole file); `file` names it in errors. */
export function parseElf(buf: Buffer, file: string): ElfFile {
  const bad = (why: string) => new KilnError(`${file}: not a usable ELF64 image: ${why}. Rebuild it (kiln build).`);
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw bad("no ELF magic");
  if (buf[4] !== 2) throw bad("not 64-bit");
  if (buf[5] !== 1) throw bad("not little-endian");
  const entry = u64(buf, 24);
  const phoff = u64(buf, 32);
  const shoff = u64(buf, 40);
  const phentsize = buf.readUInt16LE(54);
  const phnum = buf.readUInt16LE(56);
  const shentsize = buf.readUInt16LE(58);
  const shnum = buf.readUInt16LE(60);
  const shstrndx = buf.readUInt16LE(62);
  if (phoff + phnum * phentsize > buf.length || shoff + shnum * shentsize > buf.length) throw bad("headers past the end of the file");

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    segments.push({
      type: buf.readUInt32LE(o),
      flags: buf.readUInt32LE(o + 4),
      offset: u64(buf, o + 8),
      vaddr: u64(buf, o + 16),
      paddr: u64(buf, o + 24),
      filesz: u64(buf, o + 32),
      memsz: u64(buf, o + 40),
    });
  }

  const raw: Array<Omit<ElfSection, "name"> & { nameOff: number }> = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    raw.push({
      nameOff: buf.readUInt32LE(o),
      type: buf.readUInt32LE(o + 4),
      flags: u64(buf, o + 8),
      addr: u64(buf, o + 16),
      offset: u64(buf, o + 24),
      size: u64(buf, o + 32),
      link: buf.readUInt32LE(o + 40),
      entsize: u64(buf, o + 56),
    });
  }
  const strtab = raw[shstrndx];
  const sections: ElfSection[] = raw.map(({ nameOff, ...s }) => ({ ...s, name: strtab ? cstr(buf, strtab.offset + nameOff) : "" }));

  let symCache: ElfSymbol[] | undefined;
  const symbols = (): ElfSymbol[] => {
    if (symCache) return symCache;
    symCache = [];
    const symtab = sections.find((s) => s.type === SHT_SYMTAB);
    const names = symtab ? sections[symtab.link] : undefined;
    if (!symtab || !names) return symCache;
    const ent = symtab.entsize || 24;
    for (let o = symtab.offset; o + ent <= symtab.offset + symtab.size; o += ent) {
      const info = buf[o + 4]!;
      symCache.push({
        name: cstr(buf, names.offset + buf.readUInt32LE(o)),
        bind: info >> 4,
        type: info & 0xf,
        shndx: buf.readUInt16LE(o + 6),
        value: u64(buf, o + 8),
        size: u64(buf, o + 16),
      });
    }
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
