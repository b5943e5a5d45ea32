// bin/kiln.js runs a bundle of src/ (rebuilt when a source is newer) or, failing that, the
// sources through tsx: both must be the same CLI.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

test("bad -p and --net values are refused with the syntax to use", () => {
  const app = path.join(repoRoot, "apps", "helloworld");
  const p = kiln(["run", app, "--runner", "qemu", "-p", "8080"]);
  assert.equal(p.status, 1);
  assert.match(p.stderr, /-p "8080": expected HOST:GUEST or ADDRESS:HOST:GUEST, e\.g\. -p 8080:80\./);
  const twice = kiln(["run", app, "--runner", "qemu", "-p", "8080:80", "-p", "8080:81"]);
  assert.match(twice.stderr, /host port 8080\/tcp on 127\.0\.0\.1 is published twice/);
  const n = kiln(["run", app, "--runner", "qemu", "--net", "bridge"]);
  assert.equal(n.status, 1);
  assert.match(n.stderr, /--net: unknown network "bridge"\. Use tap or user\./);
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
  const checkout = createHash("sha256").update(repoRoot).digest("hex").slice(0, 12); // as bin/kiln.js names it
  const workerBundle = path.join(repoRoot, "node_modules", ".cache", "kiln", checkout, "vcpu-worker.mjs");
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

// Regression: on a KVM host `kiln run` starts loading a vCPU thread before it reads its
// arguments; a bad argument ended the process while that thread was loading koffi, and Node
// aborted it (status 134, about one run in 30; CI saw it once).
test("a refused run ends with its error, never an abort, while the early vCPU thread loads", { skip: !kvmAvailable() && "needs /dev/kvm (the early thread starts only there)" }, async () => {
  kiln(["--help"]); // the bundle exists before the runs race
  const once = () =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(repoRoot, "bin/kiln.js"), "run", path.join(repoRoot, "package.json"), "--set", "print.float=false"], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("close", (status) => resolve({ status, stderr }));
    });
  for (let round = 0; round < 10; round++) {
    for (const r of await Promise.all([once(), once(), once(), once()])) {
      assert.equal(r.status, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /FATAL ERROR/);
    }
  }
});

// Regression: the early vCPU thread could say "ready" before `kiln run` adopted it; the thread
// then stayed "loading" and referenced, and a run whose build failed never exited.
test("kiln run of an app that does not compile ends with status 1 and the compiler's error", { skip: !kvmAvailable() && "needs /dev/kvm (the early thread starts only there)" }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-badapp-"));
  try {
    writeFileSync(path.join(dir, "kiln.yaml"), "name: badapp\nsources: [main.c]\n");
    writeFileSync(path.join(dir, "main.c"), "int main(void) { return undeclared_name; }\n");
    for (let i = 0; i < 3; i++) {
      const r = kiln(["run", dir, "-q"]);
      assert.equal(r.status, 1, `status ${r.status} (null: it hung until the test's timeout)\n${r.stderr}`);
      assert.match(r.stderr, /undeclared_name/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("kiln --version and -V print the package's version", () => {
  const { version } = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string };
  for (const flag of ["--version", "-V"]) {
    const r = kiln([flag]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
  }
});

test("a bad --jobs is an error: line with build's help hint, not the top-level help", () => {
  for (const jobs of ["0", "abc", "-2", "1.5"]) {
    const r = kiln(["build", path.join(repoRoot, "apps", "helloworld"), "--jobs", jobs]);
    assert.equal(r.status, 1, jobs);
    assert.equal(r.stderr, `error: --jobs: "${jobs}" is not a positive whole number. Use e.g. -j 4.\n(see 'kiln build --help')\n`);
  }
  const unknown = kiln(["build", "--bogus"]);
  assert.match(unknown.stderr, /^error: unknown option '--bogus'\n\(see 'kiln build --help'\)\n$/);
  const odd = kiln([`bu\u0001ild${"x".repeat(3000)}`]);
  assert.match(odd.stderr, /^error: unknown command 'bu\\x01ildx+… \(\d+ characters\)\n\(see 'kiln --help'\)\n$/, "commander's echo is escaped and cut too");
});

test("kiln build -o: each bad build directory is one error line naming it, and nothing hangs", () => {
  const app = path.join(repoRoot, "apps", "helloworld");
  const cases: Array<[string, RegExp]> = [
    [path.join(repoRoot, "package.json"), /^error: build directory ".*package\.json": it exists and is not a directory\. Remove or rename the file/],
    ["/sys/x", /^error: build directory "\/sys\/x": it is on sys, a kernel virtual filesystem/],
    ["/proc/x", /^error: build directory "\/proc\/x": it is on proc, a kernel virtual filesystem/],
    ["", /^error: build directory "": the path is empty\. Name a directory/],
  ];
  for (const [out, want] of cases) {
    const r = kiln(["build", app, "-o", out, "-q"]);
    assert.equal(r.status, 1, `${out}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, `one line: ${r.stderr}`);
  }
});

// Without KVM, `kiln run` says once that it falls back to QEMU. Root can open /dev/kvm here, so
// the CLI runs as nobody, which cannot: the fallback path is taken on any machine.
const asNobody = (args: string[]) =>
  process.getuid?.() === 0
    ? spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, path.join(repoRoot, "bin/kiln.js"), ...args], { encoding: "utf8", timeout: 120_000 })
    : kiln(args);
const nobodyOk = process.getuid?.() !== 0 || spawnSync("setpriv", ["--version"]).status === 0;
const FALLBACK = /running on QEMU instead/;

test("the no-KVM notice comes after argument checks, and -q silences it", { skip: !nobodyOk || (process.getuid?.() !== 0 && kvm.ok) ? "needs a user without KVM" : false }, () => {
  const bad = asNobody(["run", path.join(repoRoot, "apps", "helloworld"), "--set", "print.nope=1"]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^error: --set: print\.nope: library "print" has no option "nope"/);
  assert.doesNotMatch(bad.stderr, FALLBACK, "no notice before an argument error");
  const notImage = asNobody(["run", path.join(repoRoot, "package.json")]);
  assert.match(notImage.stderr, /not an ELF file/);
  assert.doesNotMatch(notImage.stderr, FALLBACK);

  const out = mkdtempSync(path.join(tmpdir(), "kiln-notice-"));
  chmodSync(out, 0o755); // nobody reads the image
  try {
    const built = kiln(["build", path.join(repoRoot, "apps", "helloworld"), "-o", out, "-q"]);
    assert.equal(built.status, 0, built.stderr);
    const image = path.join(out, "image.elf");
    const loud = asNobody(["run", image, "--timeout", "60"]);
    assert.equal(loud.status, 0, loud.stderr);
    assert.match(loud.stderr, FALLBACK, "the notice, when not quiet");
    const quiet = asNobody(["run", image, "--timeout", "60", "-q"]);
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.match(quiet.stdout, /Hello, world!/);
    assert.doesNotMatch(quiet.stderr, FALLBACK, "-q silences it");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
