// helloworld end to end: build, boot, output, exit status, memory floor, incremental rebuild, CLI.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { boot, buildFor, appDir } from "./lib/boot.ts";
import { defaultBuildRoot, repoRoot } from "../src/paths.ts";
import { resolveApp } from "../src/config/index.ts";
import { build } from "../src/build/index.ts";
import { runImage, testRunner } from "../src/run/index.ts";
import { parseBootLine } from "../src/bench/boot-line.ts";
import { cpl0BeforeMain, cpl0Paths } from "../src/bench/cpl0.ts";

test("helloworld prints its greeting and arguments and exits 0", async () => {
  const r = await boot("helloworld", { args: ["first", "second arg"] });
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /^Hello, world!$/m);
  assert.match(r.output, /first/);
  assert.match(r.output, /second arg/);
  assert.match(r.output, /3\.14159/, "floating point (SSE at CPL 3) works");
});

test("helloworld boots with 2 MiB of memory", async () => {
  const r = await boot("helloworld", { memory: 2 * 1024 * 1024 });
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /Hello, world!/);
});

test("a second build with no change compiles nothing", async () => {
  await buildFor("helloworld");
  const again = await buildFor("helloworld");
  assert.equal(again.built.upToDate, true);
  assert.equal(again.built.compiled, 0);
});

test("the stripped helloworld image is small and smaller than the unstripped one", async () => {
  const { built } = await buildFor("helloworld");
  assert.ok(built.sizes.stripped > 0 && built.sizes.stripped < built.sizes.unstripped);
  assert.ok(built.sizes.stripped <= 64 * 1024, `stripped image is ${built.sizes.stripped} bytes; the target is 64 KiB`);
});

test("kiln run: the CLI builds, boots, streams the console and returns the guest status", () => {
  const r = spawnSync(process.execPath, [path.join(repoRoot, "bin/kiln.js"), "run", appDir("helloworld"), "--runner", testRunner(), "-q", "--", "via", "cli"], {
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Hello, world!/);
  assert.match(r.stdout, /via/);
  assert.doesNotMatch(r.stdout, /kiln: exit/, "the protocol line is hidden");
});

test("the console also works with the UART programmed at boot (plat-kvm.serial_setup=true)", async () => {
  const cfg = await resolveApp(appDir("helloworld"), { sets: ["plat-kvm.serial_setup=true"] });
  const built = await build(cfg, { outDir: path.join(defaultBuildRoot(), "helloworld-serial-setup"), log: () => {} });
  const r = await runImage(built.image, { runner: testRunner(), memory: cfg.app.memory, cmdline: "-- ok", timeoutMs: 60_000 });
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /^Hello, world!\narg 1: ok\n/m);
});

// The kvm-pvm budget (issue: at most 60 CPL-0 instructions and 2 entries before main): counted,
// not timed, so it holds on every runner. The counts come from the image's disassembly and the
// guest's own tally of shim calls and interrupts.
test("helloworld reaches main within the CPL-0 budget: <= 60 instructions, <= 2 entries", async () => {
  const r = await boot("helloworld", { params: ["boot.stats=1"] });
  assert.equal(r.status, 0, r.output);
  const stamp = parseBootLine(r.output);
  assert.ok(stamp?.cpl0Shims, r.output);
  const paths = await cpl0Paths(r.built.debugImage);
  const c = cpl0BeforeMain(paths, stamp.cpl0Shims, stamp.cpl0Irqs ?? 0);
  assert.ok(paths.boot >= 15, `the boot path was counted (${paths.boot})`);
  assert.ok(c.instructions <= 60, `${c.instructions} CPL-0 instructions before main`);
  assert.ok(c.entries <= 2, `${c.entries} CPL-0 entries before main`);
});

test("changing print.bufsize recompiles only print and the library that reads it (nolibc), and the image still boots", async () => {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const outDir = mkdtempSync(path.join(tmpdir(), "kiln-hw-config-"));
  try {
    const cfgOf = (bufsize: number) => resolveApp(appDir("helloworld"), { sets: [`print.bufsize=${bufsize}`] });
    const first = await build(await cfgOf(256), { outDir });
    const lines: string[] = [];
    const second = await build(await cfgOf(512), { outDir, log: (l) => lines.push(l) });
    const units = (prefix: RegExp) => new Set(lines.filter((l) => prefix.test(l)).map((l) => l.replace(prefix, "").split(/[/.]/)[0]!));
    // print's own objects, and nolibc's: its stdio.c sizes a buffer with CONFIG_PRINT_BUFSIZE.
    assert.deepEqual([...units(/^\[\d+\/\d+\] CC /)].sort(), ["nolibc", "print"]);
    assert.deepEqual([...units(/^LD -r lib\//)].sort(), ["nolibc", "print"], "only they are prelinked again");
    assert.ok(second.compiled < first.compiled, `${second.compiled} of ${first.compiled}`);
    const r = await runImage(second.image, { memory: 2 * 1024 * 1024, runner: testRunner(), cmdline: "", debugImage: second.debugImage });
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /Hello, world!/);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});
