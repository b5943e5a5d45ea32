// What the build directory gets from the configuration: the CONFIG_ macros (each library's
// generated header picks its own from them, src/build/unit-config.ts) and kiln.lock.json.
import * as path from "node:path";
import { repoRoot } from "../paths.ts";
import type { OptionValue, ResolvedConfig, ValueOrigin } from "./types.ts";
import { KilnConfigError } from "../errors.ts";
import { formatMemory } from "./app.ts";
import { ioBitmapMacros } from "./ports.ts";

/** `alloc-tlsf` -> `ALLOC_TLSF`. */
export function macroPart(name: string): string {
  return name.toUpperCase().replace(/-/g, "_");
}

/** A C string literal; escapes what C needs and anything outside printable ASCII. */
export function cString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, "utf8")) {
    const ch = String.fromCharCode(byte);
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (byte >= 0x20 && byte < 0x7f && ch !== "?") out += ch; // '?' escaped: no trigraphs
    else out += `\\${byte.toString(8).padStart(3, "0")}`;
  }
  return `${out}"`;
}

function cValue(value: OptionValue): string {
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "number") return String(value);
  return cString(value);
}

/** One configuration macro and the build unit that owns it. */
export interface ConfigMacro {
  /** `CONFIG_PRINT_BUFSIZE`. */
  name: string;
  /** Its C value: `1`, `256`, `"fast"`. */
  value: string;
  /** The library it belongs to; undefined for image-wide facts (CONFIG_KILN_TEST). */
  owner?: string;
}

/**
 * Every configuration macro of an image: CONFIG_LIB_<LIB> per selected library,
 * CONFIG_<LIB>_<OPTION>[_<CHOICE>] per option, CONFIG_KILN_TEST for test images. The build gives
 * each library its own header holding its macros and those of the others it reads.
 */
export function configMacros(cfg: ResolvedConfig): ConfigMacro[] {
  const defined = new Map<string, string>();
  const macros: ConfigMacro[] = [];
  const define = (name: string, value: string, why: string, owner?: string) => {
    const prev = defined.get(name);
    if (prev !== undefined) {
      throw new KilnConfigError(
        "configuration",
        name,
        `macro ${name} would be defined by both ${prev} and ${why}`,
        "Rename one of the libraries or options so their CONFIG_ names differ.",
      );
    }
    defined.set(name, why);
    macros.push(owner === undefined ? { name, value } : { name, value, owner });
  };
  if (cfg.test) define("CONFIG_KILN_TEST", "1", "--test");
  for (const lib of cfg.libraries) {
    const name = lib.manifest.name;
    const L = macroPart(name);
    define(`CONFIG_LIB_${L}`, "1", `library ${name}`, name);
    for (const o of lib.options) {
      const why = `option ${name}.${o.name}`;
      define(`CONFIG_${L}_${macroPart(o.name)}`, cValue(o.value), why, name);
      if (o.type === "choice") define(`CONFIG_${L}_${macroPart(o.name)}_${macroPart(String(o.value))}`, "1", why, name);
    }
  }
  // The TSS I/O bitmap from every library's ports: read by arch-x86_64 only, but made of all.
  for (const m of ioBitmapMacros(cfg.libraries)) define(m.name, m.value, "the libraries' ports");
  return macros;
}

/** How an origin reads in the lock and in `kiln config`. */
export function originLabel(origin: ValueOrigin): "default" | "kiln.yaml" | "--set" {
  return origin.kind === "default" ? "default" : origin.kind === "app" ? "kiln.yaml" : "--set";
}

/** A path relative to the repository, with '/' separators (the lock must not depend on the checkout). */
function repoRel(p: string): string {
  return path.relative(repoRoot, p).split(path.sep).join("/") || ".";
}

export interface LockFile {
  app: { name: string; dir: string; manifest: string; sources: string[]; cflags: string[] };
  target: string;
  memory: number;
  memoryText: string;
  cmdline: string;
  flags: { lto: boolean; debug: boolean; test: boolean };
  libraries: Array<{
    name: string;
    dir: string;
    selectedBy: string;
    /** When it was picked as the default provider of this API for `selectedBy`. */
    defaultFor?: string;
    provides: string[];
    options: Record<string, { value: OptionValue; origin: "default" | "kiln.yaml" | "--set" }>;
    sources: string[];
  }>;
  providers: Record<string, string>;
}

/** The kiln.lock.json object: everything resolved, deterministic, paths relative to the repo. */
export function emitLock(cfg: ResolvedConfig): LockFile {
  const providers: Record<string, string> = {};
  for (const api of Object.keys(cfg.providers).sort()) providers[api] = cfg.providers[api]!;
  return {
    app: {
      name: cfg.app.name,
      dir: repoRel(cfg.app.dir),
      manifest: repoRel(cfg.app.manifestPath),
      sources: cfg.app.sources.map(repoRel),
      cflags: cfg.app.cflags,
    },
    target: cfg.app.target,
    memory: cfg.app.memory,
    memoryText: formatMemory(cfg.app.memory),
    cmdline: cfg.app.cmdline,
    flags: { lto: cfg.lto, debug: cfg.debug, test: cfg.test },
    libraries: cfg.libraries.map((lib) => ({
      name: lib.manifest.name,
      dir: repoRel(lib.manifest.dir),
      selectedBy: lib.selectedBy,
      ...(lib.defaultFor ? { defaultFor: lib.defaultFor } : {}),
      provides: lib.manifest.provides,
      options: Object.fromEntries(lib.options.map((o) => [o.name, { value: o.value, origin: originLabel(o.origin) }])),
      sources: lib.sources.map(repoRel),
    })),
    providers,
  };
}
