// The build pipeline over a resolved configuration: config files, compile, prelink, link, sizes.
// It takes the configuration macros and the lock as inputs so it can be tested without the resolver.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { LibraryManifest, ResolvedConfig } from "../config/types.ts";
import type { ConfigMacro } from "../config/index.ts";
import { KilnError } from "../errors.ts";
import { declaredPorts } from "../config/ports.ts";
import { defaultBuildRoot } from "../paths.ts";
import { compileAll } from "./compile.ts";
import { compileFlags, flavourFlags, includeDirs } from "./flags.ts";
import { FileCache, planJobs } from "./graph.ts";
import { DEBUG_IMAGE, IMAGE, linkImage, MAP, selectLinkerScript } from "./link.ts";
import { lockBuildDir } from "./lock.ts";
import { prepareOutDir } from "./outdir.ts";
import { definedGlobals, prelinkedPath, prelinkUnit } from "./prelink.ts";
import { explainMissingHeaders, explainUndefined, parseMissingHeaders, parseUndefined } from "./missing.ts";
import { sizeReport, type SizeReport } from "./size.ts";
import { loadState, saveState, writeIfChanged } from "./state.ts";
import { packInitrd } from "./initrd.ts";
import { toolchain } from "./toolchain.ts";
import { APP_UNIT, unitsOf } from "./unit.ts";
import { CONFIG_DIR, configHeaderPath, unitConfigHeaders } from "./unit-config.ts";

export interface BuildOptions {
  /** Build directory; default `<build root>/<app>[-test][-lto][-debug]`. */
  outDir?: string;
  /** Parallel compile jobs; default os.availableParallelism(). */
  jobs?: number;
  /** Progress lines (`[3/17] CC print/printf.c`, `LD ...`, `up to date`). */
  log?: (line: string) => void;
  /** Every library there is, read only if the link fails: to say which one exports a missing symbol. */
  knownLibraries?: () => Promise<ReadonlyMap<string, LibraryManifest>>;
}

export interface BuildResult {
  outDir: string;
  /** Absolute path of image.elf (stripped: what boots). */
  image: string;
  /** Absolute path of image.dbg.elf (symbols, for traces). */
  debugImage: string;
  mapFile: string;
  /** Nothing was compiled, prelinked or linked. */
  upToDate: boolean;
  /** Sources compiled by this build. */
  compiled: number;
  sizes: SizeReport;
  /** The app's `rootfs:` packed as a cpio newc archive (the PVH boot module), if it has one. */
  initrd?: string;
}

/** What the configuration gives the build: its CONFIG_ macros (one header per unit is made from them) and the lock. */
export interface GeneratedConfig {
  macros: readonly ConfigMacro[];
  lock: unknown;
}

/** `<app>` plus `-test`, `-lto`, `-debug` for those flavours, so flavours never share objects. */
export function buildDirName(cfg: Pick<ResolvedConfig, "app" | "test" | "lto" | "debug">): string {
  return cfg.app.name + (cfg.test ? "-test" : "") + (cfg.lto ? "-lto" : "") + (cfg.debug ? "-debug" : "");
}

export function defaultOutDir(cfg: Pick<ResolvedConfig, "app" | "test" | "lto" | "debug">): string {
  return path.join(defaultBuildRoot(), buildDirName(cfg));
}

/**
 * Writes `config/<unit>.h` for every unit (only those whose text changed) and removes the headers
 * of units no longer built, and the single config.h of older builds. Returns the texts.
 */
function writeConfigHeaders(outDir: string, headers: Map<string, string>): Map<string, string> {
  for (const [unit, text] of headers) writeIfChanged(path.join(outDir, configHeaderPath(unit)), text);
  const dir = path.join(outDir, CONFIG_DIR);
  for (const f of fs.readdirSync(dir)) {
    if (!headers.has(f.replace(/\.h$/, ""))) fs.rmSync(path.join(dir, f), { force: true });
  }
  fs.rmSync(path.join(outDir, "config.h"), { force: true });
  return headers;
}

export async function runBuild(cfg: ResolvedConfig, gen: GeneratedConfig, opts: BuildOptions = {}): Promise<BuildResult> {
  let outDir = opts.outDir ?? defaultOutDir(cfg);
  const log = opts.log ?? (() => {});
  const clash = cfg.libraries.find((l) => l.manifest.name === APP_UNIT);
  if (clash) {
    throw new KilnError(`${clash.manifest.manifestPath}: name: "${APP_UNIT}" is reserved for the app's own code in the build. Rename the library.`);
  }
  const units = unitsOf(cfg);
  const script = selectLinkerScript(units);
  outDir = prepareOutDir(outDir);
  const release = await lockBuildDir(outDir);
  try {
    writeIfChanged(path.join(outDir, "kiln.lock.json"), JSON.stringify(gen.lock, null, 2) + "\n");
    const cache = new FileCache();
    const headers = writeConfigHeaders(outDir, unitConfigHeaders(units, gen.macros, includeDirs(cfg), cache));
    const tc = await toolchain();
    const state = loadState(outDir);
    const configDir = path.join(outDir, CONFIG_DIR);
    const jobs = planJobs(units, (u) => compileFlags(cfg, u, { gccInclude: tc.gccInclude, configDir }), state, cache, (u) => headers.get(u.name)!, tc.id);

    // Read at most once, and only if something fails: several compiles may fail at once.
    let knownOnce: Promise<ReadonlyMap<string, LibraryManifest>> | undefined;
    const known = () =>
      (knownOnce ??= (opts.knownLibraries?.() ?? Promise.resolve(new Map())).catch(() => new Map<string, LibraryManifest>()));
    const selected = new Set(units.map((u) => u.name));
    let compiled: Awaited<ReturnType<typeof compileAll>>;
    try {
      compiled = await compileAll(jobs, state, cache, {
        outDir,
        jobs: Math.max(1, opts.jobs ?? os.availableParallelism()),
        log,
        explain: async (unit, output) => {
          const headers = parseMissingHeaders(output);
          return headers.length ? explainMissingHeaders(headers, unit, selected, await known()) : [];
        },
      });
    } finally {
      // Objects that did compile are kept even when another failed.
      saveState(outDir, state);
    }

    const flavour = flavourFlags(cfg);
    const linked: string[] = [];
    const keys: string[] = [];
    let prelinked = 0;
    for (const unit of units) {
      const objects = compiled.objects.get(unit.name);
      if (!objects?.length) continue; // header-only library
      if (await prelinkUnit(unit, objects, state, { outDir, lto: cfg.lto, flavour, toolId: tc.id, log })) prelinked++;
      linked.push(prelinkedPath(unit.name));
      keys.push(state.prelink[unit.name]!);
    }
    // Units no longer selected (or left without sources) leave nothing behind in lib/.
    const live = new Set(linked.map((p) => path.basename(p, ".o")));
    for (const name of Object.keys(state.prelink)) {
      if (live.has(name)) continue;
      delete state.prelink[name];
      fs.rmSync(path.join(outDir, prelinkedPath(name)), { force: true });
      fs.rmSync(path.join(outDir, `${prelinkedPath(name)}.exports`), { force: true });
    }
    saveState(outDir, state);

    const explain = async (ldOutput: string): Promise<string[]> => {
      const refs = parseUndefined(ldOutput);
      if (!refs.length) return [];
      // Globals a unit's sources define but its exports leave out were hidden at prelink.
      const hidden = new Map<string, string>();
      for (const unit of units) {
        const exported = new Set(unit.exports);
        for (const obj of compiled.objects.get(unit.name) ?? []) {
          for (const s of await definedGlobals(path.join(outDir, obj))) if (!exported.has(s)) hidden.set(s, unit.name);
        }
      }
      return explainUndefined(refs, { units, hidden, known: await known() });
    };
    const ports = declaredPorts(cfg.libraries).map((d) => d.range);
    const didLink = await linkImage({ outDir, objects: linked, script, libgcc: tc.libgcc, inputKeys: [tc.id, ...keys], log, explain, ports }, state);
    saveState(outDir, state);
    const sizes = sizeReport(outDir, linked.map((p) => path.basename(p, ".o")));
    const packed = packInitrd(cfg.app, outDir, log);
    const upToDate = compiled.compiled === 0 && prelinked === 0 && !didLink && !packed.changed;
    if (upToDate) log("up to date");
    return {
      outDir,
      image: path.join(outDir, IMAGE),
      debugImage: path.join(outDir, DEBUG_IMAGE),
      mapFile: path.join(outDir, MAP),
      upToDate,
      compiled: compiled.compiled,
      sizes,
      ...(packed.file ? { initrd: packed.file } : {}),
    };
  } finally {
    release();
  }
}
