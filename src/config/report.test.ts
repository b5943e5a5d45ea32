import { test } from "node:test";
import * as assert from "node:assert/strict";
import { resolveApp, loadLibraries } from "./index.ts";
import { formatConfig, formatLibraries, librariesJson, table } from "./report.ts";
import { addPlatform, makeTree } from "./testkit.ts";

function tree() {
  const t = makeTree();
  addPlatform(t);
  t.lib("lib/print", {
    name: "print",
    description: "printf family",
    requires: [{ api: "alloc", default: "alloc-region" }],
    options: {
      float: { type: "bool", default: true, help: "support %f" },
      bufsize: { type: "int", default: 256, min: 16, max: 4096, help: "buffer size" },
      mode: { type: "choice", choices: ["fast", "small"], default: "fast", help: "speed or size" },
    },
    sources: ["printf.c"],
  });
  t.lib("lib/alloc-region", { name: "alloc-region", description: "bump allocator", provides: ["alloc"], sources: ["r.c"] });
  return t;
}

test("table aligns columns", () => {
  assert.deepEqual(table([["a", "bb", "c"], ["ccc", "d", ""]]), ["  a    bb  c", "  ccc  d"]);
});

test("kiln config report: libraries with why and API, options with value and origin", async () => {
  const t = tree();
  const dir = t.app("hello", { sources: ["main.c"], memory: "2M", libraries: { print: { float: false } } });
  const cfg = await resolveApp(dir, { kernelRoot: t.kernel, sets: ["print.mode=small"], test: false });
  const text = formatConfig(cfg);
  const lines = text.split("\n");
  assert.match(lines[0]!, /^app hello \(/);
  assert.match(lines[1]!, /target kvm-x86_64, memory 2M, cmdline ""/);
  assert.ok(lines.includes("  plat-kvm      base of target kvm-x86_64  provides plat"), text);
  assert.ok(lines.includes("  alloc-region  default alloc for print    provides alloc"), text);
  assert.ok(lines.includes("  print         selected by app"), text);
  assert.ok(lines.includes('  print.float    false    kiln.yaml  support %f'), text);
  assert.ok(lines.includes('  print.bufsize  256      default    buffer size'), text);
  assert.ok(lines.includes('  print.mode     "small"  --set      speed or size'), text);
});

test("kiln libs report and JSON", async () => {
  const t = tree();
  const libs = await loadLibraries(t.kernel);
  const text = formatLibraries(libs);
  assert.match(text, /^alloc-region {2}\(/);
  assert.match(text, /\n {2}printf family\n {2}requires: api alloc \(default alloc-region\)\n {2}options:\n/);
  const lines = text.split("\n");
  assert.ok(lines.includes("    float    bool    default true                support %f"), text);
  assert.ok(lines.includes("    bufsize  int     default 256     16..4096    buffer size"), text);
  assert.ok(lines.includes('    mode     choice  default "fast"  fast|small  speed or size'), text);
  const json = librariesJson(libs) as Array<{ name: string; options: unknown[] }>;
  assert.deepEqual(json.map((l) => l.name), ["alloc-region", "plat-kvm", "print"]);
  assert.equal(json[2]!.options.length, 3);
  assert.equal(formatLibraries(new Map()), "no libraries found\n");
});
