// Test support: a PVH guest (32-bit, at 1 MiB) for the warm pool's reset test. Command line
// "secret": writes a secret dword over all of its RAM except its own code, loads it into every
// general-purpose and debug register it can, and leaves the LAPIC timer, the PIT and the PIC
// programmed, then exits (status 5). Command line "scan": prints what it finds at entry (the
// registers, the debug registers, flags, LAPIC timer and spurious-vector registers, the PIT's
// channel 0 status, the PIC masks) and how many dwords of RAM hold the secret, then exits
// (status 6). A guest booted in a reset shell must print exactly what one in a new VM prints.
// The secret is built with `not` at run time, so the image itself never holds it.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { linkTestImage } from "../../elf/testing.ts";
import { ENTRY, LD } from "./pvh-guest.ts";

export const SECRET = 0x5ec2e75a;
const NOT_SECRET = `0x${(~SECRET >>> 0).toString(16)}`;

const ASM = `${ENTRY}  /* Save what the guest finds at entry before touching anything (0x9000 is RAM, below 640K). */
  movl %eax, 0x9000
  movl %ecx, 0x9004
  movl %edx, 0x9008
  movl %esi, 0x900c
  movl %edi, 0x9010
  movl %ebp, 0x9014
  movl %esp, 0x9018
  movl $0x9f000, %esp
  pushfl
  popl %eax
  movl %eax, 0x901c
  movl %dr0, %eax
  movl %eax, 0x9020
  movl %dr1, %eax
  movl %eax, 0x9024
  movl %dr2, %eax
  movl %eax, 0x9028
  movl %dr3, %eax
  movl %eax, 0x902c
  movl %dr7, %eax
  movl %eax, 0x9030
  cld
  movl 24(%ebx), %esi          /* cmdline_paddr */
  movl 40(%ebx), %edi          /* memmap_paddr */
  movl 48(%ebx), %ecx          /* memmap_entries */
  decl %ecx
  imull $24, %ecx
  addl %ecx, %edi
  movl (%edi), %eax
  addl 8(%edi), %eax           /* end of RAM: the last map entry's addr + size */
  movl %eax, 0x9040
  cmpl $0x72636573, (%esi)     /* "secr" */
  je secret
  cmpl $0x6e616373, (%esi)     /* "scan" */
  je scan
  movw $0x501, %dx
  movb $9, %al
  outb %al, %dx
  jmp hang

secret:
  movl 0x9040, %ebp            /* end of RAM, kept in a register: the fill overwrites 0x9040 */
  movl $${NOT_SECRET}, %eax
  notl %eax
  movl %eax, %dr0
  movl %eax, %dr1
  movl %eax, %dr2
  movl %eax, %dr3
  movl $0x5ff, %ecx            /* DR7: all four breakpoints enabled (their addresses are never hit) */
  movl %ecx, %dr7
  movl $0xfee000f0, %edi       /* LAPIC: software-enable, timer periodic on vector 0x40 with a large count */
  movl $0x1ff, (%edi)
  movl $0xfee00320, %edi
  movl $0x20040, (%edi)
  movl $0xfee00380, %edi
  movl %eax, (%edi)
  movb $0x34, %al              /* PIT channel 0: lo/hi, mode 2 */
  outb %al, $0x43
  movb $0x5a, %al
  outb %al, $0x40
  movb $0xe7, %al
  outb %al, $0x40
  movb $0x5a, %al              /* PIC masks */
  outb %al, $0x21
  outb %al, $0xa1
  movl $${NOT_SECRET}, %eax
  notl %eax
  xorl %edi, %edi              /* [0, 1 MiB) */
  movl $0x40000, %ecx
  rep stosl
  movl $code_end, %edi         /* [end of this code, end of RAM) */
  movl %ebp, %ecx
  subl %edi, %ecx
  shrl $2, %ecx
  rep stosl
  movl %eax, %ebx
  movl %eax, %ecx
  movl %eax, %edx
  movl %eax, %esi
  movl %eax, %edi
  movl %eax, %ebp
  movl %eax, %esp
  movw $0x501, %dx
  movb $5, %al
  outb %al, %dx
  jmp hang

scan:
  movl $0x9000, %esi           /* the 13 saved entry values */
  movl $13, %ecx
1:lodsl
  call hex
  loop 1b
  movl $0xfee000f0, %eax
  movl (%eax), %eax
  call hex
  movl $0xfee00320, %eax
  movl (%eax), %eax
  call hex
  movl $0xfee00380, %eax
  movl (%eax), %eax
  call hex
  movb $0xe2, %al              /* PIT read-back: status of channel 0 */
  outb %al, $0x43
  xorl %eax, %eax
  inb $0x40, %al
  call hex
  xorl %eax, %eax
  inb $0x21, %al
  movb %al, %ah
  inb $0xa1, %al
  call hex
  movl $${NOT_SECRET}, %ebx    /* count the dwords of RAM holding the secret */
  notl %ebx
  xorl %edi, %edi
  xorl %edx, %edx
  movl 0x9040, %ecx
  shrl $2, %ecx
2:cmpl %ebx, (%edi)
  jne 3f
  incl %edx
3:addl $4, %edi
  loop 2b
  movl %edx, %eax
  call hex
  movw $0x501, %dx
  movb $6, %al
  outb %al, %dx
  jmp hang

/* Prints %eax as 8 hex digits and a newline on COM1; keeps %ecx and %esi. */
hex:
  pushl %ecx
  movl %eax, %ebx
  movl $8, %ecx
  movw $0x3f8, %dx
4:roll $4, %ebx
  movl %ebx, %eax
  andl $15, %eax
  movb digits(%eax), %al
  outb %al, %dx
  loop 4b
  movb $0x0a, %al
  outb %al, %dx
  popl %ecx
  ret
digits:
  .ascii "0123456789abcdef"
hang:
  jmp hang
  .p2align 12
code_end:
`;


/** Builds the guest and returns the image path (in a fresh temporary directory). */
export function buildSecretGuest(): string {
  return linkTestImage(mkdtempSync(path.join(tmpdir(), "kiln-secret-guest-")), ASM, LD, "_start32");
}

/** The names of the values "scan" prints, one per line, in order. */
export const SCAN_FIELDS = [
  "eax", "ecx", "edx", "esi", "edi", "ebp", "esp", "eflags", "dr0", "dr1", "dr2", "dr3", "dr7",
  "lapic svr", "lapic lvt timer", "lapic initial count", "pit ch0 status", "pic masks", "secret dwords in RAM",
] as const;
