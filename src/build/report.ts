// The end-of-build summary `kiln build` prints: where the image is and what took the space.
import { statSync } from "node:fs";
import * as path from "node:path";
import { outColors as pc } from "../color.ts";
import type { BuildResult } from "./pipeline.ts";

/** `12345` -> `12.1 KiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(2)} MiB`;
}

/** The end-of-build report: image path, sizes, and bytes by library, largest first. */
export function formatReport(r: Pick<BuildResult, "image" | "debugImage" | "sizes" | "initrd">, cwd = process.cwd()): string[] {
  const rel = (p: string) => {
    const r2 = path.relative(cwd, p);
    return r2.startsWith("..") ? p : r2;
  };
  const lines = [
    `${pc.bold("image")}  ${pc.green(rel(r.image))}  (symbols: ${rel(r.debugImage)})`,
    `${pc.bold("size")}   ${formatBytes(r.sizes.stripped)} stripped, ${formatBytes(r.sizes.unstripped)} unstripped`,
  ];
  if (r.initrd) lines.push(`${pc.bold("initrd")} ${rel(r.initrd)}  ${formatBytes(statSync(r.initrd).size)} (the rootfs, cpio newc)`);
  const entries = Object.entries(r.sizes.byLibrary).sort((a, b) => b[1] - a[1]);
  const bss = r.sizes.bssByLibrary ?? {};
  const total = entries.reduce((n, [, v]) => n + v, 0);
  const bssTotal = Object.values(bss).reduce((n, v) => n + v, 0);
  if (entries.length) {
    const w = Math.max(7, ...entries.map(([k]) => k.length));
    lines.push(pc.dim(`  ${"library".padEnd(w)}  ${"bytes".padStart(9)}  share  ${"+ .bss".padStart(9)}`));
    for (const [name, bytes] of entries) {
      const share = total ? ((bytes / total) * 100).toFixed(1).padStart(5) + "%" : "";
      const z = bss[name] ? String(bss[name]).padStart(9) : "";
      lines.push(`  ${name.padEnd(w)}  ${String(bytes).padStart(9)}  ${share}  ${z}`.trimEnd());
    }
    lines.push(pc.dim(`  ${"total".padEnd(w)}  ${String(total).padStart(9)}         ${String(bssTotal).padStart(9)}  (bytes: loaded sections with contents; .bss: zeroed memory at run time)`));
  }
  return lines;
}

