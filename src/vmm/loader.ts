// Puts a parsed image and its boot information into guest RAM (pure: works on any byte array,
// so the whole load path is tested without /dev/kvm).
import { checkPlacement, parseElf, type ElfImage } from "./elf.ts";
import { VmConfigError } from "./errors.ts";
import type { GuestMemory } from "./guest-memory.ts";
import { PAGE_SIZE, memoryMap } from "./layout.ts";
import { writeBootInfo, type BootModule } from "./start-info.ts";

/** The guest's page tables map RAM below 1 GiB (docs/architecture.md section 4): a module must be there. */
const MODULE_LIMIT = 1 << 30;

/**
 * Where the initrd goes: the top of RAM below 1 GiB, page-aligned (where QEMU puts it), above
 * the image. A VmConfigError says how much memory it needs when it does not fit.
 */
export function placeModule(image: ElfImage, memory: number, size: number): BootModule {
  const imageEnd = Math.max(0, ...image.segments.map((s) => s.paddr + s.memsz));
  const top = Math.min(memory, MODULE_LIMIT);
  const paddr = Math.floor((top - size) / PAGE_SIZE) * PAGE_SIZE;
  if (size <= 0 || paddr < imageEnd) {
    const need = Math.ceil((imageEnd + size) / 1048576) + 1;
    throw new VmConfigError("initrd", `${size} bytes do not fit in guest memory (${memory} bytes) above the image`, `Give the VM more memory (at least ${need} MiB plus heap)`);
  }
  return { paddr, size };
}

export interface LoadedImage {
  image: ElfImage;
  /** Where the vCPU starts (the PVH entry). */
  entry: number;
  /** Guest-physical address of hvm_start_info, for %ebx. */
  startInfo: number;
}

/** Parses and checks without touching memory: what Vm.boot does before creating anything. */
export function inspectImage(bytes: Uint8Array, file: string, memory: number): ElfImage {
  const image = parseElf(bytes, file);
  checkPlacement(image, memory, file);
  return image;
}

/** `parsed`: parseElf's result for these bytes, when the caller has it (the placement is checked again). */
export function loadImage(bytes: Uint8Array, file: string, mem: GuestMemory, cmdline: string, initrd?: Uint8Array, parsed?: ElfImage): LoadedImage {
  const image = parsed ?? parseElf(bytes, file);
  checkPlacement(image, mem.size, file);
  const modules: BootModule[] = [];
  if (initrd?.length) {
    const m = placeModule(image, mem.size, initrd.length);
    mem.write("initrd", m.paddr, initrd);
    modules.push(m);
  }
  const startInfo = writeBootInfo(mem, cmdline, memoryMap(mem.size), modules);
  for (const s of image.segments) {
    mem.write("image segment", s.paddr, bytes.subarray(s.offset, s.offset + s.filesz));
    // .bss: fresh mmap memory is zero, but a reused buffer might not be.
    mem.fill("image .bss", s.paddr + s.filesz, s.memsz - s.filesz);
  }
  return { image, entry: image.pvhEntry, startInfo };
}
