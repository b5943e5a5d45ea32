// The real kernel/ manifests: any one library an app might pick resolves on its own, and picking
// an API library brings an implementation (an app that selected only `alloc` once got a malloc
// that always returned NULL, because nothing chose an allocator).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadLibraries, resolve, validateApp, type ResolvedConfig } from "../src/config/index.ts";

const dir = mkdtempSync(path.join(tmpdir(), "kiln-manifests-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, "main.c"), "");
const libs = await loadLibraries();
const opts = { sets: [], lto: false, debug: false, test: false };
const resolveWith = (libraries: Record<string, object>): ResolvedConfig =>
  // Named: the temp directory's random suffix has capitals, which no app name may have.
  resolve(validateApp(path.join(dir, "kiln.yaml"), { name: "manifests", sources: ["main.c"], libraries }), libs, opts);
const selected = (cfg: ResolvedConfig) => cfg.libraries.map((l) => l.manifest.name);

test("every library resolves when an app selects it alone, with a provider for every API it needs", () => {
  for (const name of libs.keys()) {
    const cfg = resolveWith({ [name]: {} });
    for (const l of cfg.libraries) {
      for (const r of [...l.manifest.requires, ...l.manifest.implementedBy]) {
        if ("api" in r) assert.ok(cfg.providers[r.api], `${name}: ${l.manifest.name} needs API ${r.api}, and nothing provides it`);
      }
    }
  }
});

test("an API library brings its default implementation, after it; the app's pick replaces it", () => {
  for (const [api, impl, other] of [
    ["alloc", "alloc-tlsf", "alloc-buddy"],
    ["sched", "sched-coop", undefined],
    ["boot", "plat-kvm", undefined],
  ] as const) {
    const order = selected(resolveWith({ [api]: {} }));
    assert.ok(order.includes(impl), `${api} alone selects ${impl}`);
    assert.ok(order.indexOf(api) < order.indexOf(impl), `${impl} builds on ${api}, so it comes after`);
    if (other) {
      const picked = selected(resolveWith({ [api]: {}, [other]: {} }));
      assert.ok(picked.includes(other) && !picked.includes(impl), `picking ${other} replaces ${impl}`);
    }
  }
});
