import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { resolveApp, configMacros, emitLock, type ConfigMacro } from "./index.ts";
import { cString, macroPart } from "./emit.ts";
import { addPlatform, makeTree, type Tree } from "./testkit.ts";
import { KilnConfigError } from "../errors.ts";
import { repoRoot } from "../paths.ts";

function kernel(): Tree {
  const t = makeTree();
  addPlatform(t);
  t.lib("lib/alloc-tlsf", {
    name: "alloc-tlsf",
    description: "tlsf",
    provides: ["alloc"],
    options: {
      debug_checks: { type: "bool", default: false, help: "checks" },
      min_block: { type: "int", default: -16, help: "n" },
      policy: { type: "choice", choices: ["first_fit", "best"], default: "first_fit", help: "p" },
      name: { type: "string", default: 'say "hi"\\?\n', help: "s" },
    },
    sources: ["tlsf.c"],
  });
  t.lib("lib/test", { name: "test", description: "runner", sources: ["runner.c"] });
  return t;
}

async function cfgOf(t: Tree, opts: Parameters<typeof resolveApp>[1] = {}) {
  const dir = t.app("emit", { sources: ["main.c"], memory: "16M", cmdline: "-- x", libraries: { "alloc-tlsf": { debug_checks: true } } });
  return resolveApp(dir, { kernelRoot: t.kernel, ...opts });
}

test("macro names and C strings", () => {
  assert.equal(macroPart("alloc-tlsf"), "ALLOC_TLSF");
  assert.equal(macroPart("first_fit"), "FIRST_FIT");
  assert.equal(cString('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(cString("x?\n"), '"x\\077\\012"');
  assert.equal(cString("é"), '"\\303\\251"');
});

const lines = (ms: ConfigMacro[]) => ms.map((m) => `${m.owner ?? "-"} ${m.name} ${m.value}`);

test("macros: one per library and option, choices, each with its owner, no test macro", async () => {
  const t = kernel();
  assert.deepEqual(lines(configMacros(await cfgOf(t, { sets: ["alloc-tlsf.policy=best"] }))), [
    "plat-kvm CONFIG_LIB_PLAT_KVM 1",
    "alloc-tlsf CONFIG_LIB_ALLOC_TLSF 1",
    "alloc-tlsf CONFIG_ALLOC_TLSF_DEBUG_CHECKS 1",
    "alloc-tlsf CONFIG_ALLOC_TLSF_MIN_BLOCK -16",
    'alloc-tlsf CONFIG_ALLOC_TLSF_POLICY "best"',
    "alloc-tlsf CONFIG_ALLOC_TLSF_POLICY_BEST 1",
    'alloc-tlsf CONFIG_ALLOC_TLSF_NAME "say \\"hi\\"\\\\\\077\\012"',
  ]);
});

test("macros of a test image: CONFIG_KILN_TEST belongs to no library; deterministic", async () => {
  const t = kernel();
  const a = lines(configMacros(await cfgOf(t, { test: true })));
  assert.deepEqual(a, lines(configMacros(await cfgOf(t, { test: true }))));
  assert.equal(a[0], "- CONFIG_KILN_TEST 1");
  assert.ok(a.includes("test CONFIG_LIB_TEST 1"));
  assert.ok(a.includes("alloc-tlsf CONFIG_ALLOC_TLSF_POLICY_FIRST_FIT 1"));
});

test("colliding macro names are refused", async () => {
  const t = kernel();
  t.lib("lib/a-b", { name: "a-b", description: "d", options: { c: { type: "bool", default: true, help: "h" } } });
  t.lib("lib/a", { name: "a", description: "d", options: { b_c: { type: "bool", default: true, help: "h" } } });
  const dir = t.app("c", { sources: ["main.c"], libraries: { "a-b": {}, a: {} } });
  const cfg = await resolveApp(dir, { kernelRoot: t.kernel });
  assert.throws(() => configMacros(cfg), (e: unknown) => e instanceof KilnConfigError && e.key === "CONFIG_A_B_C" && /option a-b\.c and option a\.b_c/.test(e.problem));
});

test("lock: app, target, memory, flags, libraries in order with options and origins, providers", async () => {
  const t = kernel();
  const cfg = await cfgOf(t, { sets: ["alloc-tlsf.policy=best"], lto: true });
  const lock = emitLock(cfg);
  const rel = (p: string) => path.relative(repoRoot, p).split(path.sep).join("/");
  assert.deepEqual(JSON.parse(JSON.stringify(lock)), {
    app: { name: "emit", dir: rel(path.join(t.root, "apps/emit")), manifest: rel(path.join(t.root, "apps/emit/kiln.yaml")), sources: [rel(path.join(t.root, "apps/emit/main.c"))], cflags: [] },
    target: "kvm-x86_64",
    memory: 16 * 1024 * 1024,
    memoryText: "16M",
    cmdline: "-- x",
    flags: { lto: true, debug: false, test: false },
    libraries: [
      { name: "plat-kvm", dir: rel(path.join(t.kernel, "plat/kvm")), selectedBy: "target:kvm-x86_64", provides: ["plat"], options: {}, sources: [rel(path.join(t.kernel, "plat/kvm/plat.c"))] },
      {
        name: "alloc-tlsf",
        dir: rel(path.join(t.kernel, "lib/alloc-tlsf")),
        selectedBy: "app",
        provides: ["alloc"],
        options: {
          debug_checks: { value: true, origin: "kiln.yaml" },
          min_block: { value: -16, origin: "default" },
          policy: { value: "best", origin: "--set" },
          name: { value: 'say "hi"\\?\n', origin: "default" },
        },
        sources: [rel(path.join(t.kernel, "lib/alloc-tlsf/tlsf.c"))],
      },
    ],
    providers: { alloc: "alloc-tlsf", plat: "plat-kvm" },
  });
});
