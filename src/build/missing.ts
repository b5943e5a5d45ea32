// A build that fails for want of a library says which one to add: ld knows only the missing
// symbol and gcc only the missing header, while the manifests know which library has it.
import * as fs from "node:fs";
import * as path from "node:path";
import type { LibraryManifest } from "../config/types.ts";
import type { BuildUnit } from "./unit.ts";
import { APP_UNIT } from "./unit.ts";

export interface UndefinedRef {
  symbol: string;
  /** The unit whose prelinked object (`lib/<unit>.o`) references it, when ld names one. */
  from?: string;
}

/** The undefined references in ld's output, each symbol once per referencing unit. */
export function parseUndefined(ldOutput: string): UndefinedRef[] {
  const seen = new Set<string>();
  const refs: UndefinedRef[] = [];
  let from: string | undefined;
  for (const line of ldOutput.split("\n")) {
    // ld names the object at the start of a message: "ld: lib/app.o: in function ..." or
    // "ld: lib/app.o:(.data+0x0): undefined reference ..."; continuation lines keep the last one.
    const obj = /^ld: (?:.*\/)?lib\/([^/:]+)\.o:/.exec(line);
    if (obj) from = obj[1];
    const ref = /undefined reference to [`'](.+?)'/.exec(line);
    if (!ref) continue;
    const key = `${from ?? ""}\0${ref[1]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    refs.push(from ? { symbol: ref[1]!, from } : { symbol: ref[1]! });
  }
  return refs;
}

export interface ExplainContext {
  /** The image's units (selected libraries, then the app). */
  units: readonly BuildUnit[];
  /** Symbols each selected unit defines but hides (not in its exports). */
  hidden: ReadonlyMap<string, string>;
  /** Every library under kernel/, to find one that exports a symbol; absent if not known. */
  known?: ReadonlyMap<string, LibraryManifest>;
}

/**
 * One line per referencing unit and cause, saying what to do: select the library that exports
 * the symbols, export a hidden one, or (if nothing has it) define it.
 */
export function explainUndefined(refs: readonly UndefinedRef[], ctx: ExplainContext): string[] {
  const selected = new Set(ctx.units.map((u) => u.name));
  const unitOf = new Map(ctx.units.map((u) => [u.name, u]));
  const exporters = new Map<string, string[]>();
  for (const lib of ctx.known?.values() ?? []) {
    for (const s of lib.exports) exporters.set(s, [...(exporters.get(s) ?? []), lib.name]);
  }
  // Group by (referencing unit, advice) so one line can name several symbols.
  const groups = new Map<string, { from?: string; symbols: string[]; advice: string }>();
  for (const ref of refs) {
    const user = ref.from ? unitOf.get(ref.from) : undefined;
    const hiddenIn = ctx.hidden.get(ref.symbol);
    const all = exporters.get(ref.symbol) ?? [];
    const libs = all.filter((l) => !selected.has(l));
    const selectedExporter = all.find((l) => selected.has(l));
    let advice: string;
    if (selectedExporter) {
      advice = `library ${selectedExporter} exports it but does not define it here: an option of ${selectedExporter} may leave out the source that does (see 'kiln config')`;
    } else if (hiddenIn && hiddenIn !== ref.from) {
      const owner = unitOf.get(hiddenIn);
      advice = `defined in library ${hiddenIn} but not exported, so it is private to it. If it is meant as API, add it to exports in ${owner ? owner.manifestPath : `${hiddenIn}'s library.yaml`}`;
    } else if (libs.length) {
      const names = libs.join(" or ");
      if (!user || user.name === APP_UNIT) {
        const where = user ? user.manifestPath : "the app's kiln.yaml";
        advice = `exported by library ${names}, which this image does not select. Add ${libs.length > 1 ? "one" : "it"} under libraries in ${where} (${libs[0]}: {})`;
      } else {
        advice = `exported by library ${names}, which this image does not select. Library ${user.name} uses it: add ${libs[0]} to the requires of ${user.manifestPath}`;
      }
    } else {
      advice = `no library under kernel/ exports it: define it${user ? ` (in ${user.name === APP_UNIT ? "the app" : `library ${user.name}`})` : ""}, or check the name`;
    }
    const key = `${ref.from ?? ""}\0${advice}`;
    const g = groups.get(key) ?? { from: ref.from, symbols: [], advice };
    g.symbols.push(ref.symbol);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => {
    const who = g.from ? (g.from === APP_UNIT ? "the app" : `library ${g.from}`) : "the image";
    return `${g.symbols.join(", ")} (used by ${who}): ${g.advice}.`;
  });
}

/** Headers gcc could not find ("fatal error: alloc/alloc.h: No such file or directory"). */
export function parseMissingHeaders(gccOutput: string): string[] {
  const out = new Set<string>();
  for (const m of gccOutput.matchAll(/fatal error: ([^\s:]+): No such file or directory/g)) out.add(m[1]!);
  return [...out];
}

/** For each missing header that an unselected library's include/ holds: which library to add. */
export function explainMissingHeaders(headers: readonly string[], user: BuildUnit, selected: ReadonlySet<string>, known: ReadonlyMap<string, LibraryManifest>): string[] {
  const lines: string[] = [];
  for (const h of headers) {
    const libs = [...known.values()].filter((l) => !selected.has(l.name) && fs.existsSync(path.join(l.dir, "include", h))).map((l) => l.name);
    if (!libs.length) continue;
    const how =
      user.name === APP_UNIT
        ? `add ${libs.length > 1 ? "one" : "it"} under libraries in ${user.manifestPath} (${libs[0]}: {})`
        : `add ${libs[0]} to the requires of ${user.manifestPath}`;
    lines.push(`<${h}> is the header of library ${libs.join(" or ")}, which this image does not select: ${how}.`);
  }
  return lines;
}
