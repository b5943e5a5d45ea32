// The compile graph: one job per source, named by a content hash of everything that affects the
// object (source bytes, the bytes of every header it included last time, flags, and the unit's
// generated configuration header).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { BuildUnit } from "./unit.ts";
import type { BuildState } from "./state.ts";

export interface CompileJob {
  unit: BuildUnit;
  /** Absolute source path. */
  source: string;
  /** Display name: `<unit>/<path relative to the unit dir>`. */
  display: string;
  /** State key. */
  key: string;
  /** Directory (relative to the build dir) holding this unit's objects. */
  objDir: string;
  /** Object file stem (before `-<hash>.o`). */
  stem: string;
  flags: string[];
  /** The text of the unit's generated configuration header (part of the hash). */
  config: string;
  /** What the hash covers besides files: the compiler's identity, then the flags. */
  hashFlags: string[];
  /** Hash from the recorded header list; undefined when unknown (never built, or a header vanished). */
  hash?: string;
}

/** Caches file bytes for one build: many sources share the same headers. */
export class FileCache {
  private readonly bytes = new Map<string, Buffer | null>();
  read(file: string): Buffer | null {
    const known = this.bytes.get(file);
    if (known !== undefined) return known;
    let b: Buffer | null;
    try {
      b = fs.readFileSync(file);
    } catch {
      b = null;
    }
    this.bytes.set(file, b);
    return b;
  }
  /** Forget a file (after it may have changed). */
  forget(file: string): void {
    this.bytes.delete(file);
  }
}

/**
 * Hash of a compilation's inputs; undefined if the source or a dependency cannot be read
 * (then the job must run, and gcc reports the problem).
 */
export function hashInputs(cache: FileCache, flags: readonly string[], config: string, source: string, deps: readonly string[]): string | undefined {
  const h = crypto.createHash("sha256");
  const field = (s: string | Buffer) => {
    h.update(String(s.length));
    h.update(":");
    h.update(s);
  };
  field("kiln-obj-v1");
  for (const f of flags) field(f);
  field(config);
  const src = cache.read(source);
  if (!src) return undefined;
  field(source);
  field(src);
  for (const d of [...deps].sort()) {
    const b = cache.read(d);
    if (!b) return undefined;
    field(d);
    field(b);
  }
  return h.digest("hex").slice(0, 20);
}

/**
 * Where gcc looks for headers, in order: the source's own directory (for "" includes), then the
 * -I directories, then the -isystem ones. Includes relative to an including header's directory
 * are not modelled: the kernel's headers include each other with <>.
 */
export function searchDirs(source: string, flags: readonly string[]): string[] {
  const quote = [path.dirname(source)];
  const dashI: string[] = [];
  const system: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    const next = flags[i + 1];
    if ((f === "-I" || f === "-isystem") && next !== undefined) {
      (f === "-I" ? dashI : system).push(path.resolve(next));
      i++;
    } else if (f.startsWith("-I") && f.length > 2) dashI.push(path.resolve(f.slice(2)));
    else if (f.startsWith("-isystem") && f.length > 8) system.push(path.resolve(f.slice(8)));
  }
  return [...quote, ...dashI, ...system];
}

/**
 * For each dependency found under a search directory, the same relative name in every earlier
 * search directory: a header created at one of those paths would shadow the one the object was
 * built with, though no file the object depends on changed.
 */
export function shadowCandidates(dirs: readonly string[], deps: readonly string[]): string[] {
  const out = new Set<string>();
  for (const dep of deps) {
    // The deepest directory holding the dep is where it was found (a library's include/ lies
    // inside the library's own directory, which is also searched when a source there includes).
    let k = -1;
    dirs.forEach((d, i) => {
      if (dep.startsWith(d + path.sep) && (k < 0 || d.length > dirs[k]!.length)) k = i;
    });
    for (let j = 0; j < k; j++) out.add(path.join(dirs[j]!, path.relative(dirs[k]!, dep)));
  }
  return [...out];
}

/** A filesystem-safe object stem from a source path relative to its unit. */
export function objectStem(rel: string): string {
  return rel.replace(/\.(c|S)$/, "").replace(/[^A-Za-z0-9_.-]+/g, "_").replace(/^\.+/, "_");
}

export function objectPath(job: Pick<CompileJob, "objDir" | "stem">, hash: string): string {
  return path.join(job.objDir, `${job.stem}-${hash}.o`);
}

/**
 * Builds the job list; `flagsOf` gives each unit's compile flags, `configOf` the text of its
 * configuration header, `toolId` names the compiler (path and version) so a compiler upgrade
 * rebuilds everything.
 */
export function planJobs(units: readonly BuildUnit[], flagsOf: (u: BuildUnit) => string[], state: BuildState, cache: FileCache, configOf: (u: BuildUnit) => string, toolId = ""): CompileJob[] {
  const jobs: CompileJob[] = [];
  for (const unit of units) {
    const flags = flagsOf(unit);
    const config = configOf(unit);
    const hashFlags = [`tool:${toolId}`, ...flags];
    const stems = new Set<string>();
    for (const source of unit.sources) {
      const rel = path.relative(unit.dir, source);
      let stem = objectStem(rel);
      // Two sources may flatten to one stem (a/b.c, a_b.c): keep the objects apart.
      while (stems.has(stem)) stem += "_";
      stems.add(stem);
      const key = `${unit.name}:${source}`;
      const rec = state.objects[key];
      const job: CompileJob = {
        unit,
        source,
        display: `${unit.name}/${rel}`,
        key,
        objDir: path.join("obj", unit.name),
        stem,
        flags,
        config,
        hashFlags,
      };
      // A header newly created where it shadows a recorded one makes the object stale.
      if (rec && !rec.absent?.some((f) => fs.existsSync(f))) job.hash = hashInputs(cache, hashFlags, config, source, rec.deps);
      jobs.push(job);
    }
  }
  return jobs;
}

/** Parses a Make-style depfile as gcc -MD writes it; returns the prerequisites. */
export function parseDepfile(text: string): string[] {
  const joined = text.replace(/\\\r?\n/g, " ");
  const colon = joined.search(/:(\s|$)/);
  if (colon < 0) return [];
  const rest = joined.slice(colon + 1);
  const deps: string[] = [];
  let cur = "";
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (c === "\\" && rest[i + 1] === " ") {
      cur += " ";
      i++;
    } else if (c === "$" && rest[i + 1] === "$") {
      cur += "$";
      i++;
    } else if (/\s/.test(c)) {
      if (cur) deps.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur) deps.push(cur);
  return deps;
}
