// ELF64 numbers Kiln uses (System V gABI; x86_64 psABI), defined once for the build and the VMM.

export const EHDR_SIZE = 64;
export const PHDR_SIZE = 56;
export const SHDR_SIZE = 64;
export const SYM_SIZE = 24;

export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ET_EXEC = 2;
export const EM_X86_64 = 62;

export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const SHN_UNDEF = 0;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHF_ALLOC = 2;
