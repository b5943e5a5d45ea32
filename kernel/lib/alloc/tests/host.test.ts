// Host tests for the allocator cores: compiles tests/host/harness.c with the region, buddy and
// TLSF sources under AddressSanitizer + UBSan (warning-free: -Werror) and runs randomized
// sequences and fill-to-exhaustion runs with fixed seeds, each arena fenced by ASan poison.
// The harness states every check it makes (alignment, overlap, contents, realloc, stats, full
// reuse, fragmentation bounds); a failing check exits non-zero with a "FAIL" line.
import { before, test } from "node:test";
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

// A warning in an allocator core fails every test here (-Werror).
before(() => {
  compile(harness, []); // TLSF with its default quick lists (alloc-tlsf option quick = 8)
  compile(pureTlsf, ["-DCONFIG_ALLOC_TLSF_QUICK=0"]);
});

function run(kind: string, seed: number, ops: number, arena: number, exe = harness, reported = kind): string {
  const r = spawnSync(exe, [kind, String(seed), String(ops), String(arena)], {
    encoding: "utf8",
    env: { ...process.env, ASAN_OPTIONS: "abort_on_error=0:detect_leaks=0", UBSAN_OPTIONS: "print_stacktrace=1" },
  });
  assert.equal(r.status, 0, `harness ${kind} seed ${seed}:\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, new RegExp(`^OK ${reported} seed=${seed} `, "m"));
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

for (const kind of ["buddy", "tlsf"]) {
  test(`${kind}: filled to exhaustion, freed in random order, every byte comes back (3 rounds)`, () => {
    for (const seed of [1, 2, 3]) run(`${kind}-exhaust`, seed, 3, 1 << 20, harness, kind);
    for (const seed of [4, 5]) run(`${kind}-exhaust`, seed, 3, 64 << 10, harness, kind);
  });
}

test("tlsf without quick lists: filled to exhaustion, every byte comes back", () => {
  for (const seed of [1, 2, 3]) run("tlsf-exhaust", seed, 3, 1 << 20, pureTlsf, "tlsf");
});

test("region: filled to exhaustion (until 1 byte fails), blocks disjoint and intact, all accounted for", () => {
  for (const seed of [1, 2, 3]) run("region-exhaust", seed, 1, 1 << 20, harness, "region");
});

// The harness fences each arena with ASan poison; without it, writes just outside the arena
// landed in unpoisoned malloc slack and went unseen. Here each allocator is made to write there.
for (const kind of ["region", "buddy", "tlsf"]) {
  test(`${kind}: a write before or after its arena is stopped by ASan`, () => {
    for (const where of ["before", "after"]) {
      for (const seed of [1, 3]) {
        const r = spawnSync(harness, [`${kind}-overrun-${where}`, String(seed), "0", String(64 << 10)], {
          encoding: "utf8",
          env: { ...process.env, ASAN_OPTIONS: "abort_on_error=0:detect_leaks=0" },
        });
        assert.notEqual(r.status, 0, `${kind} ${where}: ${r.stdout}`);
        assert.doesNotMatch(r.stdout, /without ASan stopping it/);
        assert.match(r.stderr, /ERROR: AddressSanitizer: use-after-poison on address/, `${kind} ${where}:\n${r.stderr}`);
        assert.match(r.stderr, /^WRITE of size \d+/m);
      }
    }
  });
}
