// Host test of the print library's formatter: compiles format.c + float.c with the host gcc
// against format_harness.c, which compares kvsnprintf with glibc snprintf over a fixed table
// and 300k random formats/values. Also checks the freestanding build needs no libc symbols.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const libDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function withTemp(fn: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-print-"));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("kvsnprintf matches glibc snprintf (table + random)", () => {
  withTemp((dir) => {
    writeFileSync(path.join(dir, "config.h"), "#define CONFIG_PRINT_FLOAT 1\n#define CONFIG_PRINT_BUFSIZE 256\n");
    const exe = path.join(dir, "format_harness");
    execFileSync("gcc", [
      "-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror",
      // The harness deliberately formats NULL strings and truncates output.
      "-Wno-format-zero-length", "-Wno-format-truncation", "-Wno-format-overflow",
      "-include", path.join(dir, "config.h"), "-I", path.join(libDir, "include"),
      path.join(libDir, "format.c"), path.join(libDir, "float.c"), path.join(libDir, "tests/format_harness.c"),
      "-o", exe, "-lm",
    ], { stdio: ["ignore", "inherit", "inherit"] });
    const r = spawnSync(exe, ["300000"], { encoding: "utf8" });
    const summary = /cases=(\d+) mismatches=(\d+)/.exec(r.stdout);
    assert.ok(summary, `no summary from the harness:\n${r.stdout}${r.stderr}`);
    assert.equal(Number(summary[2]), 0, r.stdout);
    assert.ok(Number(summary[1]) > 300000, "the random cases ran");
    assert.equal(r.status, 0, r.stdout);
  });
});

test("the formatter builds freestanding and needs no libc symbols", () => {
  withTemp((dir) => {
    writeFileSync(path.join(dir, "config.h"), "#define CONFIG_PRINT_FLOAT 1\n");
    const gccInclude = execFileSync("gcc", ["-print-file-name=include"], { encoding: "utf8" }).trim();
    for (const src of ["format.c", "float.c"]) {
      const obj = path.join(dir, src.replace(/\.c$/, ".o"));
      execFileSync("gcc", [
        "-std=c11", "-ffreestanding", "-nostdinc", "-isystem", gccInclude, "-O2", "-fno-pic", "-fno-pie",
        "-Wall", "-Wextra", "-Werror", "-include", path.join(dir, "config.h"),
        "-I", path.join(libDir, "include"), "-c", path.join(libDir, src), "-o", obj,
      ], { stdio: ["ignore", "inherit", "inherit"] });
      const undef = execFileSync("nm", ["-u", obj], { encoding: "utf8" })
        .split("\n").map((l) => l.trim().split(/\s+/).pop() ?? "").filter(Boolean);
      const foreign = undef.filter((s) => !["kfmt_float", "kfmt_padded"].includes(s));
      assert.deepEqual(foreign, [], `${src} calls outside the library (print must not require libc)`);
    }
  });
});
