// `kiln bench size`: the image's size, stripped and not, and by library.
import path from "node:path";
import { resolveApp } from "../config/index.ts";
import { build } from "../build/index.ts";
import { formatMemory } from "../config/memory.ts";
import { chooseRunner } from "../run/index.ts";
import { minBootMemory } from "./min-memory.ts";
import { table } from "./stats.ts";

export interface SizeResult {
  app: string;
  stripped_bytes: number;
  unstripped_bytes: number;
  by_library: Record<string, number>;
  /** The least guest memory the image exits 0 in (bisection up to the app's memory), and where it was measured. */
  min_memory_bytes?: number;
  min_memory_runner?: string;
}

export async function benchSize(appDir: string, opts: { sets?: string[]; lto?: boolean; /** Skip the boots that find the least memory. */ noBoot?: boolean } = {}): Promise<SizeResult> {
  const cfg = await resolveApp(appDir, { sets: opts.sets ?? [], lto: opts.lto ?? false, debug: false, test: false });
  const r = await build(cfg, { log: () => {} });
  const by = Object.fromEntries(Object.entries(r.sizes.byLibrary).sort((a, b) => b[1] - a[1]));
  const result: SizeResult = {
    app: path.basename(path.resolve(appDir)),
    stripped_bytes: r.sizes.stripped,
    unstripped_bytes: r.sizes.unstripped,
    by_library: by,
  };
  if (!opts.noBoot) {
    const runner = await chooseRunner("auto");
    const min = await minBootMemory(r.image, { cmdline: cfg.app.cmdline, runner, upTo: cfg.app.memory, ...(r.initrd ? { initrd: r.initrd } : {}) });
    if (min !== undefined) {
      result.min_memory_bytes = min;
      result.min_memory_runner = runner;
    }
  }
  return result;
}

export function formatSize(r: SizeResult): string {
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const rows = [["library", "bytes", "share"]];
  const total = Object.values(r.by_library).reduce((a, b) => a + b, 0) || 1;
  for (const [lib, n] of Object.entries(r.by_library)) rows.push([lib, String(n), `${((100 * n) / total).toFixed(1)}%`]);
  return (
    `${r.app}: stripped ${r.stripped_bytes} B (${kib(r.stripped_bytes)}), ` +
    `unstripped ${r.unstripped_bytes} B (${kib(r.unstripped_bytes)})` +
    (r.min_memory_bytes !== undefined ? `, boots in ${formatMemory(r.min_memory_bytes)} (${r.min_memory_runner})` : "") +
    "\n\n" +
    table(rows)
  );
}
