// POSIX threads of a musl app (kernel/lib/posix-thread): apps/pthreads on Kiln prints what the
// same program prints natively, built with musl-gcc and run on the host. Its raw clone (inlined in
// main) is a fast-path site and musl's __clone an LSTAR one, so both stub frames clone reads are
// covered; with the fast path off, both go through the LSTAR stub.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import path from "node:path";
import { appDir, boot } from "./lib/boot.ts";

test("apps/pthreads: threads, a mutex, a condvar, __thread and futex timeouts, as natively on musl", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-pthreads-"));
  try {
    const exe = path.join(tmp, "pthreads-native");
    const cc = spawnSync("musl-gcc", ["-static", "-O2", "-o", exe, path.join(appDir("pthreads"), "main.c")], { encoding: "utf8" });
    assert.equal(cc.status, 0, `musl-gcc failed:\n${cc.stderr}`);
    const native = spawnSync(exe, [], { encoding: "utf8" });
    assert.equal(native.status, 0, native.stdout + native.stderr);
    const expected = native.stdout.trim().split("\n");
    assert.ok(expected.includes("ok futex.timeout") && expected.includes("joined 6 threads"), native.stdout);

    const r = await boot("pthreads");
    assert.equal(r.status, 0, r.output);
    const lines = r.output.replace(/\r/g, "").split("\n");
    const from = lines.indexOf(expected[0] ?? "joined 6 threads");
    assert.ok(from >= 0, r.output);
    assert.deepEqual(lines.slice(from, from + expected.length), expected, r.output);
    assert.doesNotMatch(r.output, /not implemented: -ENOSYS|not called through a syscall stub/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("apps/pthreads without the syscall fast path (every syscall through the LSTAR stub)", async () => {
  const r = await boot("pthreads", { sets: ["syscall.fast_path=false"] });
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /^pthreads: 0 failures$/m);
});
