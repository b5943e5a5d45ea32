import { test } from "node:test";
import assert from "node:assert/strict";
import { cpl0BeforeMain, straightLine } from "./cpl0.ts";
import { parseDisassembly } from "../build/disasm.ts";

const dis = parseDisassembly(
  [
    "0000000000100000 <gate>:",
    "  100000:\t90\tand    $0xf,%r11d",
    "  100004:\t90\tjmp    *0x102000(,%r11,8)",
    "0000000000100010 <idle>:",
    "  100010:\t90\tsti",
    "  100011:\t90\thlt",
    "  100012:\t90\tjmp    100020 <ret>",
    "  100014:\t90\tud2",
    "0000000000100020 <ret>:",
    "  100020:\t90\tandq   $0xffffffffffffcdff,0x10(%rsp)",
    "  100026:\t90\tiretq",
    "0000000000100030 <loop>:",
    "  100030:\t90\tinvlpg (%rdi)",
    "  100033:\t90\tdec    %rsi",
    "  100036:\t90\tjne    100030 <loop>",
    "  100038:\t90\tiretq",
    "0000000000100040 <halt>:",
    "  100040:\t90\tcli",
    "  100041:\t90\thlt",
    "  100042:\t90\tjmp    100041 <halt+0x1>",
  ].join("\n"),
);

test("straight-line counts: to the iretq, through direct jumps, loops once, stops at an indirect jmp", () => {
  assert.equal(straightLine(dis, 0x100000), 2);
  assert.equal(straightLine(dis, 0x100010), 5);
  assert.equal(straightLine(dis, 0x100030), 4);
  assert.equal(straightLine(dis, 0x100040), 3);
  assert.throws(() => straightLine(dis, 0x100001), /no instruction at 0x100001/);
});

test("instructions and entries before main: the boot path plus each shim call and interrupt", () => {
  const paths = { boot: 21, shims: [37, 6, 5, 5, 8, 6, 5, 8], irq: 10 };
  assert.deepEqual(cpl0BeforeMain(paths, [0, 0, 0, 0, 0, 0, 0, 1], 0), { instructions: 29, entries: 1 });
  assert.deepEqual(cpl0BeforeMain(paths, [0, 2, 1, 0, 0, 0, 0, 1], 2), { instructions: 21 + 12 + 5 + 8 + 20, entries: 6 });
});
