// The size report: file sizes of both images, the bytes each library put into the image (input
// sections of allocated output sections that have contents), and, apart, the zero-initialized
// memory (.bss, .tbss) each one asks for at run time, which costs no image bytes.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseElf, SHF_ALLOC, SHT_NOBITS } from "./elf.ts";

export interface SizeReport {
  /** image.elf (what boots), bytes on disk. */
  stripped: number;
  /** image.dbg.elf, bytes on disk. */
  unstripped: number;
  /** Library name (`app` for the app) -> bytes in the image (loaded sections with contents); `(other)` for the rest. */
  byLibrary: Record<string, number>;
  /** Library name -> zero-initialized bytes (.bss/.tbss): memory at run time, not image bytes. */
  bssByLibrary: Record<string, number>;
}

export const OTHER = "(other)";

const INPUT_LINE = /^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$/;
const INPUT_NAME_ONLY = /^ ([^\s*]\S*)$/;
const CONTINUATION = /^\s{2,}0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$/;
const OUTPUT_LINE = /^([^\s]\S*)(?:\s+0x[0-9a-f]+\s+0x[0-9a-f]+)?\s*$/;

/** The unit a map input file belongs to: `lib/<name>.o` -> name, anything else -> undefined. */
export function unitOfInput(file: string): string | undefined {
  return /(?:^|\/)lib\/([^/()]+)\.o$/.exec(file.trim())?.[1];
}

/**
 * Bytes by unit from a GNU ld map. Only input sections inside output sections named in
 * `allocSections` count (debug info and .comment are not part of the loaded image).
 */
export function bytesByUnit(mapText: string, allocSections: ReadonlySet<string>): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = mapText.split("\n");
  let i = lines.findIndex((l) => l.startsWith("Linker script and memory map"));
  if (i < 0) return out;
  let current: string | undefined;
  let pending: string | undefined;
  const add = (file: string, size: number) => {
    if (!current || !allocSections.has(current) || size === 0) return;
    const unit = unitOfInput(file);
    if (unit) out[unit] = (out[unit] ?? 0) + size;
  };
  for (i++; i < lines.length; i++) {
    const line = lines[i]!.replace(/\s+$/, "");
    if (!line) continue;
    if (pending !== undefined) {
      const c = CONTINUATION.exec(line);
      pending = undefined;
      if (c) {
        add(c[3]!, parseInt(c[2]!, 16));
        continue;
      }
    }
    if (line[0] !== " ") {
      const o = OUTPUT_LINE.exec(line);
      if (o) current = o[1];
      continue;
    }
    const m = INPUT_LINE.exec(line);
    if (m) {
      if (m[1] !== "*fill*") add(m[4]!, parseInt(m[3]!, 16));
      continue;
    }
    const n = INPUT_NAME_ONLY.exec(line);
    if (n) pending = n[1];
  }
  return out;
}

/** Builds the report from the images and map in `outDir` and writes `size.json` there. */
/**
 * `units` are the prelinked libraries: one that --gc-sections removed entirely is listed with 0
 * bytes, which says more than leaving it out.
 */
export function sizeReport(outDir: string, units: readonly string[] = [], files = { image: "image.elf", debugImage: "image.dbg.elf", map: "image.map" }): SizeReport {
  const dbgPath = path.join(outDir, files.debugImage);
  const dbg = fs.readFileSync(dbgPath);
  const elf = parseElf(dbg, dbgPath);
  const alloc = elf.sections.filter((s) => s.flags & SHF_ALLOC);
  const loaded = alloc.filter((s) => s.type !== SHT_NOBITS);
  const zeroed = alloc.filter((s) => s.type === SHT_NOBITS);
  const map = fs.readFileSync(path.join(outDir, files.map), "utf8");
  const byUnit = bytesByUnit(map, new Set(loaded.map((s) => s.name)));
  for (const u of units) byUnit[u] ??= 0;
  const byLibrary = sortedByValue(byUnit);
  // Alignment padding, linker-generated sections (page tables reserved by the script) and libgcc.
  const total = loaded.reduce((n, s) => n + s.size, 0);
  const attributed = Object.values(byUnit).reduce((n, v) => n + v, 0);
  if (total > attributed) byLibrary[OTHER] = total - attributed;
  const bssByLibrary = sortedByValue(bytesByUnit(map, new Set(zeroed.map((s) => s.name))));
  const report: SizeReport = {
    stripped: fs.statSync(path.join(outDir, files.image)).size,
    unstripped: dbg.length,
    byLibrary,
    bssByLibrary,
  };
  fs.writeFileSync(path.join(outDir, "size.json"), JSON.stringify(report, null, 2) + "\n");
  return report;
}

function sortedByValue(rec: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(rec).sort((a, b) => b[1] - a[1]));
}
