// Guest memory sizes (`8M`, `512K`, bytes): parsing and limits. No schema or YAML here: `kiln run
// <image> --memory 2M` checks its flag without loading the config layer.
import { KilnError } from "../errors.ts";
import { quote } from "../quote.ts";

export const MIN_MEMORY = 1024 * 1024; // a small image is linked below 640 KiB (kernel/plat/kvm/kiln.ld), with its heap there
const MAX_MEMORY = 1024 * 1024 * 1024; // the page tables map guest RAM up to 1 GiB

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** `8M`, `512K`, `1G`, `1048576` (bytes) -> bytes; undefined when it is not a size. */
export function parseMemory(value: number | string): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  const m = /^\s*(\d+)\s*([KMG]?)(?:i?B)?\s*$/i.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Why a parsed size cannot be guest memory, or undefined when it can. */
export function memoryProblem(bytes: number): string | undefined {
  if (bytes < MIN_MEMORY || bytes > MAX_MEMORY) return "out of range: use 1M to 1G (the boot pages and a small image fill the first 640 KiB; the page tables map 1 GiB)";
  if (bytes % 4096 !== 0) return "not a whole number of 4 KiB pages: round it, e.g. to a multiple of 1M";
  return undefined;
}

/**
 * Guest memory from a command-line flag (`--memory 2M`): bytes, or a KilnError naming `what`.
 * Same rules as kiln.yaml `memory`.
 */
export function parseMemorySize(text: string, what: string): number {
  const bytes = parseMemory(text);
  if (bytes === undefined) throw new KilnError(`${what}: cannot read ${quote(text)} as a size. Write bytes or a number with K, M or G, e.g. 8M.`);
  const problem = memoryProblem(bytes);
  if (problem) throw new KilnError(`${what}: ${quote(text)} is ${problem}.`);
  return bytes;
}

/** `8388608` -> `8M`: the largest exact unit. */
export function formatMemory(bytes: number): string {
  for (const [u, f] of [["G", 1024 ** 3], ["M", 1024 ** 2], ["K", 1024]] as const) {
    if (bytes % f === 0) return `${bytes / f}${u}`;
  }
  return String(bytes);
}

