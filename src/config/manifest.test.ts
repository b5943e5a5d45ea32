import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { loadLibraryManifest } from "./manifest.ts";
import { makeTree } from "./testkit.ts";
import { KilnConfigError } from "../errors.ts";

const full = {
  name: "print",
  description: "printf family",
  provides: ["printf"],
  requires: ["console", { api: "alloc", default: "alloc-region" }],
  options: {
    float: { type: "bool", default: true, help: "support %f" },
    bufsize: { type: "int", default: 256, min: 16, max: 4096, help: "buffer" },
    mode: { type: "choice", choices: ["fast", "small"], default: "fast", help: "mode" },
    tag: { type: "string", default: "p", help: "tag" },
  },
  sources: ["printf.c", { file: "float.c", if: "float" }, { file: "slow.c", if: "!float" }, { file: "fast.S", if: "mode=fast" }, { file: "tests/t.c", if: "@test" }],
  exports: ["printf", "vprintf"],
  cflags: ["-DX"],
  linker_script: "kiln.ld",
};

/** Loads a manifest expected to fail; returns the error for field checks. */
async function fails(manifest: object | string, files?: string[]): Promise<KilnConfigError> {
  const t = makeTree();
  const dir = t.lib("lib/x", manifest, files);
  try {
    await loadLibraryManifest(path.join(dir, "library.yaml"));
  } catch (err) {
    assert.ok(err instanceof KilnConfigError, String(err));
    assert.match(err.file, /library\.yaml$/);
    return err;
  }
  assert.fail("expected a KilnConfigError");
}

test("a full manifest parses into LibraryManifest", async () => {
  const t = makeTree();
  const dir = t.lib("lib/print", full);
  const m = await loadLibraryManifest(path.join(dir, "library.yaml"));
  assert.equal(m.name, "print");
  assert.equal(m.dir, dir);
  assert.equal(m.manifestPath, path.join(dir, "library.yaml"));
  assert.deepEqual(m.provides, ["printf"]);
  assert.deepEqual(m.requires, [{ lib: "console" }, { api: "alloc", default: "alloc-region" }]);
  assert.deepEqual(m.options[1], { name: "bufsize", type: "int", default: 256, help: "buffer", min: 16, max: 4096 });
  assert.deepEqual(m.options[2], { name: "mode", type: "choice", default: "fast", help: "mode", choices: ["fast", "small"] });
  assert.deepEqual(m.sources[0], { file: "printf.c" });
  assert.deepEqual(m.sources[1], { file: "float.c", if: "float" });
  assert.deepEqual(m.exports, ["printf", "vprintf"]);
  assert.deepEqual(m.cflags, ["-DX"]);
  assert.equal(m.linkerScript, "kiln.ld");
});

test("optional keys default to empty", async () => {
  const t = makeTree();
  const dir = t.lib("lib/tiny", { name: "tiny", description: "d" });
  const m = await loadLibraryManifest(path.join(dir, "library.yaml"));
  assert.deepEqual([m.provides, m.requires, m.options, m.sources, m.exports, m.cflags], [[], [], [], [], [], []]);
  assert.equal(m.linkerScript, undefined);
});

test("unknown keys are errors that list the valid keys", async () => {
  let e = await fails({ ...full, export: ["x"] });
  assert.equal(e.key, "export");
  assert.match(e.problem, /unknown key "export"/);
  assert.match(e.fix, /[Vv]alid keys here: name, description, provides/);
  e = await fails({ ...full, options: { float: { type: "bool", default: true, help: "h", hlep: "x" } } });
  assert.equal(e.key, "options.float.hlep");
  e = await fails({ ...full, requires: [{ api: "alloc", default: "r", extra: 1 }] });
  assert.equal(e.key, "requires[0].extra");
});

test("missing and mistyped fields name the key", async () => {
  let e = await fails({ description: "d" });
  assert.equal(e.key, "name");
  assert.match(e.problem, /missing/);
  e = await fails({ name: "x", description: 3 });
  assert.equal(e.key, "description");
  assert.match(e.problem, /expected a string, got the integer 3/);
  e = await fails({ name: "x", description: "d", requires: [3] });
  assert.equal(e.key, "requires[0]");
  assert.match(e.problem, /expected a string or a mapping/);
  e = await fails({ name: "x", description: "d", requires: [{ api: "alloc" }] });
  assert.equal(e.key, "requires[0].default");
  e = await fails({ name: "x", description: "d", options: { f: { type: "float", default: 1, help: "h" } } });
  assert.equal(e.key, "options.f.type");
  assert.match(e.fix, /bool, int, string or choice/);
  e = await fails({ name: "x", description: "d", options: { f: { type: "bool", default: true } } });
  assert.equal(e.key, "options.f.help");
});

test("names and option names are checked", async () => {
  let e = await fails({ name: "Print", description: "d" });
  assert.equal(e.key, "name");
  assert.match(e.fix, /lowercase/);
  e = await fails({ name: "app", description: "d" });
  assert.match(e.problem, /reserved/);
  e = await fails({ name: "x", description: "d", options: { "Bad-Name": { type: "bool", default: true, help: "h" } } });
  assert.equal(e.key, "options.Bad-Name");
  assert.equal(e.problem, 'invalid name "Bad-Name"');
  assert.match(e.fix, /lowercase letters, digits and '_'/);
  e = await fails({ name: "x", description: "" });
  assert.equal(e.problem, "empty");
  e = await fails({ name: "x", description: "d", provides: ["Alloc"] });
  assert.equal(e.key, "provides[0]");
  e = await fails({ name: "x", description: "d", exports: ["not a symbol"] });
  assert.equal(e.key, "exports[0]");
  e = await fails({ name: "x", description: "d", requires: ["x"] });
  assert.match(e.problem, /requires itself/);
});

test("option defaults are type-checked and within range or choices", async () => {
  const opt = (o: object) => ({ name: "x", description: "d", options: { o: { help: "h", ...o } } });
  let e = await fails(opt({ type: "bool", default: "yes" }));
  assert.equal(e.key, "options.o.default");
  assert.match(e.problem, /expected true or false/);
  e = await fails(opt({ type: "int", default: 1.5 }));
  assert.match(e.problem, /expected an integer/);
  e = await fails(opt({ type: "int", default: 8, min: 16 }));
  assert.match(e.problem, /8 is out of range/);
  assert.match(e.fix, /an integer >= 16/);
  e = await fails(opt({ type: "int", default: 20, min: 16, max: 10 }));
  assert.equal(e.key, "options.o.min");
  e = await fails(opt({ type: "choice", choices: ["a", "b"], default: "c" }));
  assert.match(e.fix, /one of a, b/);
  e = await fails(opt({ type: "choice", choices: [], default: "c" }));
  assert.equal(e.problem, "the list is empty");
  e = await fails(opt({ type: "choice", default: "c" }));
  assert.equal(e.key, "options.o.choices");
  e = await fails(opt({ type: "string", default: 5 }));
  assert.match(e.fix, /quote it/);
  e = await fails(opt({ type: "bool", default: true, min: 1 }));
  assert.equal(e.key, "options.o.min");
  e = await fails(opt({ type: "int", default: 1, choices: ["a"] }));
  assert.equal(e.key, "options.o.choices");
});

test("sources must exist and be .c or .S", async () => {
  let e = await fails({ name: "x", description: "d", sources: ["a.c", "b.h"] });
  assert.equal(e.key, "sources[1]");
  assert.match(e.problem, /neither a \.c nor a \.S/);
  e = await fails({ name: "x", description: "d", sources: ["a.c", { file: "gone.c" }] }, ["a.c"]);
  assert.equal(e.key, "sources[1].file");
  assert.match(e.problem, /does not exist/);
  e = await fails({ name: "x", description: "d", linker_script: "kiln.ld" }, []);
  assert.equal(e.key, "linker_script");
});

test("source conditions are checked against the library's own options", async () => {
  const lib = (cond: string) => ({
    name: "x",
    description: "d",
    options: { f: { type: "bool", default: true, help: "h" }, m: { type: "choice", choices: ["a", "b"], default: "a", help: "h" }, n: { type: "int", default: 1, help: "h" } },
    sources: [{ file: "a.c", if: cond }],
  });
  for (const ok of ["f", "!f", "m=b", "n=3", "@test", "!@test", "f=false"]) {
    const t = makeTree();
    const dir = t.lib("lib/x", lib(ok));
    await loadLibraryManifest(path.join(dir, "library.yaml"));
  }
  let e = await fails(lib("g"));
  assert.equal(e.key, "sources[0].if");
  assert.match(e.problem, /unknown option "g"/);
  assert.match(e.fix, /f, m, n/);
  e = await fails(lib("fx"));
  assert.match(e.fix, /Did you mean "f"\?/);
  e = await fails(lib("m"));
  assert.match(e.problem, /needs a bool option/);
  e = await fails(lib("m=c"));
  assert.match(e.fix, /one of a, b/);
  e = await fails(lib("n=x"));
  assert.match(e.problem, /not an integer/);
  e = await fails(lib("f && m"));
  assert.match(e.problem, /cannot parse/);
});

test("YAML syntax errors and missing files are config errors", async () => {
  let e = await fails("name: x\n  bad: [\n");
  assert.match(e.key, /^line \d+/);
  assert.match(e.problem, /invalid YAML/);
  e = await fails("name: x\nname: y\ndescription: d\n");
  assert.match(e.problem, /invalid YAML/);
  e = await fails("");
  assert.match(e.problem, /expected a mapping, got an empty value/);
  await assert.rejects(loadLibraryManifest("/nonexistent/library.yaml"), (err: unknown) => err instanceof KilnConfigError && /no such file/.test(err.problem));
});

test("ports: numbers and ranges are kept; a bad one names its index", async () => {
  const e = await fails({ name: "x", description: "d", ports: [0x40, { range: "0x3f8-0x3f0" }] });
  assert.equal(e.key, "ports[1]");
  assert.match(e.problem, /ends before it starts/);
  assert.match(e.fix, /Declare each I\/O port/);
});
