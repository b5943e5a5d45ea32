import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { loadApp, parseMemory, parseMemorySize, formatMemory, DEFAULT_MEMORY } from "./app.ts";
import { makeTree } from "./testkit.ts";
import { KilnConfigError, KilnError } from "../errors.ts";

async function fails(manifest: object | string, files?: string[]): Promise<KilnConfigError> {
  const t = makeTree();
  const dir = t.app("a", manifest, files);
  try {
    await loadApp(dir);
  } catch (err) {
    assert.ok(err instanceof KilnConfigError, String(err));
    assert.match(err.file, /kiln\.yaml$/);
    return err;
  }
  assert.fail("expected a KilnConfigError");
}

test("defaults: target kvm-x86_64, memory 8M, empty cmdline, name from the directory", async () => {
  const t = makeTree();
  const dir = t.app("hello", { sources: ["main.c"], libraries: { nolibc: null, print: { float: false } } });
  const app = await loadApp(dir);
  assert.equal(app.name, "hello");
  assert.equal(app.dir, dir);
  assert.equal(app.manifestPath, path.join(dir, "kiln.yaml"));
  assert.equal(app.target, "kvm-x86_64");
  assert.equal(app.memory, DEFAULT_MEMORY);
  assert.equal(app.memory, 8 * 1024 * 1024);
  assert.equal(app.cmdline, "");
  assert.deepEqual(app.sources, [path.join(dir, "main.c")]);
  assert.deepEqual(app.libraries, { nolibc: {}, print: { float: false } });
  assert.deepEqual(app.cflags, []);
});

test("explicit values, and the manifest file itself may be passed", async () => {
  const t = makeTree();
  const dir = t.app("x", { name: "hello2", target: "kvm-x86_64", memory: "2M", cmdline: "boot.stats=1 -- a", sources: ["main.c", "asm.S"], cflags: ["-DY"] });
  const app = await loadApp(path.join(dir, "kiln.yaml"));
  assert.equal(app.name, "hello2");
  assert.equal(app.memory, 2 * 1024 * 1024);
  assert.equal(app.cmdline, "boot.stats=1 -- a");
  assert.deepEqual(app.cflags, ["-DY"]);
  assert.equal(app.sources.length, 2);
});

test("memory sizes", () => {
  assert.equal(parseMemory("2M"), 2 << 20);
  assert.equal(parseMemory("512K"), 512 << 10);
  assert.equal(parseMemory("1G"), 1 << 30);
  assert.equal(parseMemory("1g"), 1 << 30);
  assert.equal(parseMemory("4MiB"), 4 << 20);
  assert.equal(parseMemory(16777216), 16 << 20);
  assert.equal(parseMemory("16777216"), 16 << 20);
  assert.equal(parseMemory("2T"), undefined);
  assert.equal(parseMemory("-1M"), undefined);
  assert.equal(parseMemory(1.5), undefined);
  assert.equal(formatMemory(8 << 20), "8M");
  assert.equal(formatMemory(1536 << 10), "1536K");
  assert.equal(parseMemorySize("64M", "--memory"), 64 << 20);
  assert.throws(() => parseMemorySize("lots", "--memory"), (e: unknown) => e instanceof KilnError && /^--memory: cannot read "lots"/.test(e.message));
  assert.equal(parseMemorySize("1M", "--memory"), 1 << 20, "the smallest: a small image runs below 640 KiB");
  assert.throws(() => parseMemorySize("1020K", "--memory"), /out of range: use 1M to 1G/);
});

test("memory out of range or not a size", async () => {
  let e = await fails({ sources: ["main.c"], memory: "512K" });
  assert.equal(e.key, "memory");
  assert.match(e.problem, /out of range/);
  e = await fails({ sources: ["main.c"], memory: "2G" });
  assert.match(e.fix, /1 GiB/);
  e = await fails({ sources: ["main.c"], memory: "eight" });
  assert.match(e.problem, /cannot read "eight" as a size/);
  e = await fails({ sources: ["main.c"], memory: 3000001 });
  assert.match(e.problem, /4 KiB pages/);
  e = await fails({ sources: ["main.c"], memory: true });
  assert.equal(e.key, "memory");
});

test("only the kvm-x86_64 target is accepted", async () => {
  const e = await fails({ sources: ["main.c"], target: "xen-arm64" });
  assert.equal(e.key, "target");
  assert.match(e.problem, /unknown target "xen-arm64"/);
  assert.match(e.fix, /kvm-x86_64/);
});

test("sources must exist and be .c or .S; at least one", async () => {
  let e = await fails({ sources: ["main.c", "gone.c"] }, ["main.c"]);
  assert.equal(e.key, "sources[1]");
  assert.match(e.problem, /does not exist/);
  e = await fails({ sources: ["main.cpp"] });
  assert.match(e.problem, /neither a \.c nor a \.S/);
  e = await fails({ sources: [] });
  assert.equal(e.key, "sources");
  e = await fails({ name: "x" });
  assert.equal(e.key, "sources");
  assert.match(e.problem, /missing/);
});

test("unknown keys, bad names and bad option values are errors", async () => {
  let e = await fails({ sources: ["main.c"], memroy: "2M" });
  assert.equal(e.key, "memroy");
  assert.match(e.fix, /[Vv]alid keys here: name, target, memory/);
  e = await fails({ sources: ["main.c"], name: "Hello World" });
  assert.equal(e.key, "name");
  e = await fails({ sources: ["main.c"], libraries: ["nolibc"] });
  assert.equal(e.key, "libraries");
  assert.match(e.problem, /expected a mapping, got a list/);
  e = await fails({ sources: ["main.c"], libraries: { print: { float: [1] } } });
  assert.equal(e.key, "libraries.print.float");
});

test("a missing kiln.yaml names the path", async () => {
  const t = makeTree();
  await assert.rejects(loadApp(path.join(t.root, "apps", "nope")), (e: unknown) => e instanceof KilnConfigError && /nope[/\\]kiln\.yaml$/.test(e.file) && /no such file/.test(e.problem));
});

test("app names: a schema rule on name:, and the same rule on a name taken from the directory", async () => {
  const long = await fails({ name: "x".repeat(5000), sources: ["main.c"] });
  assert.equal(long.key, "name");
  assert.match(long.message, /is too long\. Use at most 64 characters/);
  assert.ok(long.message.length < 300, "the 5000-character value is not echoed whole");
  const spaced = await fails({ name: "My App", sources: ["main.c"] });
  assert.equal(spaced.key, "name");
  const t = makeTree();
  const dir = t.app("My App", { sources: ["main.c"] });
  await assert.rejects(loadApp(dir), (e: unknown) =>
    e instanceof KilnConfigError && e.key === "name" && /directory name "My App" is not a valid app name/.test(e.problem) && /name: my-app/.test(e.fix));
  const ok = makeTree().app("fine_app-2", { sources: ["main.c"] });
  assert.equal((await loadApp(ok)).name, "fine_app-2");
});

test("an unknown top-level key gets a did-you-mean; an empty kiln.yaml gets a minimal example", async () => {
  const typo = await fails({ memroy: "2M", sources: ["main.c"] });
  assert.equal(typo.key, "memroy");
  assert.match(typo.fix, /^Did you mean "memory"\? Valid keys here: name, target, memory/);
  const far = await fails({ zzzzzz: 1, sources: ["main.c"] });
  assert.match(far.fix, /^Remove it; valid keys here:/);
  const empty = await fails("");
  assert.equal(empty.key, "(top level)");
  assert.match(empty.fix, /a minimal one: \{ name: hello, sources: \[main\.c\], libraries: \{ nolibc: \{\} \} \}/);
});

test("echoed values are escaped and cut", async () => {
  const nul = await fails({ memory: "8\u0000M", sources: ["main.c"] });
  assert.match(nul.message, /cannot read "8\\0M" as a size/);
  assert.doesNotMatch(nul.message, /\u0000/);
  const long = await fails({ target: "t".repeat(5114), sources: ["main.c"] });
  assert.match(long.message, /unknown target "t{60}…" \(5114 characters\)/);
  assert.ok(long.message.length < 300);
});

test("rootfs: a directory relative to the app, kept absolute; absent by default", async () => {
  const t = makeTree();
  const dir = t.app("fs", { sources: ["main.c"], rootfs: "files" });
  assert.equal((await loadApp(dir)).rootfs, path.join(dir, "files"));
  const plain = t.app("plain", { sources: ["main.c"] });
  assert.equal((await loadApp(plain)).rootfs, undefined);
  const e = await fails({ sources: ["main.c"], rootfs: "" });
  assert.match(e.message, /rootfs/);
});

test("libc: musl brings the musl library; objects must exist and are musl-only", async () => {
  const t = makeTree();
  const dir = t.app("m", { libc: "musl", objects: ["out/a.o"] });
  await assert.rejects(loadApp(dir), /objects\[0\]: out\/a\.o does not exist.*kiln cc/s);
  t.file("apps/m/out/a.o", "");
  const app = await loadApp(dir);
  assert.equal(app.libc, "musl");
  assert.deepEqual(app.objects, [path.join(dir, "out/a.o")]);
  assert.deepEqual(app.libraries.musl, {});
  assert.deepEqual(app.sources, []);
  const plain = t.app("p", { sources: ["main.c"], objects: ["x.o"] });
  await assert.rejects(loadApp(plain), /objects are only linked into musl apps.*libc: musl/s);
  const bad = t.app("b", { libc: "glibc", sources: ["main.c"] });
  await assert.rejects(loadApp(bad), /libc/);
  const none = t.app("n", { libc: "musl" });
  await assert.rejects(loadApp(none), /the app has no code/);
});
