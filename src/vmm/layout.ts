// Guest-physical layout the VMM sets up before the first instruction (PVH boot protocol).
//
//   0x0000-0x0fff  page 0: a boot GDT at 0x500 and an empty IDT at 0x520 (the guest replaces both)
//   0x1000         struct hvm_start_info, memory map entries from 0x1040, the module list at 0x1f00
//   0x2000-0x3fff  the command line, NUL-terminated
//   0x4000-        free RAM below 640 KiB; the image is loaded at its PT_LOAD physical addresses
//   1 MiB-memory   RAM (the image, usually linked at 1 MiB, then free memory; a boot module, the
//                  initrd, at the top of RAM below 1 GiB, page-aligned, as QEMU places it)
// Everything below RESERVED_END is reported to the guest as E820 reserved, so its allocator
// never hands out the start info or command line it is still reading.

export const GDT_ADDR = 0x500;
export const IDT_ADDR = 0x520;
export const START_INFO_ADDR = 0x1000;
export const MEMMAP_ADDR = 0x1040;
/** hvm_modlist_entry array (the initrd): the last 256 bytes of the start-info page. */
export const MODLIST_ADDR = 0x1f00;
export const MODLIST_MAX = 8;
export const CMDLINE_ADDR = 0x2000;
/** Bytes for the command line including its terminating NUL. */
export const CMDLINE_MAX = 0x2000;
export const RESERVED_END = 0x4000;
/** End of conventional low memory (the VGA/BIOS hole starts here). */
export const LOW_RAM_END = 0xa0000;
export const HIGH_RAM_START = 0x100000;

/** Smallest guest memory: the low 640 KiB hold the boot pages, a small image and its heap (with 1 MiB nothing is above the hole). */
export const MIN_MEMORY = 1024 * 1024;
/** Largest: RAM is one slot below the 3-4 GiB hole (LAPIC, IOAPIC, TSS pages, MMIO windows). */
export const MAX_MEMORY = 3 * 1024 * 1024 * 1024;
export const PAGE_SIZE = 4096;

/** Where KVM_SET_TSS_ADDR puts its 3 pages (and the identity map page below): in the hole. */
export const TSS_ADDR = 0xfffbd000;
export const IDENTITY_MAP_ADDR = 0xfffbc000;

/** E820 memory types, as in hvm_memmap_table_entry.type. */
export const E820 = {
  RAM: 1,
  RESERVED: 2,
  ACPI: 3,
  NVS: 4,
  UNUSABLE: 5,
} as const;

export interface MemmapEntry {
  addr: number;
  size: number;
  type: number;
}

/** The memory map the guest sees for `memory` bytes of RAM. */
export function memoryMap(memory: number): MemmapEntry[] {
  return [
    { addr: 0, size: RESERVED_END, type: E820.RESERVED },
    { addr: RESERVED_END, size: LOW_RAM_END - RESERVED_END, type: E820.RAM },
    ...(memory > HIGH_RAM_START ? [{ addr: HIGH_RAM_START, size: memory - HIGH_RAM_START, type: E820.RAM }] : []),
  ];
}
