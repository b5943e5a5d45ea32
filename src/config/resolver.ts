// The resolver: app + library manifests + CLI switches -> the ResolvedConfig the build consumes.
import * as path from "node:path";
import type {
  ApiRequirement,
  AppManifest,
  LibraryManifest,
  OptionValue,
  ResolvedConfig,
  ResolvedLibrary,
  ResolvedOption,
} from "./types.ts";
import { configError, displayPath } from "./yaml.ts";
import { didYouMean } from "./suggest.ts";
import { checkValue, parseValue } from "./values.ts";
import { evaluate, parseCondition } from "./condition.ts";
import { KilnConfigError } from "../errors.ts";
import { quote } from "../quote.ts";

export interface ResolveOptions {
  /** `lib.option=value` overrides, later ones win. */
  sets: string[];
  lto: boolean;
  debug: boolean;
  test: boolean;
}

/** Libraries every app of a target gets. */
export const TARGET_BASE: Record<AppManifest["target"], string[]> = { "kvm-x86_64": ["plat-kvm"] };
/** The guest test runner library, selected by --test. */
export const TEST_LIBRARY = "test";
/** `selectedBy` values besides a library name (which these cannot be: names have no ':' nor leading '-'). */
export const SELECTED_BY_APP = "app";
export const SELECTED_BY_TEST = "--test";
export const SELECTED_BY_ROOTFS = "rootfs:";
/** The library that unpacks an app's `rootfs:` at boot, selected when the app has one. */
export const ROOTFS_LIBRARY = "initrd";
export const selectedByTarget = (target: string): string => `target:${target}`;

/** Where a selection or requirement was written, for error messages. */
interface Site {
  file: string;
  key: string;
}

interface SetOverride {
  text: string;
  lib: string;
  option: string;
  raw: string;
}

const SET_RE = /^([^.=\s]+)\.([^=\s]+)=(.*)$/s;

function parseSets(sets: readonly string[]): SetOverride[] {
  return sets.map((text) => {
    const m = SET_RE.exec(text);
    if (!m) {
      throw configError(
        "--set",
        text,
        `cannot read ${quote(text)} as library.option=value`,
        "Write e.g. --set print.float=false",
      );
    }
    return { text, lib: m[1]!, option: m[2]!, raw: m[3]! };
  });
}

function unknownLibrary(site: Site, name: string, libs: ReadonlyMap<string, LibraryManifest>): KilnConfigError {
  const apiProviders = [...libs.values()].filter((l) => l.provides.includes(name)).map((l) => l.name);
  const fix = apiProviders.length
    ? `${quote(name)} is an API (provided by ${apiProviders.join(", ")}): name one of those, or require it as { api: ${name}, default: ${apiProviders[0]} }.`
    : `${didYouMean(name, libs.keys()).trim()} Run 'kiln libs' to list libraries.`.trim();
  return configError(site.file, site.key, `unknown library ${quote(name)}`, fix);
}

function unknownOption(site: Site, lib: LibraryManifest, option: string): KilnConfigError {
  const names = lib.options.map((o) => o.name);
  const fix = names.length
    ? `${didYouMean(option, names).trim()} Options of ${lib.name}: ${names.join(", ")} (see 'kiln libs').`.trim()
    : `Library "${lib.name}" has no options.`;
  return configError(site.file, site.key, `library "${lib.name}" has no option ${quote(option)}`, fix);
}

/** Resolves the app's configuration; every problem is a KilnConfigError naming file, key and fix. */
export function resolve(
  app: AppManifest,
  libs: ReadonlyMap<string, LibraryManifest>,
  opts: ResolveOptions,
): ResolvedConfig {
  const appFile = displayPath(app.manifestPath);
  const sets = parseSets(opts.sets);
  const libFile = (m: LibraryManifest) => displayPath(m.manifestPath);

  // 1. Selection: the roots, then requirements transitively; API defaults only once nothing
  //    selected provides the API, one at a time (a default may itself provide other APIs).
  const selectedBy = new Map<string, string>();
  const defaultFor = new Map<string, string>();
  const site = new Map<string, Site>();
  const queue: string[] = [];
  const select = (name: string, by: string, at: Site) => {
    if (selectedBy.has(name)) return;
    if (!libs.has(name)) throw unknownLibrary(at, name, libs);
    selectedBy.set(name, by);
    site.set(name, at);
    queue.push(name);
  };
  for (const base of TARGET_BASE[app.target]) {
    if (!libs.has(base)) {
      throw configError(appFile, "target", `target ${app.target} needs library "${base}", which is not under kernel/`, "Check that kernel/ holds its library.yaml");
    }
    select(base, selectedByTarget(app.target), { file: appFile, key: "target" });
  }
  for (const name of Object.keys(app.libraries)) select(name, SELECTED_BY_APP, { file: appFile, key: `libraries.${name}` });
  if (app.rootfs !== undefined) select(ROOTFS_LIBRARY, SELECTED_BY_ROOTFS, { file: appFile, key: "rootfs" });
  if (opts.test) {
    if (!libs.has(TEST_LIBRARY)) {
      throw configError("--test", TEST_LIBRARY, `test images need library "${TEST_LIBRARY}", which is not under kernel/`, "Add kernel/lib/test or build without --test");
    }
    select(TEST_LIBRARY, SELECTED_BY_TEST, { file: "--test", key: TEST_LIBRARY });
  }

  const pending: Array<{ lib: string; api: string; default: string; site: Site }> = [];
  const providedBy = (api: string) => [...selectedBy.keys()].filter((n) => libs.get(n)!.provides.includes(api));
  for (;;) {
    while (queue.length) {
      const name = queue.shift()!;
      const m = libs.get(name)!;
      const needsProvider = (r: ApiRequirement, key: string) => {
        const defAt = { file: libFile(m), key: `${key}.default` };
        const def = libs.get(r.default);
        if (!def) throw unknownLibrary(defAt, r.default, libs);
        if (!def.provides.includes(r.api)) {
          const real = [...libs.values()].filter((l) => l.provides.includes(r.api)).map((l) => l.name);
          throw configError(
            defAt.file,
            defAt.key,
            `default "${r.default}" does not provide API "${r.api}"`,
            real.length ? `Use a library that provides it: ${real.join(", ")}` : `No library provides "${r.api}": add "${r.api}" to the provides of "${r.default}", or fix the API name`,
          );
        }
        pending.push({ lib: name, api: r.api, default: r.default, site: defAt });
      };
      m.requires.forEach((r, index) => {
        if ("lib" in r) select(r.lib, name, { file: libFile(m), key: `requires[${index}]` });
        else needsProvider(r, `requires[${index}]`);
      });
      m.implementedBy.forEach((r, index) => needsProvider(r, `implemented_by[${index}]`));
    }
    const unmet = pending.find((p) => providedBy(p.api).length === 0);
    if (!unmet) break;
    select(unmet.default, unmet.lib, unmet.site);
    defaultFor.set(unmet.default, unmet.api);
  }

  // 2. Providers: one selected library per API.
  const providers: Record<string, string> = {};
  const apis = new Set([...selectedBy.keys()].flatMap((n) => libs.get(n)!.provides));
  for (const api of [...apis].sort()) {
    const ps = providedBy(api);
    if (ps.length > 1) {
      const why = (n: string) => `"${n}" (${describeSelection(selectedBy.get(n)!, defaultFor.get(n))})`;
      const second = site.get(ps[1]!)!;
      throw configError(
        second.file,
        second.key,
        `API "${api}" has two providers: ${ps.map(why).join(" and ")}`,
        `Select only one library providing "${api}"`,
      );
    }
    providers[api] = ps[0]!;
  }

  // 3. Dependency order (requirements first), refusing cycles; deterministic: selection order.
  const deps = (name: string) =>
    libs.get(name)!.requires.map((r, index) => ({ to: "lib" in r ? r.lib : providers[r.api]!, index }));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const order: string[] = [];
  const visit = (name: string) => {
    state.set(name, "visiting");
    stack.push(name);
    for (const { to, index } of deps(name)) {
      const s = state.get(to);
      if (s === "visiting") {
        const cycle = [...stack.slice(stack.indexOf(to)), to];
        throw configError(
          libFile(libs.get(name)!),
          `requires[${index}]`,
          `dependency cycle: ${cycle.join(" -> ")}`,
          "Remove one of these requirements; a library cannot depend on itself, even through others",
        );
      }
      if (s === undefined) visit(to);
    }
    stack.pop();
    state.set(name, "done");
    order.push(name);
  };
  for (const name of selectedBy.keys()) if (!state.has(name)) visit(name);

  // 4. Exactly one linker script among the selected libraries.
  const scripts = order.filter((n) => libs.get(n)!.linkerScript !== undefined);
  if (scripts.length !== 1) {
    throw configError(
      appFile,
      "libraries",
      scripts.length === 0
        ? "no selected library has a linker_script"
        : `several selected libraries have a linker_script: ${scripts.join(", ")}`,
      scripts.length === 0
        ? `The target's platform library (${TARGET_BASE[app.target].join(", ")}) must set linker_script in its library.yaml`
        : "Only the platform library may set linker_script",
    );
  }

  // 5. Option values: default, then kiln.yaml, then --set.
  const values = new Map<string, Map<string, ResolvedOption>>();
  for (const name of order) {
    const m = libs.get(name)!;
    const appValues = app.libraries[name] ?? {};
    const resolved = new Map<string, ResolvedOption>();
    for (const spec of m.options) resolved.set(spec.name, { ...spec, value: spec.default, origin: { kind: "default" } });
    for (const [option, value] of Object.entries(appValues)) {
      const at = { file: appFile, key: `libraries.${name}.${option}` };
      const opt = resolved.get(option);
      if (!opt) throw unknownOption(at, m, option);
      const bad = checkValue(opt, value);
      if (bad) throw configError(at.file, at.key, bad.problem, bad.fix);
      resolved.set(option, { ...opt, value, origin: { kind: "app", file: appFile } });
    }
    values.set(name, resolved);
  }
  for (const s of sets) {
    const at = { file: "--set", key: `${s.lib}.${s.option}` };
    const m = libs.get(s.lib);
    if (!m) throw unknownLibrary(at, s.lib, libs);
    const resolved = values.get(s.lib);
    if (!resolved) {
      throw configError(at.file, at.key, `library "${s.lib}" is not selected for app "${app.name}"`, `Add it under libraries in ${appFile}, or drop this --set`);
    }
    const opt = resolved.get(s.option);
    if (!opt) throw unknownOption(at, m, s.option);
    const parsed = parseValue(opt, s.raw);
    if ("problem" in parsed) throw configError(at.file, at.key, parsed.problem, parsed.fix);
    resolved.set(s.option, { ...opt, value: parsed.value, origin: { kind: "cli" } });
  }

  // 6. Sources chosen by the conditions.
  const libraries: ResolvedLibrary[] = order.map((name) => {
    const m = libs.get(name)!;
    const resolved = values.get(name)!;
    const byName = new Map<string, OptionValue>([...resolved].map(([k, o]) => [k, o.value]));
    const sources = m.sources
      .filter((s, i) => {
        if (s.if === undefined) return true;
        const c = parseCondition(s.if, m.options);
        if ("problem" in c) throw configError(libFile(m), `sources[${i}].if`, c.problem, c.fix);
        return evaluate(c.condition, byName, opts.test);
      })
      .map((s) => path.resolve(m.dir, s.file));
    const api = defaultFor.get(name);
    return { manifest: m, options: m.options.map((o) => resolved.get(o.name)!), sources, selectedBy: selectedBy.get(name)!, ...(api ? { defaultFor: api } : {}) };
  });

  return { app, libraries, providers, lto: opts.lto, debug: opts.debug, test: opts.test };
}

/** "selected by app", "required by print", "default alloc for print", ... for messages and `kiln config`. */
export function describeSelection(selectedBy: string, defaultFor?: string): string {
  if (selectedBy === SELECTED_BY_APP) return "selected by app";
  if (selectedBy === SELECTED_BY_TEST) return "selected by --test";
  if (selectedBy === SELECTED_BY_ROOTFS) return "selected by rootfs:";
  if (selectedBy.startsWith("target:")) return `base of target ${selectedBy.slice("target:".length)}`;
  if (defaultFor) return `default ${defaultFor} for ${selectedBy}`;
  return `required by ${selectedBy}`;
}
