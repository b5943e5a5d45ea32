// End-to-end tests of the build pipeline over the tiny fixture in testing.ts (no kernel/, no resolver).
import { after, test } from "node:test";
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { KilnError } from "../errors.ts";
import type { LibraryManifest } from "../config/types.ts";
import { parseElf } from "./elf.ts";
import { PAGETABLE_BYTES, PAGETABLE_SECTION, buildPageTables } from "./pagetables.ts";
import { runBuild, type BuildOptions } from "./pipeline.ts";
import { FIXTURE_LD, makeFixture } from "./testing.ts";

const fx = makeFixture();
after(() => fx.cleanup());

function quiet(): { lines: string[]; opts: BuildOptions } {
  const lines: string[] = [];
  return { lines, opts: { log: (l) => lines.push(l), jobs: 2 } };
}

const compiledNames = (lines: string[]) => lines.filter((l) => / CC /.test(l)).map((l) => l.replace(/^\[\d+\/\d+\] CC /, "")).sort();

/** Symbols of an object as `name -> nm type letter`. */
function nm(file: string): Map<string, string> {
  const out = execFileSync("nm", ["-P", file], { encoding: "utf8" });
  return new Map(out.split("\n").filter(Boolean).map((l) => [l.split(" ")[0]!, l.split(" ")[1]!]));
}

test("incremental: full build, then nothing, then only dependents of a changed header, then only the owner of a changed option", async () => {
  const outDir = path.join(fx.root, "out-incr");
  const cfg = fx.cfg();
  const a = quiet();
  const first = await runBuild(cfg, { macros: fx.macros(), lock: { v: 1 } }, { ...a.opts, outDir });
  assert.equal(first.compiled, 4);
  assert.equal(first.upToDate, false);
  assert.deepEqual(compiledNames(a.lines), ["app/main.c", "plat/start.S", "util/other.c", "util/util.c"]);
  for (const f of [first.image, first.debugImage, first.mapFile, path.join(outDir, "size.json"), path.join(outDir, "config", "util.h"), path.join(outDir, "config", "app.h"), path.join(outDir, "kiln.lock.json")]) {
    assert.ok(fs.existsSync(f), f);
  }
  const configMtime = fs.statSync(path.join(outDir, "config", "util.h")).mtimeMs;
  const imageMtime = fs.statSync(first.image).mtimeMs;

  const b = quiet();
  const second = await runBuild(cfg, { macros: fx.macros(), lock: { v: 1 } }, { ...b.opts, outDir });
  assert.equal(second.compiled, 0);
  assert.equal(second.upToDate, true);
  assert.deepEqual(b.lines, ["up to date"], "no compile, prelink or link step");
  assert.equal(fs.statSync(path.join(outDir, "config", "util.h")).mtimeMs, configMtime, "config headers not rewritten");
  assert.equal(fs.statSync(first.image).mtimeMs, imageMtime, "image not relinked");

  // detail.h is included (through util.h) by util.c and the app, not by other.c or start.S.
  fx.write("kernel/util/include/util/detail.h", "#define UTIL_DETAIL 2\n");
  const c = quiet();
  const third = await runBuild(cfg, { macros: fx.macros(), lock: { v: 1 } }, { ...c.opts, outDir });
  assert.equal(third.compiled, 2);
  assert.deepEqual(compiledNames(c.lines), ["app/main.c", "util/util.c"]);
  assert.equal(third.upToDate, false);
  // Stale objects are replaced, not accumulated.
  assert.equal(fs.readdirSync(path.join(outDir, "obj", "util")).filter((f) => f.startsWith("util-")).length, 1);

  const d = quiet();
  const fourth = await runBuild(cfg, { macros: fx.macros(5), lock: { v: 2 } }, { ...d.opts, outDir });
  assert.deepEqual(compiledNames(d.lines), ["util/other.c", "util/util.c"], "an option change recompiles only its library's objects");
  assert.deepEqual(d.lines.filter((l) => l.startsWith("LD -r")), ["LD -r lib/util.o"], "and re-prelinks only it");
  assert.equal(fourth.compiled, 2);

  // Reverting the header gives back the first objects' names (content addressed).
  fx.write("kernel/util/include/util/detail.h", "#define UTIL_DETAIL 1\n");
  const again = await runBuild(cfg, { macros: fx.macros(5), lock: { v: 2 } }, { ...quiet().opts, outDir });
  assert.equal(again.compiled, 2);
  assert.equal(fs.existsSync(path.join(outDir, "config.h")), false, "no shared config.h");
  const fifth = await runBuild(cfg, { macros: fx.macros(5), lock: { v: 2 } }, { ...quiet().opts, outDir });
  assert.equal(fifth.upToDate, true);
});

test("per-library config headers: a library's option reaches the units that name it, not the others", async () => {
  const outDir = path.join(fx.root, "out-config");
  const cfg = fx.cfg();
  const headerOf = (unit: string) => fs.readFileSync(path.join(outDir, "config", `${unit}.h`), "utf8");
  const main = fs.readFileSync(path.join(fx.root, "app/main.c"), "utf8");
  const detail = fs.readFileSync(path.join(fx.root, "kernel/util/include/util/detail.h"), "utf8");
  try {
    // A mention in a comment or a string is not a read.
    fx.write("app/main.c", `/* CONFIG_UTIL_BIAS */\nconst char *app_name(void) { return "CONFIG_UTIL_BIAS"; }\n${main}`);
    await runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir });
    assert.match(headerOf("util"), /#define CONFIG_LIB_UTIL 1\n#define CONFIG_UTIL_BIAS 0\n/);
    assert.doesNotMatch(headerOf("util"), /CONFIG_LIB_PLAT/, "plat's macros are not util's");
    assert.doesNotMatch(headerOf("app"), /#define CONFIG_/);
    assert.match(headerOf("plat"), /#define CONFIG_LIB_PLAT 1\n#endif/);

    // The app names util's option in code: its header carries it, and a change recompiles it too.
    fx.write("app/main.c", `${main}int app_bias(void) { return CONFIG_UTIL_BIAS; }\n`);
    const a = quiet();
    await runBuild(cfg, { macros: fx.macros(1), lock: {} }, { ...a.opts, outDir });
    assert.match(headerOf("app"), /#define CONFIG_UTIL_BIAS 1\n/);
    assert.deepEqual(compiledNames(a.lines), ["app/main.c", "util/other.c", "util/util.c"]);
    assert.deepEqual(compiledNames((await build(cfg, 2)).lines), ["app/main.c", "util/other.c", "util/util.c"]);

    // A public header of util that uses the option in code makes every unit read it (any may include it).
    fx.write("app/main.c", main);
    fx.write("kernel/util/include/util/detail.h", `${detail}#define UTIL_BIASED(x) ((x) + CONFIG_UTIL_BIAS)\n`);
    await build(cfg, 2);
    assert.match(headerOf("plat"), /CONFIG_UTIL_BIAS 2/);
    assert.deepEqual(compiledNames((await build(cfg, 3)).lines), ["app/main.c", "plat/start.S", "util/other.c", "util/util.c"]);
  } finally {
    fx.write("app/main.c", main);
    fx.write("kernel/util/include/util/detail.h", detail);
  }

  async function build(c: typeof cfg, bias: number) {
    const q = quiet();
    await runBuild(c, { macros: fx.macros(bias), lock: {} }, { ...q.opts, outDir });
    return q;
  }
});

test("a new header that shadows an included one (same name, earlier include dir) recompiles its users", async () => {
  const outDir = path.join(fx.root, "out-shadow");
  const cfg = fx.cfg();
  await runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir });
  // plat's include dir comes before util's, so <util/detail.h> would now be found under plat.
  const shadow = fx.write("kernel/plat/include/util/detail.h", "#define UTIL_DETAIL 3\n");
  try {
    const a = quiet();
    const r = await runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...a.opts, outDir });
    assert.deepEqual(compiledNames(a.lines), ["app/main.c", "util/util.c"]);
    assert.equal(r.upToDate, false);
    const again = await runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir });
    assert.equal(again.upToDate, true, "and then it is up to date");
  } finally {
    fs.rmSync(shadow);
  }
  const b = quiet();
  await runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...b.opts, outDir });
  assert.deepEqual(compiledNames(b.lines), ["app/main.c", "util/util.c"], "removing it goes back to the old header");
});

test("prelink hides every non-exported global and keeps exports and undefined references", async () => {
  const outDir = path.join(fx.root, "out-hide");
  await runBuild(fx.cfg(), { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir });
  const util = nm(path.join(outDir, "lib", "util.o"));
  assert.equal(util.get("util_add"), "T", "exported stays global");
  assert.equal(util.get("util_private"), "t", "non-exported global becomes local");
  assert.equal(util.get("util_other"), "t");
  const app = nm(path.join(outDir, "lib", "app.o"));
  assert.equal(app.get("main"), "T");
  assert.equal(app.get("util_add"), "U", "undefined references stay global");
  // The exported symbol from the unhidden object is what the app resolved against.
  const dbg = parseElf(fs.readFileSync(path.join(outDir, "image.dbg.elf")), "image.dbg.elf");
  assert.ok(dbg.symbol("util_add"));
});

test("special sections survive prelink with their names, and --gc-sections drops unused code", async () => {
  fx.write("kernel/util/init.c", `static int init_fn(void) { return 0; }
__attribute__((used, section(".kiln_init.2.050"))) static int (*const init_ptr)(void) = init_fn;
__attribute__((used, section(".kiln_tests"))) static const int test_rec = 42;
`);
  const cfg = fx.cfg();
  cfg.libraries[1]!.sources.push(path.join(fx.root, "kernel/util/init.c"));
  const outDir = path.join(fx.root, "out-sections");
  await runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir });
  const sections = execFileSync("readelf", ["-SW", path.join(outDir, "lib", "util.o")], { encoding: "utf8" });
  assert.match(sections, /\.kiln_init\.2\.050/);
  assert.match(sections, /\.kiln_tests/);
  assert.match(sections, /\.text\.util_other/, "function sections kept apart for --gc-sections");
  const dbg = parseElf(fs.readFileSync(path.join(outDir, "image.dbg.elf")), "dbg");
  assert.ok(dbg.symbol("init_fn"), "KEEP in the linker script keeps the init entry and what it points at");
  assert.equal(dbg.symbol("util_other"), undefined, "unreferenced code is collected");
});

test("page tables are patched into both images, the note survives stripping, the stripped image has no symbols", async () => {
  const outDir = path.join(fx.root, "out-pt");
  const r = await runBuild(fx.cfg(), { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir });
  const dbgBuf = fs.readFileSync(r.debugImage);
  const imgBuf = fs.readFileSync(r.image);
  const dbg = parseElf(dbgBuf, r.debugImage);
  const img = parseElf(imgBuf, r.image);
  const sd = dbg.section(PAGETABLE_SECTION)!;
  const si = img.section(PAGETABLE_SECTION)!;
  assert.equal(sd.size, PAGETABLE_BYTES);
  assert.equal(dbg.symbol("kiln_pml4")?.value, sd.addr);
  const expected = buildPageTables(dbg.segments.filter((s) => s.type === 1), sd.addr);
  assert.deepEqual(dbgBuf.subarray(sd.offset, sd.offset + sd.size), expected);
  assert.deepEqual(imgBuf.subarray(si.offset, si.offset + si.size), expected);
  assert.notEqual(expected.readBigUInt64LE(0), 0n);
  assert.equal(img.symbols().length, 0, "stripped");
  assert.ok(dbg.symbols().length > 0);
  assert.ok(img.section(".note.fixture"), "the (PVH-like) note is kept");
  assert.ok(img.segments.some((s) => s.type === 4), "PT_NOTE kept");
  assert.equal(img.entry, dbg.symbol("_start")!.value);
  assert.ok(r.sizes.stripped < r.sizes.unstripped);
  assert.deepEqual(Object.keys(r.sizes.byLibrary).sort(), ["(other)", "app", "plat", "util"]);
  assert.ok(r.sizes.byLibrary["(other)"]! >= PAGETABLE_BYTES, "the script-reserved tables are linker-generated");
  assert.ok(r.sizes.byLibrary.util! < 2048 * 4, "util's .bss array is not image bytes");
  assert.ok(r.sizes.bssByLibrary.util! >= 2048 * 4, "util's .bss array is counted as zeroed memory");
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(outDir, "size.json"), "utf8")), r.sizes);
});

test("--debug keeps debug info in the unstripped image only; --lto prelinks per library and still hides", async () => {
  const dbgOut = path.join(fx.root, "out-debug");
  const d = await runBuild(fx.cfg({ debug: true }), { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir: dbgOut });
  assert.ok(parseElf(fs.readFileSync(d.debugImage), "d").section(".debug_info"));
  assert.equal(parseElf(fs.readFileSync(d.image), "i").section(".debug_info"), undefined);

  const ltoOut = path.join(fx.root, "out-lto");
  const l = await runBuild(fx.cfg({ lto: true }), { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir: ltoOut });
  const util = nm(path.join(ltoOut, "lib", "util.o"));
  assert.equal(util.get("util_add"), "T");
  assert.notEqual(util.get("util_private"), "T");
  const sections = execFileSync("readelf", ["-SW", path.join(ltoOut, "lib", "util.o")], { encoding: "utf8" });
  assert.doesNotMatch(sections, /\.gnu\.lto_/, "no LTO bytecode left for the final ld");
  assert.ok(fs.statSync(l.image).size > 0);
  const again = await runBuild(fx.cfg({ lto: true }), { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir: ltoOut });
  assert.equal(again.upToDate, true);
});

test("a compile error fails the build naming the library and the file, and keeps the good objects", async () => {
  const outDir = path.join(fx.root, "out-err");
  fx.write("kernel/util/broken.c", "int broken(void) { return undeclared_thing; }\n");
  const cfg = fx.cfg();
  cfg.libraries[1]!.sources.push(path.join(fx.root, "kernel/util/broken.c"));
  await assert.rejects(
    runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir, jobs: 1 }),
    (e: unknown) => e instanceof KilnError && /library util: util\/broken\.c/.test(e.message) && /undeclared_thing/.test(e.message),
  );
  fx.write("kernel/util/broken.c", "int broken(void) { return 0; }\n");
  const lines = quiet();
  const r = await runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...lines.opts, outDir, jobs: 1 });
  assert.ok(r.compiled >= 1 && r.compiled < 5, `only what failed or never ran is compiled again (${r.compiled})`);
  assert.ok(compiledNames(lines.lines).includes("util/broken.c"));
});

test("a link with undefined symbols says which library exports them, or that one is private", async () => {
  const outDir = path.join(fx.root, "out-undef");
  fx.write("app/undef.c", "int util_private(int); int extra_fn(void); int nowhere_fn(void);\nint use_them(void) { return util_private(1) + extra_fn() + nowhere_fn(); }\n" +
    // A kept section refers to it, so --gc-sections cannot drop the references.
    "__attribute__((used, section(\".kiln_tests\"))) static int (*const keep)(void) = use_them;\n");
  const cfg = fx.cfg();
  cfg.app.sources.push("undef.c");
  const extra = { name: "extra", exports: ["extra_fn"] } as LibraryManifest;
  await assert.rejects(
    runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir, knownLibraries: async () => new Map([["extra", extra]]) }),
    (e: unknown) => {
      assert.ok(e instanceof KilnError);
      const m = e.message;
      assert.match(m, /util_private \(used by the app\): defined in library util but not exported, so it is private to it\. If it is meant as API, add it to exports in .*util[/\\]library\.yaml/);
      assert.match(m, /extra_fn \(used by the app\): exported by library extra, which this image does not select\. Add it under libraries in .*kiln\.yaml \(extra: \{\}\)/);
      assert.match(m, /nowhere_fn \(used by the app\): no library under kernel\/ exports it/);
      assert.match(m, /ld said:\n.*undefined reference/s, "ld's own words follow");
      return true;
    },
  );
});

test("a source including the header of an unselected library is told which library to add", async () => {
  const outDir = path.join(fx.root, "out-header");
  fx.write("kernel/extra/include/extra/extra.h", "int extra_fn(void);\n");
  fx.write("app/needs_extra.c", "#include <extra/extra.h>\nint f(void) { return extra_fn(); }\n");
  const cfg = fx.cfg();
  cfg.app.sources.push("needs_extra.c");
  const extra = { name: "extra", dir: path.join(fx.root, "kernel/extra"), exports: ["extra_fn"] } as LibraryManifest;
  await assert.rejects(
    runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir, knownLibraries: async () => new Map([["extra", extra]]) }),
    (e: unknown) => {
      assert.ok(e instanceof KilnError);
      assert.match(e.message, /<extra\/extra\.h> is the header of library extra, which this image does not select: add it under libraries in .*kiln\.yaml \(extra: \{\}\)/);
      assert.match(e.message, /fatal error: extra\/extra\.h: No such file or directory/, "gcc's own words follow");
      return true;
    },
  );
});

test("zero or two linker scripts, a missing source and a library named app are errors that say what to do", async () => {
  const none = fx.cfg();
  none.libraries[0]!.manifest.linkerScript = undefined;
  await assert.rejects(runBuild(none, { macros: [], lock: {} }, quiet().opts), /no selected library has a linker_script/);
  const two = fx.cfg();
  two.libraries[1]!.manifest.linkerScript = "kiln.ld";
  await assert.rejects(runBuild(two, { macros: [], lock: {} }, quiet().opts), /plat .* and util .* each have a linker_script/);
  const missing = fx.cfg();
  missing.libraries[1]!.sources.push(path.join(fx.root, "kernel/util/nope.c"));
  await assert.rejects(runBuild(missing, { macros: [], lock: {} }, { ...quiet().opts, outDir: path.join(fx.root, "out-missing") }), /library\.yaml: sources: nope\.c does not exist/);
  const clash = fx.cfg();
  clash.libraries[1]!.manifest.name = "app";
  await assert.rejects(runBuild(clash, { macros: [], lock: {} }, quiet().opts), /"app" is reserved/);
});

test("a library --gc-sections removed entirely is listed with 0 bytes", async () => {
  const cfg = fx.cfg();
  fx.write("kernel/dead/dead.c", "int dead_fn(void) { return 1; }\n");
  const dead = structuredClone(cfg.libraries[1]!);
  dead.manifest = { ...dead.manifest, name: "dead", dir: path.join(fx.root, "kernel/dead"), exports: ["dead_fn"] };
  dead.sources = [path.join(fx.root, "kernel/dead/dead.c")];
  cfg.libraries.push(dead);
  const r = await runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir: path.join(fx.root, "out-dead") });
  assert.equal(r.sizes.byLibrary.dead, 0);
  assert.ok(r.sizes.byLibrary.util! > 0);
});

test("an export the library does not define is reported as a warning", async () => {
  const cfg = fx.cfg();
  cfg.libraries[1]!.manifest.exports = ["util_add", "util_gone"];
  const q = quiet();
  await runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...q.opts, outDir: path.join(fx.root, "out-warn") });
  assert.ok(q.lines.some((l) => /warning: library util exports util_gone but does not define it/.test(l)), q.lines.join("\n"));
});

test("compiler warnings that are not errors are shown, naming the library", async () => {
  const cfg = fx.cfg();
  fx.write("kernel/util/warn.c", "int warn_fn(int unused_param) { int unused_local; return 0; }\n");
  cfg.libraries[1]!.sources.push(path.join(fx.root, "kernel/util/warn.c"));
  cfg.libraries[1]!.manifest.cflags = ["-Wno-error"];
  const q = quiet();
  await runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...q.opts, outDir: path.join(fx.root, "out-warncc") });
  assert.ok(q.lines.some((l) => /^warning: library util: util\/warn\.c:\n.*unused_local/s.test(l)), q.lines.join("\n"));
});

test("two builds of one directory at once take turns (the lock) and the second finds everything built", async () => {
  const outDir = path.join(fx.root, "out-lock");
  const cfg = fx.cfg();
  const [a, b] = await Promise.all([
    runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir }),
    runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir }),
  ]);
  assert.deepEqual([a.compiled, b.compiled].sort(), [0, 4]);
  assert.ok(a.upToDate !== b.upToDate);
  assert.ok(!fs.existsSync(path.join(outDir, ".kiln-lock")), "released");
});

test("a source edited while gcc compiles it is compiled again, so the next build is not 'up to date' with the old object", async (t) => {
  const outDir = path.join(fx.root, "out-edit");
  const cfg = fx.cfg();
  await runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...quiet().opts, outDir });
  // A gcc on PATH that runs the real gcc, then edits other.c the first time it compiled it, as
  // an editor saving while the build runs would (the object is then of the old bytes).
  const bin = path.join(fx.root, "fake-bin");
  fs.mkdirSync(bin, { recursive: true });
  const source = path.join(fx.root, "kernel", "util", "other.c");
  const marker = path.join(bin, "edited");
  const realGcc = execFileSync("sh", ["-c", "command -v gcc"], { encoding: "utf8" }).trim();
  fs.writeFileSync(
    path.join(bin, "gcc"),
    `#!/bin/sh\n${realGcc} "$@"; rc=$?\ncase "$*" in *other.c*) if [ ! -e ${marker} ]; then : > ${marker}; printf 'int edited_during_compile(void) { return 7; }\\n' >> ${source}; fi;; esac\nexit $rc\n`,
    { mode: 0o755 },
  );
  const savedPath = process.env.PATH;
  process.env.PATH = `${bin}:${savedPath}`;
  t.after(() => (process.env.PATH = savedPath));
  fx.write("kernel/util/other.c", fs.readFileSync(source, "utf8") + "\n/* changed */\n");
  const a = quiet();
  await runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...a.opts, outDir });
  assert.ok(fs.existsSync(marker), "the fake gcc ran");
  const objs = fs.readdirSync(path.join(outDir, "obj", "util")).filter((f) => f.startsWith("other-"));
  assert.equal(objs.length, 1);
  assert.equal(nm(path.join(outDir, "obj", "util", objs[0]!)).get("edited_during_compile"), "T", "the object holds the edited source");
  const b = quiet();
  const again = await runBuild(cfg, { macros: fx.macros(), lock: {} }, { ...b.opts, outDir });
  assert.equal(again.upToDate, true);
});

test("a script that links low says KILN_RELINK_HIGH when the image does not fit, and the build links it at 1 MiB", async () => {
  const f = makeFixture();
  try {
    // plat-kvm's pattern (kernel/plat/kvm/kiln.ld): 64 KiB unless __kiln_link_high is defined.
    f.write(
      "kernel/plat/kiln.ld",
      FIXTURE_LD.replace("  . = 0x100000;", "  . = DEFINED(__kiln_link_high) ? 0x100000 : 0x10000;").replace(
        "  /DISCARD/",
        '  kiln_end = .;\n  ASSERT(DEFINED(__kiln_link_high) || kiln_end <= 0x9f000, "KILN_RELINK_HIGH: too large for low memory")\n  /DISCARD/',
      ),
    );
    const start = async (outDir: string): Promise<number> => {
      const r = await runBuild(f.cfg(), { macros: f.macros(), lock: {} }, { ...quiet().opts, outDir: path.join(f.root, outDir) });
      return Math.min(...parseElf(fs.readFileSync(r.image), r.image).segments.filter((s) => s.type === 1).map((s) => s.vaddr));
    };
    assert.equal(await start("out-small"), 0x10000, "a small image is linked at 64 KiB");
    f.write("kernel/util/util.c", "#include <util/util.h>\nstatic char big[700 * 1024];\nint util_add(int a, int b) { big[a & 1023] = (char)b; return a + b + big[b & 1023]; }\n");
    assert.equal(await start("out-big"), 0x100000, "one with 700 KiB of .bss at 1 MiB");
  } finally {
    f.cleanup();
  }
});
