// `kiln bench sched`: the cooperative scheduler's costs inside the guest (apps/bench-sched):
// context switch and thread create+join in TSC cycles, timer wake-up latency (deadline to the
// sleeper running again, through halt + LAPIC one-shot) in microseconds. Each run prints the
// medians of many rounds; the result is the median over runs. The same scheduler code is also
// compiled natively on the host (apps/bench-sched/host): where the guest can only run under an
// emulator (TCG), that is the number KVM would give for the guest's CPL-3 code.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { buildApp } from "../build/index.ts";
import { KilnError } from "../errors.ts";
import { kernelRoot, repoRoot } from "../paths.ts";
import { runImage, type RunnerName } from "../run/index.ts";
import { summarize, table, type MinMedMax } from "./stats.ts";

export const SCHED_MEASURES = ["switch_cycles", "create_join_cycles", "wakeup_latency_us"] as const;
export type SchedMeasure = (typeof SCHED_MEASURES)[number];
export type SchedLine = Record<SchedMeasure, number>;

export interface SchedBenchResult extends SchedLine {
  /** min / median / max over the runs of each measure (the top-level numbers are the medians). */
  spread: Record<SchedMeasure, MinMedMax>;
  /** The scheduler compiled natively on the host (no wrfsbase; mprotect for guard pages). */
  host?: SchedLine;
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
  /** Also measure the scheduler compiled natively on the host (default true). */
  host?: boolean;
}

const run = promisify(execFile);

/** Compiles libraries sched + sched-coop with the host stand-ins and runs them once. */
export async function benchSchedHost(): Promise<SchedLine> {
  const tmp = mkdtempSync(path.join(tmpdir(), "kiln-bench-sched-"));
  try {
    const exe = path.join(tmp, "host-sched");
    const lib = (p: string) => path.join(kernelRoot, "lib", p);
    const args = [
      "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE",
      "-DCONFIG_SCHED_COOP_STACK_SIZE=32768", "-DCONFIG_SCHED_COOP_GUARD=1",
      `-I${path.join(benchSchedAppDir, "host", "include")}`,
      ...["sched", "sched-coop", "mmu", "alloc"].map((l) => `-I${lib(path.join(l, "include"))}`),
      ...["sched/sched.c", "sched/sync.c", "sched/irq.c", "sched-coop/coop.c", "sched-coop/arch/x86_64/switch.S"].map(lib),
      path.join(benchSchedAppDir, "host", "host_main.c"),
      path.join(benchSchedAppDir, "workload.c"),
      // The image's linker script defines the TLS template symbols; on the host there is none.
      ...["_kiln_tls_start", "_kiln_tdata_end", "_kiln_tls_end", "_kiln_tls_align"].map((s) => `-Wl,--defsym,${s}=0`),
      "-no-pie",
      "-o", exe,
    ];
    try {
      await run("gcc", args);
    } catch (e) {
      throw new KilnError(`compiling the host scheduler benchmark failed:\n${(e as { stderr?: string }).stderr ?? String(e)}`);
    }
    const { stdout } = await run(exe, []);
    const line = parseSchedLine(stdout);
    if (!line) throw new KilnError(`the host scheduler benchmark printed no 'BENCH sched' line:\n${stdout}`);
    return line;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
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
  let host: SchedLine | undefined;
  if (opts.host ?? true) {
    log("build and run the scheduler natively on the host");
    host = await benchSchedHost();
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
    host,
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
  const rows = [["measure", "min", "median", "max", "host native", "target"]];
  for (const k of SCHED_MEASURES) {
    const s = r.spread[k];
    rows.push([LABELS[k][0], String(s.min), String(s.median), String(s.max), r.host ? String(r.host[k]) : "-", LABELS[k][1]]);
  }
  const where = r.runner + (r.accel ? ` (${r.accel})` : "");
  const notes: string[] = [];
  if (r.accel === "tcg") notes.push("Under TCG the guest is emulated: its cycle counts are not what KVM gives (the target applies to KVM).");
  if (r.host) notes.push("host native: the same scheduler code run natively (no wrfsbase, mprotect guard pages, nanosleep for halt).");
  const note = notes.length ? "\n\n" + notes.join("\n") : "";
  return `sched-coop on ${where}, ${r.runs} run${r.runs === 1 ? "" : "s"} (medians of many rounds each)\n\n${table(rows)}${note}`;
}
