// Prelink: each unit's objects become one relocatable `lib/<unit>.o` in which only the unit's
// exports (and undefined references) stay global, so libraries cannot reach each other's
// internals and identical private names in two libraries never clash.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { execOrFail } from "./exec.ts";
import { BASE_CFLAGS } from "./flags.ts";
import type { BuildState } from "./state.ts";
import type { BuildUnit } from "./unit.ts";
import { rewriteMuslObject } from "./rewrite.ts";

export interface PrelinkOptions {
  outDir: string;
  lto: boolean;
  /** Flavour flags (-O2 / -O0 -g, -flto): LTO code generation happens at prelink. */
  flavour: string[];
  /** Toolchain identity (versions): an upgrade redoes the prelink. */
  toolId?: string;
  log: (line: string) => void;
}

/**
 * objcopy localizes every defined global not listed, but only when the list is non-empty:
 * a unit with no exports gets this name, which no code defines, so that everything is hidden.
 */
export const NO_EXPORTS_SENTINEL = "__kiln_no_exports__";

export function prelinkKey(unit: BuildUnit, objects: readonly string[], opts: Pick<PrelinkOptions, "lto" | "flavour" | "toolId">): string {
  const h = crypto.createHash("sha256");
  // Object names already carry the content hash of their inputs.
  // Outside inputs (a musl app's objects, libc.a) are keyed by size and mtime.
  const inputs = (unit.musl?.inputs ?? []).map((f) => {
    const st = fs.statSync(f);
    return [f, st.size, st.mtimeMs];
  });
  h.update(JSON.stringify({ v: 1, objects, exports: [...unit.exports].sort(), cflags: unit.cflags, lto: opts.lto, flavour: opts.flavour, tool: opts.toolId ?? "", musl: unit.musl ? { ...unit.musl, inputs } : undefined }));
  return h.digest("hex").slice(0, 20);
}

/** Relative path of a unit's prelinked object inside the build dir. */
export function prelinkedPath(unit: string): string {
  return path.join("lib", `${unit}.o`);
}

/** Builds `lib/<unit>.o` unless it is up to date; returns true if it did work. */
export async function prelinkUnit(unit: BuildUnit, objects: readonly string[], state: BuildState, opts: PrelinkOptions): Promise<boolean> {
  const out = path.join(opts.outDir, prelinkedPath(unit.name));
  const key = prelinkKey(unit, objects, opts);
  if (state.prelink[unit.name] === key && fs.existsSync(out)) return false;
  opts.log(`LD -r lib/${unit.name}.o`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const merged = `${out}.merged.o`;
  const objs = objects.map((o) => path.join(opts.outDir, o));
  if (opts.lto) {
    // Per-library LTO: gcc optimises the unit's GIMPLE as a whole and emits ordinary code
    // (nolto-rel), so the final ld link needs no plugin and hiding works on real symbols.
    await execOrFail(`LTO prelink of library ${unit.name}`, "gcc", [
      ...BASE_CFLAGS,
      ...opts.flavour,
      // Code generation happens here, so the library's own flags (e.g. -mgeneral-regs-only) apply.
      ...unit.cflags,
      "-nostdlib",
      "-r",
      "-flinker-output=nolto-rel",
      "-o",
      merged,
      ...objs,
    ]);
  } else if (unit.musl) {
    // libc.a's members are pulled in as a link would (ld -r searches archives too).
    const m = unit.musl;
    await execOrFail(`prelink (ld -r) of the app with musl`, "ld", ["-r", "-o", merged, ...m.undefined.flatMap((u) => ["-u", u]), ...objs, "--start-group", ...m.inputs, "--end-group"]);
  } else {
    await execOrFail(`prelink (ld -r) of library ${unit.name}`, "ld", ["-r", "-o", merged, ...objs]);
  }
  if (unit.musl) {
    const renames = Object.entries(unit.musl.renames).flatMap(([from, to]) => ["--redefine-sym", `${from}=${to}`]);
    await execOrFail(`renaming the musl app's entry points`, "objcopy", [...renames, merged]);
    await rewriteMuslObject(merged, opts.log);
  }
  const keepFile = `${out}.exports`;
  const keep = unit.exports.length ? unit.exports : [NO_EXPORTS_SENTINEL];
  fs.writeFileSync(keepFile, keep.join("\n") + "\n");
  await execOrFail(`hiding private symbols of library ${unit.name}`, "objcopy", [`--keep-global-symbols=${keepFile}`, merged, out]);
  fs.rmSync(merged, { force: true });
  await warnMissingExports(unit, out, opts.log);
  state.prelink[unit.name] = key;
  return true;
}

/** Defined global symbols of an object, from nm. */
export async function definedGlobals(obj: string): Promise<Set<string>> {
  const r = await execOrFail("listing symbols", "nm", ["-g", "--defined-only", "-P", obj]);
  return new Set(r.stdout.split("\n").map((l) => l.split(" ")[0]!).filter(Boolean));
}

async function warnMissingExports(unit: BuildUnit, obj: string, log: (l: string) => void): Promise<void> {
  const defined = await definedGlobals(obj);
  const missing = unit.exports.filter((e) => !defined.has(e));
  // Not an error: an export may live in a source that an option switched off.
  if (missing.length) log(`warning: library ${unit.name} exports ${missing.join(", ")} but does not define ${missing.length > 1 ? "them" : "it"} (${unit.manifestPath}: exports)`);
}
