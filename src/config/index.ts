// The configuration layer's public face: the build imports resolveApp, configMacros and emitLock.
import { kernelRoot } from "../paths.ts";
import type { ResolvedConfig } from "./types.ts";
import { loadApp } from "./app.ts";
import { loadLibraries } from "./registry.ts";
import { resolve } from "./resolver.ts";

export type * from "./types.ts";
export { loadApp, validateApp, parseMemory, parseMemorySize, formatMemory, appManifestPath, DEFAULT_MEMORY, TARGETS } from "./app.ts";
export { loadLibraryManifest, validateLibrary } from "./manifest.ts";
export { loadLibraries } from "./registry.ts";
export { resolve, describeSelection, TARGET_BASE, TEST_LIBRARY } from "./resolver.ts";
export type { ResolveOptions } from "./resolver.ts";
export { configMacros, emitLock, originLabel, macroPart, type ConfigMacro } from "./emit.ts";
export type { LockFile } from "./emit.ts";
export { formatValue } from "./values.ts";

export interface ResolveAppOptions {
  sets?: string[];
  lto?: boolean;
  debug?: boolean;
  test?: boolean;
  /** Where the libraries live; the repo's kernel/ unless given (tests pass a temp dir). */
  kernelRoot?: string;
}

/** Loads `<appDir>/kiln.yaml` (or the given file) and every library, and resolves them. */
export async function resolveApp(appDir: string, opts: ResolveAppOptions = {}): Promise<ResolvedConfig> {
  const [app, libs] = await Promise.all([loadApp(appDir), loadLibraries(opts.kernelRoot ?? kernelRoot)]);
  return resolve(app, libs, {
    sets: opts.sets ?? [],
    lto: opts.lto ?? false,
    debug: opts.debug ?? false,
    test: opts.test ?? false,
  });
}
