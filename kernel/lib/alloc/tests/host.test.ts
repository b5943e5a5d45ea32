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

const pureTlsf = path.join(dir, "harness-pure-tlsf");

function compile(out: string, defines: string[]): void {
  execFileSync(
    "gcc",
    [
      "-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1",
      "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
      ...defines,
      ...includes,
      path.join(here, "host/harness.c"),
      ...cores.map((c) => path.join(libRoot, c)),
      "-o", out,
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
}

test("harness compiles warning-free with ASan and UBSan", () => {
  compile(harness, []); // TLSF with its default quick lists (alloc-tlsf option quick = 8)
  compile(pureTlsf, ["-DCONFIG_ALLOC_TLSF_QUICK=0"]);
});

function run(kind: string, seed: number, ops: number, arena: number, exe = harness): string {
  const r = spawnSync(exe, [kind, String(seed), String(ops), String(arena)], {
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
    // Small arenas: the capacity limits (quarter-full budget) bite much more often.
    for (const seed of [99, 100, 101]) run(kind, seed, 20000, 256 << 10);
  });
}

test("tlsf without quick lists (option quick = 0): the same checks", () => {
  for (const seed of seeds) run("tlsf", seed, 15000, 4 << 20, pureTlsf);
  for (const seed of [99, 100, 101]) run("tlsf", seed, 20000, 256 << 10, pureTlsf);
});

test("region: randomized sequences, bump until exhausted, failures only when out of space", () => {
  for (const seed of seeds) run("region", seed, 3000, 8 << 20);
});

for (const kind of ["tlsf", "buddy"]) {
  test(`${kind}: a double free traps instead of corrupting the lists`, () => {
    for (const small of ["0", "1"]) {
      const r = spawnSync(harness, [`${kind}-doublefree`, small, "0", "0"], { encoding: "utf8" });
      assert.equal(r.signal, "SIGILL", `expected a trap, got status ${r.status}:\n${r.stdout}${r.stderr}`);
    }
  });
}

test("the harness rejects a wrong usage", () => {
  const r = spawnSync(harness, ["slab", "1", "10", "65536"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown allocator slab/);
});
