// `kiln syscalls <elf|app>`: the porting aid. Every `syscall` site of a binary (a real
// disassembly), with its number where the code sets it just before, and whether Kiln's POSIX
// libraries implement it. For an app, the image is built and its app code is read: sites the
// fast path rewrote show as calls into the thunks, the rest still execute `syscall`.
import * as fs from "node:fs";
import * as path from "node:path";
import { disassemble, mnemonic, type Instruction } from "../build/disasm.ts";
import { objectRanges, planFastPath, REG_THUNKS, THUNKS, THUNK_SIZE, NR_COUNT } from "../build/fastpath.ts";
import { parseElf } from "../build/elf.ts";
import { KilnError } from "../errors.ts";
import { SYSCALL_NAMES } from "./names.ts";

export interface SiteReport {
  address: number;
  func: string;
  nr?: number;
  name?: string;
  /** fast: a call into the dispatcher (rewritten at link time); syscall: the instruction. */
  path: "fast" | "syscall";
  /** The library that registers the number, or undefined (-ENOSYS). Unknown numbers: undefined. */
  implementedBy?: string;
  reason?: string;
}

export interface SyscallsReport {
  file: string;
  sites: SiteReport[];
  /** Distinct numbers seen, each with its status. */
  numbers: { nr: number; name: string; implementedBy?: string; sites: number }[];
  unknownSites: number;
}

/** SYSCALL_REGISTER(nr, fn) lines of the given library sources: number -> library. Pure-ish. */
export function registrations(sources: readonly { library: string; file: string }[]): Map<number, string> {
  const m = new Map<number, string>();
  for (const s of sources) {
    if (!s.file.endsWith(".c")) continue;
    const text = fs.readFileSync(s.file, "utf8");
    for (const x of text.matchAll(/^SYSCALL_REGISTER\((\d+),\s*\w+\);/gm)) m.set(Number(x[1]), s.library);
  }
  return m;
}

/** Every library source under kernel/lib (for a binary that is not a Kiln image). */
export function kernelSources(kernelDir: string): { library: string; file: string }[] {
  const out: { library: string; file: string }[] = [];
  const lib = path.join(kernelDir, "lib");
  for (const d of fs.readdirSync(lib)) {
    const dir = path.join(lib, d);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const f of fs.readdirSync(dir)) if (f.endsWith(".c")) out.push({ library: d, file: path.join(dir, f) });
  }
  return out;
}

/** Sites of a disassembly; `thunks` are the image's thunk tables when it is a Kiln image. Pure. */
export function sitesOf(insns: readonly Instruction[], impl: ReadonlyMap<number, string>, thunks?: { nr: number; reg: number }): SiteReport[] {
  const sites: SiteReport[] = [];
  const named = (nr: number | undefined) => (nr === undefined ? {} : { nr, name: SYSCALL_NAMES.get(nr), implementedBy: impl.get(nr) });
  for (const s of planFastPath(insns, undefined).sites) {
    sites.push({ address: s.address, func: s.func, path: "syscall", ...named(s.nr) });
  }
  if (thunks) {
    for (const i of insns) {
      const m = /^call ([0-9a-f]+)$/.exec(i.text);
      if (!m || mnemonic(i.text) !== "call") continue;
      const t = parseInt(m[1]!, 16);
      if (t >= thunks.nr && t < thunks.nr + NR_COUNT * THUNK_SIZE && (t - thunks.nr) % THUNK_SIZE === 0) {
        sites.push({ address: i.address, func: i.func, path: "fast", ...named((t - thunks.nr) / THUNK_SIZE) });
      } else if (t >= thunks.reg && t < thunks.reg + 16 * THUNK_SIZE) {
        sites.push({ address: i.address, func: i.func, path: "fast", reason: "number in a register (syscall(), cancellation points)" });
      }
    }
  }
  return sites.sort((a, b) => a.address - b.address);
}

export function summarize(file: string, sites: SiteReport[]): SyscallsReport {
  const by = new Map<number, { nr: number; name: string; implementedBy?: string; sites: number }>();
  let unknownSites = 0;
  for (const s of sites) {
    if (s.nr === undefined) {
      unknownSites++;
      continue;
    }
    const e = by.get(s.nr) ?? { nr: s.nr, name: s.name ?? `#${s.nr}`, implementedBy: s.implementedBy, sites: 0 };
    e.sites++;
    by.set(s.nr, e);
  }
  return { file, sites, numbers: [...by.values()].sort((a, b) => a.nr - b.nr), unknownSites };
}

/** A plain ELF (e.g. a static musl binary): all its code, against every Kiln library. */
export async function reportElf(file: string, kernelDir: string): Promise<SyscallsReport> {
  if (!fs.existsSync(file)) throw new KilnError(`${file}: no such file. Give an ELF binary or an app directory.`);
  const insns = await disassemble(file);
  return summarize(file, sitesOf(insns, registrations(kernelSources(kernelDir))));
}

/** A built Kiln image: the app unit's code (from the link map), against the selected libraries. */
export async function reportImage(debugImage: string, mapFile: string, sources: readonly { library: string; file: string }[]): Promise<SyscallsReport> {
  const elf = parseElf(fs.readFileSync(debugImage), debugImage);
  const nr = elf.symbol(THUNKS)?.value;
  const reg = elf.symbol(REG_THUNKS)?.value;
  const ranges = objectRanges(fs.readFileSync(mapFile, "utf8"));
  const insns = (await disassemble(debugImage)).filter((i) => ranges.some((r) => i.address >= r.lo && i.address < r.hi));
  return summarize(debugImage, sitesOf(insns, registrations(sources), nr !== undefined && reg !== undefined ? { nr, reg } : undefined));
}

export function formatReport(r: SyscallsReport, all: boolean): string {
  const lines: string[] = [];
  const fast = r.sites.filter((s) => s.path === "fast").length;
  lines.push(`${r.file}: ${r.sites.length} syscall sites (${fast} rewritten to the fast path), ${r.numbers.length} distinct numbers, ${r.unknownSites} sites with a number set elsewhere`);
  lines.push("");
  lines.push("  nr   name                     sites  status");
  for (const n of r.numbers) {
    lines.push(`  ${String(n.nr).padStart(3)}  ${n.name.padEnd(24)} ${String(n.sites).padStart(5)}  ${n.implementedBy ? `implemented (${n.implementedBy})` : "-ENOSYS"}`);
  }
  const missing = r.numbers.filter((n) => !n.implementedBy);
  lines.push("");
  lines.push(missing.length ? `-ENOSYS: ${missing.map((n) => n.name).join(", ")}` : "every number that can be determined is implemented");
  if (all) {
    lines.push("", "  address           path     nr   function");
    for (const s of r.sites) lines.push(`  0x${s.address.toString(16).padStart(14, "0")}  ${s.path.padEnd(7)}  ${s.nr === undefined ? "  ?" : String(s.nr).padStart(3)}  ${s.func}${s.name ? ` (${s.name})` : ""}`);
  }
  return lines.join("\n");
}
