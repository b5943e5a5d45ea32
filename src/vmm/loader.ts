// Puts a parsed image and its boot information into guest RAM (pure: works on any byte array,
// so the whole load path is tested without /dev/kvm).
import { checkPlacement, parseElf, type ElfImage } from "./elf.ts";
import type { GuestMemory } from "./guest-memory.ts";
import { writeBootInfo } from "./start-info.ts";

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

export function loadImage(bytes: Uint8Array, file: string, mem: GuestMemory, cmdline: string): LoadedImage {
  const image = inspectImage(bytes, file, mem.size);
  const startInfo = writeBootInfo(mem, cmdline);
  for (const s of image.segments) {
    mem.write("image segment", s.paddr, bytes.subarray(s.offset, s.offset + s.filesz));
    // .bss: fresh mmap memory is zero, but a reused buffer might not be.
    mem.fill("image .bss", s.paddr + s.filesz, s.memsz - s.filesz);
  }
  return { image, entry: image.pvhEntry, startInfo };
}
