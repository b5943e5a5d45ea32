// Test support: the vCPU worker (and the virtio device thread) bundled by esbuild into a temporary
// directory, as bin/kiln.js does for the CLI, so tests can run threads the way `kiln run` does:
// through tsx each thread costs ~270 ms to load and a WebAssembly memory reservation of ~10 GiB
// of address space per module lexer it instantiates (see docs/vmm.md, "The mapping leak").
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../../paths.ts";

export async function bundleVcpuWorker(): Promise<{ bundle: string; remove: () => void }> {
  const { build } = await import("esbuild");
  // Under node_modules, as the CLI's bundle: its external packages (koffi) resolve from there.
  const cache = path.join(repoRoot, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(path.join(cache, "kiln-test-vcpu-"));
  await build({
    entryPoints: {
      "vcpu-worker": path.join(repoRoot, "src", "vmm", "vcpu-worker.ts"),
      "virtio-devices": path.join(repoRoot, "src", "vmm", "devices", "virtio", "device-worker.ts"),
    },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    outdir: dir,
    outExtension: { ".js": ".mjs" },
    splitting: true,
    logLevel: "silent",
  });
  return { bundle: path.join(dir, "vcpu-worker.mjs"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
