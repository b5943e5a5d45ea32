import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { resolveApp } from "./index.ts";
import { describeSelection } from "./resolver.ts";
import { addPlatform, makeTree, type Tree } from "./testkit.ts";
import { KilnConfigError } from "../errors.ts";
import type { ResolvedConfig } from "./types.ts";

/** A small but complete kernel: platform, arch, console, print (options), alloc API, test runner. */
function kernel(): Tree {
  const t = makeTree();
  addPlatform(t, { requires: ["arch-x86"] });
  t.lib("arch/x86", { name: "arch-x86", description: "arch", provides: ["arch"], sources: ["entry.S"] });
  t.lib("lib/console", { name: "console", description: "console", requires: [{ api: "plat", default: "plat-kvm" }], sources: ["console.c"] });
  t.lib("lib/print", {
    name: "print",
    description: "printf",
    requires: ["console", { api: "alloc", default: "alloc-region" }],
    options: {
      float: { type: "bool", default: true, help: "floats" },
      bufsize: { type: "int", default: 256, min: 16, max: 4096, help: "buffer" },
      mode: { type: "choice", choices: ["fast", "small"], default: "fast", help: "mode" },
      tag: { type: "string", default: "p", help: "tag" },
    },
    sources: ["printf.c", { file: "float.c", if: "float" }, { file: "nofloat.c", if: "!float" }, { file: "small.c", if: "mode=small" }, { file: "big.c", if: "bufsize=4096" }, { file: "tests/t.c", if: "@test" }],
  });
  t.lib("lib/alloc-region", { name: "alloc-region", description: "bump", provides: ["alloc"], sources: ["region.c"] });
  t.lib("lib/alloc-tlsf", { name: "alloc-tlsf", description: "tlsf", provides: ["alloc"], sources: ["tlsf.c"] });
  t.lib("lib/test", { name: "test", description: "test runner", requires: ["print"], sources: ["runner.c"] });
  t.lib("lib/nolibc", { name: "nolibc", description: "libc", provides: ["libc"], requires: ["print"], sources: ["stdio.c"] });
  return t;
}

type Opts = Parameters<typeof resolveApp>[1];

async function resolveIn(t: Tree, app: object, opts: Opts = {}): Promise<ResolvedConfig> {
  const dir = t.app("a", { sources: ["main.c"], ...app });
  return resolveApp(dir, { kernelRoot: t.kernel, ...opts });
}

async function fails(t: Tree, app: object, opts: Opts = {}): Promise<KilnConfigError> {
  try {
    await resolveIn(t, app, opts);
  } catch (err) {
    assert.ok(err instanceof KilnConfigError, String(err));
    return err;
  }
  assert.fail("expected a KilnConfigError");
}

const names = (cfg: ResolvedConfig) => cfg.libraries.map((l) => l.manifest.name);
const lib = (cfg: ResolvedConfig, name: string) => cfg.libraries.find((l) => l.manifest.name === name)!;
const option = (cfg: ResolvedConfig, l: string, o: string) => lib(cfg, l).options.find((x) => x.name === o)!;

test("base libraries, transitive selection, dependency order", async () => {
  const t = kernel();
  const cfg = await resolveIn(t, { libraries: { nolibc: {} } });
  assert.deepEqual(names(cfg), ["arch-x86", "plat-kvm", "console", "alloc-region", "print", "nolibc"]);
  // Every library comes after everything it requires.
  for (const [i, l] of cfg.libraries.entries()) {
    for (const r of l.manifest.requires) {
      const dep = "lib" in r ? r.lib : cfg.providers[r.api]!;
      assert.ok(names(cfg).indexOf(dep) < i, `${dep} before ${l.manifest.name}`);
    }
  }
  assert.equal(lib(cfg, "plat-kvm").selectedBy, "target:kvm-x86_64");
  assert.equal(lib(cfg, "nolibc").selectedBy, "app");
  assert.equal(lib(cfg, "print").selectedBy, "nolibc");
  assert.equal(lib(cfg, "alloc-region").selectedBy, "print");
  assert.equal(lib(cfg, "alloc-region").defaultFor, "alloc", "picked as print's default alloc, not named by it");
  assert.equal(lib(cfg, "print").defaultFor, undefined);
  assert.deepEqual(cfg.providers, { alloc: "alloc-region", arch: "arch-x86", libc: "nolibc", plat: "plat-kvm" });
  assert.deepEqual([cfg.lto, cfg.debug, cfg.test], [false, false, false]);
  // Deterministic: same inputs, same result.
  const again = await resolveApp(cfg.app.dir, { kernelRoot: t.kernel });
  assert.deepEqual(names(again), names(cfg));
});

test("option defaults, kiln.yaml values and --set overrides with origins", async () => {
  const t = kernel();
  let cfg = await resolveIn(t, { libraries: { print: {} } });
  assert.deepEqual({ ...option(cfg, "print", "float") }, { name: "float", type: "bool", default: true, help: "floats", value: true, origin: { kind: "default" } });
  cfg = await resolveIn(t, { libraries: { print: { float: false, bufsize: 4096 } } }, { sets: ["print.mode=small", "print.bufsize=0x10", "print.tag=x=y"] });
  assert.equal(option(cfg, "print", "float").value, false);
  assert.equal(option(cfg, "print", "float").origin.kind, "app");
  assert.equal(option(cfg, "print", "bufsize").value, 16);
  assert.deepEqual(option(cfg, "print", "bufsize").origin, { kind: "cli" });
  assert.equal(option(cfg, "print", "mode").value, "small");
  assert.equal(option(cfg, "print", "tag").value, "x=y");
  // Later --set wins; bool spellings.
  for (const [text, value] of [["yes", true], ["0", false], ["TRUE", true], ["no", false]] as const) {
    cfg = await resolveIn(t, { libraries: { print: {} } }, { sets: ["print.float=false", `print.float=${text}`] });
    assert.equal(option(cfg, "print", "float").value, value, text);
  }
});

test("sources follow the conditions and are absolute", async () => {
  const t = kernel();
  const dir = path.join(t.kernel, "lib", "print");
  let cfg = await resolveIn(t, { libraries: { print: {} } });
  assert.deepEqual(lib(cfg, "print").sources, ["printf.c", "float.c"].map((f) => path.join(dir, f)));
  cfg = await resolveIn(t, { libraries: { print: { float: false, mode: "small", bufsize: 4096 } } }, { test: true });
  assert.deepEqual(lib(cfg, "print").sources, ["printf.c", "nofloat.c", "small.c", "big.c", "tests/t.c"].map((f) => path.join(dir, f)));
});

test("--test selects the test library", async () => {
  const t = kernel();
  const cfg = await resolveIn(t, {}, { test: true, lto: true, debug: true });
  assert.equal(lib(cfg, "test").selectedBy, "--test");
  assert.deepEqual([cfg.lto, cfg.debug, cfg.test], [true, true, true]);
  assert.ok(names(cfg).indexOf("print") < names(cfg).indexOf("test"));
});

test("an API requirement takes a selected provider over the default", async () => {
  const t = kernel();
  const cfg = await resolveIn(t, { libraries: { print: {}, "alloc-tlsf": {} } });
  assert.equal(cfg.providers.alloc, "alloc-tlsf");
  assert.ok(!names(cfg).includes("alloc-region"));
  assert.ok(names(cfg).indexOf("alloc-tlsf") < names(cfg).indexOf("print"));
});

test("two providers of one API", async () => {
  const t = kernel();
  const e = await fails(t, { libraries: { "alloc-tlsf": {}, "alloc-region": {} } });
  assert.match(e.file, /kiln\.yaml$/);
  assert.equal(e.key, "libraries.alloc-region");
  assert.match(e.problem, /API "alloc" has two providers: "alloc-tlsf" \(selected by app\) and "alloc-region" \(selected by app\)/);
});

test("unknown library: suggestion, and a hint when it is an API", async () => {
  const t = kernel();
  let e = await fails(t, { libraries: { prnt: {} } });
  assert.match(e.file, /apps[/\\]a[/\\]kiln\.yaml$/);
  assert.equal(e.key, "libraries.prnt");
  assert.equal(e.problem, 'unknown library "prnt"');
  assert.equal(e.fix, `Did you mean "print"? Run 'kiln libs' to list libraries.`);
  e = await fails(t, { libraries: { zzzzzzzz: {} } });
  assert.equal(e.fix, "Run 'kiln libs' to list libraries.");
  e = await fails(t, { libraries: { alloc: {} } });
  assert.match(e.fix, /"alloc" is an API \(provided by alloc-region, alloc-tlsf\)/);
  t.lib("lib/bad", { name: "bad", description: "d", requires: ["consol"] });
  e = await fails(t, { libraries: { bad: {} } });
  assert.match(e.file, /lib[/\\]bad[/\\]library\.yaml$/);
  assert.equal(e.key, "requires[0]");
  assert.match(e.fix, /Did you mean "console"/);
});

test("API requirement defaults must exist and provide the API", async () => {
  const t = kernel();
  t.lib("lib/u1", { name: "u1", description: "d", requires: [{ api: "alloc", default: "alloc-nope" }] });
  t.lib("lib/u2", { name: "u2", description: "d", requires: ["console", { api: "alloc", default: "console" }] });
  let e = await fails(t, { libraries: { u1: {} } });
  assert.equal(e.key, "requires[0].default");
  assert.match(e.problem, /unknown library "alloc-nope"/);
  e = await fails(t, { libraries: { u2: {}, "alloc-tlsf": {} } });
  assert.equal(e.key, "requires[1].default");
  assert.match(e.problem, /default "console" does not provide API "alloc"/);
  assert.match(e.fix, /alloc-region, alloc-tlsf/);
});

test("unknown option, wrong type, out of range, bad choice in kiln.yaml", async () => {
  const t = kernel();
  let e = await fails(t, { libraries: { print: { flaot: true } } });
  assert.equal(e.key, "libraries.print.flaot");
  assert.equal(e.problem, 'library "print" has no option "flaot"');
  assert.match(e.fix, /^Did you mean "float"\? Options of print: float, bufsize, mode, tag/);
  e = await fails(t, { libraries: { print: { float: "yes" } } });
  assert.equal(e.key, "libraries.print.float");
  assert.match(e.problem, /expected true or false, got the string "yes"/);
  e = await fails(t, { libraries: { print: { bufsize: 8 } } });
  assert.match(e.problem, /8 is out of range/);
  assert.match(e.fix, /16\.\.4096/);
  e = await fails(t, { libraries: { print: { mode: "tiny" } } });
  assert.match(e.fix, /one of fast, small/);
  e = await fails(t, { libraries: { console: { x: 1 } } });
  assert.match(e.fix, /has no options/);
});

test("--set errors", async () => {
  const t = kernel();
  const app = { libraries: { print: {} } };
  let e = await fails(t, app, { sets: ["print.float"] });
  assert.equal(e.file, "--set");
  assert.equal(e.key, "print.float");
  assert.match(e.problem, /as library\.option=value/);
  e = await fails(t, app, { sets: ["float=1"] });
  assert.match(e.problem, /cannot read "float=1"/);
  e = await fails(t, app, { sets: ["prnt.float=1"] });
  assert.equal(e.key, "prnt.float");
  assert.match(e.fix, /Did you mean "print"/);
  e = await fails(t, app, { sets: ["alloc-tlsf.x=1"] });
  assert.match(e.problem, /library "alloc-tlsf" is not selected/);
  assert.match(e.fix, /Add it under libraries in .*kiln\.yaml/);
  e = await fails(t, app, { sets: ["print.flt=1"] });
  assert.match(e.problem, /has no option "flt"/);
  e = await fails(t, app, { sets: ["print.float=maybe"] });
  assert.match(e.problem, /"maybe" is not a boolean/);
  assert.match(e.fix, /yes\/no/);
  e = await fails(t, app, { sets: ["print.bufsize=big"] });
  assert.match(e.problem, /not an integer/);
  e = await fails(t, app, { sets: ["print.bufsize=5000"] });
  assert.match(e.problem, /out of range/);
  e = await fails(t, app, { sets: ["print.mode=medium"] });
  assert.match(e.problem, /not a valid choice/);
});

test("dependency cycles name the path", async () => {
  const t = kernel();
  t.lib("lib/ca", { name: "ca", description: "d", requires: ["cb"] });
  t.lib("lib/cb", { name: "cb", description: "d", requires: ["console", "cc"] });
  t.lib("lib/cc", { name: "cc", description: "d", requires: ["ca"] });
  const e = await fails(t, { libraries: { ca: {} } });
  assert.match(e.file, /lib[/\\]cc[/\\]library\.yaml$/);
  assert.equal(e.key, "requires[0]");
  assert.equal(e.problem, "dependency cycle: ca -> cb -> cc -> ca");
});

test("a cycle through an API provider is found too", async () => {
  const t = kernel();
  t.lib("lib/ma", { name: "ma", description: "d", provides: ["thing"], requires: ["mb"] });
  t.lib("lib/mb", { name: "mb", description: "d", requires: [{ api: "thing", default: "ma" }] });
  const e = await fails(t, { libraries: { mb: {} } });
  assert.match(e.problem, /dependency cycle: (mb -> ma -> mb|ma -> mb -> ma)/);
});

test("implemented_by selects a provider that builds on the library, after it, without a cycle", async () => {
  const t = kernel();
  // The allocator-API shape: the API library needs an implementation, and every implementation
  // requires the API library (for its ops struct and registration).
  t.lib("lib/api", { name: "api", description: "d", requires: ["console"], implemented_by: [{ api: "impl", default: "impl-a" }] });
  t.lib("lib/impl-a", { name: "impl-a", description: "d", provides: ["impl"], requires: ["api"] });
  t.lib("lib/impl-b", { name: "impl-b", description: "d", provides: ["impl"], requires: ["api"] });
  let cfg = await resolveIn(t, { libraries: { api: {} } });
  const order = names(cfg);
  assert.ok(order.includes("impl-a"), "the default is selected when nothing provides the API");
  assert.ok(order.indexOf("api") < order.indexOf("impl-a"), "the provider comes after the library it builds on");
  assert.ok(!order.includes("impl-b"));
  cfg = await resolveIn(t, { libraries: { api: {}, "impl-b": {} } });
  assert.ok(names(cfg).includes("impl-b") && !names(cfg).includes("impl-a"), "the app's choice wins over the default");
  // Still a cycle when the provider is required outright.
  t.lib("lib/api2", { name: "api2", description: "d", requires: [{ api: "impl2", default: "impl2-a" }] });
  t.lib("lib/impl2-a", { name: "impl2-a", description: "d", provides: ["impl2"], requires: ["api2"] });
  assert.match((await fails(t, { libraries: { api2: {} } })).problem, /dependency cycle/);
});

test("a bad implemented_by default names its key", async () => {
  const t = kernel();
  t.lib("lib/api", { name: "api", description: "d", implemented_by: [{ api: "impl", default: "console" }] });
  let e = await fails(t, { libraries: { api: {} } });
  assert.match(e.file, /lib[/\\]api[/\\]library\.yaml$/);
  assert.equal(e.key, "implemented_by[0].default");
  assert.match(e.problem, /default "console" does not provide API "impl"/);
  t.lib("lib/api", { name: "api", description: "d", implemented_by: [{ api: "impl", default: "nowhere" }] });
  e = await fails(t, { libraries: { api: {} } });
  assert.equal(e.key, "implemented_by[0].default");
  assert.match(e.problem, /unknown library "nowhere"/);
});

test("exactly one linker script; the target's base library must exist", async () => {
  let t = kernel();
  t.lib("lib/ld2", { name: "ld2", description: "d", linker_script: "other.ld" });
  let e = await fails(t, { libraries: { ld2: {} } });
  assert.equal(e.key, "libraries");
  assert.match(e.problem, /several selected libraries have a linker_script: plat-kvm, ld2|ld2, plat-kvm/);
  t = makeTree();
  t.lib("plat/kvm", { name: "plat-kvm", description: "p" });
  e = await fails(t, {});
  assert.match(e.problem, /no selected library has a linker_script/);
  t = makeTree();
  e = await fails(t, {});
  assert.equal(e.key, "target");
  assert.match(e.problem, /needs library "plat-kvm"/);
  t = makeTree();
  addPlatform(t);
  e = await fails(t, {}, { test: true });
  assert.equal(e.file, "--test");
});

test("two libraries with one name: both files are named", async () => {
  const t = kernel();
  t.lib("lib/print2", { name: "print", description: "again" });
  const e = await fails(t, {});
  assert.equal(e.key, "name");
  assert.match(e.file, /print2?[/\\]library\.yaml$/);
  assert.match(e.problem, /already used by .*print2?[/\\]library\.yaml/);
  assert.notEqual(path.basename(path.dirname(e.file)), e.problem.match(/lib[/\\](print2?)[/\\]/)![1]);
});

test("rootfs: selects the initrd library, which unpacks it at boot", async () => {
  const t = kernel();
  t.lib("lib/initrd", { name: "initrd", description: "unpacks the rootfs", requires: ["console"], sources: ["initrd.c"] });
  const cfg = await resolveIn(t, { rootfs: "files" });
  assert.equal(lib(cfg, "initrd").selectedBy, "rootfs:");
  assert.equal(describeSelection("rootfs:"), "selected by rootfs:");
  const without = await resolveIn(t, {});
  assert.ok(!names(without).includes("initrd"));
});
