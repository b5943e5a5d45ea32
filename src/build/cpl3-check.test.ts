import { test } from "node:test";
import assert from "node:assert/strict";
import { findCpl3Violations, formatViolations, instructionAdvice } from "./cpl3-check.ts";
import { parseDisassembly } from "./disasm.ts";

const ports = [{ lo: 0x40, hi: 0x40 }, { lo: 0x3f8, hi: 0x3ff }];

test("allowed: ordinary code, int3, int $4, declared immediate ports, ports in %dx", () => {
  for (const insn of ["mov %rax,%rbx", "int3", "int $0x3", "int $0x4", "in $0x40,%al", "out %al,(%dx)", "in (%dx),%al", "rep stos %rax,%es:(%rdi)", "lock cmpxchg %rcx,(%rdx)", "pushf", "call 0x101000", "movabs $0x123,%rax"]) {
    assert.equal(instructionAdvice(insn, ports), undefined, insn);
  }
});

test("refused: each rule, also behind prefixes; a word access needs every byte declared", () => {
  for (const insn of ["cli", "sti", "hlt", "popf", "popfq", "int $0x80", "int $0x40", "icebp", "int1", "sysenter", "sysretq", "sysretl", "swapgs", "lgdt (%rax)", "lidtq 0x10(%rip)", "ltr %ax", "mov %cr2,%rax", "mov %rax,%cr4", "mov %db7,%rax", "rdmsr", "wrmsr", "invlpg (%rdi)", "wbinvd", "xsetbv", "rep hlt", "in $0x41,%al", "in $0x40,%ax", "out %al,$0x80"]) {
    assert.ok(instructionAdvice(insn, ports), insn);
  }
  assert.match(instructionAdvice("in $0x40,%ax", ports)!, /port 0x41 is declared by no selected library/);
});

test("violations name the function and offset; exempt ranges are skipped", () => {
  const dis = parseDisassembly([
    "0000000000100000 <_kiln_pvh_start32>:",
    "  100000:\t0f 22 d8             \tmov    %eax,%cr3",
    "0000000000101000 <main>:",
    "  101000:\t55                   \tpush   %rbp",
    "  101004:\tfa                   \tcli    ",
    "  101005:\te4 80                \tin     $0x80,%al",
    "0000000000102000 <fault_cli>:",
    "  102000:\tfa                   \tcli    ",
  ].join("\n"));
  const v = findCpl3Violations(dis, { ports, exempt: [{ lo: 0x100000, hi: 0x100100 }, { lo: 0x102000, hi: 0x102010 }] });
  assert.deepEqual(v.map((x) => [x.func, x.offset, x.insn]), [["main", 4, "cli"], ["main", 5, "in $0x80,%al"]]);
  assert.match(formatViolations(v), /^ {2}main\+0x4 \(0x101004\): cli: IF is always 0/m);
  assert.match(formatViolations(v, 1), /\.\.\. and 1 more/);
});
