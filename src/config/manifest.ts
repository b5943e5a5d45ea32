// library.yaml: schema (zod, unknown keys are errors) plus the checks a schema cannot express.
import { existsSync, statSync } from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import type { LibraryManifest, OptionSpec, Requirement, SourceSpec } from "./types.ts";
import { portRanges, portsSchema } from "./ports.ts";
import { configError, displayPath, fix, readYamlFile, schemaError } from "./yaml.ts";
import { checkValue } from "./values.ts";
import { parseCondition } from "./condition.ts";
import { quote } from "../quote.ts";
import { didYouMean } from "./suggest.ts";

// The contract says [a-z0-9-], but the design's own arch-x86_64 needs '_' too.
export const NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;
export const OPTION_RE = /^[a-z0-9_]+$/;
const SYMBOL_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * z.strictObject whose unknown-key error suggests the nearest valid key and lists them all;
 * `example` (a whole minimal document, for top-level schemas) is the fix when the value is not a
 * mapping at all, e.g. an empty file.
 */
export function strict<T extends z.core.$ZodLooseShape>(shape: T, example?: string) {
  const valid = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === "unrecognized_keys") {
        const near = didYouMean(String(iss.keys[0]), valid).trim();
        return `fix:${near ? `${near} Valid` : "Remove it; valid"} keys here: ${valid.join(", ")}`;
      }
      if (iss.code === "invalid_type" && example) return `fix:Write a mapping; a minimal one: ${example}`;
      return undefined;
    },
  });
}

export const NAME_MAX = 64; // names become directory and file names in the build
export const nameSchema = z
  .string()
  .max(NAME_MAX, fix(`Use at most ${NAME_MAX} characters`))
  .regex(NAME_RE, fix("Names start with a lowercase letter or digit and use only those, '-' and '_' (like alloc-tlsf)"));
const optionName = z.string().regex(OPTION_RE, fix("Option names use lowercase letters, digits and '_'"));
const stringList = z.array(z.string());

const optionSchema = strict({
  type: z.enum(["bool", "int", "string", "choice"], fix("Use bool, int, string or choice")),
  default: z.union([z.boolean(), z.number(), z.string()]),
  help: z.string().min(1, fix("Write one line saying what the option does")),
  min: z.number().int().optional(),
  max: z.number().int().optional(),
  choices: z.array(z.string().regex(OPTION_RE, fix("Choices use lowercase letters, digits and '_'"))).min(1).optional(),
});

const apiRequirementSchema = strict({ api: nameSchema, default: nameSchema });
const requirementSchema = z.union([nameSchema, apiRequirementSchema]);
const sourceSchema = z.union([z.string().min(1), strict({ file: z.string().min(1), if: z.string().min(1).optional() })]);

const librarySchema = strict({
  name: nameSchema,
  description: z.string().min(1, fix("Write one line saying what the library is")),
  provides: z.array(nameSchema).optional(),
  requires: z.array(requirementSchema).optional(),
  implemented_by: z.array(apiRequirementSchema).optional(),
  options: z.record(optionName, optionSchema).optional(),
  sources: z.array(sourceSchema).optional(),
  exports: z.array(z.string().regex(SYMBOL_RE, fix("Exports are C symbol names"))).optional(),
  cflags: stringList.optional(),
  linker_script: z.string().min(1).optional(),
  ports: portsSchema.optional(),
});

/** Parses and validates `<dir>/library.yaml` (or the given manifest file). */
export async function loadLibraryManifest(manifestPath: string): Promise<LibraryManifest> {
  const file = path.resolve(manifestPath);
  const data = await readYamlFile(file, "library.yaml");
  return validateLibrary(file, data);
}

/** Validates already-parsed manifest data; `file` is the manifest's absolute path. */
export function validateLibrary(file: string, data: unknown): LibraryManifest {
  const parsed = librarySchema.safeParse(data);
  if (!parsed.success) throw schemaError(file, data, parsed.error);
  const m = parsed.data;
  const dir = path.dirname(file);
  const shown = displayPath(file);

  const options: OptionSpec[] = Object.entries(m.options ?? {}).map(([name, o]) => {
    const key = `options.${name}`;
    const spec: OptionSpec = { name, type: o.type, default: o.default, help: o.help };
    if (o.type === "int") {
      if (o.min !== undefined) spec.min = o.min;
      if (o.max !== undefined) spec.max = o.max;
      if (o.min !== undefined && o.max !== undefined && o.min > o.max) {
        throw configError(shown, `${key}.min`, `min ${o.min} is above max ${o.max}`, "Swap or correct them");
      }
    } else {
      for (const k of ["min", "max"] as const) {
        if (o[k] !== undefined) throw configError(shown, `${key}.${k}`, `"${k}" applies to int options only, this one is ${o.type}`, "Remove it");
      }
    }
    if (o.type === "choice") {
      if (!o.choices) throw configError(shown, `${key}.choices`, "missing: a choice option needs its list of choices", "Add choices: [a, b]");
      if (new Set(o.choices).size !== o.choices.length) throw configError(shown, `${key}.choices`, "a choice is listed twice", "Remove the duplicate");
      spec.choices = o.choices;
    } else if (o.choices) {
      throw configError(shown, `${key}.choices`, `"choices" applies to choice options only, this one is ${o.type}`, `Remove it, or make the type choice`);
    }
    const bad = checkValue(spec, o.default);
    if (bad) throw configError(shown, `${key}.default`, bad.problem, bad.fix);
    return spec;
  });

  if (m.name === "app") throw configError(shown, "name", `the name "app" is reserved for the application`, "Choose another name");
  const requires: Requirement[] = (m.requires ?? []).map((r) => (typeof r === "string" ? { lib: r } : { api: r.api, default: r.default }));
  requires.forEach((r, i) => {
    if ("lib" in r && r.lib === m.name) throw configError(shown, `requires[${i}]`, `library "${m.name}" requires itself`, "Remove the entry");
  });

  const sources: SourceSpec[] = (m.sources ?? []).map((s, i) => {
    const spec: SourceSpec = typeof s === "string" ? { file: s } : s.if === undefined ? { file: s.file } : { file: s.file, if: s.if };
    const key = typeof s === "string" ? `sources[${i}]` : `sources[${i}].file`;
    if (!/\.(c|S)$/.test(spec.file)) throw configError(shown, key, `${quote(spec.file)} is neither a .c nor a .S file`, "List only C (.c) and assembly (.S) sources; headers are found through include/");
    checkFile(shown, key, dir, spec.file, "source");
    if (spec.if !== undefined) {
      const c = parseCondition(spec.if, options);
      if ("problem" in c) throw configError(shown, `sources[${i}].if`, c.problem, c.fix);
    }
    return spec;
  });

  const manifest: LibraryManifest = {
    name: m.name,
    description: m.description,
    dir,
    manifestPath: file,
    provides: m.provides ?? [],
    requires,
    implementedBy: (m.implemented_by ?? []).map((r) => ({ api: r.api, default: r.default })),
    options,
    sources,
    exports: m.exports ?? [],
    cflags: m.cflags ?? [],
    ports: [],
  };
  if (m.ports !== undefined) {
    const ports = portRanges(m.ports);
    if (!Array.isArray(ports)) throw configError(shown, `ports[${ports.index}]`, ports.problem, "Declare each I/O port the library uses, as a number or a range");
    manifest.ports = ports;
  }
  if (m.linker_script !== undefined) {
    checkFile(shown, "linker_script", dir, m.linker_script, "linker script");
    manifest.linkerScript = m.linker_script;
  }
  return manifest;
}

/** A file named in a manifest must exist (relative to the manifest's directory). */
export function checkFile(shown: string, key: string, dir: string, rel: string, what: string): string {
  const abs = path.resolve(dir, rel);
  if (!existsSync(abs) || !statSync(abs).isFile()) {
    throw configError(shown, key, `${what} ${quote(rel)} does not exist (looked for ${displayPath(abs)})`, `Create it or fix the path (relative to ${displayPath(dir) || "."})`);
  }
  return abs;
}
