import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDisassembly } from "./disasm.ts";
import { objectRanges, planFastPath } from "./fastpath.ts";

const THUNKS = { nr: 0x200000, reg: 0x201000 };

/** objdump -d -w lines for one function at `at`. */
function dis(func: string, at: number, insns: [number[], string][]): string {
  let addr = at;
  const lines = [`\nDisassembly of section .text:\n`, `${at.toString(16).padStart(16, "0")} <${func}>:`];
  for (const [bytes, text] of insns) {
    lines.push(`  ${addr.toString(16)}:\t${bytes.map((b) => b.toString(16).padStart(2, "0")).join(" ")} \t${text}`);
    addr += bytes.length;
  }
  return lines.join("\n");
}

test("parseDisassembly reads address, bytes, text and function", () => {
  const insns = parseDisassembly(dis("getpid", 0x1000, [[[0xb8, 0x27, 0, 0, 0], "mov    $0x27,%eax"], [[0x0f, 0x05], "syscall"], [[0xc3], "ret    "]]));
  assert.equal(insns.length, 3);
  assert.deepEqual(insns[1], { section: ".text", sectionIndex: 0, address: 0x1005, bytes: [0x0f, 0x05], text: "syscall", func: "getpid", funcAddress: 0x1000, index: 1 });
  assert.equal(insns[0]!.text, "mov $0x27,%eax");
});

test("a mov of a constant right before syscall becomes a call of thunk N and a 2-byte nop", () => {
  const insns = parseDisassembly(dis("getpid", 0x1000, [[[0xb8, 0x27, 0, 0, 0], "mov    $0x27,%eax"], [[0x0f, 0x05], "syscall"], [[0xc3], "ret"]]));
  const { sites, patches } = planFastPath(insns, THUNKS);
  assert.equal(sites[0]!.state, "rewritten");
  assert.equal(sites[0]!.nr, 39);
  const rel = THUNKS.nr + 16 * 39 - (0x1000 + 5);
  assert.deepEqual(patches, [{ address: 0x1000, bytes: [0xe8, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, (rel >> 24) & 0xff, 0x66, 0x90] }]);
});

test("instructions between the mov and syscall move up; a register number uses the register thunk", () => {
  const insns = parseDisassembly(
    dis("f", 0x1000, [
      [[0xb8, 0x48, 0, 0, 0], "mov    $0x48,%eax"],
      [[0x4c, 0x89, 0xe6], "mov    %r12,%rsi"],
      [[0x0f, 0x05], "syscall"],
      [[0x4c, 0x89, 0xc8], "mov    %r9,%rax"],
      [[0x0f, 0x05], "syscall"],
    ]),
  );
  const { sites, patches } = planFastPath(insns, THUNKS);
  assert.deepEqual(sites.map((s) => s.state), ["rewritten", "rewritten"]);
  assert.deepEqual(patches[0]!.bytes.slice(0, 4), [0x4c, 0x89, 0xe6, 0xe8], "the moved instruction, then the call");
  assert.equal(patches[0]!.bytes.length, 10);
  const rel = THUNKS.reg + 16 * 9 - (0x100a + 5); // r9 is register 9
  assert.deepEqual(patches[1], { address: 0x100a, bytes: [0xe8, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, (rel >> 24) & 0xff] });
});

test("sites that cannot be rewritten stay on the syscall instruction, with the reason", () => {
  const reason = (insns: [number[], string][], extra = "") => planFastPath(parseDisassembly(dis("f", 0x1000, insns) + extra), THUNKS).sites[0]!.reason;
  assert.match(reason([[[0x8b, 0x05, 1, 2, 3, 4], "mov    0x4030201(%rip),%eax"], [[0x0f, 0x05], "syscall"]])!, /not moved into rax/);
  assert.match(reason([[[0xb8, 1, 0, 0, 0], "mov    $0x1,%eax"], [[0x48, 0x8d, 0x35, 0, 0, 0, 0], "lea    0x0(%rip),%rsi"], [[0x0f, 0x05], "syscall"]])!, /cannot move/);
  assert.match(reason([[[0xb8, 1, 0, 0, 0], "mov    $0x1,%eax"], [[0x89, 0x44, 0x24, 0xfc], "mov    %eax,-0x4(%rsp)"], [[0x0f, 0x05], "syscall"]])!, /not moved into rax/, "eax is read in between");
  assert.match(reason([[[0x89, 0x7c, 0x24, 0xfc], "mov    %edi,-0x4(%rsp)"], [[0xb8, 1, 0, 0, 0], "mov    $0x1,%eax"], [[0x0f, 0x05], "syscall"]])!, /red zone/);
  const jumpIn = dis("g", 0x2000, [[[0xeb, 0x00], "jmp    1005"]]);
  assert.match(reason([[[0xb8, 1, 0, 0, 0], "mov    $0x1,%eax"], [[0x0f, 0x05], "syscall"]], jumpIn)!, /branch lands/);
  assert.match(planFastPath(parseDisassembly(dis("f", 0x1000, [[[0xb8, 1, 0, 0, 0], "mov $0x1,%eax"], [[0x0f, 0x05], "syscall"]])), undefined).sites[0]!.reason!, /fast path off/);
});

test("objectRanges finds an object's placed text sections in an ld map, in both layouts", () => {
  const map = [
    " .text.gone     0x0000000000000000       0x46 lib/app.o",
    " .text          0x000000000010f0bd      0x106 lib/app.o",
    " .text.a_long_function_name",
    "                0x000000000010f1d0      0x13d lib/app.o",
    " .text.other    0x000000000010f400       0x10 lib/vfs.o",
  ].join("\n");
  assert.deepEqual(objectRanges(map), [
    { lo: 0x10f0bd, hi: 0x10f0bd + 0x106 },
    { lo: 0x10f1d0, hi: 0x10f1d0 + 0x13d },
  ]);
});
