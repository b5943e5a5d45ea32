// A build unit: one library, or the app compiled as a library named `app` that exports `main`.
import * as path from "node:path";
import type { ResolvedConfig } from "../config/types.ts";

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
  units.push({
    name: APP_UNIT,
    dir: cfg.app.dir,
    sources: cfg.app.sources.map((s) => path.resolve(cfg.app.dir, s)),
    exports: ["main"],
    cflags: cfg.app.cflags,
    manifestPath: cfg.app.manifestPath,
  });
  return units;
}
