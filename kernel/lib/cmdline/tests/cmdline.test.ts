// Host test of the cmdline parser: cmdline.c built with the host gcc against a C harness
// (a stub console collects the warnings), at the default limits and at tiny ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const libDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function runHarness(limits: { len: number; params: number; args: number }): string {
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-cmdline-"));
  try {
    const config = path.join(dir, "config.h");
    writeFileSync(config, `#define CONFIG_CMDLINE_MAX_LEN ${limits.len}\n#define CONFIG_CMDLINE_MAX_PARAMS ${limits.params}\n#define CONFIG_CMDLINE_MAX_ARGS ${limits.args}\n`);
    const exe = path.join(dir, "harness");
    execFileSync("gcc", [
      "-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined",
      "-include", config, "-I", path.join(libDir, "include"),
      // The harness defines console_puts, so the real console header is not needed.
      "-I", path.join(libDir, "..", "console", "include"),
      path.join(libDir, "cmdline.c"), path.join(libDir, "tests/cmdline_harness.c"), "-o", exe,
    ], { stdio: ["ignore", "inherit", "inherit"] });
    const r = spawnSync(exe, [], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("cmdline parses parameters, quotes and arguments (default limits)", () => {
  assert.match(runHarness({ len: 1024, params: 64, args: 64 }), /checks=\d+ failures=0/);
});

test("cmdline truncates at small limits without overflowing (under ASan)", () => {
  assert.match(runHarness({ len: 64, params: 2, args: 3 }), /checks=\d+ failures=0/);
});
