// kiln.yaml: the app's manifest.
import * as path from "node:path";
import { statSync } from "node:fs";
import { z } from "zod";
import type { AppManifest, OptionValue } from "./types.ts";
import { KilnError } from "../errors.ts";
import { memoryProblem, parseMemory } from "./memory.ts";
import { checkFile, NAME_MAX, nameSchema, strict } from "./manifest.ts";
import { configError, displayPath, fix, readYamlFile, schemaError } from "./yaml.ts";
import { echo, quote } from "../quote.ts";

export const TARGETS = ["kvm-x86_64"] as const;
/** kiln.yaml `libc:` values: nolibc (Kiln's own, the default) or musl (docs/porting-an-app.md). */
export const LIBCS = ["nolibc", "musl"] as const;
/** The library a `libc: musl` app gets: the process start and the POSIX libraries. */
export const MUSL_LIBRARY = "musl";
export const DEFAULT_MEMORY = 8 * 1024 * 1024;
export { parseMemory, parseMemorySize, formatMemory } from "./memory.ts";

const optionValue = z.union([z.boolean(), z.number(), z.string()], fix("Write true/false, a number or a string"));
const appSchema = strict({
  name: nameSchema.optional(),
  target: z.string().optional(),
  memory: z.union([z.number(), z.string()]).optional(),
  cmdline: z.string().optional(),
  sources: z.array(z.string().min(1), fix("List the app's C sources, e.g. sources: [main.c]")).optional(),
  libc: z.enum(LIBCS, fix(`Write one of: ${LIBCS.join(", ")}`)).optional(),
  objects: z.array(z.string().min(1), fix("List objects or archives, e.g. objects: [out/app.a]")).optional(),
  // `nolibc:` with nothing after it parses as null: the library with default options.
  libraries: z
    .record(
      z.string(),
      z.union([z.null(), z.record(z.string(), optionValue)], fix("Write the library's options as a mapping, e.g. print: { float: false }, or {} for none")),
      fix("Write a mapping of library names, e.g. libraries: { nolibc: {} }"),
    )
    .optional(),
  cflags: z.array(z.string()).optional(),
  // A directory whose contents become the guest's "/" (packed into the initrd by the build).
  rootfs: z.string().min(1, fix("Name a directory, e.g. rootfs: rootfs")).optional(),
}, "{ name: hello, sources: [main.c], libraries: { nolibc: {} } } (see docs/writing-an-app.md)");


/** Finds the manifest: a directory holding kiln.yaml, or the file itself. */
export function appManifestPath(appDirOrFile: string): string {
  const p = path.resolve(appDirOrFile);
  try {
    if (statSync(p).isFile()) return p;
  } catch {
    // not there: report the kiln.yaml we looked for
  }
  return path.join(p, "kiln.yaml");
}

/** Parses and validates an app's kiln.yaml (pass the app directory or the file). */
export async function loadApp(appDirOrFile: string): Promise<AppManifest> {
  const file = appManifestPath(appDirOrFile);
  const data = await readYamlFile(file, "app manifest kiln.yaml (see docs/writing-an-app.md)");
  return validateApp(file, data);
}

/** An app without `name:` is named after its directory, which must then pass the same rule. */
function nameFromDirectory(shown: string, dir: string): string {
  const base = path.basename(dir);
  if (nameSchema.safeParse(base).success) return base;
  throw configError(
    shown,
    "name",
    `missing, and the directory name ${quote(base)} is not a valid app name`,
    `Add e.g. name: ${suggestName(base)} (lowercase letters, digits, '-' and '_', at most ${NAME_MAX} characters), or rename the directory`,
  );
}

/** `My App` -> `my-app`: a valid name close to an invalid one, for the fix text. */
function suggestName(text: string): string {
  const s = text.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^[-_]+|-+$/g, "").slice(0, NAME_MAX);
  return s || "my-app";
}

/** Validates already-parsed kiln.yaml data; `file` is its absolute path. */
export function validateApp(file: string, data: unknown): AppManifest {
  const parsed = appSchema.safeParse(data);
  if (!parsed.success) throw schemaError(file, data, parsed.error);
  const a = parsed.data;
  const dir = path.dirname(file);
  const shown = displayPath(file);

  const target = a.target ?? "kvm-x86_64";
  if (target !== "kvm-x86_64") {
    throw configError(shown, "target", `unknown target ${quote(target)}`, `Use one of: ${TARGETS.join(", ")} (or leave it out)`);
  }
  let memory = DEFAULT_MEMORY;
  if (a.memory !== undefined) {
    const m = parseMemory(a.memory);
    if (m === undefined) throw configError(shown, "memory", `cannot read ${echo(a.memory)} as a size`, "Write bytes or a number with K, M or G, e.g. 8M");
    const problem = memoryProblem(m);
    if (problem) {
      const [what, how] = problem.split(": ") as [string, string];
      throw configError(shown, "memory", `${echo(a.memory)} is ${what}`, how.charAt(0).toUpperCase() + how.slice(1));
    }
    memory = m;
  }
  const libc = a.libc ?? "nolibc";
  if (a.objects?.length && libc !== "musl") {
    throw configError(shown, "objects", "objects are only linked into musl apps", "Add libc: musl (objects built with `kiln cc` expect musl), or list C sources instead");
  }
  const objects = (a.objects ?? []).map((o, i) => {
    const key = `objects[${i}]`;
    if (!/\.(o|a)$/.test(o)) throw configError(shown, key, `"${o}" is neither an object (.o) nor an archive (.a)`, "List objects or archives built with `kiln cc`");
    const abs = path.resolve(dir, o);
    try {
      statSync(abs);
    } catch {
      throw configError(shown, key, `${o} does not exist`, "Build it first (with `kiln cc`; see the app's README or docs/porting-an-app.md)");
    }
    return abs;
  });
  if (!a.sources?.length && !objects.length) {
    throw configError(shown, "sources", "missing: the app has no code", "List the app's C sources, e.g. sources: [main.c] (or, with libc: musl, objects: [...])");
  }
  const sources = (a.sources ?? []).map((s, i) => {
    const key = `sources[${i}]`;
    if (!/\.(c|S)$/.test(s)) throw configError(shown, key, `${quote(s)} is neither a .c nor a .S file`, "List only C (.c) and assembly (.S) sources");
    return checkFile(shown, key, dir, s, "source");
  });
  const libraries: Record<string, Record<string, OptionValue>> = {};
  for (const [lib, opts] of Object.entries(a.libraries ?? {})) libraries[lib] = { ...(opts ?? {}) };
  // A musl app runs as a process: the musl library brings its start and the POSIX libraries.
  if (libc === "musl") libraries[MUSL_LIBRARY] ??= {};

  return {
    name: a.name ?? nameFromDirectory(shown, dir),
    dir,
    manifestPath: file,
    target,
    memory,
    cmdline: a.cmdline ?? "",
    sources,
    libraries,
    cflags: a.cflags ?? [],
    libc,
    objects,
    // Checked when the build packs it (it may be created after the manifest is read).
    ...(a.rootfs !== undefined ? { rootfs: path.resolve(dir, a.rootfs) } : {}),
  };
}
