// Where the toolchain finds the kernel libraries and writes builds, wherever it is installed.
import { fileURLToPath } from "node:url";
import path from "node:path";

/** The repository (package) root: the directory holding package.json, kernel/ and apps/. */
export const repoRoot: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Root of the guest micro-libraries. */
export const kernelRoot: string = path.join(repoRoot, "kernel");

/** Where `kiln build` puts its output unless told otherwise. */
export function defaultBuildRoot(): string {
  return process.env.KILN_BUILD_DIR ?? path.join(process.cwd(), "build");
}
