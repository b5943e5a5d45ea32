import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import path from "node:path";
import { runCc } from "./cc.ts";

test("kiln cc compiles against musl's headers, non-PIC, one section per function", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-cc-"));
  try {
    const src = path.join(dir, "a.c");
    fs.writeFileSync(src, "#include <stdio.h>\n#ifdef __GLIBC__\n#error glibc headers\n#endif\nint two(void) { return printf(\"x\"); }\nint one(void) { return 1; }\n");
    const obj = path.join(dir, "a.o");
    assert.equal(await runCc(["-O2", "-c", "-o", obj, src]), 0);
    const sections = execFileSync("objdump", ["-h", obj], { encoding: "utf8" });
    assert.match(sections, /\.text\.two/);
    assert.match(sections, /\.text\.one/);
    const relocs = execFileSync("objdump", ["-r", obj], { encoding: "utf8" });
    assert.doesNotMatch(relocs, /GOTPCREL|PLT32.*printf@plt/, "no PIC relocations");
    // Without -c it links a static host program against musl (what configure's tests need).
    const main = path.join(dir, "m.c");
    fs.writeFileSync(main, '#include <stdio.h>\nint main(void) { puts("from musl"); return 0; }\n');
    const exe = path.join(dir, "m");
    assert.equal(await runCc(["-o", exe, main]), 0);
    assert.equal(execFileSync(exe, { encoding: "utf8" }), "from musl\n");
    assert.match(execFileSync("file", [exe], { encoding: "utf8" }), /statically linked/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
