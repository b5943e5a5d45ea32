// Host tests of the VFS over ramfs: the same checks the guest runs (tests/fs_suite.c) and a
// randomized comparison with a model (tests/host/model.c), built
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
const model = path.join(dir, "fs-model");
const flags = ["-std=c11", "-D_DEFAULT_SOURCE", "-Wall", "-Wextra", "-Werror", "-g", "-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"];
const includes = [`-I${path.join(lib, "vfs/include")}`, `-I${path.join(lib, "ramfs/include")}`];
const core = ["vfs/namei.c", "vfs/fd.c", "vfs/vfs.c", "ramfs/ramfs.c"].map((f) => path.join(lib, f));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("the VFS + ramfs suite and the model check compile warning-free with ASan and UBSan", () => {
  const suite = ["ramfs/tests/fs_suite.c", "ramfs/tests/host/harness.c"].map((f) => path.join(lib, f));
  // a small table, so the EMFILE check fills it quickly
  execFileSync("gcc", [...flags, "-DCONFIG_VFS_MAX_FDS=16", ...includes, ...core, ...suite, "-o", exe], { stdio: ["ignore", "inherit", "inherit"] });
  execFileSync("gcc", [...flags, ...includes, ...core, path.join(lib, "ramfs/tests/host/model.c"), "-o", model], { stdio: ["ignore", "inherit", "inherit"] });
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

test("random operation sequences agree with a model, byte for byte, and leave nothing charged", () => {
  // Writes at random offsets, truncations, renames over files, unlinks of open files, mkdir and
  // rmdir, symlinks, descriptors held across it all (tests/host/model.c).
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const r = spawnSync(model, ["model", String(seed), "30000"], { encoding: "utf8", env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1" } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^OK model seed=${seed} ops=30000$`, "m"));
  }
});
