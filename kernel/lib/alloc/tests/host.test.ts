// Host tests for the allocator cores: compiles tests/host/harness.c with the region, buddy and
// TLSF sources under AddressSanitizer + UBSan and runs randomized sequences with fixed seeds.
// The harness states every check it makes (alignment, overlap, contents, realloc, stats, full
// reuse, fragmentation bounds); a failing check exits non-zero with a "FAIL" line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const libRoot = path.resolve(here, "../..");
const cores = ["alloc-region/region.c", "alloc-buddy/buddy.c", "alloc-tlsf/tlsf.c"];
const includes = ["alloc", "alloc-region", "alloc-buddy", "alloc-tlsf"].map((l) => `-I${path.join(libRoot, l, "include")}`);

const dir = mkdtempSync(path.join(tmpdir(), "kiln-alloc-host-"));
const harness = path.join(dir, "harness");

test.after(() => rmSync(dir, { recursive: true, force: true }));

test("harness compiles warning-free with ASan and UBSan", () => {
  execFileSync(
    "gcc",
    [
      "-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1",
      "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
      ...includes,
      path.join(here, "host/harness.c"),
      ...cores.map((c) => path.join(libRoot, c)),
      "-o", harness,
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
});

function run(kind: string, seed: number, ops: number, arena: number): string {
  const r = spawnSync(harness, [kind, String(seed), String(ops), String(arena)], {
    encoding: "utf8",
    env: { ...process.env, ASAN_OPTIONS: "abort_on_error=0:detect_leaks=0", UBSAN_OPTIONS: "print_stacktrace=1" },
  });
  assert.equal(r.status, 0, `harness ${kind} seed ${seed}:\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, new RegExp(`^OK ${kind} seed=${seed} `));
  return r.stdout;
}

const seeds = [1, 2, 3, 17, 42, 1234];

for (const kind of ["buddy", "tlsf"]) {
  test(`${kind}: randomized sequences reuse everything and keep the bounds`, () => {
    for (const seed of seeds) run(kind, seed, 15000, 4 << 20);
    // A small arena: the capacity limits (quarter-full budget) bite much more often.
    run(kind, 99, 20000, 256 << 10);
  });
}

test("region: randomized sequences, bump until exhausted, failures only when out of space", () => {
  for (const seed of seeds) run("region", seed, 3000, 8 << 20);
});

test("the harness rejects a wrong usage", () => {
  const r = spawnSync(harness, ["slab", "1", "10", "65536"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown allocator slab/);
});
