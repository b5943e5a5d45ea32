// I/O ports: each library declares the ports it uses (`ports:` in library.yaml); the build turns
// the selected libraries' ports into the TSS I/O permission bitmap, so a port nobody declared
// faults (#GP) at CPL 3 on every accelerator alike (docs/architecture.md, "The kvm-pvm rules").
import { z } from "zod";
import type { ResolvedLibrary } from "./types.ts";

/** An inclusive port range a library declared. */
export interface PortRange {
  lo: number;
  hi: number;
  /** What the ports are (shown by `kiln config`). */
  why?: string;
}

const PORT_MAX = 0xffff;
const PORT_RE = /^(0x[0-9a-fA-F]+|[0-9]+)(?:\s*-\s*(0x[0-9a-fA-F]+|[0-9]+))?$/;

function portNumber(text: string): number {
  return text.startsWith("0x") || text.startsWith("0X") ? parseInt(text.slice(2), 16) : parseInt(text, 10);
}

/** `0x3f8-0x3ff`, `0x501`, `80` or a number -> a range, or a sentence saying what is wrong. */
export function parsePortRange(value: number | string): { lo: number; hi: number } | string {
  let lo: number, hi: number;
  if (typeof value === "number") {
    lo = hi = value;
  } else {
    const m = PORT_RE.exec(value.trim());
    if (!m) return `"${value}" is not a port or a range (write 0x3f8-0x3ff or 0x501)`;
    lo = portNumber(m[1]!);
    hi = m[2] === undefined ? lo : portNumber(m[2]);
  }
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > PORT_MAX) return `ports are 0-0xffff; ${String(value)} is outside`;
  if (hi < lo) return `range ${String(value)} ends before it starts`;
  return { lo, hi };
}

const portValue = z.union([z.number().int(), z.string().min(1)]);
/** The manifest's `ports:` list: `- 0x501`, `- "0x3f8-0x3ff"` or `- { range: "0x40-0x43", why: PIT }`. */
export const portsSchema = z.array(z.union([portValue, z.strictObject({ range: portValue, why: z.string().min(1).optional() })]));

/** Validated `ports:` entries, or the index and problem of the first bad one. */
export function portRanges(entries: z.infer<typeof portsSchema>): PortRange[] | { index: number; problem: string } {
  const out: PortRange[] = [];
  for (const [index, e] of entries.entries()) {
    const value = typeof e === "object" ? e.range : e;
    const r = parsePortRange(value);
    if (typeof r === "string") return { index, problem: r };
    out.push(typeof e === "object" && e.why ? { ...r, why: e.why } : r);
  }
  return out;
}

/** Every declared port of the selected libraries, with who declared it. */
export function declaredPorts(libraries: readonly ResolvedLibrary[]): { lib: string; range: PortRange }[] {
  return libraries.flatMap((l) => l.manifest.ports.map((range) => ({ lib: l.manifest.name, range })));
}

/**
 * The I/O permission bitmap that allows exactly these ports: bytes up to the highest one (a set
 * bit denies). The TSS adds the 0xff terminator; ports past the bitmap are denied by its limit.
 */
export function ioBitmap(ranges: readonly PortRange[]): Uint8Array {
  const top = ranges.reduce((m, r) => Math.max(m, r.hi), -1);
  const bits = new Uint8Array(top < 0 ? 0 : (top >> 3) + 1).fill(0xff);
  for (const r of ranges) for (let p = r.lo; p <= r.hi; p++) bits[p >> 3]! &= ~(1 << (p & 7));
  return bits;
}

/** True when one of the ranges holds the port. */
export function portAllowed(ranges: readonly PortRange[], port: number): boolean {
  return ranges.some((r) => port >= r.lo && port <= r.hi);
}

export function formatPortRange(r: { lo: number; hi: number }): string {
  const h = (n: number) => `0x${n.toString(16)}`;
  return r.lo === r.hi ? h(r.lo) : `${h(r.lo)}-${h(r.hi)}`;
}

/**
 * The bitmap as image-wide configuration macros for arch-x86_64's TSS (none when no port is
 * declared): CONFIG_KILN_IOBITMAP (a byte list) and CONFIG_KILN_IOBITMAP_LEN.
 */
export function ioBitmapMacros(libraries: readonly ResolvedLibrary[]): Array<{ name: string; value: string }> {
  const declared = declaredPorts(libraries);
  if (!declared.length) return [];
  const bytes = [...ioBitmap(declared.map((d) => d.range))].map((b) => `0x${b.toString(16).padStart(2, "0")}`);
  const rows: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) rows.push(bytes.slice(i, i + 16).join(","));
  // Which library declared what, in a comment ahead of the list: `kiln config` shows it too.
  const who = declared.map((d) => `${d.lib} ${formatPortRange(d.range)}`).join(", ");
  return [
    { name: "CONFIG_KILN_IOBITMAP_LEN", value: String(bytes.length) },
    { name: "CONFIG_KILN_IOBITMAP", value: `/* ${who} */ \\\n\t${rows.join(", \\\n\t")}` },
  ];
}
