// Names for guest code addresses, from the unstripped image, for stack traces.
import { execFileSync } from "node:child_process";
import path from "node:path";
import type { Symbolizer } from "./console-filter.ts";

interface Sym {
  addr: bigint;
  size: bigint;
  name: string;
}

/** Reads the function symbols of an ELF file with `nm` (sorted by address). */
export function readSymbols(elfPath: string): Sym[] {
  const out = execFileSync("nm", ["-n", "-S", "--defined-only", elfPath], { encoding: "utf8" });
  const syms: Sym[] = [];
  for (const line of out.split("\n")) {
    const m = /^([0-9a-f]+) (?:([0-9a-f]+) )?([tTwW]) (\S+)$/.exec(line);
    if (!m) continue;
    syms.push({ addr: BigInt("0x" + m[1]), size: m[2] ? BigInt("0x" + m[2]) : 0n, name: m[4]! });
  }
  return syms;
}

/**
 * `func+0xoff` for an address inside a known function, else undefined. For a return address the
 * function is found from addr-1 (the call instruction), the offset still shown from addr.
 */
export function lookup(syms: Sym[], addr: bigint, isReturnAddress = false): string | undefined {
  const probe = isReturnAddress && addr > 0n ? addr - 1n : addr;
  let lo = 0;
  let hi = syms.length - 1;
  let best: Sym | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = syms[mid]!;
    if (s.addr <= probe) {
      best = s;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (!best) return undefined;
  const off = addr - best.addr;
  if (best.size > 0n && probe - best.addr >= best.size) return undefined;
  return `${best.name}+0x${off.toString(16)}`;
}

/** A symbolizer over an unstripped image; adds `file:line` when the image has debug info. */
export function elfSymbolizer(elfPath: string): Symbolizer {
  let syms: Sym[] | undefined;
  return (addr, isReturnAddress) => {
    syms ??= readSymbols(elfPath);
    const name = lookup(syms, addr, isReturnAddress);
    if (!name) return undefined;
    const probe = isReturnAddress ? addr - 1n : addr;
    try {
      const where = execFileSync("addr2line", ["-e", elfPath, "0x" + probe.toString(16)], {
        encoding: "utf8",
      }).trim();
      // Without debug info (non --debug builds) addr2line knows the file at best: "main.c:?".
      if (!/:\d+/.test(where)) return name;
      const loc = where.replace(/ \(discriminator \d+\)$/, "");
      const rel = path.relative(process.cwd(), loc);
      return `${name} (${rel.startsWith("..") ? loc : rel})`;
    } catch {
      return name;
    }
  };
}
