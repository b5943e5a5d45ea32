// Reads a Kiln image (x86_64 ELF executable with a PVH entry note) without trusting it. The
// shared reader (src/elf/read.ts) decodes and bounds-checks; this file is the VMM's policy: what
// it refuses (machine, type, counts, overlaps, the PVH note), in which order, and as which
// VmImageError naming the file, the problem and the fix.
import { EM_X86_64, ET_EXEC, PHDR_SIZE, PF_X, PT_LOAD, PT_NOTE } from "../elf/constants.ts";
import { checkProgramHeaderTable, contents, ElfReadError, readHeader, readNotes, readProgramHeader, toNumber } from "../elf/read.ts";
import { VmImageError, type ImageErrorCode } from "./errors.ts";
import { HIGH_RAM_START, RESERVED_END } from "./layout.ts";

export { PF_R, PF_W, PF_X, PT_LOAD, PT_NOTE } from "../elf/constants.ts";
/** XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit physical PVH entry point. */
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
/** Kiln's own note (name "Kiln"): type 1 names devices the image wants, NUL-separated. */
export const KILN_NOTE_DEVICE = 1;
/** Devices a runner knows how to attach. */
export const KNOWN_DEVICES = ["virtio-console", "virtio-net"] as const;
export type DeviceName = (typeof KNOWN_DEVICES)[number];
/** More program headers than any sane image has; a larger count means a corrupt header. */
export const MAX_PHNUM = 64;

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
  /** Devices the image asks for (Kiln device notes, from libraries such as virtio-console). */
  devices: DeviceName[];
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const REBUILD = "Rebuild it with `kiln build`";
const FIX: Partial<Record<ImageErrorCode, string>> = {
  "not-elf": "Pass the image.elf that `kiln build` wrote",
  "not-elf64": "Kiln boots 64-bit x86_64 images only",
  "not-little-endian": "Kiln boots x86_64 images only",
};

/** Runs a step of the shared reader, turning its refusal into this file's VmImageError. */
function read<T>(file: string, step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (!(e instanceof ElfReadError)) throw e;
    if (e.code === "too-large")
      throw new VmImageError(file, "bad-segment", `${e.field} is 0x${e.value!.toString(16)}, beyond any guest address`, "Rebuild the image; the file looks corrupt");
    const code: ImageErrorCode = e.code === "not-elf" || e.code === "truncated" || e.code === "not-elf64" || e.code === "not-little-endian" ? e.code : "bad-segment";
    throw new VmImageError(file, code, e.message, FIX[code] ?? REBUILD);
  }
}

/** A 64-bit field as a number, refusing values beyond 2^53 (no real image has them). */
const u64 = (file: string, value: bigint, what: string): number => read(file, () => toNumber(value, what));

export function parseElf(bytes: Uint8Array, file: string): ElfImage {
  const h = read(file, () => readHeader(bytes));
  if (h.machine !== EM_X86_64)
    throw new VmImageError(file, "not-x86_64", `machine ${h.machine} is not x86_64 (${EM_X86_64})`, "Build the image for the kvm-x86_64 target");
  if (h.type !== ET_EXEC)
    throw new VmImageError(file, "not-exec", `ELF type ${h.type} is not an executable (ET_EXEC = ${ET_EXEC})`, "Pass the linked image, not an object or a PIE");
  const elfEntry = u64(file, h.entry, "e_entry");
  u64(file, h.phoff, "e_phoff"); // refused here, before the counts, as always
  if (h.phnum === 0 || h.phnum > MAX_PHNUM)
    throw new VmImageError(file, "absurd-count", `e_phnum is ${h.phnum} (expected 1-${MAX_PHNUM})`, REBUILD);
  if (h.phentsize !== PHDR_SIZE)
    throw new VmImageError(file, "absurd-count", `e_phentsize is ${h.phentsize} (expected ${PHDR_SIZE})`, REBUILD);
  read(file, () => checkProgramHeaderTable(bytes, h));

  const segments: LoadSegment[] = [];
  let pvhEntry: number | undefined;
  const devices = new Set<DeviceName>();
  for (let i = 0; i < h.phnum; i++) {
    const ph = read(file, () => readProgramHeader(bytes, h, i));
    const offset = u64(file, ph.offset, `program header ${i} p_offset`);
    const paddr = u64(file, ph.paddr, `program header ${i} p_paddr`);
    const filesz = u64(file, ph.filesz, `program header ${i} p_filesz`);
    const memsz = u64(file, ph.memsz, `program header ${i} p_memsz`);
    const align = u64(file, ph.align, `program header ${i} p_align`);
    if (ph.type !== PT_LOAD && ph.type !== PT_NOTE) continue;
    read(file, () => contents(bytes, offset, filesz, `segment ${i}`));
    if (ph.type === PT_NOTE) {
      const notes = scanNotes(bytes, offset, filesz, align === 8 ? 8 : 4, file, i);
      if (notes.pvhEntry !== undefined && pvhEntry === undefined) pvhEntry = notes.pvhEntry;
      for (const d of notes.devices) devices.add(d);
      continue;
    }
    if (filesz > memsz)
      throw new VmImageError(file, "bad-segment", `segment ${i} has p_filesz ${hex(filesz)} > p_memsz ${hex(memsz)}`, REBUILD);
    if (memsz === 0) continue;
    if (paddr + memsz > Number.MAX_SAFE_INTEGER)
      throw new VmImageError(file, "bad-segment", `segment ${i} ends beyond any guest address`, REBUILD);
    segments.push({ paddr, offset, filesz, memsz, flags: ph.flags });
  }
  if (segments.length === 0)
    throw new VmImageError(file, "bad-segment", "no PT_LOAD segment with contents", REBUILD);
  segments.sort((a, b) => a.paddr - b.paddr);
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!;
    const cur = segments[i]!;
    if (prev.paddr + prev.memsz > cur.paddr)
      throw new VmImageError(file, "segment-overlap", `segments at ${hex(prev.paddr)} and ${hex(cur.paddr)} overlap`, REBUILD);
  }
  if (pvhEntry === undefined)
    throw new VmImageError(file, "no-pvh-note", "no PVH entry note (Xen ELF note type 18)", "Link the image with plat-kvm, whose entry code carries the note");
  const entry = pvhEntry;
  if (!segments.some((s) => (s.flags & PF_X) !== 0 && entry >= s.paddr && entry < s.paddr + s.filesz))
    throw new VmImageError(file, "entry-outside", `PVH entry ${hex(entry)} is not inside an executable loaded segment`, REBUILD);
  return { pvhEntry: entry, elfEntry, segments, devices: [...devices] };
}

/** Walks the notes of one PT_NOTE segment: the PVH entry (Xen note) and Kiln device notes. */
function scanNotes(bytes: Uint8Array, start: number, size: number, align: number, file: string, index: number): { pvhEntry?: number; devices: DeviceName[] } {
  const bad = (what: string): VmImageError =>
    new VmImageError(file, "bad-note", `note segment ${index}: ${what}`, "Rebuild the image; the note section is corrupt");
  const found: { pvhEntry?: number; devices: DeviceName[] } = { devices: [] };
  try {
    for (const n of readNotes(bytes, start, size, align, "the segment")) {
      if (n.name === "Kiln" && n.type === KILN_NOTE_DEVICE) {
        for (const name of new TextDecoder().decode(n.desc).split("\0").filter((w) => w !== "")) {
          if (!(KNOWN_DEVICES as readonly string[]).includes(name))
            throw new VmImageError(file, "bad-note", `the image asks for device "${name}", which this Kiln does not know (known: ${KNOWN_DEVICES.join(", ")})`, "Rebuild the image with this toolchain's libraries");
          found.devices.push(name as DeviceName);
        }
        continue;
      }
      if (n.namesz !== 4 || n.name !== "Xen" || n.type !== XEN_ELFNOTE_PHYS32_ENTRY || found.pvhEntry !== undefined) continue;
      const desc = new DataView(n.desc.buffer, n.desc.byteOffset, n.desc.byteLength);
      if (n.desc.length === 4) found.pvhEntry = desc.getUint32(0, true);
      else if (n.desc.length === 8) {
        const v = desc.getBigUint64(0, true);
        if (v >= 0x1_0000_0000n) throw bad(`PVH entry 0x${v.toString(16)} is not a 32-bit address`);
        found.pvhEntry = Number(v);
      } else throw bad(`PVH entry note has a ${n.desc.length}-byte descriptor (expected 4 or 8)`);
    }
  } catch (e) {
    if (e instanceof ElfReadError) throw bad(e.message);
    throw e;
  }
  return found;
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
