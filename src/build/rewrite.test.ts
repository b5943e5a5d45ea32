import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import path from "node:path";
import { rewriteMuslObject } from "./rewrite.ts";

test("a musl unit's hlt (a_crash) becomes int3, found by disassembly; a 0xf4 byte in data stays", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-rewrite-"));
  try {
    const src = path.join(dir, "crash.c");
    // 0xf4 as an immediate and as data: a byte search would corrupt both.
    fs.writeFileSync(src, "const unsigned char table[] = {0xf4, 0xf4};\nint f(int x) { return x + 0xf4; }\nvoid crash(void) { __asm__ volatile(\"hlt\"); }\n");
    const obj = path.join(dir, "crash.o");
    execFileSync("gcc", ["-O2", "-c", "-o", obj, src]);
    const lines: string[] = [];
    await rewriteMuslObject(obj, (l) => lines.push(l));
    assert.deepEqual(lines, ["REWRITE app: 1 hlt -> int3 (musl's crash)"]);
    const dis = execFileSync("objdump", ["-d", obj], { encoding: "utf8" });
    assert.doesNotMatch(dis, /\bhlt\b/);
    assert.match(dis, /\bint3\b/);
    assert.match(dis, /0xf4/, "the displacement/immediate 0xf4 is untouched");
    const data = execFileSync("objdump", ["-s", "-j", ".rodata", obj], { encoding: "utf8" });
    assert.match(data, /f4f4/, "the data is untouched");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
