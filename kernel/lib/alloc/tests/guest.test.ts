// Guest tests of the allocators: for each of region, buddy and TLSF, build a test image of
// bench-alloc with that allocator (so the alloc, alloc-<kind> and other libraries' KTESTs run
// over it as the default allocator), boot it and require every test to pass.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildApp } from "../../../../src/build/index.ts";
import { defaultBuildRoot } from "../../../../src/paths.ts";
import { runImage, testRunner } from "../../../../src/run/index.ts";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const hasQemu = spawnSync("qemu-system-x86_64", ["--version"]).status === 0;
const dir = mkdtempSync(path.join(tmpdir(), "kiln-alloc-guest-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

for (const kind of ["region", "buddy", "tlsf"]) {
  test(`guest tests pass with alloc-${kind} as the default allocator`, { skip: !hasQemu && "qemu-system-x86_64 not installed", timeout: 180_000 }, async () => {
    const src = (f: string) => JSON.stringify(path.join(repo, "apps/bench-alloc", f));
    const appDir = path.join(dir, kind);
    mkdirSync(appDir, { recursive: true });
    writeFileSync(
      path.join(appDir, "kiln.yaml"),
      `name: alloc-${kind}-guest\nmemory: 16M\nsources: [${src("main.c")}, ${src("workload.c")}]\n` +
        `libraries:\n  nolibc: {}\n  print: {}\n  time: {}\n  alloc-${kind}: {}\n`,
    );
    const built = await buildApp(appDir, { test: true, outDir: path.join(defaultBuildRoot(), `alloc-${kind}-guest-test`), log: () => {} });
    const r = await runImage(built.image, { memory: 16 << 20, cmdline: "", timeoutMs: 120_000, runner: testRunner(), debugImage: built.debugImage });
    const fails = r.output.split("\n").filter((l) => l.startsWith("KTEST: fail"));
    assert.deepEqual(fails, [], r.output);
    assert.match(r.output, /^KTEST: summary passed=\d+ failed=0$/m, r.output);
    for (const t of ["is_the_default", "owns_all_free_memory", "private_instance_selftest"]) {
      assert.match(r.output, new RegExp(`^KTEST: pass alloc_${kind}\\.${t}$`, "m"));
    }
    assert.match(r.output, /^KTEST: pass alloc\.selftest_on_default$/m);
    assert.match(r.output, new RegExp(`^alloc: ${kind} \\(default\\) in_use=`, "m"));
    assert.equal(r.status, 0);
  });
}
