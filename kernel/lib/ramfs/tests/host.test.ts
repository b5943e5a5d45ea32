// Host tests of the VFS over ramfs: the same checks the guest runs (tests/fs_suite.c), built
// natively with AddressSanitizer, UBSan and leak checking, so a use-after-free, an overflow or
// a node left allocated fails here with a stack trace rather than corrupting a guest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const lib = path.resolve(here, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "kiln-vfs-host-"));
const exe = path.join(dir, "fs-suite");
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("the VFS + ramfs suite compiles warning-free with ASan and UBSan", () => {
  execFileSync(
    "gcc",
    [
      "-std=c11", "-D_DEFAULT_SOURCE", "-Wall", "-Wextra", "-Werror", "-g", "-O1",
      "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
      "-DCONFIG_VFS_MAX_FDS=16", // small, so the EMFILE check fills the table quickly
      `-I${path.join(lib, "vfs/include")}`, `-I${path.join(lib, "ramfs/include")}`,
      ...["vfs/namei.c", "vfs/fd.c", "vfs/vfs.c", "ramfs/ramfs.c", "ramfs/tests/fs_suite.c", "ramfs/tests/host/harness.c"].map((f) => path.join(lib, f)),
      "-o", exe,
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
});

test("every check of the suite passes on the host, with no leak", () => {
  const r = spawnSync(exe, [], { encoding: "utf8", env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1", UBSAN_OPTIONS: "print_stacktrace=1" } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const fails = r.stdout.split("\n").filter((l) => l.startsWith("FAIL"));
  assert.deepEqual(fails, []);
  const m = /^SUMMARY passed=(\d+) failed=0$/m.exec(r.stdout);
  assert.ok(m && Number(m[1]) >= 20, r.stdout);
});

test("the harness runs one check by name, and nothing for an unknown name", () => {
  const one = spawnSync(exe, ["symlink_loop"], { encoding: "utf8" });
  assert.match(one.stdout, /^PASS symlink_loop\nSUMMARY passed=1 failed=0$/m);
  const none = spawnSync(exe, ["no_such_check"], { encoding: "utf8" });
  assert.match(none.stdout, /SUMMARY passed=0 failed=0/);
});
