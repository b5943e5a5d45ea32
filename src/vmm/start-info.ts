// The PVH start info (Xen's struct hvm_start_info, version 1) and the boot GDT, written into the
// reserved low pages. Layout from xen/include/public/arch-x86/hvm/start_info.h; start-info.test.ts
// compares it with that struct compiled here.
import { VmConfigError } from "./errors.ts";
import type { GuestMemory } from "./guest-memory.ts";
import {
  CMDLINE_ADDR,
  CMDLINE_MAX,
  GDT_ADDR,
  IDT_ADDR,
  MEMMAP_ADDR,
  MODLIST_ADDR,
  MODLIST_MAX,
  START_INFO_ADDR,
  memoryMap,
  type MemmapEntry,
} from "./layout.ts";

export const HVM_START_MAGIC = 0x336ec578;
export const HVM_START_VERSION = 1;

export const START_INFO = {
  magic: 0,
  version: 4,
  flags: 8,
  nrModules: 12,
  modlistPaddr: 16,
  cmdlinePaddr: 24,
  rsdpPaddr: 32,
  memmapPaddr: 40,
  memmapEntries: 48,
  reserved: 52,
  size: 56,
} as const;

export const MEMMAP_ENTRY = { addr: 0, size: 8, type: 16, reserved: 20, entrySize: 24 } as const;
export const MODLIST_ENTRY = { paddr: 0, size: 8, cmdlinePaddr: 16, reserved: 24, entrySize: 32 } as const;

/** Memory map entries that fit between MEMMAP_ADDR and the module list. */
export const MEMMAP_MAX = Math.floor((MODLIST_ADDR - MEMMAP_ADDR) / MEMMAP_ENTRY.entrySize);

/** A boot module (the initrd) already placed in guest RAM. */
export interface BootModule {
  paddr: number;
  size: number;
}

/** Boot GDT selectors the initial vCPU state refers to. */
export const SELECTOR = { code: 0x08, data: 0x10, tss: 0x18 } as const;
/** Flat 4 GiB 32-bit code (0x9b: present, ring 0, exec/read, accessed), data (0x93), 32-bit busy TSS. */
const GDT_ENTRIES = [0n, 0x00cf9b000000ffffn, 0x00cf93000000ffffn, 0x00008b0000000067n];
export const GDT_LIMIT = GDT_ENTRIES.length * 8 - 1;

/** The command line as the guest reads it: UTF-8, NUL-terminated, no NUL inside. */
export function encodeCmdline(cmdline: string): Uint8Array {
  if (cmdline.includes("\0")) throw new VmConfigError("cmdline", "contains a NUL character", "Remove it");
  const bytes = new TextEncoder().encode(cmdline);
  if (bytes.length + 1 > CMDLINE_MAX)
    throw new VmConfigError("cmdline", `is ${bytes.length} bytes, the limit is ${CMDLINE_MAX - 1}`, "Shorten the command line");
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Writes start info, memory map, module list, command line and boot GDT; returns the start info address. */
export function writeBootInfo(mem: GuestMemory, cmdline: string, map: MemmapEntry[] = memoryMap(mem.size), modules: BootModule[] = []): number {
  const cmd = encodeCmdline(cmdline);
  if (map.length > MEMMAP_MAX) throw new VmConfigError("memory map", `has ${map.length} entries, at most ${MEMMAP_MAX} fit`, "Report this as a VMM bug");
  if (modules.length > MODLIST_MAX) throw new VmConfigError("boot modules", `${modules.length} given, at most ${MODLIST_MAX} fit`, "Pass fewer modules");
  mem.fill("boot pages", 0, CMDLINE_ADDR + CMDLINE_MAX);
  mem.write("command line", CMDLINE_ADDR, cmd);

  const mm = mem.view("memory map", MEMMAP_ADDR, map.length * MEMMAP_ENTRY.entrySize);
  map.forEach((e, i) => {
    const o = i * MEMMAP_ENTRY.entrySize;
    mm.setBigUint64(o + MEMMAP_ENTRY.addr, BigInt(e.addr), true);
    mm.setBigUint64(o + MEMMAP_ENTRY.size, BigInt(e.size), true);
    mm.setUint32(o + MEMMAP_ENTRY.type, e.type, true);
  });

  if (modules.length) {
    const ml = mem.view("module list", MODLIST_ADDR, modules.length * MODLIST_ENTRY.entrySize);
    modules.forEach((m, i) => {
      const o = i * MODLIST_ENTRY.entrySize;
      ml.setBigUint64(o + MODLIST_ENTRY.paddr, BigInt(m.paddr), true);
      ml.setBigUint64(o + MODLIST_ENTRY.size, BigInt(m.size), true);
    });
  }

  const si = mem.view("start info", START_INFO_ADDR, START_INFO.size);
  si.setUint32(START_INFO.magic, HVM_START_MAGIC, true);
  si.setUint32(START_INFO.version, HVM_START_VERSION, true);
  si.setUint32(START_INFO.flags, 0, true);
  si.setUint32(START_INFO.nrModules, modules.length, true);
  si.setBigUint64(START_INFO.modlistPaddr, modules.length ? BigInt(MODLIST_ADDR) : 0n, true);
  si.setBigUint64(START_INFO.cmdlinePaddr, BigInt(CMDLINE_ADDR), true);
  si.setBigUint64(START_INFO.rsdpPaddr, 0n, true);
  si.setBigUint64(START_INFO.memmapPaddr, BigInt(MEMMAP_ADDR), true);
  si.setUint32(START_INFO.memmapEntries, map.length, true);

  const gdt = mem.view("boot GDT", GDT_ADDR, GDT_ENTRIES.length * 8);
  GDT_ENTRIES.forEach((d, i) => gdt.setBigUint64(i * 8, d, true));
  mem.fill("boot IDT", IDT_ADDR, 8);
  return START_INFO_ADDR;
}
