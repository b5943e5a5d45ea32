// A build unit: one library, or the app compiled as a library named `app` that exports `main`.
import * as path from "node:path";
import type { ResolvedConfig } from "../config/types.ts";
import { MUSL_LIBC, MUSL_RENAMES } from "./musl.ts";

export interface BuildUnit {
  /** Library name; `app` for the app. */
  name: string;
  /** Directory sources are shown relative to. */
  dir: string;
  /** Absolute source paths (.c or .S), already filtered by option conditions. */
  sources: string[];
  /** Symbols kept global after prelink; every other defined global becomes local. */
  exports: string[];
  /** Extra flags for this unit's own sources, appended last. */
  cflags: string[];
  /** Absolute linker script path, if this library brings the image's script. */
  linkerScript?: string;
  /** The manifest that declares the unit (for error messages). */
  manifestPath: string;
  /** musl apps: compiled against musl's headers, prelinked with these objects and libc.a. */
  musl?: MuslUnit;
}

export interface MuslUnit {
  /** Objects and archives (absolute) linked into the unit after its own objects, then libc.a. */
  inputs: string[];
  /** Symbols pulled in even though nothing in the unit references them (musl's entry). */
  undefined: string[];
  /** Renames applied before hiding (main -> kiln_musl_main ...). */
  renames: Readonly<Record<string, string>>;
}

/** The app's name as a unit; library manifests cannot use it since `app` would clash in lib/. */
export const APP_UNIT = "app";

/** Every unit of the image, libraries in dependency order, then the app. */
export function unitsOf(cfg: ResolvedConfig): BuildUnit[] {
  const units: BuildUnit[] = cfg.libraries.map((lib) => ({
    name: lib.manifest.name,
    dir: lib.manifest.dir,
    sources: lib.sources,
    exports: lib.manifest.exports,
    cflags: lib.manifest.cflags,
    linkerScript: lib.manifest.linkerScript ? path.resolve(lib.manifest.dir, lib.manifest.linkerScript) : undefined,
    manifestPath: lib.manifest.manifestPath,
  }));
  const musl = cfg.app.libc === "musl";
  units.push({
    name: APP_UNIT,
    dir: cfg.app.dir,
    sources: cfg.app.sources.map((s) => path.resolve(cfg.app.dir, s)),
    exports: musl ? Object.values(MUSL_RENAMES) : ["main"],
    cflags: cfg.app.cflags,
    manifestPath: cfg.app.manifestPath,
    ...(musl ? { musl: { inputs: [...cfg.app.objects, MUSL_LIBC], undefined: ["__libc_start_main"], renames: MUSL_RENAMES } } : {}),
  });
  return units;
}
