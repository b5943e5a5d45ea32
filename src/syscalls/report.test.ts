import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import path from "node:path";
import { parseDisassembly } from "../build/disasm.ts";
import { formatReport, registrations, sitesOf, summarize } from "./report.ts";
import { SYSCALL_NAMES } from "./names.ts";

test("the generated names table matches Linux x86_64 numbering", () => {
  assert.equal(SYSCALL_NAMES.get(0), "read");
  assert.equal(SYSCALL_NAMES.get(110), "getppid");
  assert.equal(SYSCALL_NAMES.get(231), "exit_group");
  assert.equal(SYSCALL_NAMES.get(335), undefined);
});

test("registrations reads SYSCALL_REGISTER lines of library sources", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-reg-"));
  const f = path.join(dir, "x.c");
  fs.writeFileSync(f, "SYSCALL_REGISTER(39, sys_getpid);\nSYSCALL_REGISTER(186, sys_getpid); /* gettid */\n// SYSCALL_REGISTER(1, nope);\n");
  assert.deepEqual([...registrations([{ library: "posix-process", file: f }])], [[39, "posix-process"], [186, "posix-process"]]);
  fs.rmSync(dir, { recursive: true });
});

test("sites: numbers, rewritten calls into the thunks, -ENOSYS in the summary", () => {
  const out = [
    "Disassembly of section .text:",
    "0000000000001000 <f>:",
    "    1000:\tb8 29 00 00 00 \tmov    $0x29,%eax",
    "    1005:\t0f 05 \tsyscall",
    "    1007:\te8 f4 0f 00 00 \tcall   2000 <kiln_syscall_thunks>",
    "    100c:\te8 0f 10 00 00 \tcall   2020 <kiln_syscall_thunks+0x20>",
  ].join("\n");
  const impl = new Map([[0, "posix-fd"], [2, "posix-fd"]]);
  const r = summarize("x", sitesOf(parseDisassembly(out), impl, { nr: 0x2000, reg: 0x3000 }));
  assert.deepEqual(r.sites.map((s) => [s.path, s.nr]), [["syscall", 41], ["fast", 0], ["fast", 2]]);
  assert.deepEqual(r.numbers.map((n) => [n.name, n.implementedBy]), [["read", "posix-fd"], ["open", "posix-fd"], ["socket", undefined]]);
  assert.match(formatReport(r, false), /-ENOSYS: socket/);
});
