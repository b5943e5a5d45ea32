// `kiln bench size`: the image's size, stripped and not, and by library.
import path from "node:path";
import { buildApp } from "../build/index.ts";
import { table } from "./stats.ts";

export interface SizeResult {
  app: string;
  stripped_bytes: number;
  unstripped_bytes: number;
  by_library: Record<string, number>;
}

export async function benchSize(appDir: string, opts: { sets?: string[]; lto?: boolean } = {}): Promise<SizeResult> {
  const r = await buildApp(appDir, { sets: opts.sets, lto: opts.lto, log: () => {} });
  const by = Object.fromEntries(Object.entries(r.sizes.byLibrary).sort((a, b) => b[1] - a[1]));
  return {
    app: path.basename(path.resolve(appDir)),
    stripped_bytes: r.sizes.stripped,
    unstripped_bytes: r.sizes.unstripped,
    by_library: by,
  };
}

export function formatSize(r: SizeResult): string {
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const rows = [["library", "bytes", "share"]];
  const total = Object.values(r.by_library).reduce((a, b) => a + b, 0) || 1;
  for (const [lib, n] of Object.entries(r.by_library)) rows.push([lib, String(n), `${((100 * n) / total).toFixed(1)}%`]);
  return (
    `${r.app}: stripped ${r.stripped_bytes} B (${kib(r.stripped_bytes)}), ` +
    `unstripped ${r.unstripped_bytes} B (${kib(r.unstripped_bytes)})\n\n` +
    table(rows)
  );
}
