// The code a VMM worker thread starts with: the esbuild bundle bin/kiln.js made (it loads in a
// fraction of the time tsx needs), else the TypeScript through tsx. Used for the vCPU thread
// and for the virtio device thread.
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "../paths.ts";

/**
 * `tsEntry` is relative to the repository (e.g. "src/vmm/vcpu-worker.ts"); `bundleName` is its
 * bundle's file name beside $KILN_VCPU_WORKER_BUNDLE (which names the vCPU worker's bundle).
 */
export function workerScript(tsEntry: string, bundleName: string): string {
  const vcpuBundle = process.env.KILN_VCPU_WORKER_BUNDLE;
  const bundled = vcpuBundle ? path.join(path.dirname(vcpuBundle), bundleName) : undefined;
  if (bundled && existsSync(bundled)) return `import(${JSON.stringify(pathToFileURL(bundled).href)});`;
  // The worker runs TypeScript: register tsx in it explicitly, whatever the parent's loader.
  const tsx = import.meta.resolve("tsx/esm/api");
  // From the package root, not import.meta.url: the CLI may run this module bundled elsewhere.
  const entry = pathToFileURL(path.join(repoRoot, tsEntry)).href;
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
}
