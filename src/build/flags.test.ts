import { after, test } from "node:test";
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { BASE_CFLAGS, compileFlags, flavourFlags } from "./flags.ts";
import { makeFixture } from "./testing.ts";
import { unitsOf } from "./unit.ts";

const fx = makeFixture();
after(() => fx.cleanup());
const ctx = { gccInclude: "/gcc/include", configDir: "/out/config" };

test("compile flags: the freestanding set, gcc's headers only, the unit's own config header first, every library's include dir", () => {
  const cfg = fx.cfg();
  const [plat] = unitsOf(cfg);
  const f = compileFlags(cfg, plat!, ctx);
  for (const flag of BASE_CFLAGS) assert.ok(f.includes(flag), flag);
  for (const flag of ["-std=c11", "-ffreestanding", "-fno-pic", "-fno-pie", "-mcmodel=small", "-O2", "-Werror", "-ffunction-sections", "-fdata-sections"]) {
    assert.ok(f.includes(flag), flag);
  }
  assert.ok(f.includes("-nostdinc"));
  assert.equal(f[f.indexOf("-isystem") + 1], "/gcc/include");
  assert.equal(f[f.indexOf("-include") + 1], "/out/config/plat.h");
  const app = compileFlags(cfg, unitsOf(cfg).at(-1)!, ctx);
  assert.equal(app[app.indexOf("-include") + 1], "/out/config/app.h");
  const incs = f.flatMap((x, i) => (x === "-I" ? [f[i + 1]] : []));
  assert.deepEqual(incs, [path.join(fx.root, "kernel/plat/include"), path.join(fx.root, "kernel/util/include")]);
  assert.ok(!f.some((x) => x.startsWith("/usr/include")));
  assert.ok(!f.includes("-flto") && !f.includes("-g"));
});

test("a library without include/ adds no -I; library and app cflags come last so they can override", () => {
  const cfg = fx.cfg();
  cfg.libraries[1]!.manifest.dir = path.join(fx.root, "kernel", "nonexistent");
  cfg.libraries[0]!.manifest.cflags = ["-DPLAT_ONLY=1"];
  cfg.app.cflags = ["-O3"];
  const units = unitsOf(cfg);
  const plat = compileFlags(cfg, units[0]!, ctx);
  assert.equal(plat.at(-1), "-DPLAT_ONLY=1");
  assert.equal(plat.filter((x) => x === "-I").length, 1);
  const app = compileFlags(cfg, units.find((u) => u.name === "app")!, ctx);
  assert.equal(app.at(-1), "-O3");
  assert.ok(!app.includes("-DPLAT_ONLY=1"), "a library's cflags are its own");
});

test("--debug replaces -O2 with -O0 -g; --lto adds -flto", () => {
  assert.deepEqual(flavourFlags({ debug: false, lto: false }), ["-O2"]);
  assert.deepEqual(flavourFlags({ debug: true, lto: false }), ["-O0", "-g"]);
  assert.deepEqual(flavourFlags({ debug: false, lto: true }), ["-O2", "-flto"]);
  const f = compileFlags(fx.cfg({ debug: true }), unitsOf(fx.cfg())[0]!, ctx);
  assert.ok(f.includes("-O0") && f.includes("-g") && !f.includes("-O2"));
});

test("the app is a unit named app exporting main, its sources resolved against its dir", () => {
  const app = unitsOf(fx.cfg()).at(-1)!;
  assert.equal(app.name, "app");
  assert.deepEqual(app.exports, ["main"]);
  assert.deepEqual(app.sources, [path.join(fx.root, "app", "main.c")]);
  assert.equal(unitsOf(fx.cfg())[0]!.linkerScript, path.join(fx.root, "kernel/plat/kiln.ld"));
});
