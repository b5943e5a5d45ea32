// Host test of nolibc's pure functions against glibc: string.c, ctype.c, stdlib.c and errno.c
// are built freestanding (as in the kernel), linked into one object whose symbols get an nl_
// prefix, and driven by host_harness.c next to glibc's versions of the same functions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const libDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pure = ["string.c", "ctype.c", "stdlib.c", "errno.c"];

test("nolibc string/ctype/stdlib match glibc", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-nolibc-"));
  try {
    writeFileSync(path.join(dir, "config.h"), "/* host test: no options needed by the pure sources */\n");
    const gccInclude = execFileSync("gcc", ["-print-file-name=include"], { encoding: "utf8" }).trim();
    const objs = pure.map((src) => {
      const obj = path.join(dir, src.replace(/\.c$/, ".o"));
      execFileSync("gcc", [
        "-std=c11", "-ffreestanding", "-nostdinc", "-isystem", gccInclude, "-I", path.join(libDir, "include"),
        "-include", path.join(dir, "config.h"), "-O2", "-fno-tree-loop-distribute-patterns",
        "-Wall", "-Wextra", "-Werror", "-fPIE", "-c", path.join(libDir, src), "-o", obj,
      ], { stdio: ["ignore", "inherit", "inherit"] });
      return obj;
    });
    const combined = path.join(dir, "nolibc.o");
    execFileSync("ld", ["-r", "-o", combined, ...objs]);
    execFileSync("objcopy", ["--prefix-symbols=nl_", combined]);
    const undef = execFileSync("nm", ["-u", combined], { encoding: "utf8" }).trim();
    assert.equal(undef, "", "the pure nolibc sources call nothing outside themselves");
    const exe = path.join(dir, "harness");
    execFileSync("gcc", ["-O1", "-g", "-Wall", "-Wextra", "-Werror", path.join(libDir, "tests/host_harness.c"), combined, "-o", exe], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    const r = spawnSync(exe, [], { encoding: "utf8" });
    const m = /checks=(\d+) mismatches=(\d+)/.exec(r.stdout);
    assert.ok(m, r.stdout + r.stderr);
    assert.equal(Number(m[2]), 0, r.stdout);
    assert.ok(Number(m[1]) > 100000, `only ${m[1]} checks ran`);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
