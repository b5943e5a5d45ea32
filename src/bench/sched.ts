// `kiln bench sched`: the cooperative scheduler's costs inside the guest (apps/bench-sched):
// context switch and thread create+join in TSC cycles, timer wake-up latency (deadline to the
// sleeper running again, through halt + LAPIC one-shot) in microseconds. Each run prints the
// medians of many rounds; the result is the median over runs.
import path from "node:path";
import { buildApp } from "../build/index.ts";
import { KilnError } from "../errors.ts";
import { repoRoot } from "../paths.ts";
import { runImage, type RunnerName } from "../run/index.ts";
import { summarize, table, type MinMedMax } from "./stats.ts";

export const SCHED_MEASURES = ["switch_cycles", "create_join_cycles", "wakeup_latency_us"] as const;
export type SchedMeasure = (typeof SCHED_MEASURES)[number];
export type SchedLine = Record<SchedMeasure, number>;

export interface SchedBenchResult extends SchedLine {
  /** min / median / max over the runs of each measure (the top-level numbers are the medians). */
  spread: Record<SchedMeasure, MinMedMax>;
  runs: number;
  runner: RunnerName;
  accel?: string;
}

export interface SchedBenchOptions {
  runs: number;
  log?: (s: string) => void;
  runner?: RunnerName | "auto";
  /** `lib.option=value` overrides for the bench-sched build. */
  sets?: string[];
}

export const benchSchedAppDir = path.join(repoRoot, "apps", "bench-sched");

/** Parses `BENCH sched switch_cycles=<n> create_join_cycles=<n> wakeup_latency_us=<x>`. */
export function parseSchedLine(output: string): SchedLine | undefined {
  const m = /^BENCH sched switch_cycles=(\d+) create_join_cycles=(\d+) wakeup_latency_us=(\d+(?:\.\d+)?)\s*$/m.exec(output);
  if (!m) return undefined;
  return { switch_cycles: Number(m[1]), create_join_cycles: Number(m[2]), wakeup_latency_us: Number(m[3]) };
}

export async function benchSched(opts: SchedBenchOptions): Promise<SchedBenchResult> {
  const runs = Math.max(1, Math.floor(opts.runs));
  const log = opts.log ?? (() => {});
  log("build apps/bench-sched");
  const built = await buildApp(benchSchedAppDir, { sets: opts.sets ?? [], log: () => {} });
  const samples: Record<SchedMeasure, number[]> = { switch_cycles: [], create_join_cycles: [], wakeup_latency_us: [] };
  let runner: RunnerName = "qemu";
  let accel: string | undefined;
  for (let i = 0; i < runs; i++) {
    const r = await runImage(built.image, {
      memory: 64 << 20,
      cmdline: "",
      timeoutMs: 120_000,
      runner: opts.runner,
      debugImage: built.debugImage,
      notice: i === 0 ? log : undefined,
    });
    if (r.status !== 0) throw new KilnError(`bench-sched run ${i + 1} exited with status ${r.status}:\n${r.output}`);
    const line = parseSchedLine(r.output);
    if (!line) throw new KilnError(`bench-sched run ${i + 1}: no 'BENCH sched' line in the console output:\n${r.output}`);
    for (const k of SCHED_MEASURES) samples[k].push(line[k]);
    runner = r.runner;
    accel = r.accel;
    log(`run ${i + 1}/${runs}: switch ${line.switch_cycles} cycles, create+join ${line.create_join_cycles} cycles, wake-up ${line.wakeup_latency_us} us`);
  }
  const spread = {
    switch_cycles: summarize(samples.switch_cycles, 0),
    create_join_cycles: summarize(samples.create_join_cycles, 0),
    wakeup_latency_us: summarize(samples.wakeup_latency_us, 3),
  };
  return {
    switch_cycles: spread.switch_cycles.median,
    create_join_cycles: spread.create_join_cycles.median,
    wakeup_latency_us: spread.wakeup_latency_us.median,
    spread,
    runs,
    runner,
    accel,
  };
}

const LABELS: Record<SchedMeasure, [string, string]> = {
  switch_cycles: ["context switch (cycles)", "< 100 on KVM"],
  create_join_cycles: ["thread create + join (cycles)", ""],
  wakeup_latency_us: ["timer wake-up latency (us)", ""],
};

export function formatSchedTable(r: SchedBenchResult): string {
  const rows = [["measure", "min", "median", "max", "target"]];
  for (const k of SCHED_MEASURES) {
    const s = r.spread[k];
    rows.push([LABELS[k][0], String(s.min), String(s.median), String(s.max), LABELS[k][1]]);
  }
  const where = r.runner + (r.accel ? ` (${r.accel})` : "");
  const note =
    r.accel === "tcg" ? "\n\nUnder TCG the guest is emulated: cycle counts are not what KVM gives (the target applies to KVM)." : "";
  return `sched-coop on ${where}, ${r.runs} run${r.runs === 1 ? "" : "s"} (medians of many rounds each)\n\n${table(rows)}${note}`;
}
