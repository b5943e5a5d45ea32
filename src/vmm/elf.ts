// Reads a Kiln image (x86_64 ELF executable with a PVH entry note) without trusting it: every
// offset, size and count is checked against the file before use, and anything wrong is a
// VmImageError naming the file and the problem.
import { VmImageError } from "./errors.ts";
import { HIGH_RAM_START, RESERVED_END } from "./layout.ts";

export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;
/** XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit physical PVH entry point. */
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
/** More program headers than any sane image has; a larger count means a corrupt header. */
export const MAX_PHNUM = 64;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;

export interface LoadSegment {
  /** Guest-physical load address (p_paddr: PVH loads by physical address). */
  paddr: number;
  offset: number;
  filesz: number;
  memsz: number;
  flags: number;
}

export interface ElfImage {
  /** The PVH entry point from the Xen note (32-bit physical). */
  pvhEntry: number;
  /** e_entry, for reports only: PVH boots at pvhEntry. */
  elfEntry: number;
  /** PT_LOAD segments with memsz > 0, by ascending paddr. */
  segments: LoadSegment[];
}

/** A 64-bit field as a number, refusing values beyond 2^53 (no real image has them). */
function u64(view: DataView, off: number, file: string, what: string): number {
  const v = view.getBigUint64(off, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new VmImageError(file, "bad-segment", `${what} is 0x${v.toString(16)}, beyond any guest address`, "Rebuild the image; the file looks corrupt");
  return Number(v);
}

const hex = (n: number): string => `0x${n.toString(16)}`;

export function parseElf(bytes: Uint8Array, file: string): ElfImage {
  const rebuild = "Rebuild it with `kiln build`";
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
    throw new VmImageError(file, "not-elf", "not an ELF file (bad magic)", "Pass the image.elf that `kiln build` wrote");
  if (bytes.length < EHDR_SIZE)
    throw new VmImageError(file, "truncated", `truncated: ${bytes.length} bytes, shorter than an ELF64 header`, rebuild);
  if (bytes[4] !== 2)
    throw new VmImageError(file, "not-elf64", `not ELF64 (EI_CLASS ${bytes[4]})`, "Kiln boots 64-bit x86_64 images only");
  if (bytes[5] !== 1)
    throw new VmImageError(file, "not-little-endian", `not little-endian (EI_DATA ${bytes[5]})`, "Kiln boots x86_64 images only");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  if (machine !== 62)
    throw new VmImageError(file, "not-x86_64", `machine ${machine} is not x86_64 (62)`, "Build the image for the kvm-x86_64 target");
  if (type !== 2)
    throw new VmImageError(file, "not-exec", `ELF type ${type} is not an executable (ET_EXEC = 2)`, "Pass the linked image, not an object or a PIE");
  const elfEntry = u64(view, 24, file, "e_entry");
  const phoff = u64(view, 32, file, "e_phoff");
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  if (phnum === 0 || phnum > MAX_PHNUM)
    throw new VmImageError(file, "absurd-count", `e_phnum is ${phnum} (expected 1-${MAX_PHNUM})`, rebuild);
  if (phentsize !== PHDR_SIZE)
    throw new VmImageError(file, "absurd-count", `e_phentsize is ${phentsize} (expected ${PHDR_SIZE})`, rebuild);
  if (phoff > bytes.length || phoff + phnum * PHDR_SIZE > bytes.length)
    throw new VmImageError(file, "truncated", `truncated: program headers at ${hex(phoff)} run past the end (${bytes.length} bytes)`, rebuild);

  const segments: LoadSegment[] = [];
  let pvhEntry: number | undefined;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * PHDR_SIZE;
    const ptype = view.getUint32(ph, true);
    const flags = view.getUint32(ph + 4, true);
    const offset = u64(view, ph + 8, file, `program header ${i} p_offset`);
    const paddr = u64(view, ph + 24, file, `program header ${i} p_paddr`);
    const filesz = u64(view, ph + 32, file, `program header ${i} p_filesz`);
    const memsz = u64(view, ph + 40, file, `program header ${i} p_memsz`);
    const align = u64(view, ph + 48, file, `program header ${i} p_align`);
    if (ptype !== PT_LOAD && ptype !== PT_NOTE) continue;
    if (offset + filesz > bytes.length)
      throw new VmImageError(file, "truncated", `truncated: segment ${i} needs bytes ${hex(offset)}-${hex(offset + filesz)} of a ${bytes.length}-byte file`, rebuild);
    if (ptype === PT_NOTE) {
      const entry = findPvhEntry(view, offset, filesz, align === 8 ? 8 : 4, file, i);
      if (entry !== undefined && pvhEntry === undefined) pvhEntry = entry;
      continue;
    }
    if (filesz > memsz)
      throw new VmImageError(file, "bad-segment", `segment ${i} has p_filesz ${hex(filesz)} > p_memsz ${hex(memsz)}`, rebuild);
    if (memsz === 0) continue;
    if (paddr + memsz > Number.MAX_SAFE_INTEGER)
      throw new VmImageError(file, "bad-segment", `segment ${i} ends beyond any guest address`, rebuild);
    segments.push({ paddr, offset, filesz, memsz, flags });
  }
  if (segments.length === 0)
    throw new VmImageError(file, "bad-segment", "no PT_LOAD segment with contents", rebuild);
  segments.sort((a, b) => a.paddr - b.paddr);
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!;
    const cur = segments[i]!;
    if (prev.paddr + prev.memsz > cur.paddr)
      throw new VmImageError(file, "segment-overlap", `segments at ${hex(prev.paddr)} and ${hex(cur.paddr)} overlap`, rebuild);
  }
  if (pvhEntry === undefined)
    throw new VmImageError(file, "no-pvh-note", "no PVH entry note (Xen ELF note type 18)", "Link the image with plat-kvm, whose entry code carries the note");
  const entry = pvhEntry;
  if (!segments.some((s) => (s.flags & PF_X) !== 0 && entry >= s.paddr && entry < s.paddr + s.filesz))
    throw new VmImageError(file, "entry-outside", `PVH entry ${hex(entry)} is not inside an executable loaded segment`, rebuild);
  return { pvhEntry: entry, elfEntry, segments };
}

/** Walks the notes of one PT_NOTE segment; returns the PVH entry if the Xen note is there. */
function findPvhEntry(view: DataView, start: number, size: number, align: number, file: string, index: number): number | undefined {
  const end = start + size;
  const pad = (n: number): number => (n + align - 1) & ~(align - 1);
  const bad = (what: string): VmImageError =>
    new VmImageError(file, "bad-note", `note segment ${index}: ${what}`, "Rebuild the image; the note section is corrupt");
  let p = start;
  while (p < end) {
    if (end - p < 12) throw bad("a note header runs past the segment");
    const namesz = view.getUint32(p, true);
    const descsz = view.getUint32(p + 4, true);
    const type = view.getUint32(p + 8, true);
    const nameAt = p + 12;
    // Sizes are u32 from the file: compare before adding so nothing can wrap.
    if (namesz > end - nameAt) throw bad(`name size ${namesz} runs past the segment`);
    const descAt = nameAt + pad(namesz);
    if (descAt > end || descsz > end - descAt) throw bad(`descriptor size ${descsz} runs past the segment`);
    const isXen =
      namesz === 4 &&
      view.getUint8(nameAt) === 0x58 && // X
      view.getUint8(nameAt + 1) === 0x65 && // e
      view.getUint8(nameAt + 2) === 0x6e && // n
      view.getUint8(nameAt + 3) === 0;
    if (isXen && type === XEN_ELFNOTE_PHYS32_ENTRY) {
      if (descsz === 4) return view.getUint32(descAt, true);
      if (descsz === 8) {
        const v = view.getBigUint64(descAt, true);
        if (v >= 0x1_0000_0000n) throw bad(`PVH entry 0x${v.toString(16)} is not a 32-bit address`);
        return Number(v);
      }
      throw bad(`PVH entry note has a ${descsz}-byte descriptor (expected 4 or 8)`);
    }
    p = descAt + pad(descsz);
  }
  return undefined;
}

/** Refuses segments that would overwrite the boot structures or fall outside guest RAM. */
export function checkPlacement(image: ElfImage, memory: number, file: string): void {
  for (const s of image.segments) {
    const end = s.paddr + s.memsz;
    if (s.paddr < RESERVED_END)
      throw new VmImageError(file, "reserved-overlap", `segment at ${hex(s.paddr)}-${hex(end)} overlaps the VMM's boot pages below ${hex(RESERVED_END)}`, `Link the image at ${hex(HIGH_RAM_START)} (plat-kvm's kiln.ld does)`);
    if (end > memory)
      throw new VmImageError(file, "beyond-memory", `segment at ${hex(s.paddr)}-${hex(end)} does not fit in ${memory} bytes of guest memory`, `Give the VM more memory (at least ${Math.ceil(end / 1048576)} MiB plus heap)`);
  }
}
