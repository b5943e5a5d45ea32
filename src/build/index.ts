// The build's public face: build(cfg) for a resolved configuration, buildApp(dir) from kiln.yaml.
import type { ResolvedConfig } from "../config/types.ts";
import { configMacros, emitLock, loadLibraries, resolveApp } from "../config/index.ts";
import { runBuild, type BuildOptions, type BuildResult } from "./pipeline.ts";

export type { BuildOptions, BuildResult, GeneratedConfig } from "./pipeline.ts";
export { buildDirName, defaultOutDir } from "./pipeline.ts";
export type { SizeReport } from "./size.ts";

/** Builds the image of a resolved configuration (incrementally, in its build directory). */
export function build(cfg: ResolvedConfig, opts: BuildOptions = {}): Promise<BuildResult> {
  return runBuild(cfg, { macros: configMacros(cfg), lock: emitLock(cfg) }, { knownLibraries: () => loadLibraries(), ...opts });
}

export interface BuildAppOptions extends BuildOptions {
  /** `lib.option=value` overrides. */
  sets?: string[];
  lto?: boolean;
  debug?: boolean;
  test?: boolean;
}

/** Resolves `<appDir>/kiln.yaml` and builds it. */
export async function buildApp(appDir: string, opts: BuildAppOptions = {}): Promise<BuildResult> {
  const cfg = await resolveApp(appDir, { sets: opts.sets ?? [], lto: opts.lto ?? false, debug: opts.debug ?? false, test: opts.test ?? false });
  return build(cfg, { outDir: opts.outDir, jobs: opts.jobs, log: opts.log });
}
