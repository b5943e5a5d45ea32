// The final link: every prelinked unit plus libgcc, with the one selected linker script, then the
// page tables patched in and a stripped copy made (keeping the PVH note, an allocated section).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { KilnError } from "../errors.ts";
import { exec, execOrFail } from "./exec.ts";
import { patchPageTables } from "./pagetables.ts";
import { checkCpl3Image, EXEMPT_RANGES } from "./cpl3-check.ts";
import { parseElf } from "./elf.ts";
import { applyFastPath } from "./fastpath.ts";
import type { PortRange } from "../config/ports.ts";
import type { BuildState } from "./state.ts";
import type { BuildUnit } from "./unit.ts";

export const IMAGE = "image.elf";
export const DEBUG_IMAGE = "image.dbg.elf";
export const MAP = "image.map";

/** The linker script of the image: exactly one selected library must bring one. */
export function selectLinkerScript(units: readonly BuildUnit[]): string {
  const withScript = units.filter((u) => u.linkerScript);
  if (withScript.length === 0) {
    throw new KilnError(`no selected library has a linker_script, so the image cannot be linked. Select the platform library (plat-kvm, implied by target kvm-x86_64) or give one library \`linker_script:\` in its library.yaml.`);
  }
  if (withScript.length > 1) {
    throw new KilnError(`libraries ${withScript.map((u) => `${u.name} (${u.manifestPath})`).join(" and ")} each have a linker_script; an image has exactly one. Remove linker_script from all but the platform library, or deselect one of them.`);
  }
  const script = withScript[0]!.linkerScript!;
  if (!fs.existsSync(script)) {
    throw new KilnError(`${withScript[0]!.manifestPath}: linker_script: ${script} does not exist. Fix the path (relative to the library directory).`);
  }
  return script;
}

/** What a linker script's ASSERT says when the image must be linked again with __kiln_link_high defined. */
export const RELINK_HIGH = "KILN_RELINK_HIGH";

export interface LinkOptions {
  outDir: string;
  /** Prelinked objects relative to outDir, in link order. */
  objects: string[];
  script: string;
  libgcc: string;
  /** Identifies the objects' contents (prelink keys): with the script bytes it keys the link. */
  inputKeys: string[];
  log: (line: string) => void;
  /** Turns ld's output of a failed link into advice lines (which library to add, ...). */
  explain?: (ldOutput: string) => Promise<string[]>;
  /** The I/O ports the selected libraries declare: the CPL-3 check allows `in`/`out` on these. */
  ports?: readonly PortRange[];
}

export function linkKey(opts: LinkOptions): string {
  const h = crypto.createHash("sha256");
  h.update(JSON.stringify({ v: 3, objects: opts.objects, keys: opts.inputKeys, script: opts.script, libgcc: opts.libgcc, ports: opts.ports ?? [] }));
  h.update(fs.readFileSync(opts.script));
  return h.digest("hex").slice(0, 20);
}

/** Links, patches the page tables and strips, unless up to date. Returns true if it linked. */
export async function linkImage(opts: LinkOptions, state: BuildState): Promise<boolean> {
  const key = linkKey(opts);
  const outputs = [IMAGE, DEBUG_IMAGE, MAP].map((f) => path.join(opts.outDir, f));
  if (state.link === key && outputs.every((f) => fs.existsSync(f))) return false;
  state.link = undefined;
  opts.log(`LD ${DEBUG_IMAGE}`);
  let args = ["-nostdlib", "-static", "--gc-sections", "-z", "max-page-size=4096", "-T", opts.script, "-Map", MAP, "-o", DEBUG_IMAGE, ...opts.objects, opts.libgcc];
  let r = await exec("ld", args, opts.outDir);
  // A linker script may link low when the image is small (plat-kvm: below 640 KiB, so it boots
  // in 1 MiB of RAM) and say so when it is not: then it is linked where large images go.
  if (r.code !== 0 && (r.stderr + r.stdout).includes(RELINK_HIGH)) {
    args = [...args.slice(0, 5), "--defsym=__kiln_link_high=1", ...args.slice(5)];
    r = await exec("ld", args, opts.outDir);
  }
  if (r.code !== 0) {
    const output = (r.stderr + r.stdout).trim();
    const advice = opts.explain ? await opts.explain(output) : [];
    throw new KilnError(
      `linking the image failed (ld exited with ${r.code}):\n` +
        (advice.length ? `${advice.map((a) => `  ${a}`).join("\n")}\nld said:\n` : "") +
        `${output || "(no output)"}\n  command: ld ${args.join(" ")}`,
    );
  }
  for (const w of r.stderr.split("\n").filter(Boolean)) opts.log(`ld: ${w.replace(/^ld: /, "")}`);
  const dbg = path.join(opts.outDir, DEBUG_IMAGE);
  fs.rmSync(path.join(opts.outDir, IMAGE), { force: true }); // never a bootable image that failed the checks
  const dbgElf = parseElf(fs.readFileSync(dbg), dbg);
  const marks = new Map<string, number>();
  for (const r of EXEMPT_RANGES) {
    for (const name of [r.start, r.end]) {
      const s = dbgElf.symbol(name);
      if (s) marks.set(name, s.value);
    }
  }
  await applyFastPath(dbg, path.join(opts.outDir, MAP), opts.log);
  opts.log(`CHECK ${DEBUG_IMAGE} (CPL-3 rules)`);
  await checkCpl3Image(dbg, marks, opts.ports ?? []);
  const patched = patchPageTables(dbg);
  if (patched) opts.log(`PT ${DEBUG_IMAGE}${patched.length ? ` (guard pages: ${patched.map((g) => `0x${g.toString(16)}`).join(", ")})` : ""}`);
  opts.log(`STRIP ${IMAGE}`);
  await execOrFail("stripping the image", "objcopy", ["--strip-all", DEBUG_IMAGE, IMAGE], opts.outDir);
  // objcopy copies the patched bytes; patching again checks the stripped image stands on its own.
  // The guard pages come from the debug image's symbols (the stripped one has none).
  patchPageTables(path.join(opts.outDir, IMAGE), patched || undefined);
  state.link = key;
  return true;
}
