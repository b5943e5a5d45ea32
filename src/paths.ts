// Where the toolchain finds the kernel libraries and writes builds, wherever it is installed.
import { fileURLToPath } from "node:url";
import path from "node:path";
import { existsSync } from "node:fs";

/**
 * The repository (package) root: the directory holding package.json, kernel/ and apps/. Found by
 * walking up, because this module runs both from src/ (through tsx) and bundled into
 * node_modules/.cache/kiln/ (bin/kiln.js, which names its checkout in $KILN_ROOT).
 */
export const repoRoot: string = rootFromLauncher() ?? findRoot(path.dirname(fileURLToPath(import.meta.url)));

/** bin/kiln.js sets KILN_ROOT to its checkout: the bundle may sit in another checkout's node_modules. */
function rootFromLauncher(): string | undefined {
  const r = process.env.KILN_ROOT;
  return r && existsSync(path.join(r, "package.json")) && existsSync(path.join(r, "kernel")) ? r : undefined;
}

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json")) && existsSync(path.join(dir, "kernel"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`kiln: no package root (package.json + kernel/) above ${from}`);
  }
}

/** Root of the guest micro-libraries. */
export const kernelRoot: string = path.join(repoRoot, "kernel");

/** Where `kiln build` puts its output unless told otherwise. */
export function defaultBuildRoot(): string {
  return process.env.KILN_BUILD_DIR ?? path.join(process.cwd(), "build");
}
