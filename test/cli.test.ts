// bin/kiln.js runs a bundle of src/ (rebuilt when a source is newer) or, failing that, the
// sources through tsx: both must be the same CLI.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { repoRoot } from "../src/paths.ts";
import { kvmAvailable } from "../src/vmm/index.ts";

// An env value of undefined removes that variable for the child.
const kiln = (args: string[], env: Record<string, string | undefined> = {}) => {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) childEnv[k] = v;
  return spawnSync(process.execPath, [path.join(repoRoot, "bin/kiln.js"), ...args], {
    encoding: "utf8",
    env: childEnv,
    timeout: 60_000,
  });
};

test("the bundled and the tsx launch give the same CLI", () => {
  const bundled = kiln(["--help"]);
  const direct = kiln(["--help"], { KILN_NO_BUNDLE: "1" });
  assert.equal(bundled.status, 0, bundled.stderr);
  assert.equal(direct.status, 0, direct.stderr);
  assert.equal(bundled.stdout, direct.stdout);
  for (const cmd of ["build", "run", "config", "libs", "bench"]) assert.match(bundled.stdout, new RegExp(`\\b${cmd}\\b`));
});

test("a user error is one clear line and exit status 1, not a stack trace", () => {
  // CI=true is how CI runs us; it once made picocolors write escape codes into this pipe.
  const r = kiln(["run", path.join(repoRoot, "apps", "no-such-app")], { CI: "true", NO_COLOR: undefined, FORCE_COLOR: undefined });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: .*no-such-app/m);
  assert.doesNotMatch(r.stderr, /\x1b\[/, "no colour codes into a pipe");
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
});

test("bad flags are refused with what to do", () => {
  const r = kiln(["run", path.join(repoRoot, "apps", "helloworld"), "--runner", "firecracker"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /unknown runner "firecracker". Use vmm, qemu or auto/);
});

const kvm = kvmAvailable();
test("bench boot --in-process without KVM refuses at once and says why", { skip: kvm.ok ? "KVM works here: the in-process bench would run" : false }, () => {
  const r = kiln(["bench", "boot", path.join(repoRoot, "apps", "helloworld"), "--in-process", "3"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--in-process boots on Kiln's VMM, which needs KVM: /);
  assert.doesNotMatch(r.stderr, /^run 1/m, "refused before any boot");
});

test("kiln run on a file that is not an image says so before starting any runner", () => {
  const r = kiln(["run", path.join(repoRoot, "package.json"), "--runner", "qemu"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /package\.json: not an ELF file/);
  assert.doesNotMatch(r.stderr, /QEMU/);
});

test("the bundled vCPU worker loads and reports ready; a broken one is dropped", async () => {
  assert.equal(kiln(["--help"]).status, 0, "makes the bundles");
  const workerBundle = path.join(repoRoot, "node_modules", ".cache", "kiln", "vcpu-worker.mjs");
  assert.ok(existsSync(workerBundle));
  const { Vm } = await import("../src/vmm/index.ts");
  const broken = path.join(mkdtempSync(path.join(tmpdir(), "kiln-worker-")), "broken.mjs");
  writeFileSync(broken, 'throw new Error("broken worker");\n');
  try {
    process.env.KILN_VCPU_WORKER_BUNDLE = broken;
    await Vm.prewarm(1);
    assert.equal(Vm.spareWorkers, 0, "a worker that fails to load is not kept");
    process.env.KILN_VCPU_WORKER_BUNDLE = workerBundle;
    await Vm.prewarm(1);
    assert.equal(Vm.spareWorkers, 1, "the bundled worker loaded and said ready");
  } finally {
    delete process.env.KILN_VCPU_WORKER_BUNDLE;
    rmSync(path.dirname(broken), { recursive: true, force: true });
  }
});

test("build flags with an image path are refused, not ignored", () => {
  const r = kiln(["run", path.join(repoRoot, "package.json"), "--set", "print.float=false"]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--set: these build an app; .* is an image/);
});
