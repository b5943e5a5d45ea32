// Test support: a real (tiny) PVH guest, assembled and linked here with gcc and ld. 32-bit code
// at 1 MiB that checks the start info magic, prints the command line and the number of memory
// map entries on COM1, and writes 5 to the exit port. Command lines starting with "triple"
// execute ud2 with no IDT (a triple fault); "spin" loops forever (for kill tests).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { linkTestImage } from "../../elf/testing.ts";

// The PVH entry note and the 32-bit entry every fixture guest starts with (secret-guest.ts too).
export const ENTRY = `
  .section .note.Xen, "a", @note
  .p2align 2
  .long 4, 4, 18
  .asciz "Xen"
  .long _start32
  .text
  .code32
  .globl _start32
_start32:
`;

// Exit status 5 (success) from the fall-through, 9 from `bad`; then halt for good.
const EXIT = `
  movw $0x501, %dx
  movb $5, %al
  outb %al, %dx
3:hlt
  jmp 3b
bad:
  movw $0x501, %dx
  movb $9, %al
  outb %al, %dx
  jmp 3b
`;

const ASM = `${ENTRY}  cld
  cmpl $0x336ec578, (%ebx)
  jne bad
  movl 24(%ebx), %esi          /* cmdline_paddr (low half) */
  cmpl $0x70697274, (%esi)     /* "trip" */
  je triple
  cmpl $0x6e697073, (%esi)     /* "spin" */
  je spin
  movw $0x3f8, %dx
1:lodsb
  testb %al, %al
  jz 2f
  outb %al, %dx
  jmp 1b
2:movb $0x0a, %al
  outb %al, %dx
  movl 48(%ebx), %eax          /* memmap_entries */
  addb $0x30, %al
  outb %al, %dx
  movb $0x0a, %al
  outb %al, %dx
${EXIT}triple:
  ud2
spin:
  jmp spin
`;

export const LD = "SECTIONS { . = 0x100000; .text : { *(.text) } .note : { *(.note.Xen) } }\n";

/** Builds the guest and returns the image path (in a fresh temporary directory). */
export function buildPvhGuest(): string {
  return linkTestImage(mkdtempSync(path.join(tmpdir(), "kiln-pvh-guest-")), ASM, LD, "_start32");
}

// A PVH guest that drives the VMM's virtio-console at 0xd0000000 with plain 32-bit moves
// (paging off): register setup (MMIO exits), one transmit chain at 0x200000, a QueueNotify
// (KVM_IOEVENTFD: no exit), a wait on the used ring, then exit status 5; 9 if the magic is wrong.
const VIRTIO_ASM = `${ENTRY}  movl $0xd0000000, %edi
  cmpl $0x74726976, (%edi)
  jne bad
  movl $0, 0x70(%edi)
  movl $3, 0x70(%edi)
  movl $1, 0x24(%edi)
  movl $1, 0x20(%edi)
  movl $11, 0x70(%edi)
  movl $1, 0x30(%edi)
  movl $8, 0x38(%edi)
  movl $0x200000, 0x80(%edi)
  movl $0x200100, 0x90(%edi)
  movl $0x200200, 0xa0(%edi)
  movl $1, 0x44(%edi)
  movl $15, 0x70(%edi)
  movl $msg, 0x200000
  movl $0, 0x200004
  movl $(msgend - msg), 0x200008
  movl $0, 0x20000c
  movw $0, 0x200104
  movw $1, 0x200102
  movl $1, 0x50(%edi)
1:cmpw $1, 0x200202
  je 2f
  pause
  jmp 1b
2:
${EXIT}msg:
  .ascii "hello over virtio\\n"
msgend:
`;

/** Builds the virtio-console guest; returns the image path (in a fresh temporary directory). */
export function buildPvhVirtioGuest(): string {
  return linkTestImage(mkdtempSync(path.join(tmpdir(), "kiln-pvh-virtio-")), VIRTIO_ASM, LD, "_start32");
}
