#!/usr/bin/env node
// The kiln CLI. The toolchain is TypeScript. For a fast start it runs from a bundle that esbuild
// makes in well under a second, kept in node_modules/.cache/kiln and made again whenever a source
// file is newer; if that cannot be done, it runs the sources through tsx (slower to start, same
// behaviour). KILN_NO_BUNDLE=1 forces tsx.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// One bundle directory per checkout: git worktrees may share one node_modules, and a bundle made
// from another checkout's sources would otherwise count as fresh here.
const bundleDir = path.join(root, "node_modules", ".cache", "kiln", createHash("sha256").update(root).digest("hex").slice(0, 12));
const bundle = path.join(bundleDir, "kiln.mjs");
// The VMM's vCPU thread, bundled too: loading it through tsx costs ~0.3 s per cold worker.
const workerBundle = path.join(bundleDir, "vcpu-worker.mjs");

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

async function freshBundle() {
  if (process.env.KILN_NO_BUNDLE === "1") return undefined;
  try {
    const built = existsSync(bundle) ? statSync(bundle).mtimeMs : 0;
    const lock = path.join(root, "package-lock.json");
    const newest = Math.max(newestSource(path.join(root, "src")), existsSync(lock) ? statSync(lock).mtimeMs : 0);
    if (built > newest && existsSync(workerBundle) && existsSync(path.join(bundleDir, "virtio-devices.mjs"))) return bundle;
    const { build } = await import("esbuild");
    mkdirSync(bundleDir, { recursive: true });
    // Written aside and renamed, so a kiln running at the same time never loads half a file:
    // the shared chunks first (content-hashed names, so an older bundle's stay valid), then the
    // worker, then the CLI, whose date is what says all are fresh.
    const tmp = path.join(bundleDir, `.tmp-${process.pid}`);
    await build({
      entryPoints: {
        kiln: path.join(root, "src", "cli", "main.ts"),
        "vcpu-worker": path.join(root, "src", "vmm", "vcpu-worker.ts"),
        "virtio-devices": path.join(root, "src", "vmm", "devices", "virtio", "device-worker.ts"),
      },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      outdir: tmp,
      outExtension: { ".js": ".mjs" },
      // Each dynamic import() its own chunk, loaded when reached: `kiln run <image>` then never
      // loads the config schema (zod), YAML or the build.
      splitting: true,
      chunkNames: "chunk-[hash]",
      logLevel: "silent",
    });
    for (const f of readdirSync(tmp)) if (f.startsWith("chunk-")) renameSync(path.join(tmp, f), path.join(bundleDir, f));
    renameSync(path.join(tmp, "virtio-devices.mjs"), path.join(bundleDir, "virtio-devices.mjs"));
    renameSync(path.join(tmp, "vcpu-worker.mjs"), workerBundle);
    renameSync(path.join(tmp, "kiln.mjs"), bundle);
    rmSync(tmp, { recursive: true, force: true });
    return bundle;
  } catch {
    return undefined;
  }
}

// The fast `kiln run` client (src/serve/client.c, docs/fast-run.md) that bin/kiln uses: built
// in the background with the host gcc whenever it is missing or older than its source, so this
// run waits for nothing; the next one uses it.
function fastClient() {
  const src = path.join(root, "src", "serve", "client.c");
  const out = path.join(root, ".kiln", "kiln-client");
  try {
    if (existsSync(out) && statSync(out).mtimeMs > statSync(src).mtimeMs) return;
    mkdirSync(path.dirname(out), { recursive: true });
    const tmp = `${out}.tmp-${process.pid}`;
    const cc = `gcc -std=c11 -O2 -Wall -Wextra -Werror -o '${tmp}' '${src}' && mv -f '${tmp}' '${out}' || rm -f '${tmp}'`;
    spawn("sh", ["-c", cc], { detached: true, stdio: "ignore" }).unref();
  } catch {
    // no gcc, no write access: the plain path stays
  }
}

// The bundle's own location says nothing about the checkout (node_modules may be a symlink into
// another one): tell src/paths.ts where this checkout is.
process.env.KILN_ROOT = root;
const entry = await freshBundle();
let main;
let early;
if (process.argv[2] === "run") fastClient();
if (entry) {
  process.env.KILN_BUNDLE = entry; // `kiln serve` dates its code by it
  process.env.KILN_VCPU_WORKER_BUNDLE = workerBundle;
  // `kiln run` on KVM needs a vCPU thread, whose loading (~80 ms) is most of a cold start: begin
  // it now, alongside the CLI's own loading. src/vmm/vcpu-threads.ts adopts it; unused (QEMU, a
  // bad argument) it is unref'd and never holds the process.
  if (process.argv[2] === "run" && !process.argv.includes("qemu") && existsSync("/dev/kvm")) {
    const { Worker } = await import("node:worker_threads");
    const worker = new Worker(`import(${JSON.stringify(pathToFileURL(workerBundle).href)});`, { eval: true, execArgv: [] });
    worker.unref();
    // The worker's first message says it has loaded ("ready"). It may come before
    // src/vmm/vcpu-threads.ts adopts the worker and listens, so it is recorded here (`ready`).
    const slot = { worker, bundle: workerBundle, ready: false };
    const loaded = new Promise((resolve) => {
      worker.once("message", () => {
        slot.ready = true;
        resolve();
      });
      worker.once("error", resolve);
      worker.once("exit", resolve);
    });
    early = { worker, loaded };
    globalThis[Symbol.for("kiln.vcpu-worker")] = slot;
  }
  ({ main } = await import(pathToFileURL(entry).href));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/main.ts"));
}
process.exitCode = await main(process.argv);
// An early worker nobody adopted (a bad argument, QEMU) may still be loading koffi: a process that
// exits then is aborted by Node (napi_throw during teardown, exit status 134). Let it finish
// loading, at most a second, then stop it.
if (early && globalThis[Symbol.for("kiln.vcpu-worker")]) {
  delete globalThis[Symbol.for("kiln.vcpu-worker")];
  early.worker.ref();
  await Promise.race([early.loaded, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  await early.worker.terminate();
}
