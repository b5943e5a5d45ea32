// The one ELF64 little-endian decoder of the toolchain: headers, program headers, section
// headers, notes and symbols. It trusts nothing: every offset, count and size is checked against
// the bytes before use, and a problem is an ElfReadError whose code callers map to their own
// errors (the build: KilnError; the VMM: VmImageError). 64-bit fields stay bigint here; callers
// convert with toNumber (checked) where they need numbers, so no value is silently rounded.
import { EHDR_SIZE, ELFCLASS64, ELFDATA2LSB, PHDR_SIZE, SHDR_SIZE, SHN_UNDEF, SHT_NOBITS, SYM_SIZE } from "./constants.ts";

export type ElfReadErrorCode =
  | "not-elf"
  | "truncated"
  | "not-elf64"
  | "not-little-endian"
  | "too-large"
  | "bad-entsize"
  | "bad-index"
  | "bad-string"
  | "bad-note";

/** The bytes are not a well-formed ELF64 little-endian file; `message` says what is wrong. */
export class ElfReadError extends Error {
  readonly code: ElfReadErrorCode;
  /** For "too-large": the field and its value. */
  readonly field: string | undefined;
  readonly value: bigint | undefined;
  constructor(code: ElfReadErrorCode, message: string, field?: { name: string; value: bigint }) {
    super(message);
    this.name = "ElfReadError";
    this.code = code;
    this.field = field?.name;
    this.value = field?.value;
  }
}

export interface ElfHeader {
  /** e_type (ET_*). */
  type: number;
  /** e_machine (EM_*). */
  machine: number;
  entry: bigint;
  phoff: bigint;
  shoff: bigint;
  phentsize: number;
  phnum: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

export interface ProgramHeader {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

export interface SectionHeader {
  /** From the section-name string table; "" when the file has none (e_shstrndx 0). */
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  /** Checked: contents (unless SHT_NOBITS) lie inside the file. */
  offset: bigint;
  size: bigint;
  link: number;
  info: number;
  addralign: bigint;
  entsize: bigint;
}

export interface ElfNote {
  /** The name up to its first NUL. */
  name: string;
  /** n_namesz: the name's size in the file, NUL included. */
  namesz: number;
  type: number;
  desc: Uint8Array;
}

export interface SymbolEntry {
  name: string;
  value: bigint;
  size: bigint;
  /** STB_* binding (0 local, 1 global, 2 weak). */
  bind: number;
  /** STT_* type. */
  type: number;
  other: number;
  shndx: number;
}

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A 64-bit field as a number; refuses values above 2^53 (code "too-large", naming `field`). */
export function toNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ElfReadError("too-large", `${field} is ${hex(value)}, beyond 2^53`, { name: field, value });
  return Number(value);
}

/** `size` bytes at `offset`, refused (code "truncated") unless they lie inside the file. */
export function contents(bytes: Uint8Array, offset: bigint | number, size: bigint | number, what: string): Uint8Array {
  const start = BigInt(offset);
  const end = start + BigInt(size);
  if (end > BigInt(bytes.length))
    throw new ElfReadError("truncated", `truncated: ${what} needs bytes ${hex(start)}-${hex(end)} of a ${bytes.length}-byte file`);
  return bytes.subarray(Number(start), Number(end));
}

/** The ELF header: magic, then size, class and byte order are checked in that order. */
export function readHeader(bytes: Uint8Array): ElfHeader {
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
    throw new ElfReadError("not-elf", "not an ELF file (bad magic)");
  if (bytes.length < EHDR_SIZE)
    throw new ElfReadError("truncated", `truncated: ${bytes.length} bytes, shorter than an ELF64 header`);
  if (bytes[4] !== ELFCLASS64) throw new ElfReadError("not-elf64", `not ELF64 (EI_CLASS ${bytes[4]})`);
  if (bytes[5] !== ELFDATA2LSB) throw new ElfReadError("not-little-endian", `not little-endian (EI_DATA ${bytes[5]})`);
  const v = view(bytes);
  return {
    type: v.getUint16(16, true),
    machine: v.getUint16(18, true),
    entry: v.getBigUint64(24, true),
    phoff: v.getBigUint64(32, true),
    shoff: v.getBigUint64(40, true),
    phentsize: v.getUint16(54, true),
    phnum: v.getUint16(56, true),
    shentsize: v.getUint16(58, true),
    shnum: v.getUint16(60, true),
    shstrndx: v.getUint16(62, true),
  };
}

/** Refuses a program-header table with too-small entries or one that runs past the file. */
export function checkProgramHeaderTable(bytes: Uint8Array, h: ElfHeader): void {
  if (h.phnum > 0 && h.phentsize < PHDR_SIZE)
    throw new ElfReadError("bad-entsize", `e_phentsize is ${h.phentsize} (at least ${PHDR_SIZE})`);
  const len = BigInt(bytes.length);
  if (h.phoff > len || h.phoff + BigInt(h.phnum * h.phentsize) > len)
    throw new ElfReadError("truncated", `truncated: program headers at ${hex(h.phoff)} run past the end (${bytes.length} bytes)`);
}

/** Program header `i`; the table must have passed checkProgramHeaderTable. */
export function readProgramHeader(bytes: Uint8Array, h: ElfHeader, i: number): ProgramHeader {
  if (i < 0 || i >= h.phnum) throw new ElfReadError("bad-index", `program header ${i} does not exist (e_phnum ${h.phnum})`);
  const o = Number(h.phoff) + i * h.phentsize;
  const v = view(contents(bytes, o, PHDR_SIZE, `program header ${i}`));
  return {
    type: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    offset: v.getBigUint64(8, true),
    vaddr: v.getBigUint64(16, true),
    paddr: v.getBigUint64(24, true),
    filesz: v.getBigUint64(32, true),
    memsz: v.getBigUint64(40, true),
    align: v.getBigUint64(48, true),
  };
}

export function readProgramHeaders(bytes: Uint8Array, h: ElfHeader): ProgramHeader[] {
  checkProgramHeaderTable(bytes, h);
  return Array.from({ length: h.phnum }, (_, i) => readProgramHeader(bytes, h, i));
}

/**
 * All section headers with their names. Refuses a table past the file, contents (other than
 * SHT_NOBITS) past the file, a bad e_shstrndx and names outside the name table.
 */
export function readSectionHeaders(bytes: Uint8Array, h: ElfHeader): SectionHeader[] {
  if (h.shnum === 0) return [];
  if (h.shentsize < SHDR_SIZE) throw new ElfReadError("bad-entsize", `e_shentsize is ${h.shentsize} (at least ${SHDR_SIZE})`);
  const len = BigInt(bytes.length);
  if (h.shoff > len || h.shoff + BigInt(h.shnum * h.shentsize) > len)
    throw new ElfReadError("truncated", `truncated: section headers at ${hex(h.shoff)} run past the end (${bytes.length} bytes)`);
  if (h.shstrndx !== SHN_UNDEF && h.shstrndx >= h.shnum)
    throw new ElfReadError("bad-index", `e_shstrndx ${h.shstrndx} is not a section (e_shnum ${h.shnum})`);
  const raw = Array.from({ length: h.shnum }, (_, i) => {
    const v = view(contents(bytes, Number(h.shoff) + i * h.shentsize, SHDR_SIZE, `section header ${i}`));
    const s = {
      nameOffset: v.getUint32(0, true),
      type: v.getUint32(4, true),
      flags: v.getBigUint64(8, true),
      addr: v.getBigUint64(16, true),
      offset: v.getBigUint64(24, true),
      size: v.getBigUint64(32, true),
      link: v.getUint32(40, true),
      info: v.getUint32(44, true),
      addralign: v.getBigUint64(48, true),
      entsize: v.getBigUint64(56, true),
    };
    if (s.type !== SHT_NOBITS) contents(bytes, s.offset, s.size, `section ${i}`);
    return s;
  });
  const names = h.shstrndx === SHN_UNDEF ? undefined : sectionContents(bytes, raw[h.shstrndx]!);
  return raw.map(({ nameOffset, ...s }, i) => ({ ...s, name: names ? readString(names, nameOffset, `name of section ${i}`) : "" }));
}

/** A section's bytes in the file (none for SHT_NOBITS). */
export function sectionContents(bytes: Uint8Array, s: Pick<SectionHeader, "type" | "offset" | "size">): Uint8Array {
  return s.type === SHT_NOBITS ? new Uint8Array(0) : contents(bytes, s.offset, s.size, "section");
}

/** The NUL-terminated string at `offset` of a string table, as latin1. */
export function readString(table: Uint8Array, offset: number, what: string): string {
  const end = offset < table.length ? table.indexOf(0, offset) : -1;
  if (end < 0) throw new ElfReadError("bad-string", `${what} at offset ${offset} is not a NUL-terminated string inside its ${table.length}-byte table`);
  return latin1(table.subarray(offset, end));
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
}

/**
 * The notes in `size` bytes at `offset`, padded to `align` (4 or 8), decoded lazily: a caller
 * that stops early never reads, or refuses, what follows. `where` ends the refusal messages
 * ("a note header runs past <where>").
 */
export function* readNotes(bytes: Uint8Array, offset: bigint | number, size: bigint | number, align: number, where = "the notes"): Generator<ElfNote> {
  const area = contents(bytes, offset, size, "notes");
  const v = view(area);
  const end = area.length;
  const pad = (n: number): number => Math.ceil(n / align) * align;
  let p = 0;
  while (p < end) {
    if (end - p < 12) throw new ElfReadError("bad-note", `a note header runs past ${where}`);
    const namesz = v.getUint32(p, true);
    const descsz = v.getUint32(p + 4, true);
    const type = v.getUint32(p + 8, true);
    const nameAt = p + 12;
    // Sizes are u32 from the file: compare before adding so nothing can wrap or overflow.
    if (namesz > end - nameAt) throw new ElfReadError("bad-note", `name size ${namesz} runs past ${where}`);
    const descAt = nameAt + pad(namesz);
    if (descAt > end || descsz > end - descAt) throw new ElfReadError("bad-note", `descriptor size ${descsz} runs past ${where}`);
    const nameBytes = area.subarray(nameAt, nameAt + namesz);
    const nul = nameBytes.indexOf(0);
    yield { name: latin1(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)), namesz, type, desc: area.subarray(descAt, descAt + descsz) };
    p = descAt + pad(descsz);
  }
}

/** The symbols of a SHT_SYMTAB (or SHT_DYNSYM) section, names from its sh_link string table. */
export function readSymbols(bytes: Uint8Array, sections: readonly SectionHeader[], symtab: SectionHeader): SymbolEntry[] {
  const ent = symtab.entsize === 0n ? SYM_SIZE : toNumber(symtab.entsize, "symbol table sh_entsize");
  if (ent < SYM_SIZE) throw new ElfReadError("bad-entsize", `symbol table sh_entsize is ${ent} (at least ${SYM_SIZE})`);
  const strtab = sections[symtab.link];
  if (!strtab) throw new ElfReadError("bad-index", `symbol table sh_link ${symtab.link} is not a section (${sections.length} sections)`);
  const table = sectionContents(bytes, symtab);
  const names = sectionContents(bytes, strtab);
  const v = view(table);
  const out: SymbolEntry[] = [];
  for (let o = 0; o + ent <= table.length; o += ent) {
    const info = v.getUint8(o + 4);
    out.push({
      name: readString(names, v.getUint32(o, true), `name of symbol ${out.length}`),
      bind: info >> 4,
      type: info & 0xf,
      other: v.getUint8(o + 5),
      shndx: v.getUint16(o + 6, true),
      value: v.getBigUint64(o + 8, true),
      size: v.getBigUint64(o + 16, true),
    });
  }
  return out;
}
