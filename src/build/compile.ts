// Runs the compile jobs that are out of date, in parallel, and records what each object came from.
import * as fs from "node:fs";
import * as path from "node:path";
import { KilnError } from "../errors.ts";
import { exec } from "./exec.ts";
import { type CompileJob, FileCache, hashInputs, objectPath, parseDepfile, searchDirs, shadowCandidates } from "./graph.ts";
import type { BuildState } from "./state.ts";
import type { BuildUnit } from "./unit.ts";

export interface CompileOptions {
  outDir: string;
  jobs: number;
  log: (line: string) => void;
  /** Advice lines for a failed compile of `unit` from gcc's output (which library to add, ...). */
  explain?: (unit: BuildUnit, gccOutput: string) => Promise<string[]>;
}

export interface CompileSummary {
  /** Sources compiled this run. */
  compiled: number;
  /** Object path (relative to outDir) of every job, in job order, grouped by unit name. */
  objects: Map<string, string[]>;
}

/** True if the job's object from a previous build can be reused as is. */
function upToDate(job: CompileJob, state: BuildState, outDir: string): boolean {
  if (!job.hash) return false;
  const rec = state.objects[job.key];
  return rec?.hash === job.hash && rec.object === objectPath(job, job.hash) && fs.existsSync(path.join(outDir, rec.object));
}

/** How often a compile is repeated when its inputs change while it runs. */
const EDIT_RETRIES = 3;

/** True if a file is gone or was modified at or after `sinceMs`. */
function modifiedSince(file: string, sinceMs: number): boolean {
  try {
    return fs.statSync(file).mtimeMs >= sinceMs;
  } catch {
    return true;
  }
}

async function compileOne(job: CompileJob, opts: CompileOptions, cache: FileCache, state: BuildState): Promise<string | undefined> {
  // An input edited while gcc runs would be hashed as edited for an object built from the old
  // bytes, and the next build would call it up to date: compile again when that happens.
  for (let attempt = 0; ; attempt++) {
    const startedMs = Date.now();
    const result = await compileOnce(job, opts, cache, state, (deps) => attempt < EDIT_RETRIES && [job.source, ...deps].some((f) => modifiedSince(f, startedMs)));
    if (result !== RETRY) return result;
  }
}

const RETRY = Symbol("retry");

async function compileOnce(
  job: CompileJob,
  opts: CompileOptions,
  cache: FileCache,
  state: BuildState,
  changedDuring: (deps: readonly string[]) => boolean,
): Promise<string | undefined | typeof RETRY> {
  const dir = path.join(opts.outDir, job.objDir);
  fs.mkdirSync(dir, { recursive: true });
  const tmpObj = path.join(dir, `${job.stem}.tmp.o`);
  const depFile = path.join(dir, `${job.stem}.d`);
  const args = [...job.flags, "-MD", "-MF", depFile, "-c", job.source, "-o", tmpObj];
  const r = await exec("gcc", args, opts.outDir);
  if (r.code !== 0) {
    fs.rmSync(tmpObj, { force: true });
    const output = (r.stderr + r.stdout).trimEnd();
    const advice = opts.explain ? await opts.explain(job.unit, output) : [];
    return `library ${job.unit.name}: ${job.display} (${job.source}):\n${advice.map((a) => `  ${a}\n`).join("")}${output || `gcc exited with ${r.code}`}`;
  }
  // -Werror makes most diagnostics fatal, but a library may relax that in its cflags: show them.
  if (r.stderr.trim()) opts.log(`warning: library ${job.unit.name}: ${job.display}:\n${r.stderr.trimEnd()}`);
  const deps = parseDepfile(fs.readFileSync(depFile, "utf8"))
    .map((d) => path.resolve(opts.outDir, d))
    .filter((d) => d !== job.source);
  fs.rmSync(depFile, { force: true });
  if (changedDuring(deps)) {
    fs.rmSync(tmpObj, { force: true });
    return RETRY;
  }
  // The name hash is taken over the headers this compile actually read, so the next build
  // (which hashes the recorded list) finds the object under the same name.
  for (const d of deps) cache.forget(d);
  cache.forget(job.source);
  const hash = hashInputs(cache, job.hashFlags, job.config, job.source, deps);
  if (!hash) {
    fs.rmSync(tmpObj, { force: true });
    return `library ${job.unit.name}: ${job.display}: a file it includes vanished during the build; build again`;
  }
  const obj = objectPath(job, hash);
  fs.renameSync(tmpObj, path.join(opts.outDir, obj));
  const old = state.objects[job.key];
  if (old && old.object !== obj) fs.rmSync(path.join(opts.outDir, old.object), { force: true });
  const absent = shadowCandidates(searchDirs(job.source, job.flags), deps).filter((f) => !fs.existsSync(f));
  state.objects[job.key] = { hash, object: obj, deps, absent };
  job.hash = hash;
  return undefined;
}

/** Compiles what is out of date; throws a KilnError listing every compile failure. */
export async function compileAll(jobs: CompileJob[], state: BuildState, cache: FileCache, opts: CompileOptions): Promise<CompileSummary> {
  for (const job of jobs) {
    if (!fs.existsSync(job.source)) {
      throw new KilnError(`${job.unit.manifestPath}: sources: ${path.relative(job.unit.dir, job.source)} does not exist (library ${job.unit.name}). Fix the path or add the file.`);
    }
  }
  const todo = jobs.filter((j) => !upToDate(j, state, opts.outDir));
  const failures: string[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < todo.length && failures.length === 0) {
      const job = todo[next++]!;
      opts.log(`[${++done}/${todo.length}] CC ${job.display}`);
      const err = await compileOne(job, opts, cache, state);
      if (err) failures.push(err);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, todo.length)) }, worker));
  if (failures.length) {
    throw new KilnError(`compilation failed:\n${failures.join("\n\n")}`);
  }
  // Keep the state to the current job list so removed sources do not linger.
  const live = new Set(jobs.map((j) => j.key));
  for (const [key, rec] of Object.entries(state.objects)) {
    if (live.has(key)) continue;
    fs.rmSync(path.join(opts.outDir, rec.object), { force: true });
    delete state.objects[key];
  }
  const objects = new Map<string, string[]>();
  for (const job of jobs) {
    const rec = state.objects[job.key]!;
    const list = objects.get(job.unit.name) ?? [];
    list.push(rec.object);
    objects.set(job.unit.name, list);
  }
  return { compiled: todo.length, objects };
}
