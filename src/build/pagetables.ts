// The boot page tables, computed at build time and patched into the image as data, so the CPL-0
// boot path only loads CR3 (docs/architecture.md section 4, "Page tables are data in the image").
import * as fs from "node:fs";
import { KilnError } from "../errors.ts";
import { parseElf, PF_W, PF_X, PT_LOAD, SHT_NOBITS } from "./elf.ts";

export const PAGE = 4096;
export const PAGETABLE_SECTION = ".kiln.pagetables";
export const PAGETABLE_SYMBOL = "kiln_pml4";
/** PML4, PDPT, PD 0-1 GiB, PD 3-4 GiB, PT 0-2 MiB. */
export const PAGETABLE_PAGES = 5;
export const PAGETABLE_BYTES = PAGETABLE_PAGES * PAGE;
/** Symbols whose page the tables leave not present. */
export const GUARD_PREFIX = "kiln_guard_page_";

const MIB2 = 2 * 1024 * 1024;
const GIB = 1024 * 1024 * 1024;

// Entry bits (Intel SDM vol. 3, 4.5).
export const PTE_P = 1n;
export const PTE_RW = 2n;
export const PTE_US = 4n;
export const PTE_PWT = 8n;
export const PTE_PCD = 0x10n;
export const PTE_PS = 0x80n;
export const PTE_NX = 1n << 63n;

/** What the generator needs of a PT_LOAD program header. */
export interface LoadSegment {
  vaddr: number;
  memsz: number;
  /** ELF PF_* bits. */
  flags: number;
}

const hex = (n: number) => `0x${n.toString(16)}`;

function leafBits(flags: number): bigint {
  const w = (flags & PF_W) !== 0;
  const x = (flags & PF_X) !== 0;
  if (w) return PTE_P | PTE_US | PTE_RW | PTE_NX;
  if (x) return PTE_P | PTE_US;
  return PTE_P | PTE_US | PTE_NX;
}

/**
 * The 5 table pages for an identity-mapped image whose tables start at `tablesAddr`.
 * Pure: the same segments and address always give the same bytes.
 */
export function buildPageTables(segments: readonly LoadSegment[], tablesAddr: number, guardPages: readonly number[] = []): Buffer {
  if (tablesAddr % PAGE !== 0) {
    throw new KilnError(`${PAGETABLE_SECTION} is at ${hex(tablesAddr)}, not 4 KiB aligned. Align it with ALIGN(4096) in the linker script.`);
  }
  if (tablesAddr < PAGE || tablesAddr + PAGETABLE_BYTES > MIB2) {
    throw new KilnError(`${PAGETABLE_SECTION} at ${hex(tablesAddr)} is outside 4 KiB-2 MiB. Place it inside the image in the linker script.`);
  }
  // Leaf bits of each 4 KiB page of the first 2 MiB, from the segments; others stay default.
  const pageBits = new Array<bigint | undefined>(512).fill(undefined);
  const owner = new Array<number>(512).fill(-1);
  segments.forEach((seg, i) => {
    if (seg.memsz === 0) return;
    const end = seg.vaddr + seg.memsz;
    if (seg.vaddr < PAGE) {
      throw new KilnError(`PT_LOAD segment ${i} starts at ${hex(seg.vaddr)}, inside page 0, which stays unmapped so null pointers fault. Link the image at 1 MiB (. = 0x100000) in the linker script.`);
    }
    if (end > MIB2) {
      throw new KilnError(`the image (PT_LOAD segment ${i}, including .bss) ends at ${hex(end)}, past 2 MiB: the boot page tables map the image with 4 KiB pages only below 2 MiB. Make the image smaller (options, fewer libraries, --lto) or its .bss smaller.`);
    }
    if ((seg.flags & PF_W) && (seg.flags & PF_X)) {
      throw new KilnError(`PT_LOAD segment ${i} at ${hex(seg.vaddr)} is writable and executable; Kiln keeps W^X. Put code and data in separate 4 KiB-aligned segments (PHDRS) in the linker script.`);
    }
    const bits = leafBits(seg.flags);
    for (let p = Math.floor(seg.vaddr / PAGE); p < Math.ceil(end / PAGE); p++) {
      const prev = pageBits[p];
      if (prev !== undefined && prev !== bits) {
        throw new KilnError(`PT_LOAD segments ${owner[p]} and ${i} share the page at ${hex(p * PAGE)} with different permissions. Align each segment to 4 KiB (ALIGN(4096)) in the linker script.`);
      }
      pageBits[p] = bits;
      owner[p] = i;
    }
  });

  const buf = Buffer.alloc(PAGETABLE_BYTES);
  const put = (page: number, index: number, value: bigint) => buf.writeBigUInt64LE(value, page * PAGE + index * 8);
  const table = (page: number) => BigInt(tablesAddr + page * PAGE);
  // Upper levels grant everything; the leaves decide (access rights are ANDed down the walk).
  const dir = PTE_P | PTE_RW | PTE_US;

  put(0, 0, table(1) | dir); // PML4[0] -> PDPT: the first 512 GiB
  put(1, 0, table(2) | dir); // PDPT[0] -> PD for 0-1 GiB
  put(1, 3, table(3) | dir); // PDPT[3] -> PD for 3-4 GiB
  put(2, 0, table(4) | dir); // PD[0] -> PT for 0-2 MiB
  for (let i = 1; i < 512; i++) {
    put(2, i, BigInt(i * MIB2) | PTE_P | PTE_RW | PTE_US | PTE_PS | PTE_NX);
  }
  for (let i = 0; i < 512; i++) {
    // LAPIC, IOAPIC and virtio-mmio windows: device memory must not be cached.
    put(3, i, BigInt(3 * GIB + i * MIB2) | PTE_P | PTE_RW | PTE_US | PTE_PS | PTE_PCD | PTE_PWT | PTE_NX);
  }
  // PT[0] stays 0: page 0 not present, so null pointer accesses fault; so do guard pages.
  const guards = new Set<number>();
  for (const g of guardPages) {
    if (g % PAGE !== 0 || g < PAGE || g >= MIB2) {
      throw new KilnError(`guard page ${hex(g)} is not a 4 KiB-aligned page inside 4 KiB-2 MiB. Align the ${GUARD_PREFIX}* symbol's page with .balign 4096.`);
    }
    guards.add(g / PAGE);
  }
  for (let p = 1; p < 512; p++) {
    if (guards.has(p)) continue;
    put(4, p, BigInt(p * PAGE) | (pageBits[p] ?? PTE_P | PTE_RW | PTE_US | PTE_NX));
  }
  return buf;
}

/**
 * Fills `.kiln.pagetables` of the ELF file in place from its own PT_LOAD headers.
 * Returns false (and changes nothing) if the image has no such section (fixture images).
 */
export function patchPageTables(file: string, guards?: readonly number[]): number[] | false {
  const buf = fs.readFileSync(file);
  const elf = parseElf(buf, file);
  const sec = elf.section(PAGETABLE_SECTION);
  if (!sec) return false;
  if (sec.size !== PAGETABLE_BYTES) {
    throw new KilnError(`${file}: section ${PAGETABLE_SECTION} is ${sec.size} bytes; it must be exactly ${PAGETABLE_BYTES} (${PAGETABLE_PAGES} pages). Reserve it as \`{ kiln_pml4 = .; BYTE(0); . = kiln_pml4 + ${PAGETABLE_BYTES}; }\` in the linker script.`);
  }
  if (sec.type === SHT_NOBITS) {
    throw new KilnError(`${file}: section ${PAGETABLE_SECTION} has no file contents (NOBITS), so the tables cannot be stored. Give it contents in the linker script: \`.kiln.pagetables ALIGN(4096) : { kiln_pml4 = .; BYTE(0); . = kiln_pml4 + ${PAGETABLE_BYTES}; }\` (a section holding only \`. += N\` becomes NOBITS).`);
  }
  const sym = elf.symbol(PAGETABLE_SYMBOL);
  if (sym && sym.value !== sec.addr) {
    throw new KilnError(`${file}: symbol ${PAGETABLE_SYMBOL} is at 0x${sym.value.toString(16)} but ${PAGETABLE_SECTION} starts at 0x${sec.addr.toString(16)}. Define ${PAGETABLE_SYMBOL} at the start of the section in the linker script.`);
  }
  const loads = elf.segments.filter((s) => s.type === PT_LOAD);
  for (const s of loads) {
    if (s.vaddr !== s.paddr) {
      throw new KilnError(`${file}: PT_LOAD at 0x${s.vaddr.toString(16)} has physical address 0x${s.paddr.toString(16)}; the boot page tables identity-map the image. Drop AT() from the linker script.`);
    }
  }
  const guardPages = guards ?? guardPagesOf(elf);
  buildPageTables(loads, sec.addr, guardPages).copy(buf, sec.offset);
  fs.writeFileSync(file, buf);
  return [...guardPages];
}

/**
 * The pages named by `kiln_guard_page_*` symbols (local ones too: prelink hides them), which the
 * tables leave not present, e.g. below the boot stack, so boot spends no shim entry unmapping it.
 */
export function guardPagesOf(elf: { symbols(): { name: string; value: number; shndx: number }[] }): number[] {
  return elf.symbols().filter((s) => s.name.startsWith(GUARD_PREFIX) && s.shndx !== 0).map((s) => s.value);
}
