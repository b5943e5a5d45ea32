// `kiln bench boot`: guest boot time (first instruction to main, from the guest's TSC stamps)
// and the whole runner process time, over several runs.
import path from "node:path";
import { resolveApp } from "../config/index.ts";
import { build } from "../build/index.ts";
import { runImage, type RunnerName } from "../run/index.ts";
import { composeCmdline } from "../run/cmdline.ts";
import { KilnError } from "../errors.ts";
import { parseBootLine } from "./boot-line.ts";
import { summarize, table, type MinMedMax } from "./stats.ts";

export interface BootResult {
  app: string;
  runner: RunnerName;
  accel?: string;
  runs: number;
  guest_boot_us: MinMedMax;
  process_ms: MinMedMax;
  in_process_ms?: { min: number; median: number; p99: number };
}

export interface BootBenchOptions {
  runs: number;
  runner: RunnerName | "auto";
  sets?: string[];
  memory?: number;
  log?: (line: string) => void;
}

export async function benchBoot(appDir: string, opts: BootBenchOptions): Promise<BootResult> {
  const cfg = await resolveApp(appDir, { sets: opts.sets ?? [] });
  const built = await build(cfg, { log: () => {} });
  const cmdline = composeCmdline(cfg.app.cmdline, ["boot.stats=1"], undefined);
  const guestUs: number[] = [];
  const processMs: number[] = [];
  let runner: RunnerName | undefined;
  let accel: string | undefined;
  for (let i = 0; i < opts.runs; i++) {
    const r = await runImage(built.image, {
      memory: opts.memory ?? cfg.app.memory,
      cmdline,
      runner: opts.runner,
      timeoutMs: 60_000,
      notice: i === 0 ? opts.log : undefined,
    });
    if (r.status !== 0) throw new KilnError(`run ${i + 1}: the guest exited with status ${r.status}:\n${r.output}`);
    const stamp = parseBootLine(r.output);
    if (!stamp) throw new KilnError(`run ${i + 1}: no 'kiln: boot' line in the console output (does the image have the boot library?)`);
    guestUs.push(stamp.guestBootUs);
    processMs.push(r.wallMs);
    runner = r.runner;
    accel = r.accel;
    opts.log?.(`run ${i + 1}/${opts.runs}: guest ${stamp.guestBootUs.toFixed(1)} us, process ${r.wallMs.toFixed(1)} ms`);
  }
  return {
    app: path.basename(path.resolve(appDir)),
    runner: runner ?? "qemu",
    accel,
    runs: opts.runs,
    guest_boot_us: summarize(guestUs, 1),
    process_ms: summarize(processMs, 2),
  };
}

export function formatBoot(r: BootResult): string {
  const rows = [
    ["measure", "min", "median", "max"],
    ["guest boot to main (us)", String(r.guest_boot_us.min), String(r.guest_boot_us.median), String(r.guest_boot_us.max)],
    ["whole process (ms)", String(r.process_ms.min), String(r.process_ms.median), String(r.process_ms.max)],
  ];
  if (r.in_process_ms) {
    rows.push(["in-process boot (ms; max = p99)", String(r.in_process_ms.min), String(r.in_process_ms.median), String(r.in_process_ms.p99)]);
  }
  const where = r.runner + (r.accel ? ` (${r.accel})` : "");
  return `${r.app} on ${where}, ${r.runs} runs\n\n${table(rows)}`;
}
